// Transport-wide feedback for natively forwarded packets (docs/sfu.md "Transport-wide feedback for
// forwarded packets"): a publisher of ours sends video with transport-wide sequence numbers to a
// Router on a real loopback port; the engine consumes every packet (no JavaScript delivery) and
// logs it (native/forward/forward_arrival_log.hpp), and the publisher receives transport-cc
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3) acknowledging each of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import type { RtpPacketBatch, RtpPolicy } from '../../../lib/peer/rtp-policy.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import type { RtcpPacket } from '../../../lib/rtp/rtcp/compound.js';
import type { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';
import '../../../lib/policy/default-policies.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

const PACKETS = 120;

/** A transport-scope module of the publisher client: the transport-wide numbers it sends, the feedback it gets. */
class Observer implements RtpPolicy {
  readonly name = 'test-transport-cc-observer';
  readonly sent = new Set<number>();
  readonly acked = new Set<number>();
  readonly lost = new Set<number>();
  feedbackPackets = 0;
  outgoingRtp(_now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) if (batch.transportSequence[i]! >= 0) this.sent.add(batch.transportSequence[i]!);
  }
  incomingRtcp(_now: number, packets: readonly RtcpPacket[]): void {
    for (const p of packets) {
      if (p.kind !== 'transport-cc') continue;
      this.feedbackPackets++;
      for (const r of (p as RtcpTransportCcFeedback).packets()) {
        if (r.deltaTicks !== null) this.acked.add(r.sequenceNumber);
        else this.lost.add(r.sequenceNumber);
      }
    }
  }
}

async function connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
}

test('router: the publisher gets transport-cc feedback for the packets the engine forwarded natively', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ udpMux: mux });
  const subServer = new RTCPeerConnection({ udpMux: mux });
  const subClient = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const observer = new Observer();
    client.transportPolicies.add(observer);
    const source = new LocalStreamTrack({ kind: 'video' });
    client.addTransceiver(source, { direction: 'sendonly' });
    const pubTransceiver = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
    await connect(client, server);
    const transceiver = await within(pubTransceiver, 5000, 'publisher track');
    assert.ok(client.localDescription!.sdp.includes('transport-wide-cc'), 'transport-wide-cc negotiated');

    const subTransceiver = subServer.addTransceiver(new LocalStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
    const subTrack = new Promise<MediaStreamTrack>((r) => subClient.once('track', (e) => r(e.track)));
    await connect(subServer, subClient);
    const track = await within(subTrack, 5000, 'subscriber track');

    const producer = await router.produce(server, transceiver);
    await router.consume(producer, subServer, subTransceiver);

    let ts = 0;
    for (let n = 0; n < PACKETS; n++) {
      source.send(new RtpPacket({ timestamp: (ts += 3000), marker: n % 4 === 3, payload: Buffer.alloc(400, n) }));
      if (n % 10 === 9) await new Promise((r) => setTimeout(r, 10));
    }
    for (let n = 0; n < PACKETS; n++) await within(track.recv(), 10_000, `forwarded packet ${n}`);
    assert.equal(observer.sent.size, PACKETS, 'each packet carried a transport-wide sequence number');
    // Feedback comes on the module's own timer (every 100 ms): wait until it covers every packet.
    const deadline = Date.now() + 5000;
    while ([...observer.sent].some((s) => !observer.acked.has(s)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    for (const s of observer.sent) assert.ok(observer.acked.has(s), `transport-wide sequence ${s} acknowledged as received`);
    for (const s of observer.lost) assert.ok(!observer.sent.has(s) || observer.acked.has(s), `sequence ${s} reported lost though it arrived`);
    assert.ok(observer.feedbackPackets >= 1);
    const stats = router.stats;
    assert.equal(stats.packetsReceived, PACKETS);
    assert.equal(stats.jsDeliveries, 0, 'no forwarded packet reached JavaScript');
    assert.equal(producer.getStats().pwtArrivalsOverwritten, 0, 'the arrival log kept up');
    assert.equal(transceiver.receiver.streams.get(producer.ssrc)?.packetsReceived ?? 0, 0, "the publisher connection's JavaScript saw none of them");
  } finally {
    router.close();
    for (const pc of [client, server, subServer, subClient]) pc.close();
    mux.close();
  }
});
