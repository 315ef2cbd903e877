// A retransmission in the original stream (no RTX) reuses the packet's SRTP index, its nonce: under
// AES-GCM it must carry the bytes first sent, so it keeps its transport-wide sequence number (RFC
// 7714 §8.1, docs/policy.md "NACK responder"); under AES-CM it gets a fresh one, as RTX does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// The package entry installs the default policy modules (transport-cc feedback offers the extension).
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/index.js';
import { RtpPacketFlags, type RtpPacketBatch, type RtpPolicy, type RtpPolicyParameters } from '../../lib/peer/rtp-policy.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { HeaderExtensionUri } from '../../lib/sdp/capabilities.js';
import type { SrtpProfileName } from '../../lib/dtls/srtp-profile.js';
import { negotiate, within } from './peer-helpers.js';

/** Keeps (and drops) the packet with sequence number 5 as it was sent, transport-wide number included. */
class KeepOnePolicy implements RtpPolicy {
  readonly name = 'keep-one';
  params: RtpPolicyParameters | undefined;
  kept: Buffer | undefined;
  configure(_now: number, params: RtpPolicyParameters): void {
    this.params = params;
  }
  outgoingRtp(_now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) {
      if (batch.sequenceNumber[i] !== 5 || this.kept) continue;
      this.kept = Buffer.from(batch.packet(i));
      batch.flags[i]! |= RtpPacketFlags.DROP;
    }
  }
}

async function retransmitOnce(profile: SrtpProfileName): Promise<{ first: number; again: number }> {
  const keep = new KeepOnePolicy();
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: [profile] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], srtpProfiles: [profile] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t1 = pc1.addTransceiver(video, { direction: 'sendonly' });
    t1.policies.add(keep);
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    // A transport-wide extension: negotiated in the answer, not among the transceiver's own ids.
    const line = pc2.localDescription!.sdp.split('\r\n').find((l) => l.startsWith('a=extmap:') && l.includes(HeaderExtensionUri.transportWideCc));
    assert.ok(line, 'transport-wide-cc negotiated (default transport-cc feedback module)');
    const id = Number(/^a=extmap:(\d+)/.exec(line)![1]);
    for (let seq = 0; seq < 10; seq++) video.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 3000, payload: Buffer.alloc(40, seq) }));
    for (let n = 0; n < 9; n++) await within(track.recv(), 5000, `packet ${n}`);
    assert.ok(keep.kept, 'the module kept packet 5');
    const first = RtpPacket.tryParse(keep.kept)!.getExtension(id)!.readUInt16BE(0);
    t1.sender.sendFromPolicy(keep.kept, true);
    const again = await within(track.recv(), 5000, 'retransmission');
    assert.equal(again.sequenceNumber, 5);
    assert.deepEqual(again.payload, Buffer.alloc(40, 5));
    assert.equal(t1.sender.retransmittedPacketsSent, 1);
    return { first, again: again.getExtension(id)!.readUInt16BE(0) };
  } finally {
    pc1.close();
    pc2.close();
  }
}

test('AES-GCM: an in-stream retransmission keeps the transport-wide number first sent (same nonce, same bytes)', { timeout: 30_000 }, async () => {
  const r = await retransmitOnce('AEAD_AES_128_GCM');
  assert.equal(r.again, r.first);
});

test('AES-CM: an in-stream retransmission gets a fresh transport-wide number', { timeout: 30_000 }, async () => {
  const r = await retransmitOnce('AES128_CM_HMAC_SHA1_80');
  assert.notEqual(r.again, r.first);
});
