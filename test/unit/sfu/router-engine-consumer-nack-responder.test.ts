// lib/sfu Router over real loopback sockets: an engine consumer's leg is sent and its NACKs answered
// natively (docs/sfu.md "Retransmission"), so the leg's JavaScript NACK responder
// (lib/policy/nack-responder.ts) keeps no send history and answers none of the NACKs; it counts the
// NACK packets the engine consumed in nackCount (nativeTotals), none as asked for or missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../../lib/rtp/rtcp/generic-nack.js';
// The default policy modules (NACK generator and responder among them) as an SFU runs them.
import '../../../lib/policy/default-policies.js';
import { NackResponder } from '../../../lib/policy/nack-responder.js';
import type { RTCStats } from '../../../lib/peer/index.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, subscriber, type Subscriber } from './room-peers.js';
import { closeRouterRig, routerRig } from './router-rig.js';

test('router: an engine consumer leg holds no JavaScript NACK history and counts the NACKs the engine answered only in nackCount', { timeout: 60_000 }, async () => {
  const { mux, router, pub } = await routerRig('video');
  let sub: Subscriber | undefined;
  try {
    const producer = await router.produce(pub.server, pub.transceiver);
    sub = await subscriber(mux, 'video');
    const consumer = await router.consume(producer, sub.server, sub.transceiver);
    const responder = sub.transceiver.policies.get('nack-responder');
    assert.ok(responder instanceof NackResponder, 'the default NACK responder is on the leg');
    const got = within((async () => {
      const out: RtpPacket[] = [];
      while (out.length < 10) out.push(await sub!.track.recv());
      return out;
    })(), 20_000, 'ten forwarded packets');
    for (let n = 0; n < 10; n++) pub.source.send(new RtpPacket({ timestamp: 3000 * (n + 1), payload: payload(n) }));
    const seqs = (await got).map((p) => p.sequenceNumber!);

    const clientSender = sub.client.getTransceivers()[0]!.sender;
    const again = within((async () => {
      const out: RtpPacket[] = [];
      while (out.length < 3) out.push(await sub!.track.recv());
      return out;
    })(), 20_000, 'three resent packets');
    clientSender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(clientSender.ssrc, consumer.ssrc, [seqs[2]!, seqs[5]!, seqs[7]!])]);
    const resent = await again;
    assert.deepEqual(resent.map((p) => p.payload), [payload(2), payload(5), payload(7)], 'the engine answered');
    await within((async () => {
      while (consumer.getStats().pwtNackedPackets < 3) await new Promise((r) => setTimeout(r, 10));
    })(), 10_000, 'the consumer counted three NACKed numbers');

    assert.equal(responder.historyBytes, 0, 'no send history for a leg the engine sends');
    const report = await sub.server.getStats();
    let outbound: RTCStats | undefined;
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && (s as RTCStats & { ssrc?: number }).ssrc === consumer.ssrc) outbound = s;
    });
    assert.ok(outbound, 'the leg has an outbound-rtp entry');
    const fields = outbound as unknown as Record<string, unknown>;
    // The responder counts the NACK packet the engine consumed (nativeTotals: nackCount), nothing else:
    // the engine answered it, so nothing was asked of or missing from a JavaScript history.
    // (At least: the client's own NACK generator may add one of its own under load.)
    assert.ok(typeof fields.nackCount === 'number' && fields.nackCount >= 1, `the NACK packet the engine consumed is in nackCount (${String(fields.nackCount)})`);
    assert.equal(fields.pwtNackNotInHistory, 0, 'NACKs the engine answered are not counted as missing in JavaScript');
    assert.equal(fields.pwtNackRequested, 0);
  } finally {
    closeRouterRig(router, mux, sub, pub);
  }
});
