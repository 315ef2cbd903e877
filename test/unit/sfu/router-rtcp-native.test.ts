// A subscriber's RTCP consumed by the forwarding engine in the receive batch (docs/sfu.md "What a
// subscriber's RTCP costs"), over real loopback sockets with our own peers: RR (RFC 3550 §6.4.2),
// generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1) and transport-cc feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) from a subscriber reach no JavaScript
// (no compound handed to the server connection, whose own policy modules see none), while the leg's
// pwtRemoteInbound and native RTT, the connection's remote-inbound-rtp and pliCount, the NACK
// answers (RTX) and the keyframe requests to the publisher still work. An application 'rtcp'
// listener on the consumer's sender gets the packets again; removing it gives them back to the engine,
// and so does a policy module the application adds with incomingRtcp (transport or transceiver chain).
// A FIR burst naming the leg many times is one keyframe request to the publisher per poll; the NACKs
// the engine consumed are in the leg's outbound-rtp nackCount. A second test: an RR of a subscriber that
// echoes an SR built in JavaScript (the answer to its XR RRTR) gets that RTT in remote-inbound-rtp:
// the engine cannot measure it, so JavaScript records it and the engine's own RTTs add to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../../lib/policy/default-policies.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpFullIntraRequest } from '../../../lib/rtp/rtcp/full-intra-request.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../../../lib/rtp/rtcp/picture-loss-indication.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { ntpFromUnixMs, ntpMiddle32 } from '../../../lib/rtp/rtcp/ntp-time.js';
import { RtcpExtendedReport } from '../../../lib/rtp/rtcp/extended-report.js';
import type { RtcpEvent } from '../../../lib/peer/rtp-sender.js';
import { markLibraryPolicy } from '../../../lib/peer/rtp-policy.js';
import type { Consumer, Producer, Router } from '../../../lib/sfu/index.js';
import type { RTCRtpTransceiver } from '../../../lib/peer/index.js';
import { subscriber, until, type Publisher, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

const payload = (n: number): Buffer => Buffer.alloc(400, n & 0xff);

/** An SR of the leg as the client got it: NTP middle 32 bits (an LSR echoes them), when, and whether
 * its compound carried an XR (a DLRR answering the client's RRTR, RFC 3611 §4.5). */
interface LegSr {
  lsr: number;
  at: number;
  js: boolean;
}

/** One publisher, one subscriber consuming its stream, and what both tests watch on the client. */
interface Leg {
  router: Router;
  pub: Publisher;
  producer: Producer;
  sub: Subscriber;
  consumer: Consumer;
  clientTransceiver: RTCRtpTransceiver;
  /** The client's sender SSRC (the RTCP the tests send names it). */
  me: number;
  srs: LegSr[];
  received: { seq: number; payload: Buffer }[];
}

/** The publisher sends a packet every 20 ms (then `each(n)` runs) until `done()` or `limitMs` passed. */
async function mediaUntil(pub: Publisher, done: () => boolean, limitMs: number, each?: (n: number) => void): Promise<void> {
  const stop = Date.now() + limitMs;
  for (let n = 0; Date.now() < stop && !done(); n++) {
    pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    each?.(n);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `body` on a router with a video publisher and one subscriber whose client sends no reports
 * of its own unless `clientReports` (its reports would add to the counts): the RTCP it sends is
 * what the test sends, so every compound is accounted for. Closes everything after, whatever happened.
 */
async function withLeg(body: (leg: Leg) => Promise<void>, clientReports = false): Promise<void> {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'video');
    const clientTransceiver = sub.client.getTransceivers()[0]!;
    if (!clientReports) clientTransceiver.policies.remove('rtcp-reporter');
    const srs: LegSr[] = [];
    sub.client.transportPolicies.add({
      name: 'sr-watch',
      incomingRtcp: (now: number, packets: readonly RtcpPacket[]) => {
        const js = packets.some((p) => p.kind === 'xr');
        for (const p of packets) if (p instanceof RtcpSenderReport) srs.push({ lsr: ntpMiddle32(p.ntpTimestamp), at: now, js });
      },
    });
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    const received: { seq: number; payload: Buffer }[] = [];
    const track = sub.track;
    void (async () => {
      for await (const p of track) received.push({ seq: p.sequenceNumber!, payload: Buffer.from(p.payload) });
    })();
    await body({ router, pub, producer, sub, consumer, clientTransceiver, me: clientTransceiver.sender.ssrc, srs, received });
  } finally {
    closeRouterRig(router, mux, pub, sub);
  }
}

test("router: a subscriber's RR, NACK, PLI and transport-cc reach no JavaScript; stats, RTT, NACK answers and keyframe requests still work", { timeout: 90_000 }, async () => {
  await withLeg(async ({ router, pub, producer, sub, consumer, clientTransceiver, me, srs, received }) => {
    // Whatever RTCP the server connection's JavaScript parses (its transport-scope modules see every
    // compound). Marked as one of the library's own modules: an application's module with
    // incomingRtcp asks for the leg's RTCP in JavaScript (tested below).
    let parsedOnServer = 0;
    sub.server.transportPolicies.add(markLibraryPolicy({ name: 'rtcp-watch', incomingRtcp: () => void parsedOnServer++ }));

    // Media until 20 packets arrived and the leg's reporter sent an SR natively.
    await mediaUntil(pub, () => received.length >= 20 && srs.length > 0, 30_000);
    assert.ok(received.length >= 20 && srs.length > 0, `media and an SR reached the subscriber (${received.length}, ${srs.length})`);

    const clientSender = clientTransceiver.sender;
    const before = router.stats;
    const parsedBefore = parsedOnServer;
    const keyframesBefore = producer.getStats();
    const lastSeq = received[received.length - 1]!.seq;
    const sr = srs[srs.length - 1]!;
    // 1. An RR about the leg whose LSR echoes the engine's SR, held 5 ms (DLSR in 1/65536 s).
    const heldMs = 5;
    await new Promise((r) => setTimeout(r, heldMs));
    clientSender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
      ssrc: consumer.ssrc, fractionLost: 64, cumulativeLost: 3, highestSequence: lastSeq, jitter: 90,
      lastSr: sr.lsr, delaySinceLastSr: Math.round((heldMs / 1000) * 65536),
    }] })]);
    // 2. A NACK for two packets the subscriber got (by the numbers it saw).
    const wanted = [(lastSeq - 4) & 0xffff, (lastSeq - 2) & 0xffff];
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(me, consumer.ssrc, wanted)]);
    // 3. A PLI, 4. transport-cc feedback about two packets, 5. RR + PLI in one compound.
    clientSender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    clientSender.sendRtcp([RtcpTransportCcFeedback.fromPackets({ senderSsrc: me, mediaSsrc: consumer.ssrc, baseSequenceNumber: 1, referenceTime: 10, feedbackPacketCount: 0 }, [1000, 2000])]);
    clientSender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
      ssrc: consumer.ssrc, fractionLost: 64, cumulativeLost: 3, highestSequence: lastSeq, jitter: 90, lastSr: 0, delaySinceLastSr: 0,
    }] }), new RtcpPictureLossIndication(me, consumer.ssrc)]);

    await until(() => router.stats.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 5, 10_000, 'five compounds consumed natively');
    const after = router.stats;
    // Five of ours; the client's transport-cc feedback module may add its own (consumed the same way).
    assert.ok(after.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 5);
    assert.equal(after.rtcpCompoundsToJs, before.rtcpCompoundsToJs, 'no compound handed to JavaScript');
    assert.equal(parsedOnServer, parsedBefore, "the server connection's JavaScript parsed none");
    assert.equal(after.rtcpKeyFrameRequests - before.rtcpKeyFrameRequests, 2, 'two PLIs');
    assert.ok(after.rtcpTransportFeedbackConsumed - before.rtcpTransportFeedbackConsumed >= 1, 'the transport-cc packet');
    assert.equal(after.receiverReportBlocks - before.receiverReportBlocks, 2, 'both RR blocks read');

    // NACK answered from the cache (the subscriber gets the two packets again).
    await until(() => consumer.getStats().retransmittedPacketsSent >= 2, 10_000, 'NACK answered');
    await until(() => received.filter((r) => wanted.includes(r.seq)).length >= 4, 10_000, 'the retransmissions arrived');
    // Keyframe requests: the PLIs reached the publisher's keyframe module (one request per consumer
    // per poll: both PLIs may come in one poll; their count is in rtcpKeyFrameRequests above).
    await until(() => {
      const k = producer.getStats();
      return k.pwtKeyframeRequestsSent + k.pwtKeyframeRequestsMerged - keyframesBefore.pwtKeyframeRequestsSent - keyframesBefore.pwtKeyframeRequestsMerged >= 1;
    }, 10_000, 'keyframe requests to the publisher');
    assert.ok(producer.getStats().pwtKeyframeRequestsSent > keyframesBefore.pwtKeyframeRequestsSent || keyframesBefore.pwtKeyframeRequestsSent > 0);

    // The leg's report counters and RTT (measured natively against the echoed SR).
    const cs = consumer.getStats();
    const r = cs.pwtRemoteInbound!;
    assert.equal(r.fractionLost, 0.25);
    assert.equal(r.packetsLost, 3);
    assert.equal(r.pwtExtendedHighestSequence, lastSeq);
    assert.ok(r.roundTripTimeMeasurements >= 1, 'native RTT measured');
    assert.ok(r.roundTripTime !== undefined && r.roundTripTime > 0 && r.roundTripTime < 1, `loopback RTT ${r.roundTripTime}`);
    assert.ok(cs.pwtRoundTripTime !== undefined && cs.pwtRoundTripTime > 0);

    // The server connection's W3C stats: remote-inbound-rtp from the engine's counters, pliCount complete.
    const report = await sub.server.getStats();
    const remote = [...report.values()].find((s) => s.type === 'remote-inbound-rtp' && s['ssrc'] === consumer.ssrc);
    assert.ok(remote, 'remote-inbound-rtp of the leg');
    assert.equal(remote['fractionLost'], 0.25);
    assert.equal(remote['packetsLost'], 3);
    assert.equal(remote['reportsReceived'], r.reportsReceived);
    assert.ok(typeof remote['roundTripTime'] === 'number' && remote['roundTripTime'] > 0, 'its RTT');
    const outbound = [...report.values()].find((s) => s.type === 'outbound-rtp' && s['ssrc'] === consumer.ssrc);
    assert.ok(outbound && typeof outbound['pliCount'] === 'number' && outbound['pliCount'] >= 2, `pliCount ${outbound?.['pliCount']}`);
    // The NACK the engine consumed and answered is in the leg's nackCount.
    assert.ok(typeof outbound['nackCount'] === 'number' && outbound['nackCount'] >= 1, `nackCount ${outbound['nackCount']}`);

    // A FIR naming the leg 40 times: 40 requests counted, one keyframe request to the publisher.
    await new Promise((r) => setTimeout(r, 200));
    const firBefore = router.stats.rtcpKeyFrameRequests;
    const k0 = producer.getStats();
    const asked0 = k0.pwtKeyframeRequestsSent + k0.pwtKeyframeRequestsMerged;
    clientSender.sendRtcp([new RtcpFullIntraRequest(me, Array.from({ length: 40 }, () => ({ ssrc: consumer.ssrc, sequenceNumber: 7 })))]);
    await until(() => router.stats.rtcpKeyFrameRequests - firBefore >= 40, 10_000, 'the FIR entries counted');
    await new Promise((r) => setTimeout(r, 300));
    const k1 = producer.getStats();
    assert.equal(k1.pwtKeyframeRequestsSent + k1.pwtKeyframeRequestsMerged - asked0, 1, 'one keyframe request for the burst');

    // An application 'rtcp' listener on the consumer's sender asks for the raw packets: they reach it.
    const heard: string[] = [];
    const listener = (e: RtcpEvent): void => void heard.push(e.packet.kind);
    sub.transceiver.sender.on('rtcp', listener);
    await new Promise((r) => setTimeout(r, 20));
    const toJsBefore = router.stats.rtcpCompoundsToJs;
    clientSender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    await until(() => heard.includes('pli'), 10_000, "the application's listener got the PLI");
    assert.equal(router.stats.rtcpCompoundsToJs, toJsBefore + 1);
    sub.transceiver.sender.off('rtcp', listener);
    await new Promise((r) => setTimeout(r, 20));
    const consumedBefore = router.stats.rtcpCompoundsConsumed;
    clientSender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    await until(() => router.stats.rtcpKeyFrameRequests === firBefore + 41 && router.stats.rtcpCompoundsConsumed > consumedBefore, 10_000, 'native again once the listener is gone');
    assert.equal(router.stats.rtcpCompoundsToJs, toJsBefore + 1);

    // A policy module the application adds with incomingRtcp (transport chain, then the consumer's
    // transceiver chain) gets the leg's RTCP; removing it gives it back to the engine.
    for (const chain of [sub.server.transportPolicies, sub.transceiver.policies]) {
      const seen: string[] = [];
      chain.add({ name: 'app-rtcp', incomingRtcp: (_now: number, packets: readonly RtcpPacket[]) => void seen.push(...packets.map((p) => p.kind)) });
      await new Promise((r) => setTimeout(r, 20));
      const toJs = router.stats.rtcpCompoundsToJs;
      clientSender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
      await until(() => seen.includes('pli'), 10_000, "the application's module got the PLI");
      assert.equal(router.stats.rtcpCompoundsToJs, toJs + 1);
      chain.remove('app-rtcp');
      await new Promise((r) => setTimeout(r, 20));
      const consumed = router.stats.rtcpCompoundsConsumed;
      clientSender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
      await until(() => router.stats.rtcpCompoundsConsumed > consumed, 10_000, 'native again once the module is gone');
      assert.equal(router.stats.rtcpCompoundsToJs, toJs + 1);
    }
  });
});

test("router: an RR whose LSR names an SR built in JavaScript (the answer to an XR RRTR) gives remote-inbound-rtp its RTT", { timeout: 90_000 }, async () => {
  await withLeg(async ({ router, pub, sub, consumer, clientTransceiver, me, srs }) => {
    // Media, and an XR RRTR every 10 packets, until a JavaScript-built SR reached the client. The
    // XR also carries a block the engine does not read (a loss RLE block, RFC 3611 §4.1, empty), so
    // the compound goes to JavaScript, whose reporter answers the RRTR with a DLRR in an SR it builds
    // (an XR of RRTRs alone is answered by the engine: the last test).
    await mediaUntil(pub, () => srs.some((s) => s.js), 40_000, (n) => {
      if (n % 10 !== 0) return;
      // (The XR goes to the sender its compound's report block is about: lib/peer/media-router.ts.)
      clientTransceiver.sender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
        ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
      }] }),
        new RtcpExtendedReport(me, [{ blockType: 4, ntpTimestamp: ntpFromUnixMs(Date.now()) },
          { blockType: 1, typeSpecific: 0, data: Buffer.alloc(8) }])]);
    });
    const sr = srs.filter((s) => s.js).pop();
    assert.ok(sr, 'an SR built in JavaScript reached the client');
    const remoteOf = async (): Promise<Record<string, unknown> | undefined> => {
      const report = await sub.server.getStats();
      return [...report.values()].find((s) => s.type === 'remote-inbound-rtp' && s['ssrc'] === consumer.ssrc) as Record<string, unknown> | undefined;
    };
    const before = await remoteOf();
    const measuredBefore = (before?.['roundTripTimeMeasurements'] as number | undefined) ?? 0;
    const totalBefore = (before?.['totalRoundTripTime'] as number | undefined) ?? 0;
    const toJs = router.stats.rtcpCompoundsToJs;
    // An RR echoing that SR, held 5 ms: the engine does not know the SR, so the compound goes to JavaScript.
    await new Promise((r) => setTimeout(r, 5));
    clientTransceiver.sender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
      ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: 0, jitter: 0,
      lastSr: sr.lsr, delaySinceLastSr: Math.round(0.005 * 65536),
    }] })]);
    await until(() => router.stats.rtcpCompoundsToJs > toJs, 10_000, 'the RR went to JavaScript');
    let after: Record<string, unknown> | undefined;
    const until2 = Date.now() + 10_000;
    while (Date.now() < until2) {
      after = await remoteOf();
      if (((after?.['roundTripTimeMeasurements'] as number | undefined) ?? 0) > measuredBefore) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(after, 'remote-inbound-rtp of the leg');
    assert.equal(after['roundTripTimeMeasurements'], measuredBefore + 1, 'the RTT against the JavaScript SR is counted once');
    const rtt = after['roundTripTime'];
    assert.ok(typeof rtt === 'number' && rtt >= 0 && rtt < 1, `loopback RTT ${rtt}`);
    const total = after['totalRoundTripTime'] as number;
    assert.ok(Math.abs(total - totalBefore - rtt) < 1e-9, `total ${totalBefore} -> ${total} adds ${rtt}`);
  });
});

test("router: with no producer left (its last one closed), a subscriber's RR and PLI are still consumed natively", { timeout: 90_000 }, async () => {
  await withLeg(async ({ router, pub, producer, consumer, clientTransceiver, me, received }) => {
    await mediaUntil(pub, () => received.length >= 5, 30_000);
    assert.ok(received.length >= 5, 'media reached the subscriber');
    // The router's only producer closes; its consumer stays open (and forwards nothing).
    producer.close();
    assert.equal(consumer.closed, false);
    const before = router.stats;
    const lastSeq = received[received.length - 1]!.seq;
    clientTransceiver.sender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
      ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: lastSeq, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
    }] })]);
    clientTransceiver.sender.sendRtcp([new RtcpPictureLossIndication(me, consumer.ssrc)]);
    await until(() => router.stats.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 2
      || router.stats.rtcpCompoundsToJs > before.rtcpCompoundsToJs, 10_000, 'the two compounds handled');
    // (Wait a little for a compound handed to JavaScript after the first consumed one.)
    await new Promise((r) => setTimeout(r, 200));
    const after = router.stats;
    assert.equal(after.rtcpCompoundsToJs, before.rtcpCompoundsToJs, 'no compound handed to JavaScript');
    assert.ok(after.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 2, 'the RR and the PLI consumed');
    assert.equal(after.rtcpKeyFrameRequests - before.rtcpKeyFrameRequests, 1, 'the PLI counted');
    assert.equal(after.receiverReportBlocks - before.receiverReportBlocks, 1, 'the RR block read');
  });
});

test("router: our own subscriber's reports (RR + XR RRTR) are consumed natively; the leg's SR answers the RRTR with a DLRR", { timeout: 90_000 }, async () => {
  await withLeg(async ({ router, pub, sub, consumer, received, srs }) => {
    assert.equal(sub.transceiver.policies.parameters?.receiverRtt, true, 'rcvr-rtt negotiated on the leg');
    await mediaUntil(pub, () => received.length >= 20 && srs.length > 0, 30_000);
    const before = router.stats;
    // Media until the client's reporter sent RRTRs, the engine answered two of them, and the client
    // measured its RTT from a DLRR (RFC 3611 §4.5) at least once.
    let measured = 0;
    const remoteOutbound = async (): Promise<Record<string, unknown> | undefined> => {
      const report = await sub.client.getStats();
      return [...report.values()].find((s) => s.type === 'remote-outbound-rtp' && s['ssrc'] === consumer.ssrc) as Record<string, unknown> | undefined;
    };
    // (RRTRs and DLRRs are waited for apart: an RRTR consumed before `before` was read may be
    // answered after it, so two DLRRs since then can answer one RRTR since then.)
    await mediaUntil(pub, () => router.stats.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes >= 2 && router.stats.dlrrSent - before.dlrrSent >= 2 && measured > 0, 40_000, (n) => {
      if (n % 10 === 0) void remoteOutbound().then((r) => { measured = (r?.['roundTripTimeMeasurements'] as number | undefined) ?? 0; });
    });
    const after = router.stats;
    assert.ok(after.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes >= 2, `RRTRs consumed (${after.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes})`);
    assert.ok(after.dlrrSent - before.dlrrSent >= 2, `DLRRs sent (${after.dlrrSent - before.dlrrSent})`);
    assert.ok(after.rtcpCompoundsConsumed - before.rtcpCompoundsConsumed >= 2);
    assert.equal(after.rtcpCompoundsToJs, before.rtcpCompoundsToJs, "none of the subscriber's compounds handed to JavaScript");
    // The DLRRs came in SRs the engine built (the leg's SRs are all native).
    assert.ok(srs.some((s) => s.js), 'an SR compound with an XR (DLRR) reached the client');
    const ro = await remoteOutbound();
    assert.ok(ro, 'remote-outbound-rtp on the client');
    assert.ok((ro['roundTripTimeMeasurements'] as number) >= 1, `client RTT measurements ${ro['roundTripTimeMeasurements']}`);
    const rtt = ro['roundTripTime'];
    assert.ok(typeof rtt === 'number' && rtt >= 0 && rtt < 1, `loopback RTT from the DLRR ${rtt}`);
    // And the leg's own RTT, from the client's RRs echoing the engine's SRs.
    assert.ok(consumer.getStats().pwtRemoteInbound!.roundTripTimeMeasurements >= 1, 'native RTT of the leg');
  }, true);
});

// An idle leg (its producer closed, or its consumer paused) sends no native SR, in which the engine
// answers the RRTRs it consumed: the leg's reporter takes them for the report it builds in
// JavaScript and answers them with a DLRR (RFC 3611 §4.5), so the subscriber's RTT keeps moving.
// The client keeps its own reporter, which measures the RTT from the DLRRs (remote-outbound-rtp).
// It sends no report of its own once it hears nothing, so the test sends the client's RRTRs, in
// compounds whose RR names the leg (as a browser's RR keeps naming a stream for seconds after its
// last packet): the engine, not JavaScript, consumes them (before the fix nothing answered them).
for (const idle of ['producer closed', 'consumer paused'] as const) {
  test(`router: ${idle}, the RRTRs the engine consumed are still answered with a DLRR; the client's own RTT keeps moving`, { timeout: 90_000 }, async () => {
    await withLeg(async ({ router, pub, producer, sub, consumer, clientTransceiver, me, received }) => {
      await mediaUntil(pub, () => received.length >= 10, 30_000);
      assert.ok(received.length >= 10, 'media reached the subscriber');
      if (idle === 'producer closed') producer.close();
      else consumer.pause();
      // Let the leg's last native SRs (sent while it still counted as a sender) go by.
      await new Promise((r) => setTimeout(r, 2500));
      const sent = new Set<number>();
      const answered: { lastRr: number; rtt: number }[] = [];
      sub.client.transportPolicies.add({
        name: 'dlrr-watch',
        incomingRtcp: (_now: number, packets: readonly RtcpPacket[]) => {
          const at = ntpMiddle32(ntpFromUnixMs(Date.now()));
          for (const p of packets) {
            if (!(p instanceof RtcpExtendedReport)) continue;
            for (const b of p.blocks) {
              if (!('items' in b)) continue;
              for (const item of b.items) {
                if (item.ssrc !== me || !sent.has(item.lastRr)) continue;
                answered.push({ lastRr: item.lastRr, rtt: (((at - item.lastRr - item.delaySinceLastRr) | 0) / 65536) });
              }
            }
          }
        },
      });
      const remoteOutbound = async (): Promise<number> => {
        const report = await sub.client.getStats();
        const r = [...report.values()].find((s) => s.type === 'remote-outbound-rtp' && s['ssrc'] === consumer.ssrc) as Record<string, unknown> | undefined;
        return (r?.['roundTripTimeMeasurements'] as number | undefined) ?? 0;
      };
      const measuredBefore = await remoteOutbound();
      const before = router.stats;
      const lastSeq = received[received.length - 1]!.seq;
      const stop = Date.now() + 20_000;
      let measured = measuredBefore;
      for (let n = 0; Date.now() < stop && (answered.length < 3 || measured <= measuredBefore); n++) {
        // (5 ms in the past: the client's reporter and Date.now() are different clocks; an RTT
        // that came out "negative" by their offset would not be counted.)
        const ntp = ntpFromUnixMs(Date.now() - 5);
        sent.add(ntpMiddle32(ntp));
        clientTransceiver.sender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
          ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: lastSeq, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
        }] }), new RtcpExtendedReport(me, [{ blockType: 4, ntpTimestamp: ntp }])]);
        await new Promise((r) => setTimeout(r, 300));
        if (n % 5 === 0) measured = await remoteOutbound();
      }
      const after = router.stats;
      assert.ok(after.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes >= 3, `RRTRs consumed by the engine (${after.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes})`);
      assert.ok(answered.length >= 3, `DLRRs answering the engine's RRTRs reached the client (${answered.length})`);
      assert.ok(after.dlrrSent - before.dlrrSent >= answered.length, `dlrrSent ${before.dlrrSent} -> ${after.dlrrSent}`);
      for (const a of answered) assert.ok(a.rtt >= 0 && a.rtt < 1, `loopback RTT from the DLRR ${a.rtt}`);
      // The client's own reporter measured the RTT from those DLRRs.
      const measuredAfter = await remoteOutbound();
      assert.ok(measuredAfter > measuredBefore, `the client's remote-outbound-rtp RTT measurements moved (${measuredBefore} -> ${measuredAfter})`);
      assert.equal(consumer.closed, false);
    }, true);
  });
}
