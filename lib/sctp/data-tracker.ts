// Receive-side TSN bookkeeping (RFC 9260 sections 6.2 and 6.7): the cumulative TSN, TSNs
// received above it (for gap-ack blocks) and duplicates to report in the next SACK.
import type { GapAckBlock } from './chunks/sack.js';
import { tsnAdd, tsnDiff, tsnLte } from './tsn.js';

/** Outcome of observing a received TSN. */
export type TsnObservation = 'new' | 'duplicate' | 'too-far';

/** Largest distance above the cumulative TSN a gap-ack block can express (16-bit offsets). */
export const MAX_TSN_AHEAD = 0xffff;

/** Most duplicate TSNs remembered for one SACK. */
const MAX_DUPLICATES = 32;

/** Tracks which TSNs arrived; bounded to MAX_TSN_AHEAD above the cumulative TSN. */
export class DataTracker {
  /** Highest TSN such that every TSN up to it was received (or forwarded past). */
  cumTsn: number;
  /** TSNs above cumTsn that arrived, sorted ascending (serial order). */
  private above: number[] = [];
  private duplicates: number[] = [];

  constructor(initialTsn: number) {
    this.cumTsn = tsnAdd(initialTsn, -1);
  }

  /** What observe(tsn) would answer, without recording anything. */
  classify(tsn: number): TsnObservation {
    if (tsnLte(tsn, this.cumTsn)) return 'duplicate';
    const off = tsnDiff(tsn, this.cumTsn);
    if (off > MAX_TSN_AHEAD) return 'too-far';
    return this.indexOf(tsn, off) >= 0 ? 'duplicate' : 'new';
  }

  private indexOf(tsn: number, off: number): number {
    const i = this.lowerBound(off);
    return i < this.above.length && this.above[i] === tsn ? i : -1;
  }

  private lowerBound(off: number): number {
    const a = this.above;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tsnDiff(a[mid]!, this.cumTsn) < off) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Records `tsn`; the caller stores the chunk only when the answer is 'new'. */
  observe(tsn: number): TsnObservation {
    if (tsnLte(tsn, this.cumTsn)) {
      this.addDuplicate(tsn);
      return 'duplicate';
    }
    const off = tsnDiff(tsn, this.cumTsn);
    if (off > MAX_TSN_AHEAD) return 'too-far';
    if (off === 1) {
      this.cumTsn = tsn;
      this.advance();
      return 'new';
    }
    // Binary search by distance from cumTsn, which is monotonic inside the window.
    const a = this.above;
    const lo = this.lowerBound(off);
    if (lo < a.length && a[lo] === tsn) {
      this.addDuplicate(tsn);
      return 'duplicate';
    }
    a.splice(lo, 0, tsn);
    return 'new';
  }

  /** True when TSNs above the cumulative TSN are held (a gap exists). */
  get hasGaps(): boolean {
    return this.above.length > 0;
  }

  /** Moves the cumulative TSN to `newCum` (FORWARD TSN, RFC 3758 section 3.6). */
  forwardTo(newCum: number): void {
    if (tsnLte(newCum, this.cumTsn)) return;
    this.cumTsn = newCum;
    let drop = 0;
    while (drop < this.above.length && tsnLte(this.above[drop]!, newCum)) drop++;
    if (drop) this.above.splice(0, drop);
    this.advance();
  }

  /** Gap-ack blocks (at most `max`) for the next SACK. */
  gapBlocks(max: number): GapAckBlock[] {
    const out: GapAckBlock[] = [];
    const a = this.above;
    let i = 0;
    while (i < a.length && out.length < max) {
      const start = tsnDiff(a[i]!, this.cumTsn);
      let end = start;
      i++;
      while (i < a.length && tsnDiff(a[i]!, this.cumTsn) === end + 1) {
        end++;
        i++;
      }
      out.push({ start, end });
    }
    return out;
  }

  /** Duplicate TSNs waiting to be reported (not cleared). */
  peekDuplicates(): number[] {
    return this.duplicates;
  }

  /** Duplicate TSNs seen since the last call (then cleared). */
  takeDuplicates(): number[] {
    const d = this.duplicates;
    this.duplicates = [];
    return d;
  }

  /** True when duplicates are waiting to be reported. */
  get hasDuplicates(): boolean {
    return this.duplicates.length > 0;
  }

  private addDuplicate(tsn: number): void {
    if (this.duplicates.length < MAX_DUPLICATES) this.duplicates.push(tsn);
  }

  private advance(): void {
    let n = 0;
    const a = this.above;
    while (n < a.length && a[n] === tsnAdd(this.cumTsn, 1)) {
      this.cumTsn = a[n]!;
      n++;
    }
    if (n) a.splice(0, n);
  }
}
