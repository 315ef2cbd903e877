// Which kinds of a subscriber's RTCP the forwarding engine consumes (docs/sfu.md "What a subscriber's
// RTCP costs") follows a real renegotiation of the subscriber connection: an answer that drops
// `a=rtcp-xr:rcvr-rtt=all` (RFC 3611 §5.1) hands the leg's XR RRTRs back to JavaScript (which then
// owns answering them), and one that brings it back lets the engine consume and answer them again.
// Before, the leg's kinds were computed when the consumer was made and on policy add/remove only, so
// after such a renegotiation the engine went on consuming RRTRs the connection no longer negotiated.
// Over real loopback sockets with our own peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../../lib/policy/default-policies.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { RtcpExtendedReport } from '../../../lib/rtp/rtcp/extended-report.js';
import { ntpFromUnixMs } from '../../../lib/rtp/rtcp/ntp-time.js';
import { subscriber, until, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

/**
 * The client's answer as the server gets it: without `a=rtcp-xr` lines, or with rcvr-rtt in its media
 * section (the client, whose reporter the test removed so that it sends no reports of its own, no
 * longer answers it itself; the server's answer handling is what is tested).
 */
const answerXr = (sdp: string, xr: boolean): string => {
  const lines = sdp.split('\r\n').filter((l) => !l.startsWith('a=rtcp-xr'));
  if (!xr) return lines.join('\r\n');
  return lines.flatMap((l) => (l.startsWith('a=mid:') ? [l, 'a=rtcp-xr:rcvr-rtt=all'] : [l])).join('\r\n');
};

test("router: a renegotiation of the subscriber that drops or restores rcvr-rtt moves the leg's XR RRTRs between JavaScript and the engine", { timeout: 90_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'video');
    const s = sub.server;
    const c = sub.client;
    const clientTransceiver = c.getTransceivers()[0]!;
    // The client's own reports are left out: the RTCP it sends is what the test sends.
    clientTransceiver.policies.remove('rtcp-reporter');
    const consumer = await router.consume(producer, s, sub.transceiver);
    const me = clientTransceiver.sender.ssrc;
    const received: number[] = [];
    const track = sub.track;
    void (async () => {
      for await (const p of track) received.push(p.sequenceNumber!);
    })();
    let n = 0;
    const media = async (count: number): Promise<void> => {
      const target = received.length + count;
      const stop = Date.now() + 20_000;
      while (received.length < target && Date.now() < stop) {
        pub.source.send(new RtpPacket({ timestamp: 3000 * ++n, payload: Buffer.alloc(400, n & 0xff) }));
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(received.length >= target, 'media reached the subscriber');
    };
    /** Sends RR + XR RRTR naming the leg; resolves with where it went. */
    const rrtr = async (): Promise<'engine' | 'js'> => {
      const before = router.stats;
      const last = received[received.length - 1]!;
      clientTransceiver.sender.sendRtcp([new RtcpReceiverReport({ ssrc: me, reports: [{
        ssrc: consumer.ssrc, fractionLost: 0, cumulativeLost: 0, highestSequence: last, jitter: 0, lastSr: 0, delaySinceLastSr: 0,
      }] }), new RtcpExtendedReport(me, [{ blockType: 4, ntpTimestamp: ntpFromUnixMs(Date.now()) }])]);
      await until(() => router.stats.rtcpCompoundsConsumed > before.rtcpCompoundsConsumed || router.stats.rtcpCompoundsToJs > before.rtcpCompoundsToJs,
        10_000, 'the compound handled');
      const after = router.stats;
      if (after.rtcpCompoundsToJs > before.rtcpCompoundsToJs) {
        assert.equal(after.rtcpReceiverReferenceTimes, before.rtcpReceiverReferenceTimes, 'an RRTR in JavaScript is not counted by the engine');
        return 'js';
      }
      assert.equal(after.rtcpReceiverReferenceTimes - before.rtcpReceiverReferenceTimes, 1, 'the RRTR counted by the engine');
      return 'engine';
    };
    /** The server offers again; the client's answer reaches the server with or without rcvr-rtt. */
    const renegotiate = async (xr: boolean): Promise<void> => {
      await s.setLocalDescription(await s.createOffer());
      await c.setRemoteDescription(s.localDescription!);
      await c.setLocalDescription(await c.createAnswer());
      const sdp = c.localDescription!.sdp;
      await s.setRemoteDescription({ type: 'answer', sdp: answerXr(sdp, xr) });
      // The router re-reads the leg in a microtask after the chains were configured.
      await new Promise((r) => setTimeout(r, 20));
    };

    await media(10);
    assert.equal(sub.transceiver.policies.parameters?.receiverRtt, true, 'rcvr-rtt negotiated first');
    assert.equal(await rrtr(), 'engine', 'with rcvr-rtt the engine consumes the RRTR');

    await renegotiate(false);
    assert.equal(sub.transceiver.policies.parameters?.receiverRtt, false, 'the renegotiation dropped rcvr-rtt');
    await media(5);
    assert.equal(await rrtr(), 'js', 'without rcvr-rtt the RRTR goes to JavaScript');

    await renegotiate(true);
    assert.equal(sub.transceiver.policies.parameters?.receiverRtt, true, 'the next renegotiation restored rcvr-rtt');
    await media(5);
    assert.equal(await rrtr(), 'engine', 'with rcvr-rtt again the engine consumes the RRTR');
    assert.equal(consumer.closed, false);
  } finally {
    closeRouterRig(router, mux, pub, sub);
  }
});
