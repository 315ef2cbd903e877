// The receiving side shared by the signalling channels: parsed messages wait in a bounded queue
// until `receive()` takes them; malformed lines are dropped and counted, never thrown.
import { parseSignalingMessage, type SignalingMessage } from './signaling-message.js';

/** Messages kept unread before the oldest are dropped. */
export const SIGNALING_QUEUE_LIMIT = 256;

/** Raised by `receive()` once the channel closed or timed out. */
export class SignalingClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalingClosedError';
  }
}

/** Counters of dropped input by reason. */
export interface SignalingDrops {
  malformed: number;
  overflow: number;
}

/** A queue of received messages with waiting readers. */
export class MessageQueue {
  readonly drops: SignalingDrops = { malformed: 0, overflow: 0 };
  private readonly items: SignalingMessage[] = [];
  private readonly waiters: { resolve: (m: SignalingMessage) => void; reject: (e: Error) => void }[] = [];
  private closedReason: string | undefined;

  /** Parses and queues one line of text. */
  pushLine(line: string): void {
    const t = line.trim();
    // Blank lines and `#` comment lines (copy-and-paste hints) are not messages.
    if (t === '' || t.startsWith('#')) return;
    const m = parseSignalingMessage(line);
    if (!m) {
      this.drops.malformed++;
      return;
    }
    const w = this.waiters.shift();
    if (w) return w.resolve(m);
    if (this.items.length >= SIGNALING_QUEUE_LIMIT) {
      this.items.shift();
      this.drops.overflow++;
    }
    this.items.push(m);
  }

  /** The next message; rejects with SignalingClosedError once closed (or after `timeoutMs`). */
  receive(timeoutMs?: number): Promise<SignalingMessage> {
    const m = this.items.shift();
    if (m) return Promise.resolve(m);
    if (this.closedReason !== undefined) return Promise.reject(new SignalingClosedError(this.closedReason));
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        resolve: (v: SignalingMessage) => {
          if (timer) clearTimeout(timer);
          resolve(v);
        },
        reject: (e: Error) => {
          if (timer) clearTimeout(timer);
          reject(e);
        },
      };
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new SignalingClosedError(`no signalling message within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Ends the queue: queued messages can still be read, then receive() rejects. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const w of this.waiters.splice(0)) w.reject(new SignalingClosedError(reason));
  }
}
