// The estimator + pacer policy module (lib/policy/bandwidth-estimator-policy.ts) driven through its
// hooks: video is held and released in order with its transport-wide number, audio and
// retransmissions go at once, feedback moves the target and the event, availableOutgoingBitrate
// appears only after feedback, REMB caps the target, stop discards what is held.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BandwidthEstimationPolicy } from '../../../lib/policy/bandwidth-estimator-policy.js';
import { RtpPacketBatch, RtpPacketFlags, type RtpPolicyOutput, type RtpPolicyParameters } from '../../../lib/peer/rtp-policy.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { TRANSPORT_CC_URI } from '../../../lib/rtp/extensions/uris.js';

const VIDEO = 0x1111;
const AUDIO = 0x2222;

const params: RtpPolicyParameters = {
  kind: undefined, cname: 'x', localSsrc: VIDEO,
  sendStreams: [{ ssrc: VIDEO, rtxSsrc: undefined, rid: undefined, kind: 'video' }, { ssrc: AUDIO, rtxSsrc: undefined, rid: undefined, kind: 'audio' }],
  sendCodec: undefined, receiveClockRates: new Map(), rtcpFeedback: new Set(['transport-cc']),
  headerExtensions: new Map([[TRANSPORT_CC_URI, 3]]), reducedSizeRtcp: false,
};

class Recorder implements RtpPolicyOutput {
  rtp: Buffer[] = [];
  events: { name: string; detail: unknown }[] = [];
  sendRtcp(): void {}
  sendRtp(data: Uint8Array): void {
    this.rtp.push(Buffer.from(data));
  }
  emit(name: string, detail: unknown): void {
    this.events.push({ name, detail });
  }
  requestKeyframe(): void {}
}

/** Runs one packet through outgoingRtp; returns whether it was held (DROP set). */
function send(m: BandwidthEstimationPolicy, now: number, ssrc: number, seq: number, tseq: number, flags = 0, size = 1000): boolean {
  const data = new RtpPacket({ ssrc, sequenceNumber: seq, timestamp: seq, payloadType: 96, payload: Buffer.alloc(size, seq & 0xff) }).serialize();
  const b = new RtpPacketBatch();
  b.reset(data);
  b.push(0, data.length, ssrc, seq, seq, 96, false, size, tseq, flags);
  m.outgoingRtp(now, b);
  return (b.flags[0]! & RtpPacketFlags.DROP) !== 0;
}

test('video is held and released in order at the pacing rate; audio and retransmissions go at once', () => {
  const m = new BandwidthEstimationPolicy({ startBitrate: 400_000 }); // 1 Mbit/s pacing
  m.configure(0, params);
  const out = new Recorder();
  for (let i = 0; i < 20; i++) assert.equal(send(m, 0, VIDEO, i, i), true, 'video held');
  assert.equal(send(m, 0, AUDIO, 7, 20), false, 'audio not held');
  assert.equal(send(m, 0, VIDEO, 99, 21, RtpPacketFlags.RETRANSMISSION), false, 'retransmission not held');
  assert.equal(m.stats.packetsPaced, 20);
  // Drain on the pacer's own schedule; every released packet comes back through outgoingRtp.
  let now = 0;
  const released: number[] = [];
  for (let guard = 0; guard < 1000 && released.length < 20; guard++) {
    const t = m.nextTimeout();
    assert.ok(t !== undefined);
    now = Math.max(now, t);
    m.timeout(now, out);
    for (const p of out.rtp.splice(0)) {
      const parsed = RtpPacket.parse(p);
      released.push(parsed.sequenceNumber!);
      assert.equal(send(m, now, VIDEO, parsed.sequenceNumber!, parsed.sequenceNumber!), false, 'a released packet passes');
    }
  }
  assert.deepEqual(released, [...Array(20).keys()]);
  // 20 × ~1012 bytes at 1 Mbit/s is ~160 ms, less the first burst.
  assert.ok(now > 120 && now < 200, `drained at ${now} ms`);
  assert.equal(m.estimator.stats.packetsSent, 22, 'each packet recorded once, as it left');
  assert.equal(m.nextTimeout(), undefined);
});

test('feedback moves the target: an event, then availableOutgoingBitrate; REMB caps it', () => {
  const m = new BandwidthEstimationPolicy({ pacer: false, startBitrate: 300_000 });
  m.configure(0, params);
  const out = new Recorder();
  const fields: Record<string, number>[] = [];
  const collector = { inbound() {}, outbound() {}, remoteInbound() {}, remoteOutbound() {}, transport: (f: Readonly<Record<string, number>>) => fields.push({ ...f }) };
  m.collectStats(collector);
  assert.equal(fields.length, 0, 'no estimate before feedback: no field');
  // 3 s of 1000-byte packets every 5 ms (1.6 Mbit/s), received 20 ms later, feedback every 50 ms.
  let seq = 0;
  for (let t = 0; t < 3000; t += 50) {
    const first = seq;
    for (let k = 0; k < 10; k++) assert.equal(send(m, t + k * 5, VIDEO, seq, seq++), false);
    const arrivals = Array.from({ length: 10 }, (_, k) => (t + k * 5 + 20) * 1000);
    m.incomingRtcp(t + 70, [RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 2, mediaSsrc: 0, baseSequenceNumber: first, feedbackPacketCount: 0 }, arrivals)], out);
  }
  const targets = out.events.filter((e) => e.name === 'target-bitrate').map((e) => (e.detail as { bitrate: number }).bitrate);
  assert.ok(targets.length > 2 && targets.at(-1)! > 300_000, `rose: ${targets.join(',')}`);
  m.collectStats(collector);
  assert.equal(fields.at(-1)?.availableOutgoingBitrate, m.targetBitrate);
  m.incomingRtcp(3100, [new RtcpReceiverEstimatedMaxBitrate(2, 250_000, [VIDEO])], out);
  assert.equal(m.targetBitrate, 250_000);
  assert.equal((out.events.at(-1)?.detail as { bitrate: number }).bitrate, 250_000);
});

test('without transport-cc (or REMB) negotiated, nothing is held: no feedback, no estimate to pace at', () => {
  const m = new BandwidthEstimationPolicy({ startBitrate: 100_000 });
  m.configure(0, { ...params, rtcpFeedback: new Set(['nack']) });
  for (let i = 0; i < 50; i++) assert.equal(send(m, 0, VIDEO, i, i), false);
  assert.equal(m.stats.packetsPaced, 0);
  assert.equal(m.nextTimeout(), undefined);
  m.configure(0, { ...params, headerExtensions: new Map() });
  assert.equal(send(m, 0, VIDEO, 60, -1), false, 'transport-cc feedback without the extension: nothing to match');
  m.configure(0, { ...params, rtcpFeedback: new Set(['goog-remb']), headerExtensions: new Map() });
  assert.equal(send(m, 0, VIDEO, 61, -1), true, 'REMB alone: paced at what the receiver reports');
});

test('stop discards what is still held', () => {
  const m = new BandwidthEstimationPolicy({ startBitrate: 100_000 });
  m.configure(0, params);
  for (let i = 0; i < 10; i++) send(m, 0, VIDEO, i, i);
  m.stop();
  assert.equal(m.stats.packetsDiscardedAtStop, 10);
  assert.equal(m.nextTimeout(), undefined);
});
