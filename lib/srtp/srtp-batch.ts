// A pooled batch of RTP/RTCP packets for one native SRTP call (docs/architecture.md, Principles: "batch across the
// JS/C++ boundary"): one buffer, per-packet offsets/lengths/capacities and a result per packet.
import { OutOfRangeError } from '../common/errors.js';

/** Options of an SrtpBatch with fixed-size slots. */
export interface SrtpBatchOptions {
  /** Number of packet slots (1..65536). */
  slots: number;
  /** Bytes per slot, including room for the SRTP overhead (default 1536). */
  slotSize?: number;
}

/**
 * Packet i lives at `buffer[offsets[i], offsets[i] + lengths[i])` and may grow up to
 * `capacities[i]` bytes when protected. After a batch call `lengths[i]` holds the new length
 * of every packet whose `results[i]` is SrtpStatus.ok; other packets are untouched or
 * garbage (never send them). The arrays are public so a caller can lay packets out freely.
 */
export class SrtpBatch {
  /** The pooled packet memory. */
  readonly buffer: Uint8Array;
  /** Start of each packet in `buffer`. */
  readonly offsets: Uint32Array;
  /** Length of each packet (input and output). */
  readonly lengths: Uint32Array;
  /** Bytes each packet may occupy after protect. */
  readonly capacities: Uint32Array;
  /** SrtpStatus of each packet after a batch call. */
  readonly results: Uint8Array;
  /** Number of slots. */
  readonly size: number;

  constructor(options: SrtpBatchOptions) {
    const slots = options.slots;
    const slotSize = options.slotSize ?? 1536;
    if (!Number.isInteger(slots) || slots < 1 || slots > 65536) {
      throw new OutOfRangeError('ERR_SRTP_BATCH', `slots must be an integer in [1, 65536], got ${slots}`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 32 || slotSize > 65536) {
      throw new OutOfRangeError('ERR_SRTP_BATCH', `slotSize must be an integer in [32, 65536], got ${slotSize}`);
    }
    this.size = slots;
    this.buffer = new Uint8Array(slots * slotSize);
    this.offsets = new Uint32Array(slots);
    this.lengths = new Uint32Array(slots);
    this.capacities = new Uint32Array(slots);
    this.results = new Uint8Array(slots);
    for (let i = 0; i < slots; i++) {
      this.offsets[i] = i * slotSize;
      this.capacities[i] = slotSize;
    }
  }

  /** Copies `packet` into slot `index` and sets its length. */
  set(index: number, packet: Uint8Array): void {
    if (!(index >= 0 && index < this.size) || packet.length > this.capacities[index]!) {
      throw new OutOfRangeError('ERR_SRTP_BATCH', `packet of ${packet.length} B does not fit slot ${index}`);
    }
    this.buffer.set(packet, this.offsets[index]!);
    this.lengths[index] = packet.length;
  }

  /** A view (no copy) of packet `index` at its current length. */
  view(index: number): Uint8Array {
    const off = this.offsets[index]!;
    return this.buffer.subarray(off, off + this.lengths[index]!);
  }
}
