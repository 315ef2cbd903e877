// Receiver reports towards a simulcast publisher from the native engine (docs/sfu.md "RTCP per
// leg"; RFC 3550 §6.4.2, §A.1, §A.8), over real loopback sockets with our own peers: each spatial
// layer's SSRC gets its own report block with that layer's extended highest sequence number (one
// layer wraps) and the packets left out of that layer counted as lost, although the three layers'
// sequence numbers interleave in one engine producer and the publisher connection's JavaScript
// never sees the forwarded packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoRng } from '../../../lib/common/rng.js';
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import '../../../lib/policy/default-policies.js';
import { RtcpReporter } from '../../../lib/policy/rtcp-reporter.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { RtcpReceiverReport } from '../../../lib/rtp/rtcp/receiver-report.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';

const RIDS = ['q', 'h', 'f'];
/** Each layer's first sequence number (layer 1's numbers wrap) and which packets it leaves out. */
const FIRST = [1000, 65520, 30000];
const LOSS_EVERY = [0, 7, 4]; // 0: none
const PACKETS = 60;
const PAYLOAD = Buffer.from([0x90, 0x80, 0x01, 0x00, 0x10, 0xaa]); // VP8 descriptor + header, not a key frame
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string): Promise<void> {
  await within((async () => {
    while (!cond()) await sleep(10);
  })(), 10_000, what);
}

test('router: a simulcast producer\'s receiver reports carry one block per layer SSRC with that layer\'s own loss and highest sequence', { timeout: 60_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ udpMux: mux });
  try {
    const source = new LocalStreamTrack({ kind: 'video' });
    const sender = client.addTransceiver(source, { direction: 'sendonly', sendEncodings: RIDS.map((rid) => ({ rid })) }).sender;
    const serverTransceiver = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 15_000, 'publisher connected');
    const transceiver = await within(serverTransceiver, 5000, 'publisher track');
    // Short report intervals for the test (RFC 3550 §6.3 would wait seconds).
    transceiver.policies.replace('rtcp-reporter', new RtcpReporter('video', { rng: cryptoRng, wallClockOffsetMs: Date.now() - performance.now(), minIntervalMs: 150 }));
    const producer = await router.produce(server, transceiver);
    assert.equal(producer.layerCount, 3);

    const send = (layer: number, seq: number, i: number): void => {
      source.send(new RtpPacket({ sequenceNumber: seq & 0xffff, timestamp: (9000 + i * 3000) >>> 0, payload: PAYLOAD }), { rid: RIDS[layer]! });
    };
    // Each layer's first packet binds its rid's SSRC (it reaches JavaScript); the engine counts from
    // the next one.
    for (let l = 0; l < 3; l++) send(l, FIRST[l]!, 0);
    await until(() => [0, 1, 2].every((l) => producer.layerSsrc(l) !== undefined), 'three layers bound');
    const ssrcs = [0, 1, 2].map((l) => producer.layerSsrc(l)!);

    const blocks = new Map<number, { highest: number; lost: number; jitter: number }[]>();
    sender.on('rtcp', (e) => {
      if (!(e.packet instanceof RtcpReceiverReport)) return;
      for (const b of e.packet.reports) {
        let list = blocks.get(b.ssrc);
        if (!list) blocks.set(b.ssrc, (list = []));
        list.push({ highest: b.highestSequence, lost: b.cumulativeLost, jitter: b.jitter });
      }
    });

    // The layers interleave, one packet each per 15 ms; layer l leaves out every LOSS_EVERY[l]-th
    // number (never the last one, so the highest is known).
    const skipped = [0, 0, 0];
    const last = [0, 0, 0];
    for (let i = 1; i <= PACKETS; i++) {
      for (let l = 0; l < 3; l++) {
        const seq = FIRST[l]! + i;
        last[l] = seq;
        if (LOSS_EVERY[l]! > 0 && i % LOSS_EVERY[l]! === 0 && i !== PACKETS) skipped[l]++;
        else send(l, seq, i);
      }
      await sleep(15);
    }
    await until(() => producer.getStats().pwtSpatialLayers!.every((s, l) => s.packetsReceived === PACKETS - skipped[l]!), 'every sent packet reached the engine');

    // Every layer's SSRC gets a block whose highest sequence number is its own last one (extended
    // across layer 1's wrap) and whose cumulative loss is the numbers that layer left out.
    await until(() => ssrcs.every((ssrc, l) => (blocks.get(ssrc) ?? []).some((b) => b.highest === last[l])), 'a report block per layer covering its last packet');
    for (let l = 0; l < 3; l++) {
      const final = blocks.get(ssrcs[l]!)!.find((b) => b.highest === last[l])!;
      assert.equal(final.highest, last[l], `layer ${l}: extended highest sequence number (RFC 3550 §A.1)`);
      assert.equal(final.lost, skipped[l], `layer ${l}: cumulative lost = the numbers this layer left out`);
      assert.ok(Number.isInteger(final.jitter) && final.jitter >= 0, `layer ${l}: interarrival jitter (RFC 3550 §A.8)`);
    }
    assert.ok(last[1]! > 0xffff, 'layer 1 wrapped');
    assert.equal(transceiver.receiver.streams.get(ssrcs[2]!)?.packetsReceived ?? 0, 1, "the publisher connection's JavaScript saw only the binding packet");
  } finally {
    router.close();
    client.close();
    server.close();
    mux.close();
  }
});
