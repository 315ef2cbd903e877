// The socket surface the ICE driver needs: the native batch UdpSocket satisfies it, and a
// Node dgram stand-in does too (for platforms without the addon and for comparisons).
import { createSocket, type Socket } from 'node:dgram';
import { UdpSocket } from './udp-socket.js';
import { ipv4Number } from '../../ice/transport-address.js';

/** One received batch; views are valid only during the listener call. */
export interface IceUdpBatch {
  readonly count: number;
  data(i: number): Buffer;
  address(i: number): string;
  port(i: number): number;
  family(i: number): 4 | 6;
  /** Equal sources give equal keys; see {@link remoteKey}. */
  addressKey(i: number): number | string;
  /**
   * SRTP outcome of datagram i when the socket has a session table (the native UdpSocket):
   * 0 not routed, 1 unprotected in place, 2 + SrtpStatus refused (see UdpBatch.srtpStatus).
   */
  srtpStatus?(i: number): number;
  /** The TURN channel route whose ChannelData header the socket stripped, or 0 (see UdpBatch.relayRoute). */
  relayRoute?(i: number): number;
}

/** A bound UDP socket with batched receive and queued send. */
export interface IceUdpSocket {
  onBatch(listener: ((batch: IceUdpBatch) => void) | null): void;
  send(data: Uint8Array, port: number, address: string): void;
  address(): { address: string; port: number; family: string };
  close(): void;
}

/** Options a socket factory receives. */
export interface IceUdpSocketOptions {
  type: 'udp4' | 'udp6';
  address?: string;
  port?: number;
  reusePort?: boolean;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** UDP_GRO receive where the socket and kernel offer it (the native socket; dgram ignores it). */
  gro?: boolean;
}

/** Creates and binds a socket. */
export type IceUdpSocketFactory = (options: IceUdpSocketOptions) => Promise<IceUdpSocket>;

/** The native batch socket (recvmmsg/sendmmsg). */
export const nativeUdpSocketFactory: IceUdpSocketFactory = (options) => UdpSocket.bind(options);

/**
 * The key UdpBatch.addressKey gives a source: for IPv4 a number (ip * 65536 + port), for IPv6
 * the canonical text and port joined by `|`.
 */
export function remoteKey(address: string, port: number): number | string {
  // Parsed without a split (a shared port's sends look their route up by this key).
  const v4 = ipv4Number(address);
  if (v4 >= 0) return v4 * 65536 + port;
  return `${address}|${port}`;
}

class DgramBatch implements IceUdpBatch {
  count = 1;
  msg: Buffer = Buffer.alloc(0);
  from = { address: '', port: 0, family: 'IPv4' };
  data(): Buffer {
    return this.msg;
  }
  address(): string {
    return this.from.address;
  }
  port(): number {
    return this.from.port;
  }
  family(): 4 | 6 {
    return this.from.family === 'IPv6' ? 6 : 4;
  }
  addressKey(): number | string {
    return remoteKey(this.from.address, this.from.port);
  }
}

class DgramIceSocket implements IceUdpSocket {
  private listener: ((batch: IceUdpBatch) => void) | null = null;
  private readonly batch = new DgramBatch();
  constructor(private readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      this.batch.msg = msg;
      this.batch.from = rinfo;
      this.listener?.(this.batch);
    });
    // Send errors (e.g. ICMP unreachable) must not crash the process.
    socket.on('error', () => undefined);
  }
  onBatch(listener: ((batch: IceUdpBatch) => void) | null): void {
    this.listener = listener;
  }
  send(data: Uint8Array, port: number, address: string): void {
    this.socket.send(data, port, address);
  }
  address(): { address: string; port: number; family: string } {
    return this.socket.address();
  }
  close(): void {
    this.socket.close();
  }
}

/** Node's dgram as a one-datagram-per-batch stand-in. */
export const dgramUdpSocketFactory: IceUdpSocketFactory = (options) =>
  new Promise((resolve, reject) => {
    const s = createSocket({ type: options.type, reuseAddr: options.reusePort ?? false });
    s.once('error', reject);
    s.bind({ address: options.address, port: options.port ?? 0 }, () => {
      s.off('error', reject);
      if (options.recvBufferSize) s.setRecvBufferSize(options.recvBufferSize);
      if (options.sendBufferSize) s.setSendBufferSize(options.sendBufferSize);
      resolve(new DgramIceSocket(s));
    });
  });
