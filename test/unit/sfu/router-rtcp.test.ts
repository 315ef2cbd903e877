// RTCP per leg of lib/sfu's Router from the native engine's counters (docs/sfu.md "RTCP per leg";
// RFC 3550 §6.4), over real loopback sockets with our own peers: the subscriber receives sender
// reports whose RTP/NTP mapping is that of the rewritten stream it receives (its own timestamps,
// not the publisher's), and the publisher receives receiver reports with the extended highest
// sequence number (across a wrap) and the packets it left out counted as lost, and transport-cc
// feedback that reports every packet received, although the publisher connection's JavaScript
// never sees the forwarded packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoRng } from '../../../lib/common/rng.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import { ntpToUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

const PACKETS = 100;
/** Every LOSS_EVERY-th sequence number is never sent: the receiver reports must count them lost. */
const LOSS_EVERY = 10;
const FIRST_SEQ = 65500; // the sequence numbers wrap during the run
const PAYLOAD = Buffer.alloc(160, 0x33);

/** Short report intervals for the test (the default is 5 s for audio, RFC 3550 §6.3). */
function fastReporter(transceiver: RTCRtpTransceiver): RtcpReporter {
  const reporter = new RtcpReporter('audio', { rng: cryptoRng, wallClockOffsetMs: Date.now() - performance.now(), minIntervalMs: 150 });
  transceiver.policies.replace('rtcp-reporter', reporter);
  return reporter;
}

async function connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
}

test('router: SR per consumer leg with its own RTP/NTP mapping, RR and transport-cc feedback to the publisher from the native counters', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const pubClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pubServer = new RTCPeerConnection({ udpMux: mux });
  const subServer = new RTCPeerConnection({ udpMux: mux });
  const subClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const source = new LocalStreamTrack({ kind: 'audio' });
    const pubSender = pubClient.addTransceiver(source, { direction: 'sendonly' }).sender;
    const pubTransceiver = new Promise<RTCRtpTransceiver>((r) => pubServer.once('track', (e) => r(e.transceiver)));
    await connect(pubClient, pubServer);
    const publisherTransceiver = await within(pubTransceiver, 5000, 'publisher track');
    fastReporter(publisherTransceiver);
    const producer = await router.produce(pubServer, publisherTransceiver);

    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
    const subTrack = new Promise<{ track: MediaStreamTrack; transceiver: RTCRtpTransceiver }>((r) => subClient.once('track', (e) => r({ track: e.track, transceiver: e.transceiver })));
    await connect(subServer, subClient);
    const legReporter = fastReporter(subTransceiver);
    const consumer = await router.consume(producer, subServer, subTransceiver);
    const sub = await within(subTrack, 5000, 'subscriber track');

    // The subscriber: every packet with its wall-clock arrival, and the sender reports.
    const arrivals: { ts: number; at: number }[] = [];
    void (async () => {
      for await (const p of sub.track) arrivals.push({ ts: p.timestamp!, at: Date.now() });
    })();
    const srs: { sr: RtcpSenderReport; at: number; arrivalsBefore: number }[] = [];
    sub.transceiver.receiver.on('rtcp', (e) => {
      if (e.packet instanceof RtcpSenderReport) srs.push({ sr: e.packet, at: Date.now(), arrivalsBefore: arrivals.length });
    });
    // The publisher: receiver reports about its stream.
    const rrs: { highest: number; lost: number; fraction: number }[] = [];
    // ...and transport-cc feedback: the transport-wide sequence numbers reported received.
    const twccReceived = new Set<number>();
    pubSender.on('rtcp', (e) => {
      if (e.packet instanceof RtcpTransportCcFeedback) {
        for (const p of e.packet.packets()) if (p.deltaTicks !== null) twccReceived.add(p.sequenceNumber);
      }
      if (!(e.packet instanceof RtcpReceiverReport)) return;
      for (const b of e.packet.reports) if (b.ssrc === producer.ssrc) rrs.push({ highest: b.highestSequence, lost: b.cumulativeLost, fraction: b.fractionLost });
    });

    // Real-time audio pacing (20 ms, 960 units at 48 kHz) with every LOSS_EVERY-th packet left out.
    let sent = 0;
    let skipped = 0;
    let lastSeq = 0;
    for (let i = 0; i < PACKETS; i++) {
      const seq = (FIRST_SEQ + i) & 0xffff;
      lastSeq = FIRST_SEQ + i;
      if (i % LOSS_EVERY === LOSS_EVERY - 1 && i !== PACKETS - 1) {
        skipped++;
      } else {
        source.send(new RtpPacket({ sequenceNumber: seq, timestamp: (5000 + i * 960) >>> 0, payload: PAYLOAD }));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await within((async () => {
      while (arrivals.length < sent) await new Promise((r) => setTimeout(r, 10));
    })(), 10_000, 'every sent packet forwarded');
    assert.equal(inboundSeen(publisherTransceiver, producer.ssrc), 0, "the publisher connection's JavaScript saw no forwarded packet");

    // Receiver reports: the last one covers the whole run (extended across the wrap) and the losses.
    await within((async () => {
      while (!rrs.some((r) => r.highest === lastSeq)) await new Promise((r) => setTimeout(r, 20));
    })(), 10_000, 'a receiver report covering the last packet');
    const final = rrs.find((r) => r.highest === lastSeq)!;
    assert.equal(final.highest, lastSeq, 'extended highest sequence number, one wrap (RFC 3550 §A.1)');
    assert.equal(final.lost, skipped, 'cumulative lost = the sequence numbers never sent');
    assert.ok(rrs.some((r) => r.fraction > 0), 'fraction lost reported for an interval with losses');

    // Transport-cc feedback from the engine's arrival log: every packet sent is reported received.
    await within((async () => {
      while (twccReceived.size < sent) await new Promise((r) => setTimeout(r, 20));
    })(), 10_000, 'transport-cc feedback covering every packet');
    assert.equal(twccReceived.size, sent, 'each packet reported received once (transport-wide sequence numbers)');

    // Sender reports: each one's RTP timestamp is the rewritten stream's timestamp at its NTP time,
    // judged against the last packet that arrived before it (loopback: arrival ≈ send time).
    await within((async () => {
      while (srs.filter((s) => s.arrivalsBefore > 0 && s.arrivalsBefore < sent).length < 2) await new Promise((r) => setTimeout(r, 20));
    })(), 10_000, 'sender reports during the stream');
    for (const { sr, arrivalsBefore } of srs.filter((s) => s.arrivalsBefore > 0 && s.arrivalsBefore < sent)) {
      assert.equal(sr.ssrc, consumer.ssrc, "the leg's own SSRC");
      const last = arrivals[arrivalsBefore - 1]!;
      const expected = last.ts + ((ntpToUnixMs(sr.ntpTimestamp) - last.at) * 48000) / 1000;
      const off = Math.abs(((sr.rtpTimestamp - Math.round(expected)) << 0));
      assert.ok(off < 48 * 60, `SR RTP timestamp within 60 ms of the rewritten stream's (off by ${off} units)`);
      assert.ok(sr.packetCount >= arrivalsBefore && sr.packetCount <= sent, 'packet count of this leg');
      assert.equal(sr.octetCount, sr.packetCount * PAYLOAD.length, 'payload octets of this leg');
    }
    // The leg's reports were built and sent by the engine (one native call per report tick), the
    // reporter only deciding when (docs/sfu.md "RTCP per leg").
    assert.ok(legReporter.counters.reportsSentNatively >= 2, 'the leg reporter handed its SRs to the engine');
    assert.ok(router.stats.senderReportsSent >= 2, 'the engine sent them');
    assert.ok(router.stats.senderReportCalls <= router.stats.senderReportsSent, 'at most one native call per report');
  } finally {
    router.close();
    for (const pc of [pubClient, pubServer, subServer, subClient]) pc.close();
    mux.close();
  }
});

function inboundSeen(t: RTCRtpTransceiver, ssrc: number): number {
  return t.receiver.streams.get(ssrc)?.packetsReceived ?? 0;
}
