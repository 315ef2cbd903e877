// Test driver: two DataChannelManagers (each over its own SctpAssociation) joined by a
// SimNetwork, with a VirtualClock the managers read for API calls.
import { VirtualClock } from '../../lib/common/clock.js';
import { SeededRng } from '../../lib/common/rng.js';
import { SctpAssociation, type SctpAssociationOptions } from '../../lib/sctp/association.js';
import { DataChannelManager } from '../../lib/sctp/data-channel-manager.js';
import { SimNetwork, type SimLinkOptions } from './sim-network.js';
import type { RunLimits } from './sctp-pair.js';

/** Two data-channel endpoints: `a` is the DTLS client (even ids), `b` the server (odd ids). */
export class DcPair {
  readonly clock = new VirtualClock(0);
  readonly net: SimNetwork;
  readonly a: DataChannelManager;
  readonly b: DataChannelManager;
  steps = 0;

  constructor(seed: number, link: SimLinkOptions = {}, opts: SctpAssociationOptions = {}) {
    this.net = new SimNetwork(seed, link);
    const assocA = new SctpAssociation({ rng: new SeededRng(seed * 3 + 1), ...opts });
    const assocB = new SctpAssociation({ rng: new SeededRng(seed * 3 + 2), ...opts });
    this.a = new DataChannelManager(assocA, { clock: this.clock, role: 'client' });
    this.b = new DataChannelManager(assocB, { clock: this.clock, role: 'server' });
  }

  get now(): number {
    return this.clock.now();
  }

  /** Drains both sides' packets into the network. */
  flush(): void {
    for (const [m, from, to] of [[this.a, 'a', 'b'], [this.b, 'b', 'a']] as const) {
      for (let p = m.pollTransmit(); p; p = m.pollTransmit()) this.net.send(this.now, from, to, p);
    }
  }

  /** Advances to the next delivery or timer; false when idle. */
  step(): boolean {
    this.flush();
    const c = [this.net.nextDeliveryAt(), this.a.pollTimeout(), this.b.pollTimeout()].filter((t): t is number => t !== undefined);
    if (c.length === 0) return false;
    this.clock.set(Math.min(...c));
    this.steps++;
    const now = this.now;
    for (const d of this.net.deliverDue(now)) (d.to === 'a' ? this.a : this.b).handleInput(now, d.data);
    for (const m of [this.a, this.b]) {
      const t = m.pollTimeout();
      if (t !== undefined && t <= now) m.handleTimeout(now);
    }
    this.flush();
    return true;
  }

  /** Steps until `done()` or a limit. */
  runUntil(done: () => boolean, limits: RunLimits): boolean {
    const end = this.now + limits.maxTimeMs;
    let steps = 0;
    while (!done()) {
      if (this.now > end || steps++ > limits.maxSteps) return false;
      if (!this.step()) return done();
    }
    return true;
  }

  /** Connects the associations (client initiates, as the DTLS client would) and waits. */
  connect(): boolean {
    this.a.association.connect(this.now);
    return this.runUntil(() => this.a.association.state === 'established' && this.b.association.state === 'established', { maxTimeMs: 60_000, maxSteps: 10_000 });
  }
}
