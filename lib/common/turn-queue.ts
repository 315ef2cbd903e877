// Callbacks run after the current event-loop turn's I/O, as `setImmediate(fn)` would run them, with
// ONE setImmediate per queue and turn instead of one per callback (docs/peer.md "Setup cost": a
// burst of connections made dozens per connection pair, each an Immediate object and a trip through
// Node's immediate list).
import { reportListenerError } from './typed-emitter.js';

/** See the file header. */
export class TurnQueue {
  private readonly callbacks: (() => void)[] = [];
  private scheduled = false;
  private readonly run = (): void => {
    this.scheduled = false;
    // Callbacks queued while these run wait for the next turn, as a setImmediate made then would.
    const list = this.callbacks;
    const n = list.length;
    for (let i = 0; i < n; i++) {
      try {
        list[i]!();
      } catch (err) {
        // Never thrown into the loop: reported, and the callbacks after it still run.
        reportListenerError(err);
      }
    }
    list.copyWithin(0, n);
    list.length -= n;
    if (list.length > 0) this.schedule();
  };

  /** Runs `fn` after this turn's I/O; callbacks run in the order they were queued. */
  push(fn: () => void): void {
    this.callbacks.push(fn);
    this.schedule();
  }

  /** Callbacks waiting (tests). */
  get size(): number {
    return this.callbacks.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }
}

/**
 * The transports' timer work of this thread (ICE agents, DTLS and SCTP): a due timer's work waits
 * for the I/O of the turn it came due in, so an answer that already waits in a socket buffer is
 * read before a retransmission is decided (docs/ice.md "Driver", docs/peer.md "Setup cost").
 */
export const timerWork = new TurnQueue();
