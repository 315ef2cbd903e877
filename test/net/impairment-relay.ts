// A userspace UDP relay on loopback that impairs what passes through it (this kernel has no netem,
// docs/policy.md "Verified on real networks"): seeded random loss, duplication, reordering and a
// fixed delay per direction. The client sends to the relay's port; the relay talks to the server
// from one socket of its own, so the server sees one peer address (a peer-reflexive candidate);
// give the server no client candidates (or make it ICE-lite) so checks through the relay are the
// only path.
import { createSocket, type Socket } from 'node:dgram';
import { SeededRng } from '../../lib/common/rng.js';

/** Impairments of one direction. */
export interface Impairment {
  /** Probability a datagram is dropped (0..1). */
  loss?: number;
  /** One-way delay added, ms. */
  delayMs?: number;
  /** Probability a forwarded datagram is sent twice; the copy goes out after later datagrams. */
  duplicate?: number;
  /** Probability a forwarded datagram is held back and sent after the next one. */
  reorder?: number;
}

/** Counters of one direction. */
export interface RelayDirectionStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

/** Options of a relay besides the two directions' impairments. */
export interface RelayOptions {
  /** Seed of the impairment pattern (default 1). */
  seed?: number;
  /** Only datagrams this accepts are impaired; the others pass unchanged (default: all). */
  impairs?: (datagram: Buffer) => boolean;
  /** Longest time a held (reordered or duplicated) datagram waits for a later one, ms (default 5). */
  holdMs?: number;
}

/** One direction: its impairment, counters and the datagrams held back to go out after the next. */
interface Direction {
  readonly imp: Impairment;
  readonly stats: RelayDirectionStats;
  held: (() => void)[];
  holdTimer: NodeJS.Timeout | undefined;
}

/** See the file header. */
export class ImpairmentRelay {
  readonly toServer: RelayDirectionStats;
  readonly toClient: RelayDirectionStats;
  private client: { address: string; port: number } | undefined;
  private readonly rng: SeededRng;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly up: Direction;
  private readonly down: Direction;
  private readonly impairs: (datagram: Buffer) => boolean;
  private readonly holdMs: number;

  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    private readonly server: { address: string; port: number },
    up: Impairment,
    down: Impairment,
    options: RelayOptions,
  ) {
    this.rng = new SeededRng(options.seed ?? 1);
    this.impairs = options.impairs ?? (() => true);
    this.holdMs = options.holdMs ?? 5;
    this.up = { imp: up, stats: { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 }, held: [], holdTimer: undefined };
    this.down = { imp: down, stats: { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 }, held: [], holdTimer: undefined };
    this.toServer = this.up.stats;
    this.toClient = this.down.stats;
    front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.pass(this.up, msg, () => this.back.send(msg, this.server.port, this.server.address));
    });
    back.on('message', (msg) => {
      const c = this.client;
      if (!c) return;
      this.pass(this.down, msg, () => this.front.send(msg, c.port, c.address));
    });
  }

  /**
   * Binds the relay on 127.0.0.1 in front of `server`; `toServer`/`toClient` impair each direction.
   * `options` may be a seed (the older form) or {@link RelayOptions}.
   */
  static async start(server: { address: string; port: number }, toServer: Impairment, toClient: Impairment, options: number | RelayOptions = 1): Promise<ImpairmentRelay> {
    const bind = async (): Promise<Socket> => {
      const s = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve());
      });
      return s;
    };
    const o = typeof options === 'number' ? { seed: options } : options;
    return new ImpairmentRelay(await bind(), await bind(), server, toServer, toClient, o);
  }

  /** The port clients send to. */
  get port(): number {
    return this.front.address().port;
  }

  private pass(d: Direction, datagram: Buffer, send: () => void): void {
    if (this.closed) return;
    const { imp, stats } = d;
    const impaired = this.impairs(datagram);
    if (impaired && (imp.loss ?? 0) > 0 && this.rng.float() < imp.loss!) {
      stats.dropped++;
      return;
    }
    stats.forwarded++;
    const out = (): void => this.delayed(imp.delayMs ?? 0, send);
    if (impaired && (imp.reorder ?? 0) > 0 && this.rng.float() < imp.reorder!) {
      stats.reordered++;
      this.hold(d, out);
    } else {
      out();
      this.release(d);
    }
    if (impaired && (imp.duplicate ?? 0) > 0 && this.rng.float() < imp.duplicate!) {
      stats.duplicated++;
      this.hold(d, out);
    }
  }

  /** Keeps `out` until the next datagram of this direction has gone (or holdMs passed). */
  private hold(d: Direction, out: () => void): void {
    d.held.push(out);
    d.holdTimer ??= setTimeout(() => {
      d.holdTimer = undefined;
      if (!this.closed) this.release(d);
    }, this.holdMs);
  }

  private release(d: Direction): void {
    if (d.held.length === 0) return;
    const held = d.held;
    d.held = [];
    if (d.holdTimer) clearTimeout(d.holdTimer);
    d.holdTimer = undefined;
    for (const out of held) out();
  }

  private delayed(delay: number, send: () => void): void {
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
    for (const d of [this.up, this.down]) if (d.holdTimer) clearTimeout(d.holdTimer);
    this.front.close();
    this.back.close();
  }
}
