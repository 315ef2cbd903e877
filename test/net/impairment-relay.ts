// A userspace UDP relay on loopback that impairs what passes through it (this kernel has no netem,
// docs/policy.md "Verified on real networks"): seeded random loss and a fixed delay per direction.
// The client (a browser) sends to the relay's port; the relay talks to the server from one socket
// of its own, so the server sees one peer address (a peer-reflexive candidate); use an ICE-lite
// server so the browser's checks through the relay are the only path.
import { createSocket, type Socket } from 'node:dgram';
import { SeededRng } from '../../lib/common/rng.js';

/** Impairments of one direction. */
export interface Impairment {
  /** Probability a datagram is dropped (0..1). */
  loss?: number;
  /** One-way delay added, ms. */
  delayMs?: number;
}

/** Counters of one direction. */
export interface RelayDirectionStats {
  forwarded: number;
  dropped: number;
}

/** See the file header. */
export class ImpairmentRelay {
  readonly toServer: RelayDirectionStats = { forwarded: 0, dropped: 0 };
  readonly toClient: RelayDirectionStats = { forwarded: 0, dropped: 0 };
  private client: { address: string; port: number } | undefined;
  private readonly rng: SeededRng;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    private readonly server: { address: string; port: number },
    private readonly up: Impairment,
    private readonly down: Impairment,
    seed: number,
  ) {
    this.rng = new SeededRng(seed);
    front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.pass(this.up, this.toServer, () => this.back.send(msg, this.server.port, this.server.address));
    });
    back.on('message', (msg) => {
      const c = this.client;
      if (!c) return;
      this.pass(this.down, this.toClient, () => this.front.send(msg, c.port, c.address));
    });
  }

  /** Binds the relay on 127.0.0.1 in front of `server`; `toServer`/`toClient` impair each direction. */
  static async start(server: { address: string; port: number }, toServer: Impairment, toClient: Impairment, seed = 1): Promise<ImpairmentRelay> {
    const bind = async (): Promise<Socket> => {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve());
      });
      return s;
    };
    return new ImpairmentRelay(await bind(), await bind(), server, toServer, toClient, seed);
  }

  /** The port clients send to. */
  get port(): number {
    return this.front.address().port;
  }

  private pass(imp: Impairment, stats: RelayDirectionStats, send: () => void): void {
    if (this.closed) return;
    if ((imp.loss ?? 0) > 0 && this.rng.float() < imp.loss!) {
      stats.dropped++;
      return;
    }
    stats.forwarded++;
    const delay = imp.delayMs ?? 0;
    if (delay <= 0) {
      send();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) send();
    }, delay);
    this.timers.add(t);
  }

  /** Stops forwarding and closes both sockets. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.front.close();
    this.back.close();
  }
}
