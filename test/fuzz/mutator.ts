// Deterministic mutation engine for the TypeScript fuzz targets: bit and byte flips, truncation,
// splices between seeds, length-field tampering and random insertions, driven by a SeededRng.
import { SeededRng } from '../../lib/common/rng.js';

/** Values that make length and count fields interesting: edges of 8- and 16-bit ranges. */
const INTERESTING_16 = [0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0x8000, 0xfffe, 0xffff];

/** Mutation kinds, in the order `mutateOnce` draws them. */
export type MutationKind =
  | 'bit-flip'
  | 'byte-set'
  | 'truncate'
  | 'splice'
  | 'length-field'
  | 'insert'
  | 'delete'
  | 'duplicate';

const KINDS: readonly MutationKind[] = ['bit-flip', 'byte-set', 'truncate', 'splice', 'length-field', 'insert', 'delete', 'duplicate'];

/** Produces mutated inputs from a seed corpus; the same seed number gives the same sequence. */
export class Mutator {
  private readonly rng: SeededRng;

  constructor(
    seed: number,
    private readonly seeds: readonly Buffer[],
    /** Largest input produced (longer results are cut). */
    private readonly maxLength = 4096,
  ) {
    this.rng = new SeededRng(seed);
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.rng.uint32() % n;
  }

  /** One seed picked at random (an empty buffer when the corpus is empty). */
  pickSeed(): Buffer {
    return this.seeds.length ? this.seeds[this.below(this.seeds.length)]! : Buffer.alloc(0);
  }

  /** A new input: a random seed with 1 to 4 stacked mutations. */
  next(): Buffer {
    let data = this.pickSeed();
    const rounds = 1 + this.below(4);
    for (let i = 0; i < rounds; i++) data = this.mutateOnce(data, KINDS[this.below(KINDS.length)]!);
    return data.length > this.maxLength ? data.subarray(0, this.maxLength) : data;
  }

  /** Applies one mutation of `kind` to a copy of `input`. */
  mutateOnce(input: Buffer, kind: MutationKind): Buffer {
    const data = Buffer.from(input);
    const n = data.length;
    switch (kind) {
      case 'bit-flip': {
        if (n === 0) return this.rng.bytes(1 + this.below(16));
        const flips = 1 + this.below(4);
        for (let i = 0; i < flips; i++) data[this.below(n)]! ^= 1 << this.below(8);
        return data;
      }
      case 'byte-set': {
        if (n === 0) return this.rng.bytes(1);
        const at = this.below(n);
        const choice = this.below(4);
        data[at] = choice === 0 ? 0 : choice === 1 ? 0xff : choice === 2 ? data[at]! + (this.below(2) ? 1 : -1) : this.below(256);
        return data;
      }
      case 'truncate':
        return data.subarray(0, this.below(n + 1));
      case 'splice': {
        const other = this.pickSeed();
        const cut = this.below(n + 1);
        const from = this.below(other.length + 1);
        return Buffer.concat([data.subarray(0, cut), other.subarray(from)]);
      }
      case 'length-field': {
        // A 16-bit big- or little-endian field at a random offset set to an edge value, or
        // nudged by a small delta: most of our formats carry 16-bit lengths and counts.
        if (n < 2) return data;
        const at = this.below(n - 1);
        const le = this.below(4) === 0;
        const old = le ? data.readUInt16LE(at) : data.readUInt16BE(at);
        const value = this.below(2) ? INTERESTING_16[this.below(INTERESTING_16.length)]! : (old + this.below(9) - 4) & 0xffff;
        if (le) data.writeUInt16LE(value, at);
        else data.writeUInt16BE(value, at);
        return data;
      }
      case 'insert': {
        const at = this.below(n + 1);
        const len = 1 + this.below(this.below(8) === 0 ? 256 : 8);
        const fill = this.below(3) === 0 ? Buffer.alloc(len, this.below(256)) : this.rng.bytes(len);
        return Buffer.concat([data.subarray(0, at), fill, data.subarray(at)]);
      }
      case 'delete': {
        if (n === 0) return data;
        const at = this.below(n);
        const len = 1 + this.below(Math.min(16, n - at));
        return Buffer.concat([data.subarray(0, at), data.subarray(at + len)]);
      }
      case 'duplicate': {
        if (n === 0) return data;
        const at = this.below(n);
        const len = 1 + this.below(Math.min(64, n - at));
        return Buffer.concat([data.subarray(0, at + len), data.subarray(at, at + len), data.subarray(at + len)]);
      }
    }
  }
}

/** Prefixes of `input` of length 0, stride, 2*stride, ... < n: truncation at every length when stride is 1. */
export function* truncations(input: Buffer, stride = 1): Generator<Buffer> {
  for (let len = 0; len < input.length; len += Math.max(1, stride)) yield input.subarray(0, len);
}
