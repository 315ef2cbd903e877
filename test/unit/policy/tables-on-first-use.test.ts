// The default modules' per-stream tables start as one shared empty table (lib/common/no-entries.ts)
// and get their own on the first entry: what one module learns never shows in another, and input
// that adds nothing (a BYE for an unknown source) writes nothing to the shared table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_ENTRIES } from '../../../lib/common/no-entries.js';
import { SeededRng } from '../../../lib/common/rng.js';
import { RtpPacketBatch, type RtpPolicy, type RtpPolicyOutput, type RtpPolicyParameters, type RtpPolicyStatsCollector } from '../../../lib/peer/rtp-policy.js';
import { KeyframeRequester } from '../../../lib/policy/keyframe-requester.js';
import { NackGenerator } from '../../../lib/policy/nack-generator.js';
import { NackResponder } from '../../../lib/policy/nack-responder.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';

const out: RtpPolicyOutput = { sendRtcp: () => {}, sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} };

/** The inbound SSRCs a module reports in its stats. */
function inboundSsrcs(m: RtpPolicy): number[] {
  const seen = new Set<number>();
  const c: RtpPolicyStatsCollector = { inbound: (ssrc) => seen.add(ssrc), outbound: () => {}, remoteInbound: () => {}, remoteOutbound: () => {}, transport: () => {} };
  m.collectStats?.(c);
  return [...seen].sort((a, b) => a - b);
}

/** Sequence numbers 10 and 12 of each of `ssrcs` (11 missing, so NACK has something to track). */
function packets(ssrcs: number[]): RtpPacketBatch {
  const b = new RtpPacketBatch();
  b.reset(Buffer.alloc(12));
  for (const ssrc of ssrcs) for (const seq of [10, 12]) b.push(0, 12, ssrc, seq, 1, 96, false, 0, -1, 0);
  return b;
}

/** A receive-only video m-section with NACK, PLI and FIR negotiated. */
const params: RtpPolicyParameters = {
  kind: 'video', cname: 'c', localSsrc: 0x9999, sendStreams: [], sendCodec: undefined, receiveClockRates: new Map([[96, 90000]]),
  rtcpFeedback: new Set(['nack', 'nack pli', 'ccm fir']), headerExtensions: new Map(), reducedSizeRtcp: true,
};

/** The four default transceiver modules, configured. */
function modules(): RtpPolicy[] {
  const list: RtpPolicy[] = [
    new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: 0 }),
    new NackGenerator({ wallClockOffsetMs: 0 }),
    new KeyframeRequester(),
    new NackResponder({ rng: new SeededRng(2), wallClockOffsetMs: 0 }),
  ];
  for (const m of list) m.configure?.(0, params);
  return list;
}

test('a module that learns streams does not share them with an idle one; the shared table stays empty', () => {
  const busy = modules();
  const idle = modules();
  for (const m of busy) m.incomingRtp?.(100, packets([0x1111, 0x2222]), out);
  // Input that adds no entry: a BYE for a source an idle reporter never heard, NACKs for nothing sent.
  const bye = { kind: 'bye', sources: [0x1111] } as unknown as RtcpPacket;
  const nack = { kind: 'nack', senderSsrc: 1, mediaSsrc: 0x3333, lost: [1, 2] } as unknown as RtcpPacket;
  for (const m of idle) m.incomingRtcp?.(200, [bye, nack], out);
  assert.equal(NO_ENTRIES.size, 0);
  for (const m of idle) assert.deepEqual(inboundSsrcs(m), [], `${m.name}: nothing learned`);
  const reporter = busy[0]!;
  assert.deepEqual(inboundSsrcs(reporter), [0x1111, 0x2222], 'the reporter reports both sources');
  assert.deepEqual(inboundSsrcs(busy[1]!), [0x1111, 0x2222], 'the NACK generator tracks both');
  assert.deepEqual(inboundSsrcs(busy[2]!), [0x1111, 0x2222], 'the keyframe requester knows both');
  // A BYE removes the source from the busy reporter only.
  reporter.incomingRtcp?.(300, [bye], out);
  assert.deepEqual(inboundSsrcs(reporter), [0x2222]);
  assert.equal(NO_ENTRIES.size, 0);
});
