// Message plans and an exactly-once checker for the data-channel integrity tests (RFC 8831
// section 6.6: strings with PPID 51/56, binary with 53/57; ordered channels deliver in order).
import { createHash } from 'node:crypto';
import { SeededRng } from '../../lib/common/rng.js';

/** One planned message: string or binary, its UTF-8 / byte length. */
export interface IntegrityMessage {
  readonly text: boolean;
  readonly size: number;
}

/**
 * Sizes every plan repeats: empty, one byte, around one SCTP chunk (1200), the 16 KiB fragment
 * edges, and larger than 64 KiB (about sixty fragments); the other slots are seeded random sizes.
 */
const FIXED: readonly number[] = [0, 1, 1200, 16384, 1199, 1201, 16385, 70_000, 2];

/** `count` messages of mixed kinds and sizes, the same for the same seed. */
export function integrityPlan(count: number, seed: number): IntegrityMessage[] {
  const rng = new SeededRng(seed);
  const plan: IntegrityMessage[] = [];
  for (let i = 0; i < count; i++) {
    const slot = i % 16;
    // Fixed sizes in nine slots of 16 (the 70,000-byte one every other round), seeded random
    // sizes up to 3,000 bytes (one slot: 20,000) in the others.
    const fixed = slot === 7 && (i >> 4) % 2 === 1 ? undefined : FIXED[slot];
    const size = fixed ?? 2 + (rng.uint32() % (slot === 15 ? 20_000 : 3000));
    plan.push({ text: rng.float() < 0.5, size });
  }
  return plan;
}

/**
 * The bytes of message `index` of a stream tagged `tag`: ASCII letters, with a 3-byte UTF-8
 * character ('€') every 97 bytes, so fragment boundaries sometimes split a character and strings
 * must be reassembled before they are decoded.
 */
export function integrityBytes(tag: number, index: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = 97 + ((tag * 31 + index * 7 + j) % 26);
  for (let j = 50; j + 3 <= size; j += 97) {
    b[j] = 0xe2;
    b[j + 1] = 0x82;
    b[j + 2] = 0xac;
  }
  return b;
}

/** What send() takes for message `index`: a string or a Buffer. */
export function integrityPayload(tag: number, index: number, m: IntegrityMessage): string | Buffer {
  const bytes = integrityBytes(tag, index, m.size);
  return m.text ? bytes.toString('utf8') : bytes;
}

function fingerprint(text: boolean, bytes: Buffer): string {
  return `${text ? 's' : 'b'}${bytes.length}:${createHash('sha1').update(bytes).digest('hex')}`;
}

/**
 * Checks what one receiving channel got against the plan: every message exactly once, intact and
 * of its kind; on an ordered channel also at its own position. `errors` names the first problems.
 */
export class IntegrityChecker {
  received = 0;
  readonly errors: string[] = [];
  private readonly expected: string[];
  private readonly outstanding = new Map<string, number>();

  constructor(
    plan: readonly IntegrityMessage[],
    tag: number,
    private readonly ordered: boolean,
  ) {
    this.expected = plan.map((m, i) => fingerprint(m.text, integrityBytes(tag, i, m.size)));
    for (const f of this.expected) this.outstanding.set(f, (this.outstanding.get(f) ?? 0) + 1);
  }

  /** True once every planned message arrived. */
  get complete(): boolean {
    return this.received >= this.expected.length;
  }

  /** Records one received message (a string, or a Buffer with binaryType 'nodebuffer'). */
  add(data: unknown): void {
    const at = this.received++;
    const text = typeof data === 'string';
    const bytes = text ? Buffer.from(data, 'utf8') : Buffer.isBuffer(data) ? data : undefined;
    if (!bytes) return this.fail(`message ${at}: a ${typeof data}, not a string or Buffer`);
    const f = fingerprint(text, bytes);
    const left = this.outstanding.get(f) ?? 0;
    if (left === 0) {
      const same = this.expected.indexOf(f);
      return this.fail(`message ${at}: ${f.split(':')[0]} ${same >= 0 ? `duplicates planned message ${same}` : 'matches no planned message (corrupt or mistyped)'}`);
    }
    this.outstanding.set(f, left - 1);
    if (this.ordered && f !== this.expected[at]) {
      this.fail(`message ${at}: out of order, it is planned message ${this.expected.indexOf(f)} (${f.split(':')[0]})`);
    }
  }

  private fail(e: string): void {
    if (this.errors.length < 10) this.errors.push(e);
  }
}
