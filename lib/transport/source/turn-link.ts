// Connects a sans-I/O TurnClient to its server: over the host UDP socket it shares with the
// host candidate, or over its own TCP/TLS stream (RFC 8656 §3.1, framing per RFC 8656 §12.5).
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Rng } from '../../common/rng.js';
import { StunStreamFramer } from '../../ice/stream-framer.js';
import { TurnClient } from '../../ice/turn-client.js';
import type { TransportAddress } from '../../ice/transport-address.js';
import type { IceUdpSocket } from './datagram-socket.js';

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
  ) {
    this.udpBase = udpBase;
    this.client = new TurnClient({ transport: target.transport, username: target.username, password: target.credential, rng });
    if (target.transport !== 'udp') {
      const framer = new StunStreamFramer();
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
      s.on('data', (chunk: Buffer) => {
        const frames = framer.push(chunk);
        if (frames.length > 0) this.onFrames(this, frames);
        if (framer.error) s.destroy();
      });
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

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.stream?.uncork();
  };

  /** Releases the allocation and closes the stream. */
  close(now: number): void {
    if (this.closed) return;
    this.client.close(now);
    this.flush();
    this.closed = true;
    this.stream?.end();
    const s = this.stream;
    if (s) setTimeout(() => s.destroy(), 1000).unref();
  }
}
