// The active side of ICE-TCP (RFC 6544 §5.1, tcptype active, announced with port 9): one TCP
// connection per remote passive candidate this transport sends checks to, opened on the first
// one, every packet RFC 4571-framed (docs/ice.md "ICE-TCP").
import { connect, type Socket } from 'node:net';
import { frameRfc4571, Rfc4571Framer } from '../../ice/rfc4571-framer.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import { remoteKey, type IceUdpSocket } from './datagram-socket.js';

/** The port active candidates announce (RFC 6544 §4.5: the discard port, never connected to). */
export const TCP_ACTIVE_PORT = 9;

/** Receives the frames of one TCP chunk; `key` is the remote's key as {@link remoteKey} gives it. */
export type TcpActiveReceiver = (frames: Buffer[], key: number | string, remote: TransportAddress) => void;

/** Counters of an active source. */
export interface TcpActiveStats {
  connectionsOpened: number;
  connectionsFailed: number;
  framesReceived: number;
  framesSent: number;
  /** Packets dropped: no connection could be opened, the queue before connect was full, or too long to frame. */
  sendDrops: number;
}

interface Link {
  socket: Socket;
  connected: boolean;
}

/** Most connections one source opens (one per remote passive candidate it checks). */
const MAX_LINKS = 16;
/** Connection attempts per remote, so that a refused port is not hammered by check retransmits. */
const MAX_ATTEMPTS = 3;
/** Bytes queued per connection before it is up, and while the kernel's send queue is full. */
const MAX_QUEUED = 256 * 1024;

/** Active TCP connections from one local address, with the socket surface the ICE driver needs. */
export class TcpActiveSource implements IceUdpSocket {
  readonly stats: TcpActiveStats = { connectionsOpened: 0, connectionsFailed: 0, framesReceived: 0, framesSent: 0, sendDrops: 0 };
  private readonly links = new Map<number | string, Link>();
  private readonly attempts = new Map<number | string, number>();
  private closed = false;

  constructor(private readonly localAddress: string, private readonly receiver: TcpActiveReceiver) {}

  onBatch(): void {
    // Frames go to the receiver given at construction.
  }

  /** Sends one packet to `address:port`, opening the connection to it first when there is none. */
  send(data: Uint8Array, port: number, address: string): void {
    if (this.closed || data.length > 0xffff) {
      this.stats.sendDrops++;
      return;
    }
    const remote = { address: canonicalIp(address), port };
    const key = remoteKey(remote.address, port);
    const link = this.links.get(key) ?? this.open(key, remote);
    if (!link || link.socket.writableLength > MAX_QUEUED) {
      this.stats.sendDrops++;
      return;
    }
    link.socket.write(frameRfc4571(data));
    this.stats.framesSent++;
  }

  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: TCP_ACTIVE_PORT, family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** Closes every connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.values()) l.socket.destroy();
    this.links.clear();
  }

  private open(key: number | string, remote: TransportAddress): Link | undefined {
    const tried = this.attempts.get(key) ?? 0;
    if (this.links.size >= MAX_LINKS || tried >= MAX_ATTEMPTS) return undefined;
    this.attempts.set(key, tried + 1);
    const socket = connect({ host: remote.address, port: remote.port, localAddress: this.localAddress, noDelay: true });
    const link: Link = { socket, connected: false };
    this.links.set(key, link);
    const framer = new Rfc4571Framer();
    socket.on('connect', () => {
      link.connected = true;
      this.stats.connectionsOpened++;
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      const frames = framer.push(chunk);
      this.stats.framesReceived += frames.length;
      if (frames.length > 0) this.receiver(frames, key, remote);
    });
    const gone = (): void => {
      if (this.links.get(key) !== link) return;
      this.links.delete(key);
      if (!link.connected) this.stats.connectionsFailed++;
      socket.destroy();
    };
    // Refused, reset or closed: the pair's checks fail or consent expires; nothing is thrown.
    socket.on('error', gone);
    socket.on('close', gone);
    return link;
  }
}
