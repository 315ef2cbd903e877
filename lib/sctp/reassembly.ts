// Receive-side reassembly and ordered delivery (RFC 9260 section 6.5 and 6.9; RFC 8260
// section 2.1 for I-DATA; RFC 3758 section 3.6 and RFC 8260 section 2.3 for skipping
// abandoned messages; RFC 6525 section 5.2.2 for incoming stream resets).
import { ssnLt, tsnAdd, tsnDiff, tsnLt, tsnLte } from './tsn.js';

/** One received DATA or I-DATA fragment, normalised. */
export interface Fragment {
  tsn: number;
  streamId: number;
  /** SSN (DATA) or MID (I-DATA). */
  sequence: number;
  /** FSN for I-DATA; unused for DATA. */
  fsn: number;
  ppid: number;
  unordered: boolean;
  beginning: boolean;
  ending: boolean;
  data: Uint8Array;
}

/** A complete user message. */
export interface AssembledMessage {
  streamId: number;
  ppid: number;
  unordered: boolean;
  data: Buffer;
}

interface Partial {
  /** Pieces keyed by TSN (DATA) or FSN (I-DATA). */
  pieces: Map<number, Uint8Array>;
  first: number | undefined;
  last: number | undefined;
  size: number;
  ppid: number;
  minTsn: number;
  streamId: number;
  sequence: number;
  unordered: boolean;
}

interface InStream {
  /** Next SSN (DATA) or MID (I-DATA) to deliver in order. */
  next: number;
  /** Complete ordered messages waiting for their turn, by sequence. */
  waiting: Map<number, AssembledMessage>;
}

/** Result of adding a fragment. */
export type AddResult = 'ok' | 'too-large';

/**
 * Holds partial and out-of-order messages and emits complete ones in the order the stream
 * type requires. Memory is bounded by the association's receive window (it refuses DATA
 * beyond it) and by `maxMessageSize` per message.
 */
export class ReassemblyQueue {
  /** Bytes held (partial fragments plus complete messages waiting for order). */
  bufferedBytes = 0;
  private readonly partials = new Map<number, Partial>();
  /** Unordered DATA fragments by TSN (DATA carries no usable SSN for unordered messages). */
  private readonly unorderedByTsn = new Map<number, Fragment>();
  private readonly streams = new Map<number, InStream>();
  private readonly interleaved: boolean;
  private readonly maxMessageSize: number;

  constructor(interleaved: boolean, maxMessageSize: number) {
    this.interleaved = interleaved;
    this.maxMessageSize = maxMessageSize;
  }

  /** Adds a new (not duplicate) fragment; complete messages are appended to `out`. */
  add(f: Fragment, out: AssembledMessage[]): AddResult {
    if (f.beginning && f.ending) {
      if (f.data.length > this.maxMessageSize) return 'too-large';
      this.complete({ streamId: f.streamId, ppid: f.ppid, unordered: f.unordered, data: toBuffer(f.data) }, f.sequence, out);
      return 'ok';
    }
    // Fragments are copied: a view would pin the whole received packet while the message waits.
    f = { ...f, data: Buffer.from(f.data) };
    if (!this.interleaved && f.unordered) return this.addUnorderedData(f, out);
    const key = partialKey(f.streamId, f.unordered, f.sequence);
    let p = this.partials.get(key);
    if (!p) {
      p = { pieces: new Map(), first: undefined, last: undefined, size: 0, ppid: 0, minTsn: f.tsn, streamId: f.streamId, sequence: f.sequence, unordered: f.unordered };
      this.partials.set(key, p);
    }
    const index = this.interleaved ? f.fsn : f.tsn;
    const old = p.pieces.get(index);
    if (old) {
      p.size -= old.length;
      this.bufferedBytes -= old.length;
    }
    p.pieces.set(index, f.data);
    p.size += f.data.length;
    this.bufferedBytes += f.data.length;
    if (tsnLte(f.tsn, p.minTsn)) p.minTsn = f.tsn;
    if (f.beginning) {
      p.first = index;
      p.ppid = f.ppid;
    }
    if (f.ending) p.last = index;
    if (p.size > this.maxMessageSize) {
      this.dropPartial(key, p);
      return 'too-large';
    }
    if (p.first !== undefined && p.last !== undefined && p.pieces.size === tsnDiff(p.last, p.first) + 1) {
      const parts: Uint8Array[] = [];
      for (let i = p.first, n = 0; n < p.pieces.size; n++, i = tsnAdd(i, 1)) {
        const piece = p.pieces.get(i);
        if (!piece) return 'ok';
        parts.push(piece);
      }
      this.dropPartial(key, p);
      this.complete({ streamId: p.streamId, ppid: p.ppid, unordered: p.unordered, data: Buffer.concat(parts) }, p.sequence, out);
    }
    return 'ok';
  }

  /**
   * Unordered DATA: a message is a run of consecutive TSNs from a B fragment to an E fragment.
   * Walks are capped at maxFragments (a message of maxMessageSize in fragments of at least
   * 256 bytes) so that a hostile stream of tiny fragments cannot make each arrival quadratic;
   * a longer run is reported as too large.
   */
  private addUnorderedData(f: Fragment, out: AssembledMessage[]): AddResult {
    this.unorderedByTsn.set(f.tsn, f);
    this.bufferedBytes += f.data.length;
    const cap = this.maxFragments;
    let start = f.tsn;
    let cur: Fragment | undefined = f;
    for (let steps = 0; !cur.beginning; steps++) {
      if (steps > cap) return this.dropRun(start, tsnAdd(f.tsn, 1));
      const prev = this.unorderedByTsn.get(tsnAdd(start, -1));
      if (!prev || prev.ending || prev.streamId !== f.streamId) return 'ok';
      start = tsnAdd(start, -1);
      cur = prev;
    }
    const first = cur;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let t = start, steps = 0; ; t = tsnAdd(t, 1), steps++) {
      const g = this.unorderedByTsn.get(t);
      if (!g || g.streamId !== f.streamId || (t !== start && g.beginning)) return 'ok';
      parts.push(g.data);
      total += g.data.length;
      if (total > this.maxMessageSize || steps > cap) return this.dropRun(start, tsnAdd(t, 1));
      if (g.ending) {
        for (let d = start; ; d = tsnAdd(d, 1)) {
          this.unorderedByTsn.delete(d);
          if (d === t) break;
        }
        this.bufferedBytes -= total;
        out.push({ streamId: f.streamId, ppid: first.ppid, unordered: true, data: Buffer.concat(parts, total) });
        return 'ok';
      }
    }
  }

  private get maxFragments(): number {
    return Math.ceil(this.maxMessageSize / 256) + 1;
  }

  private dropRun(start: number, end: number): AddResult {
    for (let t = start; t !== end; t = tsnAdd(t, 1)) {
      const g = this.unorderedByTsn.get(t);
      if (g) {
        this.bufferedBytes -= g.data.length;
        this.unorderedByTsn.delete(t);
      }
    }
    return 'too-large';
  }

  private dropPartial(key: number, p: Partial): void {
    this.partials.delete(key);
    this.bufferedBytes -= p.size;
  }

  private stream(id: number): InStream {
    let s = this.streams.get(id);
    if (!s) {
      s = { next: 0, waiting: new Map() };
      this.streams.set(id, s);
    }
    return s;
  }

  private complete(m: AssembledMessage, sequence: number, out: AssembledMessage[]): void {
    if (m.unordered) {
      out.push(m);
      return;
    }
    const s = this.stream(m.streamId);
    if (sequence !== s.next) {
      // Already delivered or skipped sequences are stale; only future ones wait.
      if (this.seqLt(sequence, s.next)) return;
      s.waiting.set(sequence, { ...m, data: Buffer.from(m.data) });
      this.bufferedBytes += m.data.length;
      return;
    }
    out.push(m);
    s.next = this.seqNext(s.next);
    this.flush(s, out);
  }

  private flush(s: InStream, out: AssembledMessage[]): void {
    for (let m = s.waiting.get(s.next); m; m = s.waiting.get(s.next)) {
      s.waiting.delete(s.next);
      this.bufferedBytes -= m.data.length;
      out.push(m);
      s.next = this.seqNext(s.next);
    }
  }

  private seqNext(v: number): number {
    return this.interleaved ? (v + 1) >>> 0 : (v + 1) & 0xffff;
  }

  /** Serial "a before b" in the stream's sequence space (32-bit MID or 16-bit SSN). */
  private seqLt(a: number, b: number): boolean {
    return this.interleaved ? tsnLt(a, b) : ssnLt(a, b);
  }

  /**
   * FORWARD TSN (RFC 3758 section 3.6): drops fragments at or below `newCum`, then for each
   * (stream, last skipped sequence) delivers what was waiting up to it and moves past it.
   */
  forward(newCum: number, skipped: { streamId: number; sequence: number; unordered: boolean }[], out: AssembledMessage[]): void {
    // DATA fragments are TSN-contiguous, so a partial starting at or below newCum was abandoned.
    // I-DATA fragments interleave: there only the listed messages are dropped.
    if (!this.interleaved) for (const [key, p] of this.partials) if (tsnLte(p.minTsn, newCum)) this.dropPartial(key, p);
    for (const [tsn, g] of this.unorderedByTsn) {
      if (tsnLte(tsn, newCum)) {
        this.unorderedByTsn.delete(tsn);
        this.bufferedBytes -= g.data.length;
      }
    }
    for (const k of skipped) {
      const key = partialKey(k.streamId, k.unordered, k.sequence);
      const p = this.partials.get(key);
      if (p) this.dropPartial(key, p);
      if (k.unordered) continue;
      const s = this.stream(k.streamId);
      if (this.seqLt(k.sequence, s.next)) continue;
      // Deliver what waited up to the skipped sequence, in order, then move past it. The
      // distance is never walked step by step: a hostile sequence could be 2^31 away.
      const due = [...s.waiting.keys()].filter((q) => !this.seqLt(k.sequence, q)).sort((a, b) => (this.seqLt(a, b) ? -1 : 1));
      for (const q of due) {
        const m = s.waiting.get(q)!;
        s.waiting.delete(q);
        this.bufferedBytes -= m.data.length;
        out.push(m);
      }
      s.next = this.seqNext(k.sequence);
      this.flush(s, out);
    }
  }

  /** Incoming stream reset (RFC 6525 section 5.2.2): the peer restarts these streams at 0. */
  resetStreams(streamIds: readonly number[]): void {
    for (const id of streamIds) {
      const s = this.streams.get(id);
      if (!s) continue;
      for (const m of s.waiting.values()) this.bufferedBytes -= m.data.length;
      this.streams.delete(id);
    }
  }
}

function partialKey(streamId: number, unordered: boolean, sequence: number): number {
  return streamId * 0x2_0000_0000 + (unordered ? 0x1_0000_0000 : 0) + sequence;
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
