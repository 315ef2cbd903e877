// The REMB module's round-trip time (lib/policy/remb-policy.ts): measured from the report blocks the
// remote sends about our streams (RFC 3550 §6.4.1 LSR/DLSR) on the module's own clock offset, fed
// to the generator's additive increase; 200 ms until measured or without a clock offset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { RtpPolicyChain } from '../../../lib/peer/rtp-policy-chain.js';
import type { RtpPolicyOutput, RtpPolicyParameters, RtpPolicyStatsCollector } from '../../../lib/peer/rtp-policy.js';
import { RembPolicy } from '../../../lib/policy/remb-policy.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { ABS_SEND_TIME_URI } from '../../../lib/rtp/extensions/uris.js';
import { ntpFromUnixMs, ntpMiddle32 } from '../../../lib/rtp/rtcp/ntp-time.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { MEDIA_SSRC, PolicyPair } from './policy-pair.js';

const OFFSET = 1_700_000_000_000;
const ABS_SEND_TIME_ID = 2;

const params: RtpPolicyParameters = {
  kind: undefined, cname: 'remb', localSsrc: 0x5555, sendStreams: [{ ssrc: 0x5555, rtxSsrc: undefined, rid: undefined, kind: 'video' }],
  sendCodec: undefined, receiveClockRates: new Map(), rtcpFeedback: new Set(['goog-remb']),
  headerExtensions: new Map([[ABS_SEND_TIME_URI, ABS_SEND_TIME_ID]]), reducedSizeRtcp: false,
};
const out: RtpPolicyOutput = { sendRtcp: () => {}, sendRtp: () => {}, emit: () => {}, requestKeyframe: () => {} };

/** An RR from the remote about our SSRC 0x5555: our SR of `srAt` (our clock) held `holdMs` by the remote. */
function receiverReport(offset: number, srAt: number, holdMs: number): RtcpReceiverReport {
  return new RtcpReceiverReport({
    ssrc: 0x7777,
    reports: [{ ssrc: 0x5555, fractionLost: 0, cumulativeLost: 0, highestSequence: 1, jitter: 0, lastSr: ntpMiddle32(ntpFromUnixMs(offset + srAt)), delaySinceLastSr: Math.round((holdMs / 1000) * 65536) }],
  });
}

test('REMB: the round-trip time comes from report blocks about our streams, 200 ms before', () => {
  const remb = new RembPolicy({ wallClockOffsetMs: OFFSET });
  remb.configure(0, params);
  assert.equal(remb.generator!.rtt, 200, 'assumed until measured');
  // Our SR left at 1000 ms, the remote held it 30 ms, its RR is here at 1110 ms: 80 ms.
  remb.incomingRtcp(1110, [receiverReport(OFFSET, 1000, 30)]);
  assert.ok(Math.abs(remb.generator!.rtt - 80) < 0.1, `80 ms (${remb.generator!.rtt})`);
  // A later report moves it; one without LSR (no SR received yet) does not.
  remb.incomingRtcp(3050, [receiverReport(OFFSET, 3000, 10)]);
  assert.ok(Math.abs(remb.generator!.rtt - 40) < 0.1, `40 ms (${remb.generator!.rtt})`);
  remb.incomingRtcp(4000, [new RtcpReceiverReport({ ssrc: 0x7777, reports: [{ ssrc: 0x5555, fractionLost: 0, cumulativeLost: 0, highestSequence: 1, jitter: 0, lastSr: 0, delaySinceLastSr: 0 }] })]);
  assert.ok(Math.abs(remb.generator!.rtt - 40) < 0.1);
  remb.timeout(4000, out);
});

test('REMB: without a clock offset nothing is measured; a measurement before negotiation is kept', () => {
  const blind = new RembPolicy();
  blind.configure(0, params);
  blind.incomingRtcp(1110, [receiverReport(OFFSET, 1000, 30)]);
  assert.equal(blind.generator!.rtt, 200);
  const early = new RembPolicy({ wallClockOffsetMs: OFFSET });
  early.incomingRtcp(1110, [receiverReport(OFFSET, 1000, 30)]);
  assert.equal(early.generator, undefined, 'no generator before negotiation');
  early.configure(1200, params);
  assert.ok(Math.abs(early.generator!.rtt - 80) < 0.1);
  // Installed in a chain, the module is given incoming RTCP.
  assert.ok(new RtpPolicyChain([new RembPolicy()]).hasIncomingRtcp);
});

test('REMB: the same round-trip time the RTCP reporter measures, 50 ms each way on the simulator', () => {
  const reporter = new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: OFFSET });
  const remb = new RembPolicy({ wallClockOffsetMs: OFFSET });
  const pair = new PolicyPair({
    network: { seed: 5, aToB: { delayMs: 50, jitterMs: 2 }, bToA: { delayMs: 50 } },
    sender: [reporter, remb],
    receiver: [new RtcpReporter('video', { rng: new SeededRng(2), wallClockOffsetMs: OFFSET + 7000 })],
    feedback: [{ type: 'goog-remb' }],
    headerExtensions: new Map([[ABS_SEND_TIME_URI, ABS_SEND_TIME_ID]]),
  });
  pair.runVideo(8000, 500_000);
  let reported: number | undefined;
  const stats: RtpPolicyStatsCollector = {
    inbound: () => {}, outbound: () => {}, remoteOutbound: () => {}, transport: () => {},
    remoteInbound: (ssrc, f) => {
      if (ssrc === MEDIA_SSRC) reported = f.roundTripTime;
    },
  };
  reporter.collectStats(stats);
  assert.ok(reported !== undefined && Math.abs(reported - 0.1) < 0.005, `reporter: about 100 ms (${reported})`);
  assert.ok(Math.abs(remb.generator!.rtt - reported * 1000) < 0.5, `REMB uses the same ${reported * 1000} ms (${remb.generator!.rtt})`);
});

test('REMB on a receive-only end: the RTT the reporter measures from RRTR/DLRR (RFC 3611), 40 + 60 ms on the simulator', () => {
  const reporter = new RtcpReporter('video', { rng: new SeededRng(2), wallClockOffsetMs: OFFSET + 3000 });
  const remb = new RembPolicy({ wallClockOffsetMs: OFFSET + 3000 });
  const pair = new PolicyPair({
    network: { seed: 6, aToB: { delayMs: 40, jitterMs: 2 }, bToA: { delayMs: 60 } },
    sender: [new RtcpReporter('video', { rng: new SeededRng(1), wallClockOffsetMs: OFFSET })],
    receiver: [reporter, remb],
    feedback: [{ type: 'goog-remb' }],
    headerExtensions: new Map([[ABS_SEND_TIME_URI, ABS_SEND_TIME_ID]]),
    receiverRtt: true,
  });
  pair.runVideo(8000, 500_000);
  let reported: number | undefined;
  const stats: RtpPolicyStatsCollector = {
    inbound: () => {}, outbound: () => {}, remoteInbound: () => {}, transport: () => {},
    remoteOutbound: (ssrc, f) => {
      if (ssrc === MEDIA_SSRC && f.roundTripTime !== undefined) reported = f.roundTripTime;
    },
  };
  reporter.collectStats(stats);
  assert.ok(reported !== undefined && Math.abs(reported - 0.1) < 0.005, `reporter: about 100 ms (${reported})`);
  assert.ok(remb.generator !== undefined);
  assert.ok(Math.abs(remb.generator.rtt - reported * 1000) < 0.5, `REMB uses the same ${reported * 1000} ms (${remb.generator.rtt})`);
});
