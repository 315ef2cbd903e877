// Test driver: two SctpAssociations joined by a SimNetwork on a virtual clock. Drains packets
// and events after every step exactly as the sans-I/O contract in lib/sctp/association.ts asks.
import { SctpAssociation, type SctpAssociationOptions } from '../../lib/sctp/association.js';
import type { SctpEvent } from '../../lib/sctp/events.js';
import { SeededRng } from '../../lib/common/rng.js';
import { SimNetwork, type SimLinkOptions } from './sim-network.js';

/** Which side of the pair. */
export type Side = 'a' | 'b';

/** Limits that bound every simulation run. */
export interface RunLimits {
  maxTimeMs: number;
  maxSteps: number;
}

/** Two associations over a seeded simulated network. */
export class SctpPair {
  readonly net: SimNetwork;
  readonly a: SctpAssociation;
  readonly b: SctpAssociation;
  now = 0;
  steps = 0;
  /** Called for every event in order; tests react here (e.g. send more on buffered-amount-low). */
  onEvent: (side: Side, ev: SctpEvent) => void = () => {};
  readonly events: Record<Side, SctpEvent[]> = { a: [], b: [] };
  /** Keep every event in `events` (off for bulk transfers to save memory). */
  recordEvents = true;
  /** Optional tap on every packet sent (for hostile-input tests). */
  tap: ((from: Side, packet: Buffer) => Buffer | undefined) | undefined;

  constructor(seed: number, link: SimLinkOptions = {}, optsA: SctpAssociationOptions = {}, optsB: SctpAssociationOptions = {}) {
    this.net = new SimNetwork(seed, link);
    this.a = new SctpAssociation({ rng: new SeededRng(seed * 2 + 1), ...optsA });
    this.b = new SctpAssociation({ rng: new SeededRng(seed * 2 + 2), ...optsB });
  }

  side(s: Side): SctpAssociation {
    return s === 'a' ? this.a : this.b;
  }

  /** Drains both sides' packets into the network and their events into onEvent. */
  flush(): void {
    for (let again = true; again; ) {
      again = false;
      for (const s of ['a', 'b'] as const) {
        const x = this.side(s);
        for (let p = x.pollTransmit(); p; p = x.pollTransmit()) {
          const out = this.tap ? this.tap(s, p) : p;
          if (out) this.net.send(this.now, s, s === 'a' ? 'b' : 'a', out);
        }
        for (let e = x.pollEvent(); e; e = x.pollEvent()) {
          again = true;
          if (this.recordEvents) this.events[s].push(e);
          this.onEvent(s, e);
        }
      }
    }
  }

  /** Advances to the next delivery or timer; returns false when nothing is pending. */
  step(): boolean {
    this.flush();
    const candidates = [this.net.nextDeliveryAt(), this.a.pollTimeout(), this.b.pollTimeout()].filter((t): t is number => t !== undefined);
    if (candidates.length === 0) return false;
    this.now = Math.max(this.now, Math.min(...candidates));
    this.steps++;
    for (const d of this.net.deliverDue(this.now)) this.side(d.to as Side).handleInput(this.now, d.data);
    for (const s of ['a', 'b'] as const) {
      const t = this.side(s).pollTimeout();
      if (t !== undefined && t <= this.now) this.side(s).handleTimeout(this.now);
    }
    this.flush();
    return true;
  }

  /** Steps until `done()` or a limit; returns whether `done()` became true. */
  runUntil(done: () => boolean, limits: RunLimits): boolean {
    const end = this.now + limits.maxTimeMs;
    let steps = 0;
    while (!done()) {
      if (this.now > end || steps++ > limits.maxSteps) return false;
      if (!this.step()) return done();
    }
    return true;
  }

  /** Moves the clock forward by `ms`, processing everything due on the way. */
  advance(ms: number, maxSteps = 100_000): void {
    const end = this.now + ms;
    let steps = 0;
    for (;;) {
      this.flush();
      const candidates = [this.net.nextDeliveryAt(), this.a.pollTimeout(), this.b.pollTimeout()].filter((t): t is number => t !== undefined);
      const next = Math.min(end, ...candidates);
      if (next >= end || steps++ > maxSteps) break;
      this.step();
    }
    this.now = Math.max(this.now, end);
    this.a.handleTimeout(this.now);
    this.b.handleTimeout(this.now);
    this.flush();
  }

  /** Connects (both sides send INIT when `both`) and runs until both are established. */
  connect(both = false, limits: RunLimits = { maxTimeMs: 60_000, maxSteps: 10_000 }): boolean {
    this.a.connect(this.now);
    if (both) this.b.connect(this.now);
    return this.runUntil(() => this.a.state === 'established' && this.b.state === 'established', limits);
  }
}
