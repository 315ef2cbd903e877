// Connects a sans-I/O TurnClient to its server: over the host UDP socket it shares with the
// host candidate, or over its own TCP/TLS stream (RFC 8656 §3.1, framing per RFC 8656 §12.5). A stream
// is split natively, one call per read; with an SRTP route on a bound channel, that channel's
// ChannelData is unframed and unprotected in the same call and sends are protected and framed at
// flush (docs/udp.md "TCP framing").
import { performance } from 'node:perf_hooks';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Rng } from '../../common/rng.js';
import { TurnClient } from '../../ice/turn-client.js';
import type { TransportAddress } from '../../ice/transport-address.js';
import { createTcpFrameReader, tcpFrameBatch, TCP_MAX_FRAME_BOUND, TcpFrameError, TcpFraming, type NativeTcpFrameReader } from '../../native/tcp-frame.js';
import type { SrtpSession } from '../../srtp/srtp-session.js';
import type { IceUdpSocket } from './datagram-socket.js';
import type { TcpSrtpRoute } from './tcp-mux.js';
import { TcpSrtpStaging } from './tcp-srtp-staging.js';
import { UdpSrtpStatus } from './udp-socket.js';

/** Receives one datagram of the routed channel's peer, unframed (and SRTP-unprotected) natively. */
export type TurnRelayedReceiver = (link: TurnLink, data: Buffer, srtp: number) => void;

/** Counters of a stream link's native route. */
export interface TurnLinkStreamStats {
  /** ChannelData of the routed channel unframed natively (media unprotected there too). */
  relayedReceived: number;
  /** Packets protected and framed natively as ChannelData. */
  relayedSent: number;
  /** Packets SRTP refused to protect, or a full send queue dropped. */
  sendDrops: number;
  /** Streams given up: a frame past the bound or a first byte that frames nothing. */
  broken: number;
}

/** Bytes of clear SRTP sends one link stages per turn. */
const STREAM_POOL_BYTES = 64 * 1024;
/** Bytes queued in the stream above which native sends are dropped. */
const STREAM_MAX_QUEUED = 1 << 20;

/** A TURN server as configured (after URL parsing and name resolution). */
export interface TurnServerTarget {
  /** The URL it came from, also used as the relay candidate's server identity. */
  url: string;
  server: TransportAddress;
  /** TLS server name (SNI and certificate check) for turns: URLs. */
  host: string;
  transport: 'udp' | 'tcp' | 'tls';
  username: string;
  credential: string;
}

/** A TURN client plus the way its bytes reach the server. */
export class TurnLink {
  readonly client: TurnClient;
  /** Local base the relay candidate is gathered from (UDP: the host socket address). */
  readonly udpBase: TransportAddress | undefined;
  /** The relayed address, once allocated. */
  relayed: TransportAddress | undefined;
  private stream: Socket | undefined;
  private reader: NativeTcpFrameReader | undefined;
  /** Counters of the stream's native route (zero over UDP). */
  readonly streamStats: TurnLinkStreamStats = { relayedReceived: 0, relayedSent: 0, sendDrops: 0, broken: 0 };
  private route: TcpSrtpRoute | undefined;
  /** SRTP sends of this turn (clear), protected and framed at flush. */
  private readonly staging = new TcpSrtpStaging(STREAM_POOL_BYTES, () => this.flushSrtp());
  private readonly pending: Buffer[] = [];
  private connected = false;
  private closed = false;

  constructor(
    readonly target: TurnServerTarget,
    rng: Rng,
    /** The host socket carrying a UDP allocation (undefined over TCP/TLS). */
    readonly udpSocket: IceUdpSocket | undefined,
    udpBase: TransportAddress | undefined,
    /**
     * Called with the frames of one chunk received over a stream (UDP frames arrive through the
     * host socket): one call per chunk, so the data in it is handled as one batch.
     */
    private readonly onFrames: (link: TurnLink, frames: Buffer[]) => void,
    /** Called when the stream fails or closes before the link is closed. */
    private readonly onStreamError: (link: TurnLink) => void,
    options: { tlsRejectUnauthorized?: boolean } = {},
    /** Datagrams of the routed channel (a stream with an SRTP route), unframed natively. */
    private readonly onRelayed?: TurnRelayedReceiver,
  ) {
    this.udpBase = udpBase;
    this.client = new TurnClient({ transport: target.transport, username: target.username, password: target.credential, rng });
    if (target.transport !== 'udp') {
      const reader = createTcpFrameReader(TcpFraming.turnStream, TCP_MAX_FRAME_BOUND);
      this.reader = reader;
      const s =
        target.transport === 'tls'
          ? tlsConnect({
              host: target.server.address,
              port: target.server.port,
              // SNI carries host names only (RFC 6066 §3); an IP literal is checked against the certificate's IP SANs.
              ...(isIP(target.host) ? {} : { servername: target.host }),
              rejectUnauthorized: options.tlsRejectUnauthorized ?? true,
            })
          : tcpConnect({ host: target.server.address, port: target.server.port });
      s.setNoDelay(true);
      s.on(target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        this.connected = true;
        for (const b of this.pending.splice(0)) s.write(b);
      });
      s.on('data', (chunk: Buffer) => this.onChunk(s, reader, chunk));
      s.on('error', () => undefined);
      s.on('close', () => {
        if (!this.closed) this.onStreamError(this);
      });
      this.stream = s;
    }
  }

  /**
   * Writes the client's pending transmissions to the server. UDP frames join the socket's send
   * pool (one sendmmsg per turn); on a stream every frame written in one tick leaves in one
   * writev (the stream is corked until the next tick), not one write per media packet.
   */
  flush(): void {
    for (let b = this.client.pollTransmit(); b; b = this.client.pollTransmit()) {
      if (this.udpSocket) this.udpSocket.send(b, this.target.server.port, this.target.server.address);
      else if (this.stream) {
        if (this.connected) {
          if (!this.corked) {
            this.corked = true;
            this.stream.cork();
            process.nextTick(this.uncork);
          }
          this.stream.write(b);
        } else if (this.pending.length < 256) this.pending.push(b);
      }
    }
  }

  /**
   * One chunk of the stream, split natively into batches: the routed channel's datagrams go to
   * `onRelayed`, every other frame (STUN, other channels) to the TURN client, one `onFrames` call
   * per batch (which ends it: the batch is reused by the next read).
   */
  private onChunk(s: Socket, reader: NativeTcpFrameReader, chunk: Buffer): void {
    const { batch, arrays } = tcpFrameBatch();
    let offset = 0;
    while (offset < chunk.length && !s.destroyed) {
      const n = batch.read(reader, chunk, offset, performance.now());
      if (n < 0) return;
      const consumed = arrays.info[0]!;
      offset += consumed;
      const frames: Buffer[] = [];
      for (let i = 0; i < n; i++) {
        const start = arrays.offsets[i]!;
        const view = arrays.buffer.subarray(start, start + arrays.lengths[i]!);
        const status = arrays.status[i]!;
        if (arrays.relayed[i] === 1) {
          this.streamStats.relayedReceived++;
          this.onRelayed?.(this, view, status);
        } else if (status !== UdpSrtpStatus.channelDataMalformed) {
          // The TURN client's own traffic (STUN, channels without a route): copied, as its messages
          // and events may outlive the batch.
          frames.push(Buffer.from(view));
        }
      }
      if (n > 0) this.onFrames(this, frames);
      if (arrays.info[1] !== TcpFrameError.none) {
        // The server sent something no TURN stream carries: the stream cannot be resynchronised.
        this.streamStats.broken++;
        s.destroy();
        return;
      }
      if (consumed === 0 && n === 0) return;
    }
  }

  /**
   * The native SRTP route of the bound `channel` (0x4000..0x4FFF) on this stream: the channel's
   * datagrams are unframed and unprotected in the read batch (`onRelayed`), and packets given to
   * `send` are protected and framed as padded ChannelData at flush. Undefined over UDP.
   */
  srtpRoute(session: SrtpSession, channel: number): TcpSrtpRoute | undefined {
    const reader = this.reader;
    if (!reader || this.closed || !this.stream || this.stream.destroyed) return undefined;
    // An older route goes first: its removal flushes its packets and clears the reader's session.
    this.route?.remove();
    if (!reader.setSrtpSession(session.nativeHandle, channel)) return undefined;
    const route: TcpSrtpRoute = {
      send: (packet) => this.queueSrtp(route, packet),
      remove: () => {
        if (this.route !== route) return;
        this.flushSrtp();
        this.route = undefined;
        reader.setSrtpSession(null);
      },
    };
    this.route = route;
    return route;
  }

  private queueSrtp(route: TcpSrtpRoute, packet: Uint8Array): boolean {
    if (this.route !== route || this.closed || !this.stream || this.stream.destroyed) return false;
    if (packet.length > 0xffff - 64) {
      this.streamStats.sendDrops++;
      return true;
    }
    this.staging.stage(packet);
    return true;
  }

  /** Protects and frames the staged packets with one native call and writes them with one write. */
  private flushSrtp(): void {
    const s = this.stream;
    const reader = this.reader;
    if (!s || !reader || s.destroyed || !this.connected) {
      this.streamStats.sendDrops += this.staging.discard();
      return;
    }
    const flushed = this.staging.protect(reader);
    this.streamStats.sendDrops += flushed.staged - flushed.protected;
    if (!flushed.framed) return;
    if (s.writableLength > STREAM_MAX_QUEUED) {
      this.streamStats.sendDrops += flushed.protected;
      return;
    }
    s.write(flushed.framed);
    this.streamStats.relayedSent += flushed.protected;
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.stream?.uncork();
  };

  /** Releases the allocation and closes the stream. */
  close(now: number): void {
    if (this.closed) return;
    this.route?.remove();
    this.client.close(now);
    this.flush();
    this.closed = true;
    this.stream?.end();
    const s = this.stream;
    if (s) setTimeout(() => s.destroy(), 1000).unref();
  }
}
