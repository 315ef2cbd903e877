// Subscribers' receiver reports read by the forwarding engine (docs/sfu.md "RTCP per leg"; RFC 3550
// §6.4.1, §6.4.2), over real loopback sockets with our own peers: the report blocks a real subscriber
// sends about its leg (seen here as the server connection parses them, independently of the engine)
// are what `Consumer.getStats().pwtRemoteInbound` shows, field by field; the leg's round-trip time is
// measured natively from the LSR/DLSR that echo the engine's own SRs and is the consumer's
// pwtRoundTripTime; the router counts the blocks. A NACK of a consumer whose producer closed is
// counted as `nackUnknownProducer`, not as a cache miss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoRng } from '../../../lib/common/rng.js';
import type { RTCRtpTransceiver } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import type { RtcpReportBlock } from '../../../lib/rtp/rtcp/report-block.js';
import { subscriber, until, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

const PAYLOAD = Buffer.alloc(160, 0x33);

/** A reporter with a short interval, so that reports (SRs one way, RRs the other) come within the test. */
function fastReporter(t: RTCRtpTransceiver): void {
  t.policies.replace('rtcp-reporter', new RtcpReporter('audio', { rng: cryptoRng, wallClockOffsetMs: Date.now() - performance.now(), minIntervalMs: 300 }));
}

test('router: the report blocks a subscriber sends are the leg\'s pwtRemoteInbound; its RTT is measured natively', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('audio');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'audio');
    fastReporter(sub.transceiver);
    fastReporter(sub.client.getTransceivers()[0]!);
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    // The blocks about the leg as the server connection parsed them (lib/rtp), in arrival order.
    const seen: RtcpReportBlock[] = [];
    sub.server.transportPolicies.add({
      name: 'rr-watch',
      incomingRtcp: (_now: number, packets: readonly RtcpPacket[]) => {
        for (const p of packets) {
          if (p instanceof RtcpReceiverReport) for (const b of p.reports) if (b.ssrc === consumer.ssrc) seen.push({ ...b });
        }
      },
    });
    let received = 0;
    void (async () => {
      for await (const _ of sub!.track) received++;
    })();
    let seq = 500;
    let ts = 1000;
    const stop = Date.now() + 20_000;
    // Media until the subscriber has reported at least 3 times with an LSR (it has our SRs by then).
    while (Date.now() < stop && (seen.filter((b) => b.lastSr !== 0).length < 3 || received < 20)) {
      pub.source.send(new RtpPacket({ sequenceNumber: seq++, timestamp: ts, payload: PAYLOAD }));
      ts = (ts + 960) >>> 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(seen.some((b) => b.lastSr !== 0), 'the subscriber echoed an SR');
    // The stats equal the last block the connection parsed (re-read until both have seen the same RR).
    await until(() => consumer.getStats().pwtRemoteInbound?.reportsReceived === seen.length, 5000, 'engine and parser saw the same blocks');
    const stats = consumer.getStats();
    const r = stats.pwtRemoteInbound!;
    const last = seen[seen.length - 1]!;
    assert.equal(r.reportsReceived, seen.length, 'one block per RR');
    assert.equal(r.fractionLost, last.fractionLost / 256);
    assert.equal(r.packetsLost, last.cumulativeLost);
    assert.equal(r.pwtExtendedHighestSequence, last.highestSequence);
    assert.equal(r.jitter, last.jitter / producer.clockRate);
    assert.ok(r.pwtSecondsSinceLastReport >= 0 && r.pwtSecondsSinceLastReport < 5);
    // The sequence number the subscriber reports is one the leg sent (the engine rewrites to its own numbering).
    assert.ok(last.highestSequence > 0);
    // RTT from LSR/DLSR against the engine's own SRs: measured, small on loopback, and the resend RTT.
    assert.ok(r.roundTripTimeMeasurements >= 1, `native RTT measurements (${r.roundTripTimeMeasurements})`);
    assert.ok(r.roundTripTime !== undefined && r.roundTripTime > 0 && r.roundTripTime < 1, `loopback RTT ${r.roundTripTime}`);
    assert.ok(stats.pwtRoundTripTime !== undefined && stats.pwtRoundTripTime > 0 && stats.pwtRoundTripTime < 1);
    const rs = router.stats;
    assert.ok(rs.receiverReportBlocks >= seen.length, 'router counts the blocks');
    assert.ok(rs.roundTripTimesMeasured >= 1);
    assert.equal(rs.receiverReportsMalformed, 0);

    // The producer closes; the subscriber's NACK for the leg is neither answered nor a cache miss.
    const before = router.stats;
    producer.close();
    const clientSender = sub.client.getTransceivers()[0]!.sender;
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, [last.highestSequence & 0xffff, (last.highestSequence - 1) & 0xffff])]);
    await until(() => router.stats.nackUnknownProducer - before.nackUnknownProducer >= 2, 5000, 'NACK of a closed producer counted');
    assert.equal(router.stats.nackMisses, before.nackMisses, 'not counted as cache misses');
  } finally {
    closeRouterRig(router, mux, pub, sub);
  }
});
