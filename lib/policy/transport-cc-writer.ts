// Writes one transport-wide congestion control feedback packet (RTPFB FMT 15,
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) straight into bytes from a ring of
// arrival times: no object or array per reported packet (the feedback of a high-rate stream covers
// thousands of packets per second). Chunks as §3.1.3/§3.1.4: run-length for runs of 14 or more,
// else a 1-bit vector of 14 when no large delta is among them, else a 2-bit vector of 7.
import { RTPFB } from '../rtp/rtcp/feedback-base.js';

const TICK_US = 250;
const REFERENCE_US = 64000;
const HEADER = 20;

/** Reusable scratch space for {@link TransportCcWriter.write}. */
export class TransportCcWriter {
  private readonly status: Uint8Array;
  private readonly delta: Int32Array;
  private readonly out: Buffer;

  /** `maxPackets`: most sequence numbers one packet reports; `maxBytes`: its largest size. */
  constructor(private readonly maxPackets: number, private readonly maxBytes: number) {
    this.status = new Uint8Array(maxPackets);
    this.delta = new Int32Array(maxPackets);
    this.out = Buffer.alloc(maxBytes + 4);
  }

  /**
   * Writes feedback for extended sequence numbers from..to (inclusive; `arrivalUs(x)` < 0 means not
   * received; at least one must have arrived: its time is the reference). Stops early when the packet would exceed `maxBytes` or a
   * delta would not fit 16 bits. Returns the bytes (a view into reused memory, valid until the
   * next call) and the last sequence number covered.
   */
  write(
    senderSsrc: number, mediaSsrc: number, feedbackCount: number, from: number, to: number, arrivalUs: (x: number) => number,
  ): { bytes: Buffer; last: number } {
    let first = from;
    while (first < to && arrivalUs(first) < 0) first++;
    const referenceTime = Math.floor(arrivalUs(first) / REFERENCE_US);
    let prevTick = referenceTime * (REFERENCE_US / TICK_US);
    let n = 0;
    let deltaBytes = 0;
    const limit = Math.min(to - from + 1, this.maxPackets);
    for (; n < limit; n++) {
      const a = arrivalUs(from + n);
      let s = 0;
      let d = 0;
      if (a >= 0) {
        const tick = Math.round(a / TICK_US);
        d = tick - prevTick;
        if (d < -32768 || d > 32767) break;
        s = d >= 0 && d <= 255 ? 1 : 2;
        // Chunks take at most 2 bytes per 7 symbols; stop before the packet outgrows maxBytes.
        if (HEADER + Math.ceil((n + 1) / 7) * 2 + deltaBytes + s + 3 > this.maxBytes) break;
        prevTick = tick;
        deltaBytes += s;
      }
      this.status[n] = s;
      this.delta[n] = d;
    }
    const out = this.out;
    let o = HEADER;
    let i = 0;
    while (i < n) {
      const s = this.status[i]!;
      let run = 1;
      while (i + run < n && this.status[i + run] === s && run < 8191) run++;
      const rest = n - i;
      if (run >= 14 || run === rest) {
        out.writeUInt16BE((s << 13) | run, o);
        i += run;
      } else {
        const k14 = Math.min(14, rest);
        let oneBit = true;
        for (let k = 0; k < k14; k++) if (this.status[i + k]! > 1) oneBit = false;
        if (oneBit) {
          let v = 0x8000;
          for (let k = 0; k < k14; k++) v |= this.status[i + k]! << (13 - k);
          out.writeUInt16BE(v, o);
          i += k14;
        } else {
          const k7 = Math.min(7, rest);
          let v = 0xc000;
          for (let k = 0; k < k7; k++) v |= this.status[i + k]! << (12 - 2 * k);
          out.writeUInt16BE(v, o);
          i += k7;
        }
      }
      o += 2;
    }
    for (let k = 0; k < n; k++) {
      const s = this.status[k]!;
      if (s === 1) out[o++] = this.delta[k]!;
      else if (s === 2) {
        out.writeInt16BE(this.delta[k]!, o);
        o += 2;
      }
    }
    // Pad to 32 bits with RTCP padding (RFC 3550 §6.4.1: P bit, last byte = count).
    const pad = (4 - (o % 4)) % 4;
    for (let k = 0; k < pad; k++) out[o + k] = 0;
    if (pad > 0) out[o + pad - 1] = pad;
    const length = o + pad;
    out[0] = 0x80 | (pad > 0 ? 0x20 : 0) | 15;
    out[1] = RTPFB;
    out.writeUInt16BE(length / 4 - 1, 2);
    out.writeUInt32BE(senderSsrc >>> 0, 4);
    out.writeUInt32BE(mediaSsrc >>> 0, 8);
    out.writeUInt16BE(from & 0xffff, 12);
    out.writeUInt16BE(n, 14);
    out.writeUIntBE(referenceTime & 0xffffff, 16, 3);
    out[19] = feedbackCount & 0xff;
    return { bytes: out.subarray(0, length), last: from + n - 1 };
  }
}
