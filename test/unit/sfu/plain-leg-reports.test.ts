// RTCP reports on plain and pipe legs (docs/scaling.md "RTCP reports on plain and pipe legs", RFC 3550
// §6.4.1), over real loopback sockets: with rtcpReports, a plain consumer's remote gets sender reports whose packet and
// octet counts are what the engine sent; a plain producer's remote gets receiver reports whose block
// names its SSRC, the highest sequence number it sent and no loss; across a pipe, B reports on what it
// receives and A on what it sends, and each end's reports reach the other. A plain consumer's remote
// that answers an SR with an RR gives the consumer a round-trip time (pwtRoundTripTime, from the
// reporter's LSR/DLSR match) and its block's fields (pwtRemoteInbound, read by the engine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { tryParseRtcp, type RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import { ntpMiddle32 } from '../../../lib/rtp/rtcp/ntp-time.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { payload, until, UdpPeer } from './room-peers.js';

const SSRC = 0x0aaa_0001;
const VP8 = { name: 'VP8', clockRate: 90000 } as const;
const COUNT = 30;
const FIRST_SEQ = 65530; // wraps: the extended highest sequence number counts one cycle

function rtp(n: number): Buffer {
  return new RtpPacket({ payloadType: 96, sequenceNumber: (FIRST_SEQ + n) & 0xffff, timestamp: 3000 * n, ssrc: SSRC, payload: payload(n) }).serialize();
}

/** RTCP packets in datagrams a UdpPeer has received (RTP datagrams are skipped). */
function rtcpIn(datagrams: Buffer[]): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  for (const d of datagrams) {
    const pt = d[1]! & 0x7f;
    if (pt < 64 || pt > 95) continue;
    out.push(...(tryParseRtcp(d) ?? []));
  }
  return out;
}

/** Adds everything `peer` has received so far to `into`, without waiting. */
function drain(peer: UdpPeer, into: Buffer[]): Buffer[] {
  into.push(...peer.takeAll());
  return into;
}

test('plain transport: SR to a consumer remote with the counts the engine sent; RR to a producer remote about its stream', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const sender = await UdpPeer.open();
  const sink = await UdpPeer.open();
  try {
    const inbound = router.createPlainTransport({ listenIp: '127.0.0.1', rtcpReports: true });
    inbound.connect({ ip: '127.0.0.1', port: sender.port });
    const producer = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: 96, codec: VP8 });
    const outbound = router.createPlainTransport({ listenIp: '127.0.0.1', rtcpReports: true });
    outbound.connect({ ip: '127.0.0.1', port: sink.port });
    const consumer = outbound.consume(producer, { payloadType: 97 });
    // Reports are asked for: a plain transport created without rtcpReports sends none.
    const quiet = router.createPlainTransport({ listenIp: '127.0.0.1' });
    quiet.connect({ ip: '127.0.0.1', port: sink.port });
    quiet.consume(producer, { payloadType: 97 });
    for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), inbound.tuple.localPort);
    await until(() => consumer.getStats().packetsSent === COUNT, 10_000, 'forwarded');

    // The consumer's remote: SRs from the consumer's SSRC, the last one counting every packet sent.
    const atSink: Buffer[] = [];
    let sr: RtcpSenderReport | undefined;
    await until(() => {
      sr = rtcpIn(drain(sink, atSink)).filter((p): p is RtcpSenderReport => p instanceof RtcpSenderReport && p.ssrc === consumer.ssrc && p.packetCount === COUNT).at(-1);
      return sr !== undefined;
    }, 20_000, 'a sender report with every packet counted');
    assert.equal(sr!.octetCount, consumer.getStats().bytesSent - 12 * COUNT, 'payload octets (RFC 3550 §6.4.1): bytes less the 12-byte headers');
    assert.ok(sr!.ntpTimestamp > 0n);

    // The producer's remote: RRs with a block about its SSRC.
    const atSender: Buffer[] = [];
    let rr: RtcpReceiverReport | undefined;
    await until(() => {
      rr = rtcpIn(drain(sender, atSender)).filter((p): p is RtcpReceiverReport => p instanceof RtcpReceiverReport && p.reports.some((b) => b.ssrc === SSRC)).at(-1);
      return rr !== undefined;
    }, 20_000, 'a receiver report about the producer');
    const block = rr!.reports.find((b) => b.ssrc === SSRC)!;
    assert.equal(block.highestSequence, 0x10000 + ((FIRST_SEQ + COUNT - 1) & 0xffff), 'extended highest sequence number, one cycle');
    assert.equal(block.cumulativeLost, 0);
    assert.ok(inbound.getStats().rtcpReportsSent >= 1);
    assert.ok(outbound.getStats().rtcpReportsSent >= 1);
    assert.equal(quiet.getStats().rtcpReportsSent, 0, 'no reporter without rtcpReports');
    assert.equal(router.stats.jsDeliveries, 0, 'reports come from counters, not from packets in JavaScript');
  } finally {
    router.close();
    mux.close();
    sender.close();
    sink.close();
  }
});

test('pipe transport: each end reports on its leg and receives the other end\'s reports', { timeout: 60_000 }, async () => {
  const muxA = await UdpMux.bind({ address: '127.0.0.1' });
  const muxB = await UdpMux.bind({ address: '127.0.0.1' });
  const routerA = Router.create(muxA);
  const routerB = Router.create(muxB);
  const sender = await UdpPeer.open();
  try {
    const inbound = routerA.createPlainTransport({ listenIp: '127.0.0.1' });
    inbound.connect({ ip: '127.0.0.1', port: sender.port });
    const producerA = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: 96, codec: VP8 });
    const pipeA = routerA.createPipeTransport({ listenIp: '127.0.0.1', srtp: true });
    const pipeB = routerB.createPipeTransport({ listenIp: '127.0.0.1', srtp: true });
    pipeA.connect(pipeB.getLocalParameters());
    pipeB.connect(pipeA.getLocalParameters());
    const producerB = pipeB.produce(pipeA.consumerStream(pipeA.consume(producerA)));
    for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), inbound.tuple.localPort);
    await until(() => producerB.getStats().packetsReceived === COUNT, 10_000, 'across the pipe');
    // A sends SRs about its consumer, B RRs about its producer; each end counts the other's RTCP.
    await until(() => pipeA.getStats().rtcpReportsSent >= 1 && pipeB.getStats().rtcpReportsSent >= 1, 20_000, 'both ends report');
    await until(() => pipeA.getStats().rtcpReceived >= 1 && pipeB.getStats().rtcpReceived >= 1, 20_000, "each end receives the other's reports");
    assert.equal(pipeA.getStats().rtcpMalformed + pipeB.getStats().rtcpMalformed, 0);
    assert.equal(pipeA.getStats().srtpDropped! + pipeB.getStats().srtpDropped!, 0, 'reports cross the SRTP pipe protected');
  } finally {
    routerA.close();
    routerB.close();
    muxA.close();
    muxB.close();
    sender.close();
  }
});

test('plain transport: a consumer remote\'s RR gives the consumer its RTT and remote-inbound fields', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const sender = await UdpPeer.open();
  const sink = await UdpPeer.open();
  try {
    const inbound = router.createPlainTransport({ listenIp: '127.0.0.1' });
    inbound.connect({ ip: '127.0.0.1', port: sender.port });
    const producer = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: 96, codec: VP8 });
    const outbound = router.createPlainTransport({ listenIp: '127.0.0.1', rtcpReports: true });
    outbound.connect({ ip: '127.0.0.1', port: sink.port });
    const consumer = outbound.consume(producer, { payloadType: 97 });
    for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), inbound.tuple.localPort);
    await until(() => consumer.getStats().packetsSent === COUNT, 10_000, 'forwarded');
    assert.equal(consumer.getStats().pwtRoundTripTime, undefined, 'no RTT before an RR');
    const atSink: Buffer[] = [];
    let sr: RtcpSenderReport | undefined;
    await until(() => {
      sr = rtcpIn(drain(sink, atSink)).filter((p): p is RtcpSenderReport => p instanceof RtcpSenderReport && p.ssrc === consumer.ssrc).at(-1);
      return sr !== undefined;
    }, 20_000, 'a sender report');
    // The remote holds the SR for 5 ms before answering (DLSR), then reports loss and jitter. It
    // really waits longer than that: an answer sooner than the DLSR it claims gives a negative
    // round trip, which no reporter counts (the test then waited for an RTT that never came).
    await new Promise((resolve) => setTimeout(resolve, 20));
    const block = { ssrc: consumer.ssrc, fractionLost: 25, cumulativeLost: 3, highestSequence: 0x10005, jitter: 450, lastSr: ntpMiddle32(sr!.ntpTimestamp), delaySinceLastSr: Math.round(0.005 * 65536) };
    await sink.send(new RtcpReceiverReport({ ssrc: 0x5e5e, reports: [block] }).serialize(), outbound.tuple.localPort);
    await until(() => consumer.getStats().pwtRoundTripTime !== undefined && consumer.getStats().pwtRemoteInbound !== undefined, 10_000, 'the RR read');
    const stats = consumer.getStats();
    assert.ok(stats.pwtRoundTripTime! > 0 && stats.pwtRoundTripTime! < 5, `RTT ${stats.pwtRoundTripTime} s`);
    assert.equal(outbound.getStats().rtcpRoundTripTimes, 1);
    const r = stats.pwtRemoteInbound!;
    assert.equal(r.reportsReceived, 1);
    assert.equal(r.fractionLost, 25 / 256);
    assert.equal(r.packetsLost, 3);
    assert.equal(r.pwtExtendedHighestSequence, 0x10005);
    assert.equal(r.jitter, 450 / 90000);
    // The plain leg's SRs are its reporter's (not the engine's): the engine measures no RTT of its own.
    assert.equal(r.roundTripTimeMeasurements, 0);
  } finally {
    router.close();
    mux.close();
    sender.close();
    sink.close();
  }
});
