// A deterministic two-way network for testing policy modules (docs/policy.md, "Network
// simulator"): endpoints 'a' and 'b' joined by two independent SimulatedLinks on a virtual clock,
// seeded. Sans-I/O: `send(now, from, packet)`, drain `poll(now)`, then sleep until `nextTimeout()`.
import { SeededRng } from '../common/rng.js';
import { SimulatedLink } from './network-simulator-link.js';
import type { SimulatedDelivery, SimulatedLinkOptions } from './network-simulator-link.js';

export { SimulatedLink } from './network-simulator-link.js';
export type { GilbertElliottLoss, SimulatedDelivery, SimulatedLinkOptions, SimulatedLinkStats } from './network-simulator-link.js';

/** The two ends of the simulated path. */
export type SimulatedEndpoint = 'a' | 'b';

/** Options of a NetworkSimulator. */
export interface NetworkSimulatorOptions {
  /** Seed of the random impairments; the same seed and the same calls give the same trace. */
  seed: number;
  /** Impairments of the a → b direction. */
  aToB?: SimulatedLinkOptions;
  /** Impairments of the b → a direction. */
  bToA?: SimulatedLinkOptions;
}

/** A packet delivered to endpoint `to`. */
export interface SimulatedArrival extends SimulatedDelivery {
  to: SimulatedEndpoint;
}

/** Two endpoints and two independent one-way links between them. */
export class NetworkSimulator {
  /** The a → b direction. */
  readonly aToB: SimulatedLink;
  /** The b → a direction. */
  readonly bToA: SimulatedLink;

  constructor(options: NetworkSimulatorOptions) {
    // Each direction draws from its own stream so traffic on one never shifts the other's trace.
    const seed = options.seed >>> 0;
    this.aToB = new SimulatedLink(new SeededRng(seed), options.aToB);
    this.bToA = new SimulatedLink(new SeededRng((seed ^ 0x5bd1e995) >>> 0), options.bToA);
  }

  /** The link that carries packets sent by `from`. */
  link(from: SimulatedEndpoint): SimulatedLink {
    return from === 'a' ? this.aToB : this.bToA;
  }

  /** Sends `packet` from endpoint `from` to the other end at `now`. */
  send(now: number, from: SimulatedEndpoint, packet: Uint8Array): void {
    this.link(from).send(now, packet);
  }

  /**
   * Returns the earliest packet due at or before `now` on either direction (ties: a → b first), or
   * undefined when nothing is due.
   */
  poll(now: number): SimulatedArrival | undefined {
    const ab = this.aToB.nextArrivalAt(now);
    const ba = this.bToA.nextArrivalAt(now);
    const abDue = ab !== undefined && ab <= now;
    const baDue = ba !== undefined && ba <= now;
    if (abDue && (!baDue || ab <= ba!)) {
      const d = this.aToB.poll(now);
      return d && { ...d, to: 'b' };
    }
    if (baDue) {
      const d = this.bToA.poll(now);
      return d && { ...d, to: 'a' };
    }
    return undefined;
  }

  /** Earliest time anything happens on either link, or undefined when both are idle. */
  nextTimeout(): number | undefined {
    const ab = this.aToB.nextTimeout();
    const ba = this.bToA.nextTimeout();
    if (ab === undefined) return ba;
    if (ba === undefined) return ab;
    return Math.min(ab, ba);
  }
}
