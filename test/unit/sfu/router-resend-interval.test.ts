// lib/sfu Router over real loopback sockets: the RTT a subscriber's receiver reports give (RFC 3550
// §6.4.1: now - LSR - DLSR) reaches the engine and its consumer stats (pwtRoundTripTime,
// pwtResendInterval), the interval is the same rule as the TypeScript NACK responder's
// (lib/policy/resend-interval.ts, docs/policy.md "Resend interval"), and a NACK repeated after the
// 100 ms default but within that RTT is held back once the packet was resent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { ntpMiddle32FromUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import { RESEND_INTERVAL, resendIntervalMs } from '../../../lib/policy/resend-interval.js';
// The default policy modules (RTCP reporter, keyframe requests, NACK generator and responder, RTX).
import '../../../lib/policy/default-policies.js';
import type { Consumer } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, subscriber, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `check` holds for the consumer's stats. */
async function untilStats(consumer: Consumer, check: (s: ReturnType<Consumer['getStats']>) => boolean, what: string): Promise<void> {
  await within((async () => {
    while (!check(consumer.getStats())) await sleep(10);
  })(), 10_000, what);
}

test('router: the RTT from a subscriber\'s receiver report reaches the engine; a NACK repeated within it is held back', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'video');
    // Only the reports this test writes: the client's own reporter would measure the loopback RTT.
    sub.client.getTransceivers()[0]!.policies.remove('rtcp-reporter');
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    const got = within((async () => {
      let seq = -1;
      for (let i = 0; i < 20; i++) seq = (await sub!.track.recv()).sequenceNumber!;
      return seq;
    })(), 20_000, 'first round');
    for (let n = 0; n < 20; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    const last = await got;
    const clientSender = sub.client.getTransceivers()[0]!.sender;

    // An RR whose block says: our SR (LSR) left `rttMs` ago on the server's NTP clock and was held
    // DLSR = 0, so the server measures rttMs plus the report's transit.
    const report = (rttMs: number): void => {
      const lastSr = ntpMiddle32FromUnixMs(Date.now() - rttMs);
      clientSender.sendRtcp([new RtcpReceiverReport({ ssrc: clientSender.ssrc, reports: [
        { ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: last, jitter: 0, lastSr, delaySinceLastSr: 0 },
      ] })]);
    };
    const s0 = consumer.getStats();
    assert.equal(s0.pwtResendInterval, RESEND_INTERVAL.unknownRttMs / 1000, 'the default before any report');
    assert.equal(s0.pwtRoundTripTime, undefined, 'no RTT before a report');
    // Each report names a longer RTT than the last, so the stats show it once they reach its value
    // (a report's transit only adds to it; 5 ms less for the server's NTP clock, fixed from
    // Date.now() at integer ms when its reporter was made). The engine's interval equals the
    // TypeScript rule's.
    const reach = async (rttMs: number): Promise<void> => {
      report(rttMs);
      await untilStats(consumer, (s) => s.pwtRoundTripTime !== undefined && s.pwtRoundTripTime >= (rttMs - 5) / 1000,
        `an RTT of ${rttMs} ms in the consumer's stats`);
      const s = consumer.getStats();
      const expected = resendIntervalMs(s.pwtRoundTripTime! * 1000) / 1000;
      assert.ok(Math.abs(s.pwtResendInterval - expected) < 1e-9, `interval ${s.pwtResendInterval} s for RTT ${s.pwtRoundTripTime} s (TypeScript rule: ${expected} s)`);
    };
    await reach(5);
    await reach(300);
    // 900 ms: a repeat 200 ms after the answer (past the 100 ms default) is held back. A loaded
    // machine that delays the repeat's handling past the interval gets the packet again: then the
    // attempt is repeated after the longest interval (at most three attempts).
    await reach(900);
    const wanted = (last - 5) & 0xffff;
    const nack = (): RtcpGenericNack => RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, [wanted]);
    const resent = (): Promise<void> => within((async () => {
      const p = await sub!.track.recv();
      assert.equal(p.sequenceNumber, wanted, 'the NACKed packet, as first numbered');
    })(), 10_000, 'the retransmission');
    let heldBack = false;
    for (let attempt = 0; attempt < 3 && !heldBack; attempt++) {
      const before = consumer.getStats();
      const answered = resent();
      clientSender.sendRtcp([nack()]);
      await answered;
      await sleep(2 * RESEND_INTERVAL.unknownRttMs);
      clientSender.sendRtcp([nack()]);
      await untilStats(consumer, (s) => s.pwtNackedPackets === before.pwtNackedPackets + 2, 'the repeat counted');
      const after = consumer.getStats();
      heldBack = after.pwtDrops['resend-within-rtt'] === before.pwtDrops['resend-within-rtt'] + 1;
      if (heldBack) {
        assert.equal(after.retransmittedPacketsSent, before.retransmittedPacketsSent + 1, 'answered once');
      } else {
        await resent();
        await sleep(RESEND_INTERVAL.maxMs + 100);
      }
    }
    assert.ok(heldBack, 'a NACK repeated within the RTT was held back');
    assert.equal(router.stats.nackMisses, 0);
    // A longer RTT than the longest interval: clamped to 1 s.
    await reach(2000);
    assert.equal(consumer.getStats().pwtResendInterval, RESEND_INTERVAL.maxMs / 1000, 'clamped to 1 s');
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});
