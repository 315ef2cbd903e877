// Transport-wide congestion control feedback, RTPFB FMT 15
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): base sequence number, packet status
// count, reference time (24 bits, 64 ms units), feedback packet count, packet status chunks
// (run-length, 1-bit and 2-bit status vectors) and receive deltas (250 µs units, 1 or 2 bytes).
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpFeedbackBase, RTPFB } from './feedback-base.js';
import { checkUint } from './rtcp-packet-base.js';

/** Packet status symbols (draft §3.1.1). */
export const TwccStatus = {
  NOT_RECEIVED: 0,
  SMALL_DELTA: 1,
  LARGE_DELTA: 2,
  /** "reserved" in the draft; read as received without a delta, as libwebrtc and pion do. */
  RECEIVED_WITHOUT_DELTA: 3,
} as const;

/** A run-length chunk: `runLength` (0..8191) packets with the same status (draft §3.1.3). */
export interface TwccRunLengthChunk {
  type: 'run-length';
  status: number;
  runLength: number;
}

/** A status vector chunk: 14 one-bit or 7 two-bit symbols (draft §3.1.4). */
export interface TwccStatusVectorChunk {
  type: 'status-vector';
  symbolSize: 1 | 2;
  /** 14 symbols (0/1) for symbolSize 1, 7 symbols (0..3) for symbolSize 2. */
  symbols: number[];
}

/** A packet status chunk. */
export type TwccChunk = TwccRunLengthChunk | TwccStatusVectorChunk;

/** The fate of one transport-wide sequence number. */
export interface TwccPacketResult {
  sequenceNumber: number;
  status: number;
  /** Receive delta in 250 µs ticks from the previous received packet (or the reference time); null without one. */
  deltaTicks: number | null;
}

/** Fields shared by the constructors. */
export interface TransportCcFeedbackHeader {
  senderSsrc: number;
  mediaSsrc: number;
  baseSequenceNumber: number;
  /** 24-bit reference time in 64 ms units. */
  referenceTime: number;
  /** 8-bit count of feedback packets sent, for loss detection of the feedback itself. */
  feedbackPacketCount: number;
}

const TICK_US = 250;
const REFERENCE_US = 64000;

function chunkSymbols(c: TwccChunk): number {
  return c.type === 'run-length' ? c.runLength : c.symbols.length;
}

function symbolAt(c: TwccChunk, i: number): number {
  return c.type === 'run-length' ? c.status : c.symbols[i]!;
}

// Greedy chunk encoder (draft §3.1.2-3.1.4): a long run becomes a run-length chunk, a stretch of
// received/not-received becomes a 1-bit vector, anything with large deltas a 2-bit vector.
function encodeChunks(statuses: number[]): TwccChunk[] {
  const chunks: TwccChunk[] = [];
  let i = 0;
  while (i < statuses.length) {
    const s = statuses[i]!;
    let run = 1;
    while (i + run < statuses.length && statuses[i + run] === s && run < 8191) run++;
    const rest = statuses.length - i;
    const n14 = Math.min(14, rest);
    let oneBit = true;
    for (let k = 0; k < n14; k++) if (statuses[i + k]! > 1) oneBit = false;
    if (run >= 14 || run === rest) {
      chunks.push({ type: 'run-length', status: s, runLength: run });
      i += run;
    } else if (oneBit) {
      const symbols = statuses.slice(i, i + 14);
      while (symbols.length < 14) symbols.push(0);
      chunks.push({ type: 'status-vector', symbolSize: 1, symbols });
      i += n14;
    } else if (run >= 7) {
      chunks.push({ type: 'run-length', status: s, runLength: run });
      i += run;
    } else {
      const symbols = statuses.slice(i, i + 7);
      while (symbols.length < 7) symbols.push(0);
      chunks.push({ type: 'status-vector', symbolSize: 2, symbols });
      i += Math.min(7, rest);
    }
  }
  return chunks;
}

/** Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). */
export class RtcpTransportCcFeedback extends RtcpFeedbackBase {
  /** FMT 15. */
  static readonly FMT = 15;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'transport-cc' as const;
  readonly packetType = RTPFB;
  readonly fmt = 15;
  /** First transport-wide sequence number reported. */
  baseSequenceNumber: number;
  /** Number of sequence numbers reported (from the base on). */
  packetStatusCount: number;
  /** 24-bit reference time, 64 ms units. */
  referenceTime: number;
  /** 8-bit feedback packet count. */
  feedbackPacketCount: number;
  /** Packet status chunks as on the wire. */
  chunks: TwccChunk[];
  /** Receive deltas (250 µs ticks) of the packets whose status carries one, in order. */
  recvDeltas: number[];
  /**
   * Bytes of the FCI after the last delta that no field claims: the zero alignment some senders
   * write without the P bit. Kept (written back as zeros) so a packet re-serializes byte-exact.
   */
  trailingBytes = 0;

  /** Builds a feedback packet from its wire parts; see `fromPackets` / `fromArrivals` to encode results. */
  constructor(header: TransportCcFeedbackHeader, packetStatusCount = 0, chunks: TwccChunk[] = [], recvDeltas: number[] = []) {
    super(header.senderSsrc, header.mediaSsrc);
    this.baseSequenceNumber = header.baseSequenceNumber;
    this.referenceTime = header.referenceTime;
    this.feedbackPacketCount = header.feedbackPacketCount;
    this.packetStatusCount = packetStatusCount;
    this.chunks = chunks;
    this.recvDeltas = recvDeltas;
  }

  /**
   * Encodes per-packet results: `deltas[i]` is the receive delta (250 µs ticks, int16) of sequence
   * number base + i, or null when it was not received. Deltas 0..255 use 1 byte, others 2.
   */
  static fromPackets(header: TransportCcFeedbackHeader, deltas: readonly (number | null)[]): RtcpTransportCcFeedback {
    const statuses: number[] = [];
    const recv: number[] = [];
    for (const d of deltas) {
      if (d === null) {
        statuses.push(TwccStatus.NOT_RECEIVED);
        continue;
      }
      if (!(Number.isInteger(d) && d >= -32768 && d <= 32767)) {
        throw new OutOfRangeError('ERR_RTCP_FIELD', `transport-cc receive delta ${d} ticks does not fit 16 signed bits; split the feedback`);
      }
      statuses.push(d >= 0 && d <= 255 ? TwccStatus.SMALL_DELTA : TwccStatus.LARGE_DELTA);
      recv.push(d);
    }
    return new RtcpTransportCcFeedback(header, deltas.length, encodeChunks(statuses), recv);
  }

  /**
   * Encodes arrival times in microseconds (null = lost) of sequence numbers base, base+1, ...: the
   * reference time is taken from the first arrival and each delta is rounded to 250 µs.
   */
  static fromArrivals(
    header: Omit<TransportCcFeedbackHeader, 'referenceTime'>,
    arrivalsUs: readonly (number | null)[],
  ): RtcpTransportCcFeedback {
    const first = arrivalsUs.find((a) => a !== null);
    const reference = first === undefined || first === null ? 0 : Math.floor(first / REFERENCE_US);
    let prevTick = reference * (REFERENCE_US / TICK_US);
    const deltas = arrivalsUs.map((a) => {
      if (a === null) return null;
      const tick = Math.round(a / TICK_US);
      const d = tick - prevTick;
      prevTick = tick;
      return d;
    });
    return RtcpTransportCcFeedback.fromPackets({ ...header, referenceTime: reference & 0xffffff }, deltas);
  }

  // The first packetStatusCount status symbols, without building result objects.
  private statuses(): number[] {
    const out: number[] = [];
    for (const c of this.chunks) {
      const n = chunkSymbols(c);
      for (let i = 0; i < n && out.length < this.packetStatusCount; i++) out.push(symbolAt(c, i));
    }
    return out;
  }

  /** Status and delta of every reported sequence number, in order (wrapping at 65536). */
  packets(): TwccPacketResult[] {
    const out: TwccPacketResult[] = [];
    let d = 0;
    for (const c of this.chunks) {
      const n = chunkSymbols(c);
      for (let i = 0; i < n && out.length < this.packetStatusCount; i++) {
        const status = symbolAt(c, i);
        const hasDelta = status === TwccStatus.SMALL_DELTA || status === TwccStatus.LARGE_DELTA;
        out.push({
          sequenceNumber: (this.baseSequenceNumber + out.length) & 0xffff,
          status,
          deltaTicks: hasDelta ? (this.recvDeltas[d++] ?? null) : null,
        });
      }
    }
    return out;
  }

  /** Arrival times in µs (reference time base, not wrapped) of each reported packet, null when lost. */
  arrivalTimesUs(): (number | null)[] {
    let t = this.referenceTime * REFERENCE_US;
    return this.packets().map((p) => {
      if (p.deltaTicks === null) return p.status === TwccStatus.RECEIVED_WITHOUT_DELTA ? t : null;
      t += p.deltaTicks * TICK_US;
      return t;
    });
  }

  /** Decodes the FCI [start, end); null when malformed. */
  static parseFci(buf: Buffer, start: number, end: number, senderSsrc: number, mediaSsrc: number): RtcpTransportCcFeedback | null {
    if (start + 8 > end) return null;
    const count = buf.readUInt16BE(start + 2);
    const fb = new RtcpTransportCcFeedback(
      { senderSsrc, mediaSsrc, baseSequenceNumber: buf.readUInt16BE(start), referenceTime: buf.readUIntBE(start + 4, 3), feedbackPacketCount: buf[start + 7]! },
      count,
    );
    let p = start + 8;
    let covered = 0;
    const statuses: number[] = [];
    while (covered < count) {
      if (p + 2 > end) return null;
      const w = buf.readUInt16BE(p);
      p += 2;
      let chunk: TwccChunk;
      if ((w & 0x8000) === 0) {
        chunk = { type: 'run-length', status: (w >> 13) & 3, runLength: w & 0x1fff };
      } else if ((w & 0x4000) === 0) {
        const symbols: number[] = [];
        for (let i = 13; i >= 0; i--) symbols.push((w >> i) & 1);
        chunk = { type: 'status-vector', symbolSize: 1, symbols };
      } else {
        const symbols: number[] = [];
        for (let i = 12; i >= 0; i -= 2) symbols.push((w >> i) & 3);
        chunk = { type: 'status-vector', symbolSize: 2, symbols };
      }
      fb.chunks.push(chunk);
      const n = chunkSymbols(chunk);
      for (let i = 0; i < n && covered < count; i++, covered++) statuses.push(symbolAt(chunk, i));
    }
    for (const s of statuses) {
      if (s === TwccStatus.SMALL_DELTA) {
        if (p + 1 > end) return null;
        fb.recvDeltas.push(buf[p]!);
        p += 1;
      } else if (s === TwccStatus.LARGE_DELTA) {
        if (p + 2 > end) return null;
        fb.recvDeltas.push(buf.readInt16BE(p));
        p += 2;
      }
    }
    fb.trailingBytes = end - p;
    return fb;
  }

  private deltaBytes(): number {
    let n = 0;
    for (const s of this.statuses()) {
      if (s === TwccStatus.SMALL_DELTA) n += 1;
      else if (s === TwccStatus.LARGE_DELTA) n += 2;
    }
    return n;
  }

  protected fciLength(): number {
    return 8 + this.chunks.length * 2 + this.deltaBytes() + this.trailingBytes;
  }

  protected checkFci(): void {
    checkUint(this.baseSequenceNumber, 16, 'transport-cc base sequence number');
    checkUint(this.packetStatusCount, 16, 'transport-cc packet status count');
    checkUint(this.referenceTime, 24, 'transport-cc reference time');
    checkUint(this.feedbackPacketCount, 8, 'transport-cc feedback packet count');
    checkUint(this.trailingBytes, 16, 'transport-cc trailing bytes');
    let covered = 0;
    for (const c of this.chunks) {
      if (covered >= this.packetStatusCount) {
        throw new OutOfRangeError('ERR_RTCP_FIELD', 'transport-cc has more chunks than its packet status count needs');
      }
      if (c.type === 'run-length') {
        checkUint(c.status, 2, 'transport-cc run-length status');
        checkUint(c.runLength, 13, 'transport-cc run length');
      } else {
        const max = c.symbolSize === 1 ? 1 : 3;
        if (c.symbols.length !== (c.symbolSize === 1 ? 14 : 7) || c.symbols.some((s) => !(Number.isInteger(s) && s >= 0 && s <= max))) {
          throw new OutOfRangeError('ERR_RTCP_FIELD', `transport-cc ${c.symbolSize}-bit status vector needs ${c.symbolSize === 1 ? 14 : 7} symbols of 0..${max}`);
        }
      }
      covered += chunkSymbols(c);
    }
    if (covered < this.packetStatusCount) {
      throw new OutOfRangeError('ERR_RTCP_FIELD', `transport-cc chunks cover ${covered} packets, status count is ${this.packetStatusCount}`);
    }
    const statuses = this.statuses();
    let needed = 0;
    for (let i = 0; i < statuses.length; i++) {
      const s = statuses[i]!;
      if (s !== TwccStatus.SMALL_DELTA && s !== TwccStatus.LARGE_DELTA) continue;
      const d = this.recvDeltas[needed++];
      const ok = d !== undefined && Number.isInteger(d) &&
        (s === TwccStatus.SMALL_DELTA ? d >= 0 && d <= 255 : d >= -32768 && d <= 32767);
      if (!ok) {
        throw new OutOfRangeError('ERR_RTCP_FIELD', `transport-cc delta ${d} does not match status ${s} of sequence ${(this.baseSequenceNumber + i) & 0xffff}`);
      }
    }
    if (needed !== this.recvDeltas.length) {
      throw new OutOfRangeError('ERR_RTCP_FIELD', `transport-cc has ${this.recvDeltas.length} deltas, its statuses need ${needed}`);
    }
  }

  protected writeFci(buf: Buffer, o: number): void {
    buf.writeUInt16BE(this.baseSequenceNumber, o);
    buf.writeUInt16BE(this.packetStatusCount, o + 2);
    buf.writeUIntBE(this.referenceTime, o + 4, 3);
    buf[o + 7] = this.feedbackPacketCount;
    let p = o + 8;
    for (const c of this.chunks) {
      let w: number;
      if (c.type === 'run-length') {
        w = (c.status << 13) | c.runLength;
      } else if (c.symbolSize === 1) {
        w = 0x8000;
        for (let i = 0; i < 14; i++) w |= c.symbols[i]! << (13 - i);
      } else {
        w = 0xc000;
        for (let i = 0; i < 7; i++) w |= c.symbols[i]! << (12 - 2 * i);
      }
      buf.writeUInt16BE(w, p);
      p += 2;
    }
    let d = 0;
    for (const s of this.statuses()) {
      if (s === TwccStatus.SMALL_DELTA) {
        buf[p++] = this.recvDeltas[d++]!;
      } else if (s === TwccStatus.LARGE_DELTA) {
        buf.writeInt16BE(this.recvDeltas[d++]!, p);
        p += 2;
      }
    }
    buf.fill(0, p, p + this.trailingBytes);
  }
}
