// Consumer legs' sender reports sent by the forwarding engine (docs/sfu.md "RTCP per leg"; RFC 3550
// §6.1, §6.4.1, §6.5.1), over real loopback sockets with our own peers: reports queued for two legs
// in one tick leave in ONE native call; each subscriber parses (lib/rtp, not the engine's writer) an
// SR with its own SSRC, the packet and payload octet counts it received, an RTP/NTP mapping
// consistent with the timestamps it received and monotonic across reports, and an SDES CNAME equal
// to the one the leg's SDP announces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoRng } from '../../../lib/common/rng.js';
import type { RTCRtpTransceiver } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import { RtcpSenderReport } from '../../../lib/rtp/rtcp/sender-report.js';
import { RtcpSourceDescription } from '../../../lib/rtp/rtcp/source-description.js';
import { ntpToUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import type { Consumer, Router } from '../../../lib/sfu/index.js';
import { subscriber, until, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

const PAYLOAD = Buffer.alloc(200, 0x5a);
const CLOCK = 48000;

/** A reporter that never finds a report due by itself (Tmin of an hour): the test queues the reports. */
function quietReporter(t: RTCRtpTransceiver): void {
  t.policies.replace('rtcp-reporter', new RtcpReporter('audio', { rng: cryptoRng, wallClockOffsetMs: Date.now() - performance.now(), minIntervalMs: 3_600_000 }));
}

interface Leg {
  sub: Subscriber;
  consumer: Consumer;
  cname: string;
  arrivals: { ts: number; at: number }[];
  payloadBytes: number;
  reports: { sr: RtcpSenderReport; sdes: RtcpSourceDescription | undefined }[];
}

async function leg(router: Router, producer: Parameters<Router['consume']>[0], sub: Subscriber): Promise<Leg> {
  quietReporter(sub.transceiver);
  const consumer = await router.consume(producer, sub.server, sub.transceiver);
  const cname = /a=ssrc:\d+ cname:(\S+)/.exec(sub.server.localDescription!.sdp)![1]!;
  const l: Leg = { sub, consumer, cname, arrivals: [], payloadBytes: 0, reports: [] };
  void (async () => {
    for await (const p of sub.track) {
      l.arrivals.push({ ts: p.timestamp!, at: Date.now() });
      l.payloadBytes += p.payload.length;
    }
  })();
  // Every compound packet the subscriber connection receives (its transport-scope chain sees them all).
  sub.client.transportPolicies.add({
    name: 'sr-watch',
    incomingRtcp: (_now: number, packets: readonly RtcpPacket[]) => {
      const sr = packets.find((p): p is RtcpSenderReport => p instanceof RtcpSenderReport);
      if (sr) l.reports.push({ sr, sdes: packets.find((p): p is RtcpSourceDescription => p instanceof RtcpSourceDescription) });
    },
  });
  return l;
}

test('router: SRs of the legs due in one tick leave in one native call, each with its own counts, mapping and CNAME', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('audio');
  let a: Subscriber | undefined;
  let b: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    a = await subscriber(mux, 'audio');
    b = await subscriber(mux, 'audio');
    const legs = [await leg(router, producer, a), await leg(router, producer, b)];

    let seq = 100;
    let ts = 7000;
    const send = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        pub.source.send(new RtpPacket({ sequenceNumber: seq++, timestamp: ts, payload: PAYLOAD }));
        ts = (ts + 960) >>> 0;
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // One report per leg queued in the same tick (as the policy timer does for the legs due), after
    // `total` packets reached both subscribers; returns when both subscribers have the new report.
    const reportNow = async (total: number, round: number, pauseMs: number): Promise<void> => {
      await until(() => legs.every((l) => l.arrivals.length === total), 10_000, `${total} packets at both subscribers`);
      // A pause after the last packet: the SR's RTP timestamp must be moved on by it (RFC 3550 §6.4.1).
      await new Promise((r) => setTimeout(r, pauseMs));
      const before = router.stats;
      for (const l of legs) assert.ok(router.queueSenderReport(l.consumer, Date.now(), l.cname), 'queued');
      await until(() => legs.every((l) => l.reports.length === round), 10_000, `report ${round} at both subscribers`);
      const after = router.stats;
      assert.equal(after.senderReportCalls - before.senderReportCalls, 1, 'one native call for both legs');
      assert.equal(after.senderReportsSent - before.senderReportsSent, 2, 'two reports sent');
    };

    await send(30);
    await reportNow(30, 1, 0);
    await send(20);
    await reportNow(50, 2, 400);

    for (const l of legs) {
      for (const [k, { sr, sdes }] of l.reports.entries()) {
        const received = k === 0 ? 30 : 50;
        assert.equal(sr.ssrc, l.consumer.ssrc, "the leg's own SSRC");
        assert.equal(sr.packetCount, received, 'packets the subscriber received');
        assert.equal(sr.octetCount, received * PAYLOAD.length, 'payload octets the subscriber received');
        assert.equal(sr.reports.length, 0, 'no report blocks: the leg only sends');
        assert.ok(sdes, 'SDES in the same compound packet');
        assert.equal(sdes.chunks.length, 1);
        assert.equal(sdes.chunks[0]!.ssrc, l.consumer.ssrc);
        assert.equal(Buffer.from(sdes.chunks[0]!.items[0]!.data).toString('utf8'), l.cname, 'the CNAME the SDP announces');
        // The RTP timestamp at the SR's NTP time is the received stream's: the last arrival's moved on
        // by the time since it arrived (the 400 ms pause before the second report is 19200 units;
        // the margin is for the loopback delivery of that last packet on a loaded machine).
        const last = l.arrivals[received - 1]!;
        const expected = last.ts + ((ntpToUnixMs(sr.ntpTimestamp) - last.at) * CLOCK) / 1000;
        const off = Math.abs((sr.rtpTimestamp - Math.round(expected)) << 0);
        assert.ok(off < (CLOCK / 1000) * 100, `SR RTP timestamp within 100 ms of the received stream's (off by ${off} units)`);
      }
      // Monotonic: both clocks move forward from one report to the next. (Their rates are not
      // compared: the test's 20 ms send timer runs late on a loaded machine, so the stream's own
      // timestamps fall behind the wall clock; each report is checked against the stream above.)
      const [r1, r2] = [l.reports[0]!.sr, l.reports[1]!.sr];
      const ntpMs = ntpToUnixMs(r2.ntpTimestamp) - ntpToUnixMs(r1.ntpTimestamp);
      const rtpTicks = (r2.rtpTimestamp - r1.rtpTimestamp) >>> 0;
      assert.ok(ntpMs > 0, 'NTP time moves forward');
      assert.ok(rtpTicks > 0 && rtpTicks < 0x80000000, 'RTP timestamp moves forward');
    }
    // A closed leg is refused (its reporter then builds the report itself).
    legs[1]!.consumer.close();
    assert.equal(router.queueSenderReport(legs[1]!.consumer, Date.now(), legs[1]!.cname), false);
  } finally {
    closeRouterRig(router, mux, pub, a, b);
  }
});
