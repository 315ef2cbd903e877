// Plain and pipe transports on IPv6 (docs/scaling.md "Plain transport", "Pipe transport"), all on
// ::1 with real sockets: RTP from a udp6 socket enters a plain producer and leaves a plain consumer to
// a udp6 sink, rewritten; a stranger on ::1 is dropped and counted; the same stream crosses a clear
// and an SRTP pipe between two routers on ::1. Skipped where the loopback has no IPv6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { Router } from '../../../lib/sfu/index.js';
import { within } from '../../integration/peer-helpers.js';
import { payload, until } from './room-peers.js';

const SSRC = 0x0666_0001;
const VP8 = { name: 'VP8', clockRate: 90000 } as const;

/** A udp6 socket on ::1 that queues what it receives. */
class Udp6Peer {
  private readonly queue: Buffer[] = [];
  private waiter: (() => void) | null = null;
  private constructor(readonly socket: Socket) {
    socket.on('message', (m) => {
      this.queue.push(m);
      this.waiter?.();
    });
  }

  static async open(): Promise<Udp6Peer> {
    const socket = createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '::1', () => resolve());
    });
    return new Udp6Peer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, '::1', (err) => (err ? reject(err) : resolve())));
  }

  async recv(): Promise<Buffer> {
    while (this.queue.length === 0) await new Promise<void>((r) => (this.waiter = r));
    this.waiter = null;
    return this.queue.shift()!;
  }

  close(): void {
    this.socket.close();
  }
}

async function ipv6Loopback(): Promise<boolean> {
  try {
    (await Udp6Peer.open()).close();
    return true;
  } catch {
    return false;
  }
}
const SKIP = (await ipv6Loopback()) ? false : 'no IPv6 on the loopback (::1 cannot be bound)';

function rtp(n: number): Buffer {
  return new RtpPacket({ payloadType: 96, sequenceNumber: (1000 + n) & 0xffff, timestamp: 3000 * n, ssrc: SSRC, marker: true, payload: payload(n) }).serialize();
}

/** Receives `count` packets at `sink` and checks each against the sent payload, SSRC and payload type. */
async function expectStream(sink: Udp6Peer, count: number, ssrc: number, payloadType: number, what: string): Promise<void> {
  await within((async () => {
    let last: number | undefined;
    for (let n = 0; n < count; n++) {
      const p = RtpPacket.parse(await sink.recv());
      assert.ok(p.payload.equals(payload(n)), `${what}: packet ${n} intact and in order`);
      assert.equal(p.ssrc, ssrc);
      assert.equal(p.payloadType, payloadType);
      if (last !== undefined) assert.equal(p.sequenceNumber, (last + 1) & 0xffff, 'continuous sequence numbers');
      last = p.sequenceNumber;
    }
  })(), 20_000, what);
}

test('plain transport on ::1: RTP from a udp6 socket is forwarded to a plain consumer on ::1; a stranger is dropped', { skip: SKIP, timeout: 30_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const sender = await Udp6Peer.open();
  const stranger = await Udp6Peer.open();
  const sink = await Udp6Peer.open();
  try {
    const inbound = router.createPlainTransport({ listenIp: '::1' });
    inbound.connect({ ip: '::1', port: sender.port });
    assert.equal(inbound.tuple.localIp, '::1');
    const producer = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: 96, codec: VP8 });
    const outbound = router.createPlainTransport({ listenIp: '::1' });
    outbound.connect({ ip: '::1', port: sink.port });
    const consumer = outbound.consume(producer, { payloadType: 97 });

    await stranger.send(rtp(0), inbound.tuple.localPort);
    await until(() => inbound.getStats().spoofedDropped === 1, 10_000, 'the stranger judged');
    const COUNT = 20;
    const got = expectStream(sink, COUNT, consumer.ssrc, 97, 'the sink receives the stream over IPv6');
    for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), inbound.tuple.localPort);
    await got;
    assert.equal(producer.getStats().packetsReceived, COUNT);
    assert.equal(router.stats.jsDeliveries, 0, 'no JavaScript per packet');
  } finally {
    router.close();
    mux.close();
    for (const p of [sender, stranger, sink]) p.close();
  }
});

for (const srtp of [false, true]) {
  test(`pipe transport on ::1 (${srtp ? 'SRTP' : 'clear'}): a plain producer on router A reaches a plain consumer on router B`, { skip: SKIP, timeout: 30_000 }, async () => {
    const muxA = await UdpMux.bind({ address: '127.0.0.1' });
    const muxB = await UdpMux.bind({ address: '127.0.0.1' });
    const routerA = Router.create(muxA);
    const routerB = Router.create(muxB);
    const sender = await Udp6Peer.open();
    const sink = await Udp6Peer.open();
    try {
      const inbound = routerA.createPlainTransport({ listenIp: '::1' });
      inbound.connect({ ip: '::1', port: sender.port });
      const producerA = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: 96, codec: VP8 });
      const pipeA = routerA.createPipeTransport({ listenIp: '::1', srtp });
      const pipeB = routerB.createPipeTransport({ listenIp: '::1', srtp });
      assert.equal(pipeA.getLocalParameters().ip, '::1');
      pipeA.connect(pipeB.getLocalParameters());
      pipeB.connect(pipeA.getLocalParameters());
      const producerB = pipeB.produce(pipeA.consumerStream(pipeA.consume(producerA)));
      const outbound = routerB.createPlainTransport({ listenIp: '::1' });
      outbound.connect({ ip: '::1', port: sink.port });
      const consumer = outbound.consume(producerB, { payloadType: 98 });

      const COUNT = 20;
      const got = expectStream(sink, COUNT, consumer.ssrc, 98, 'the sink on router B receives the stream across the IPv6 pipe');
      for (let n = 0; n < COUNT; n++) await sender.send(rtp(n), inbound.tuple.localPort);
      await got;
      assert.equal(producerB.getStats().packetsReceived, COUNT);
      assert.equal(pipeA.getStats().spoofedDropped + pipeB.getStats().spoofedDropped, 0);
      if (srtp) assert.equal(pipeA.getStats().srtpDropped! + pipeB.getStats().srtpDropped!, 0);
      assert.equal(routerA.stats.jsDeliveries + routerB.stats.jsDeliveries, 0, 'no JavaScript per packet on either router');
    } finally {
      routerA.close();
      routerB.close();
      muxA.close();
      muxB.close();
      sender.close();
      sink.close();
    }
  });
}
