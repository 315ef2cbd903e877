// Reads the SFU engine's arrival ring (native/forward/forward_arrival_ring.hpp; docs/sfu.md
// "Transport-wide feedback for forwarded packets"): the transport-wide sequence numbers and arrival
// times of a publisher's forwarded packets, handed to its transport-cc feedback module as if they
// had reached it. One shared-memory read per drain, no native call.
import type { TransportCcArrivalSource } from '../policy/transport-cc-feedback.js';

/** Header fields and entry size of the ring (ForwardArrivalRing). */
const WRITTEN = 0;
const READ = 1;
const OVERFLOWED = 2;
const HEADER = 4;
const ENTRY = 3;

/** Entries per publisher transport: 100 ms of 20 000 packets/s (48 KiB). */
export const ARRIVAL_RING_ENTRIES = 2048;

/** CLOCK_MONOTONIC in µs, the clock of the engine's receive batches (uv_hrtime on Linux reads it too). */
function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** See the file header. `memory` goes to the engine (setArrivalRing), which writes into it. */
export class ArrivalRingReader implements TransportCcArrivalSource {
  readonly memory: Float64Array;
  private readonly capacity: number;

  constructor(entries = ARRIVAL_RING_ENTRIES, private readonly nativeNowUs: () => number = monotonicMicros) {
    this.capacity = entries;
    this.memory = new Float64Array(HEADER + entries * ENTRY);
  }

  /** Arrivals the engine could not store because the ring was full (reported as not received). */
  get overflowed(): number {
    return this.memory[OVERFLOWED]!;
  }

  /** Packets recorded so far. */
  get written(): number {
    return this.memory[WRITTEN]!;
  }

  drain(now: number, record: (transportSequence: number, ssrc: number, arrivalMs: number) => void): void {
    const m = this.memory;
    const written = m[WRITTEN]!;
    let read = m[READ]!;
    if (read >= written) return;
    // Native µs -> the module's ms clock: both clocks are read now, the offset is their difference.
    const nativeNow = this.nativeNowUs();
    for (; read < written; read++) {
      const at = HEADER + (read % this.capacity) * ENTRY;
      const age = Math.max(0, nativeNow - m[at + 2]!) / 1000;
      record(m[at]!, m[at + 1]!, now - age);
    }
    m[READ] = read;
  }
}
