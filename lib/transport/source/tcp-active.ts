// The active side of ICE-TCP (RFC 6544 §5.1, tcptype active, announced with port 9): one TCP
// connection per remote passive candidate this transport sends checks to, opened on the first
// one, every packet RFC 4571-framed (docs/ice.md "ICE-TCP"). Received chunks are split and the
// selected connection's SRTP unprotected natively, one call per read; its SRTP sends are protected and
// framed natively once per turn, one write (docs/udp.md "TCP framing").
import { performance } from 'node:perf_hooks';
import { connect, type Socket } from 'node:net';
import { frameRfc4571 } from '../../ice/rfc4571-framer.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import { checkLifeMs } from '../../ice/ice-agent.js';
import { createTcpFrameReader, tcpFrameBatch, TcpFrameError, TcpFraming, type NativeTcpFrameReader } from '../../native/tcp-frame.js';
import type { SrtpSession } from '../../srtp/srtp-session.js';
import { remoteKey, type IceUdpSocket } from './datagram-socket.js';
import type { TcpSrtpRoute } from './tcp-mux.js';
import { TcpSrtpStaging } from './tcp-srtp-staging.js';
import { reportListenerError } from '../../common/typed-emitter.js';

/** The port active candidates announce (RFC 6544 §4.5: the discard port, never connected to). */
export const TCP_ACTIVE_PORT = 9;

/**
 * Receives the frames of one native read batch (views valid during the call) with their SRTP status
 * (UdpSrtpStatus values); `key` is the remote's key as {@link remoteKey} gives it.
 */
export type TcpActiveReceiver = (frames: readonly Buffer[], srtp: Uint8Array, key: number | string, remote: TransportAddress) => void;

/** Counters of an active source. */
export interface TcpActiveStats {
  connectionsOpened: number;
  /** Connections that could not be opened (refused, unreachable, reset before up); timeouts not included. */
  connectionsFailed: number;
  /**
   * Connection attempts given up after `connectTimeoutMs` with no answer to the SYN (a blackholed or
   * filtered passive address): the socket is closed, the next check may try again (3 attempts per remote).
   */
  connectTimeouts: number;
  framesReceived: number;
  framesSent: number;
  /** Packets dropped: no connection could be opened, the queue before connect was full, or too long to frame. */
  sendDrops: number;
  /** RTP/RTCP packets protected and framed natively. */
  srtpProtected: number;
  /** Connections closed because their stream broke (a frame past the bound). */
  broken: number;
  /** Connections opened again to a remote whose earlier connection was up and then closed or was reset. */
  reconnects: number;
  /** Connections closed because the ICE agent failed (closeLinks): e.g. a reconnect's that came up too late. */
  linksClosedOnFailure: number;
}

interface Link {
  socket: Socket;
  connected: boolean;
  reader: NativeTcpFrameReader;
  route: TcpSrtpRoute | undefined;
  /** SRTP sends of this turn (clear), protected and framed at flush. */
  staging: TcpSrtpStaging;
}

/** Bytes of clear SRTP sends one connection stages per turn. */
const LINK_POOL_BYTES = 64 * 1024;

/** Most connections one source opens (one per remote passive candidate it checks). */
const MAX_LINKS = 16;
/** Connection attempts per remote, so that a refused port is not hammered by check retransmits. */
const MAX_ATTEMPTS = 3;
/** Bytes queued per connection before it is up, and while the kernel's send queue is full. */
const MAX_QUEUED = 256 * 1024;

/**
 * How long a connection attempt may wait for its SYN's answer: a check's whole life (its
 * transmissions and final timeout, RFC 8489 §6.2.1) shared by the {@link MAX_ATTEMPTS} attempts one
 * remote gets, so every attempt fits within the life of the check that opened it (3,167 ms with the
 * agent's defaults: 9.5 s / 3). Without it an attempt lasts until the kernel gives up (minutes).
 */
export function tcpConnectTimeoutMs(check: { checkRtoMs?: number; checkMaxRtoMs?: number; checkMaxTransmits?: number }): number {
  return Math.max(100, Math.ceil(checkLifeMs(check) / MAX_ATTEMPTS));
}

/** Active TCP connections from one local address, with the socket surface the ICE driver needs. */
export class TcpActiveSource implements IceUdpSocket {
  readonly stats: TcpActiveStats = { connectionsOpened: 0, connectionsFailed: 0, connectTimeouts: 0, framesReceived: 0, framesSent: 0, sendDrops: 0, srtpProtected: 0, broken: 0, reconnects: 0, linksClosedOnFailure: 0 };
  private readonly links = new Map<number | string, Link>();
  private readonly attempts = new Map<number | string, number>();
  /** Remotes whose connection was up and closed (bounded like the links): the next one up is a reconnect. */
  private readonly lost = new Set<number | string>();
  private closed = false;

  /**
   * `onClosed` is told when a connection that was up closes or is reset (not when it could not be
   * opened: the pair's checks fail then), so that its pairs fail at once (RFC 6544 §7.2).
   */
  constructor(
    private readonly localAddress: string,
    private readonly receiver: TcpActiveReceiver,
    private readonly onClosed?: (remote: TransportAddress) => void,
    /** See {@link tcpConnectTimeoutMs} (the agent's defaults when absent). */
    private readonly connectTimeoutMs = tcpConnectTimeoutMs({}),
  ) {}

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

  /**
   * The native SRTP route of the connection to `remote` (the selected pair's): its frames are
   * unprotected in the read batch and `send` stages packets protected and framed at flush.
   */
  srtpRoute(remote: TransportAddress, session: SrtpSession): TcpSrtpRoute | undefined {
    const key = remoteKey(canonicalIp(remote.address), remote.port);
    const link = this.links.get(key);
    if (!link || this.closed || link.socket.destroyed) return undefined;
    // An older route of the connection goes first: its removal clears the reader's session.
    link.route?.remove();
    if (!link.reader.setSrtpSession(session.nativeHandle)) return undefined;
    const route: TcpSrtpRoute = {
      send: (packet) => this.queueSrtp(link, route, packet),
      remove: () => {
        if (link.route !== route) return;
        this.flushLink(link);
        link.route = undefined;
        link.reader.setSrtpSession(null);
      },
    };
    link.route = route;
    return route;
  }

  private queueSrtp(link: Link, route: TcpSrtpRoute, packet: Uint8Array): boolean {
    if (link.route !== route || this.closed || link.socket.destroyed) return false;
    if (packet.length > 0xffff - 64) {
      this.stats.sendDrops++;
      return true;
    }
    link.staging.stage(packet);
    return true;
  }

  /** Protects and frames the staged packets with one native call; one write. */
  private flushLink(link: Link): void {
    if (this.closed || link.socket.destroyed || !link.connected || link.socket.writableLength > MAX_QUEUED) {
      this.stats.sendDrops += link.staging.discard();
      return;
    }
    const flushed = link.staging.protect(link.reader);
    this.stats.sendDrops += flushed.staged - flushed.protected;
    if (flushed.framed) {
      link.socket.write(flushed.framed);
      this.stats.srtpProtected += flushed.protected;
      this.stats.framesSent += flushed.protected;
    }
  }

  /**
   * Closes every connection open or opening now, without telling `onClosed` (the ICE agent failed:
   * its pairs are failed already; docs/ice.md "ICE-TCP"). The source stays usable: a later check (an
   * ICE restart) opens connections again. Returns how many were closed.
   */
  closeLinks(): number {
    if (this.closed) return 0;
    const links = [...this.links.values()];
    this.links.clear();
    this.lost.clear();
    this.attempts.clear();
    for (const l of links) {
      l.route = undefined;
      l.staging.discard();
      l.reader.setSrtpSession(null);
      l.socket.destroy();
    }
    this.stats.linksClosedOnFailure += links.length;
    return links.length;
  }

  /** Closes every connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.links.values()) l.socket.destroy();
    this.links.clear();
    this.lost.clear();
  }

  private open(key: number | string, remote: TransportAddress): Link | undefined {
    const tried = this.attempts.get(key) ?? 0;
    if (this.links.size >= MAX_LINKS || tried >= MAX_ATTEMPTS) return undefined;
    this.attempts.set(key, tried + 1);
    const socket = connect({ host: remote.address, port: remote.port, localAddress: this.localAddress, noDelay: true });
    const link: Link = {
      socket, connected: false, reader: createTcpFrameReader(TcpFraming.rfc4571, 0xffff), route: undefined,
      staging: new TcpSrtpStaging(LINK_POOL_BYTES, () => this.flushLink(link)),
    };
    this.links.set(key, link);
    let timedOut = false;
    const connectTimer = setTimeout(() => {
      timedOut = true;
      gone();
    }, this.connectTimeoutMs);
    connectTimer.unref?.();
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      link.connected = true;
      this.stats.connectionsOpened++;
      // A connection that came up proves the remote: a later close gets MAX_ATTEMPTS again to reconnect.
      this.attempts.delete(key);
      if (this.lost.delete(key)) this.stats.reconnects++;
    });
    socket.on('data', (chunk: Buffer) => {
      const { batch, arrays } = tcpFrameBatch();
      let offset = 0;
      while (offset < chunk.length && !this.closed && this.links.get(key) === link) {
        const n = batch.read(link.reader, chunk, offset, performance.now());
        if (n < 0) return;
        const consumed = arrays.info[0]!;
        offset += consumed;
        if (n > 0) {
          const frames: Buffer[] = [];
          for (let i = 0; i < n; i++) frames.push(arrays.buffer.subarray(arrays.offsets[i]!, arrays.offsets[i]! + arrays.lengths[i]!));
          this.stats.framesReceived += n;
          this.receiver(frames, arrays.status, key, remote);
        }
        if (arrays.info[1] !== TcpFrameError.none) {
          this.stats.broken++;
          gone();
          return;
        }
        if (consumed === 0 && n === 0) return;
      }
    });
    const gone = (): void => {
      clearTimeout(connectTimer);
      if (this.links.get(key) !== link) {
        socket.destroy();
        return;
      }
      this.links.delete(key);
      link.route = undefined;
      link.staging.discard();
      link.reader.setSrtpSession(null);
      if (!link.connected) {
        if (timedOut) this.stats.connectTimeouts++;
        else this.stats.connectionsFailed++;
      }
      else if (!this.closed && this.lost.size < MAX_LINKS) this.lost.add(key);
      socket.destroy();
      if (link.connected && !this.closed && this.onClosed) {
        try {
          this.onClosed(remote);
        } catch (err) {
          reportListenerError(err);
        }
      }
    };
    // Refused: the pair's checks fail. Reset or closed once up: onClosed fails its pairs. Nothing is thrown.
    socket.on('error', gone);
    socket.on('close', gone);
    return link;
  }
}
