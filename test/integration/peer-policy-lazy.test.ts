// Policy modules made when first needed (docs/policy.md "When modules are made"), between two real
// peer connections on loopback: a pair that negotiated and connected but moved no media has no
// module instance; its SDP is what the made modules serve; getStats gives the same fields as a pair
// whose modules were made at once; the first packet makes the modules and reports, RTT and the
// policy events work as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
// Registers the default modules (the package entry point loads it).
import '../../lib/policy/default-policies.js';
import { negotiate, until, within } from './peer-helpers.js';

function made(pc: RTCPeerConnection): boolean[] {
  return [pc.transportPolicies.materialized, ...pc.getTransceivers().map((t) => t.policies.materialized)];
}

/** getStats entry types with their field names, values left out (they differ by timing). */
async function fieldsByType(pc: RTCPeerConnection): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of (await pc.getStats()).values()) {
    const key = `${s.type}${s.type.endsWith('rtp') ? `/${String(s.kind)}` : ''}`;
    out.set(key, Object.keys(s).filter((k) => k !== 'timestamp').sort().join(','));
  }
  return out;
}

async function pair(makeAtOnce: boolean): Promise<{ pc1: RTCPeerConnection; pc2: RTCPeerConnection; audio: LocalStreamTrack; video: LocalStreamTrack }> {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  pc1.addTransceiver(audio, { direction: 'sendrecv' });
  pc1.addTransceiver(video, { direction: 'sendonly' });
  // list() makes the modules: before negotiation, as every chain did before they were deferred.
  if (makeAtOnce) for (const t of pc1.getTransceivers()) t.policies.list();
  if (makeAtOnce) pc1.transportPolicies.list();
  await negotiate(pc1, pc2);
  if (makeAtOnce) for (const t of pc2.getTransceivers()) t.policies.list();
  if (makeAtOnce) pc2.transportPolicies.list();
  await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
  return { pc1, pc2, audio, video };
}

test('an idle pair keeps no policy module; getStats has the same fields; the first packet makes them', { timeout: 60_000 }, async () => {
  const lazy = await pair(false);
  const eager = await pair(true);
  try {
    const offer = lazy.pc1.localDescription!.sdp;
    for (const fb of ['nack', 'nack pli', 'ccm fir', 'transport-cc']) assert.match(offer, new RegExp(`a=rtcp-fb:\\d+ ${fb}\\r\\n`));
    assert.match(offer, /a=rtcp-xr:rcvr-rtt=all\r\n/);
    assert.match(offer, /transport-wide-cc-extensions-01/);
    assert.equal(offer.replace(/^(o=|a=(ice-ufrag|ice-pwd|fingerprint|candidate|ssrc|msid|setup)|m=).*$/gm, ''), eager.pc1.localDescription!.sdp.replace(/^(o=|a=(ice-ufrag|ice-pwd|fingerprint|candidate|ssrc|msid|setup)|m=).*$/gm, ''), 'the same offer but for identities and ports');
    assert.deepEqual(made(lazy.pc1), [false, false, false]);
    assert.deepEqual(made(lazy.pc2), [false, false, false]);
    assert.deepEqual(made(eager.pc1), [true, true, true]);

    // Stats of an idle pair: the same fields, with the modules made by the question.
    const [lazyFields, eagerFields] = [await fieldsByType(lazy.pc1), await fieldsByType(eager.pc1)];
    assert.deepEqual([...lazyFields.keys()].sort(), [...eagerFields.keys()].sort());
    for (const [type, fields] of eagerFields) assert.equal(lazyFields.get(type), fields, `${type} fields`);
    assert.deepEqual(made(lazy.pc1), [true, true, true], 'getStats made the modules');
    assert.deepEqual(made(lazy.pc2), [false, false, false], 'the other end still has none');

    // Media: the second end's modules are made by what arrives; reports and RTT follow.
    const tracks: MediaStreamTrack[] = [];
    lazy.pc2.on('track', (e) => tracks.push(e.track));
    const keyframes: string[] = [];
    lazy.pc1.on('policy', (e) => {
      if (e.name === 'keyframe-request') keyframes.push(e.detail.kind);
    });
    let received = 0;
    await until(() => lazy.pc2.getTransceivers().length === 2, 5000, 'transceivers');
    for (const t of lazy.pc2.getTransceivers()) {
      void (async () => {
        for await (const _ of t.receiver.track) received++;
      })();
    }
    for (let i = 0; i < 50; i++) {
      lazy.audio.send(new RtpPacket({ sequenceNumber: i, timestamp: i * 960, payload: Buffer.alloc(80, i) }));
      lazy.video.send(new RtpPacket({ sequenceNumber: i, timestamp: i * 3000, marker: true, payload: Buffer.alloc(500, i) }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => received >= 80, 5000, 'packets received');
    assert.deepEqual(made(lazy.pc2), [true, true, true], 'the first packets made the receiving end\'s modules');
    lazy.pc2.getTransceivers().find((t) => t.kind === 'video')!.receiver.requestKeyframe();
    await until(() => keyframes.length > 0, 5000, 'keyframe-request event');
    let rtt: unknown;
    const end = Date.now() + 15_000;
    while (rtt === undefined && Date.now() < end) {
      rtt = [...(await lazy.pc1.getStats()).values()].find((x) => x.type === 'remote-inbound-rtp' && x.kind === 'video')?.roundTripTime;
      if (rtt === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(typeof rtt, 'number', 'the receiver reports, the sender has an RTT');
    void tracks;
  } finally {
    for (const pc of [lazy.pc1, lazy.pc2, eager.pc1, eager.pc2]) pc.close();
  }
});
