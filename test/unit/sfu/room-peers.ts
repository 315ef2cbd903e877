// Test helpers for lib/sfu over real loopback sockets: a publisher and subscribers (RTCPeerConnections
// of ours) whose server side is on a router's UdpMux, and a plain UDP socket that speaks RTP/RTCP.
import { createSocket, type Socket } from 'node:dgram';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCRtpTransceiver } from '../../../lib/peer/index.js';
import type { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { within } from '../../integration/peer-helpers.js';

export interface Publisher {
  client: RTCPeerConnection;
  server: RTCPeerConnection;
  source: LocalStreamTrack;
  transceiver: RTCRtpTransceiver;
}

export interface Subscriber {
  client: RTCPeerConnection;
  server: RTCPeerConnection;
  transceiver: RTCRtpTransceiver;
  track: MediaStreamTrack;
}

/** A client that sends one track to a server connection on `mux`. */
export async function publisher(mux: UdpMux, kind: 'audio' | 'video'): Promise<Publisher> {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const server = new RTCPeerConnection({ udpMux: mux });
  const source = new LocalStreamTrack({ kind });
  client.addTransceiver(source, { direction: 'sendonly' });
  const transceiver = new Promise<RTCRtpTransceiver>((r) => server.once('track', (e) => r(e.transceiver)));
  await client.setLocalDescription(await client.createOffer());
  await server.setRemoteDescription(client.localDescription!);
  await server.setLocalDescription(await server.createAnswer());
  await client.setRemoteDescription(server.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), 15_000, 'publisher connected');
  return { client, server, source, transceiver: await within(transceiver, 5000, 'publisher track') };
}

/** A client that receives one track from a server connection on `mux`. */
export async function subscriber(mux: UdpMux, kind: 'audio' | 'video'): Promise<Subscriber> {
  const server = new RTCPeerConnection({ udpMux: mux });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const transceiver = server.addTransceiver(new LocalStreamTrack({ kind }), { direction: 'sendonly' });
  const track = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
  await server.setLocalDescription(await server.createOffer());
  await client.setRemoteDescription(server.localDescription!);
  await client.setLocalDescription(await client.createAnswer());
  await server.setRemoteDescription(client.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), 15_000, 'subscriber connected');
  return { client, server, transceiver, track: await within(track, 5000, 'subscriber track') };
}

export function closePeers(...peers: ({ client: RTCPeerConnection; server: RTCPeerConnection } | undefined)[]): void {
  for (const p of peers) {
    p?.client.close();
    p?.server.close();
  }
}

/** A distinct payload per packet number. */
export function payload(n: number, tag = 'packet'): Buffer {
  return Buffer.from(`${tag}:${n}:`.padEnd(120, String.fromCharCode(97 + (n % 26))));
}

/** A node:dgram socket on 127.0.0.1 that queues what it receives. */
export class UdpPeer {
  readonly socket: Socket;
  private readonly queue: Buffer[] = [];
  private waiter: (() => void) | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (m) => {
      this.queue.push(m);
      this.waiter?.();
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(data, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  /** The next datagram received (bounded by the caller's `within`). */
  async recv(): Promise<Buffer> {
    while (this.queue.length === 0) await new Promise<void>((r) => (this.waiter = r));
    this.waiter = null;
    return this.queue.shift()!;
  }

  /** Everything received and not yet taken, without waiting. */
  takeAll(): Buffer[] {
    return this.queue.splice(0);
  }

  close(): void {
    this.socket.close();
  }
}

/** Polls `check` every 10 ms until it holds (bounded by `within`). */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  await within((async () => {
    while (!check()) await new Promise((r) => setTimeout(r, 10));
  })(), ms, what);
}
