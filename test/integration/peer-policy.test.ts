// The policy interface (docs/policy.md) between two real peer connections on loopback: a module
// sees outgoing and incoming RTP in batches and incoming RTCP, drops packets, sends RTCP and
// retransmissions, emits events and gets its timeout; what it serves is what the SDP offers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPolicyChain } from '../../lib/peer/rtp-policy-chain.js';
import { RtpPacketFlags, type RtpPacketBatch, type RtpPolicy, type RtpPolicyOutput, type RtpPolicyParameters } from '../../lib/peer/rtp-policy.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import type { RtcpPacket } from '../../lib/rtp/rtcp/compound.js';
import { RtcpPictureLossIndication } from '../../lib/rtp/rtcp/picture-loss-indication.js';
import { negotiate, within } from './peer-helpers.js';

/** Records what it sees; drops outgoing odd sequence numbers; answers the first incoming packet with a PLI. */
class ProbePolicy implements RtpPolicy {
  readonly name = 'probe';
  outgoing: number[] = [];
  incoming: { seq: number; flags: number }[] = [];
  rtcp: RtcpPacket[] = [];
  params: RtpPolicyParameters | undefined;
  timeouts = 0;
  private wakeAt: number | undefined;
  kept: Buffer | undefined;
  constructor(private readonly dropOdd: boolean) {}
  rtcpFeedback(kind: 'audio' | 'video') {
    return kind === 'video' ? [{ type: 'nack', parameter: 'pli' }] : [];
  }
  configure(now: number, params: RtpPolicyParameters): void {
    this.params = params;
    this.wakeAt = now + 20;
  }
  outgoingRtp(_now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.sequenceNumber[i]!;
      this.outgoing.push(seq);
      if (seq === 11) this.kept = Buffer.from(batch.packet(i));
      if (this.dropOdd && seq % 2 === 1) batch.flags[i]! |= RtpPacketFlags.DROP;
    }
  }
  incomingRtp(_now: number, batch: RtpPacketBatch, out: RtpPolicyOutput): void {
    for (let i = 0; i < batch.count; i++) {
      if (this.incoming.length === 0) {
        out.sendRtcp([new RtcpPictureLossIndication(this.params!.localSsrc, batch.ssrc[i]!)]);
        out.emit('nack-give-up', { ssrc: batch.ssrc[i]!, count: 0 });
      }
      this.incoming.push({ seq: batch.sequenceNumber[i]!, flags: batch.flags[i]! });
    }
  }
  incomingRtcp(_now: number, packets: readonly RtcpPacket[]): void {
    this.rtcp.push(...packets);
  }
  timeout(): void {
    this.timeouts++;
    this.wakeAt = undefined;
  }
  nextTimeout(): number | undefined {
    return this.wakeAt;
  }
}

test('a module sees, drops, answers and retransmits; its feedback is negotiated', { timeout: 30_000 }, async () => {
  const sent = new ProbePolicy(true);
  const received = new ProbePolicy(false);
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [] });
  // pc2 installs the module through the configuration: every transceiver it makes gets one.
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [{ name: 'probe', scope: 'transceiver', create: () => received }] });
  try {
    const video = new LocalStreamTrack({ kind: 'video' });
    const t1 = pc1.addTransceiver(video, { direction: 'sendonly' });
    t1.policies.add(sent);
    assert.equal(t1.policies.get('probe'), sent);
    const offer = await pc1.createOffer();
    assert.match(offer.sdp, /a=rtcp-fb:96 nack pli/, 'the module serves nack pli: offered');
    assert.doesNotMatch(offer.sdp, /transport-cc|goog-remb|a=rtcp-fb:96 nack\r\n/, 'nothing else is promised');
    const events: string[] = [];
    pc2.on('policy', (e) => events.push(`${e.module}:${e.name}`));
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    assert.ok(sent.params?.rtcpFeedback.has('nack pli'), 'both sides serve nack pli: negotiated');
    assert.equal(sent.params?.rtcpFeedback.size, 1);
    for (let seq = 0; seq < 20; seq++) video.send(new RtpPacket({ sequenceNumber: seq, timestamp: seq * 3000, payload: Buffer.from([seq]) }));
    const got: number[] = [];
    while (got.length < 10) got.push((await within(track.recv(), 5000, `packet ${got.length}`)).sequenceNumber!);
    assert.deepEqual(got, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18], 'odd packets were dropped by the sending module');
    assert.deepEqual(sent.outgoing, [...Array(20).keys()]);
    assert.equal(t1.sender.packetsHeldByPolicy, 10);
    // The receiving module saw the batch and answered with a PLI; the sending module got it.
    await within((async () => {
      while (!sent.rtcp.some((p) => p.kind === 'pli')) await new Promise((r) => setTimeout(r, 10));
    })(), 5000, 'PLI');
    assert.deepEqual(received.incoming.map((x) => x.seq).slice(0, 10), got);
    assert.ok(events.includes('probe:nack-give-up'), 'module event reached the application');
    // A retransmission of a packet the network (here: the module) lost: counted and delivered
    // (SRTP replay protection would reject a copy of one that arrived).
    t1.sender.sendFromPolicy(sent.kept!, true);
    assert.equal((await within(track.recv(), 5000, 'retransmission')).sequenceNumber, 11);
    assert.equal(t1.sender.retransmittedPacketsSent, 1);
    // Timeouts ran on the connection's clock.
    await within((async () => {
      while (sent.timeouts === 0 || received.timeouts === 0) await new Promise((r) => setTimeout(r, 10));
    })(), 5000, 'timeouts');
    // Removing the module: the next transceiver offers no rtcp-fb at all.
    assert.equal(t1.policies.remove('probe'), true);
    assert.equal(t1.policies.remove('probe'), false);
    pc1.addTransceiver('video');
    const next = await pc1.createOffer();
    const sections = next.sdp.split('\r\nm=');
    assert.doesNotMatch(sections[2]!, /rtcp-fb/, 'a transceiver without modules offers no feedback');
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('chain misuse throws typed errors; a throwing module does not break the others', async () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], rtpPolicies: [] });
  try {
    const t = pc.addTransceiver('video');
    t.policies.add({ name: 'a' });
    assert.throws(() => t.policies.add({ name: 'a' }), (e: Error & { code?: string }) => e.name === 'InvalidModificationError' && e.code === 'ERR_POLICY_EXISTS');
    assert.throws(() => t.policies.replace('zz', { name: 'b' }), (e: Error & { code?: string }) => e.code === 'ERR_POLICY_NOT_FOUND');
    assert.throws(() => t.policies.add({ name: 'c' }, { before: 'zz' }), (e: Error & { code?: string }) => e.code === 'ERR_POLICY_NOT_FOUND');
    t.policies.add({ name: 'first' }, { before: 'a' });
    t.policies.replace('a', { name: 'a2' });
    assert.deepEqual(t.policies.list().map((m) => m.name), ['first', 'a2']);
    // A module that throws is reported; the next one still runs.
    const calls: string[] = [];
    const chain = new RtpPolicyChain([
      { name: 'bug', configure: () => { throw new Error('module bug (expected in this test)'); } },
      { name: 'ok', configure: () => void calls.push('ok') },
    ]);
    chain.configure(0, {
      kind: 'video', cname: 'c', localSsrc: 1, sendStreams: [], sendCodec: undefined, receiveClockRates: new Map(),
      rtcpFeedback: new Set(), headerExtensions: new Map(), reducedSizeRtcp: true,
    });
    assert.deepEqual(calls, ['ok']);
    assert.throws(() => t.receiver.requestKeyframe(), (e: Error & { code?: string }) => e.name === 'InvalidStateError' && e.code === 'ERR_PEER_NO_KEYFRAME_MODULE');
  } finally {
    pc.close();
  }
});

test('examples/policy.ts: removes, replaces and adds modules; the answer follows; it exits by itself', { timeout: 60_000 }, () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../examples/policy.ts', import.meta.url))], { encoding: 'utf8', timeout: 50_000 });
  assert.match(out, /answer rtcp-fb for VP8: a=rtcp-fb:96 nack pli, a=rtcp-fb:96 ccm fir, a=rtcp-fb:96 transport-cc\n/, 'no plain nack without the NACK modules');
  assert.match(out, /receiver modules: rtcp-reporter, keyframe-requester, packet-counter/);
  assert.match(out, /packet-counter: \d+ packets from SSRC/);
  assert.match(out, /keyframe-requester says keyframe-request/);
  assert.match(out, /sender outbound-rtp: 100 sent, pliCount 1/);
  assert.match(out, /remote-inbound-rtp: roundTripTime [0-9.]+ s/);
});
