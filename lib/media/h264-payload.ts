// H.264 RTP payload format (RFC 6184): single NAL unit packets (§5.6), STAP-A aggregation (§5.7.1)
// and FU-A fragmentation (§5.8), for packetization modes 0 and 1 (§6.2, §6.3).
import { OutOfRangeError } from '../common/errors.js';
import { h264NalType, splitAnnexB } from './annex-b.js';
import { checkMtu } from './media-errors.js';
import {
  asBuffer,
  createDropCounters,
  evenChunks,
  type DepacketizedPayload,
  type Depacketizer,
  type DropCounters,
  type Packetizer,
} from './payloader.js';

/** NAL unit type of a STAP-A payload (RFC 6184 Table 1). */
export const H264_STAP_A = 24;
/** NAL unit type of an FU-A payload (RFC 6184 Table 1). */
export const H264_FU_A = 28;

const START_CODE = Buffer.from([0, 0, 0, 1]);

// Whether a NAL unit of `type`, whose payload begins with `firstByte`, can only open an access unit:
// SEI, SPS, PPS and delimiters precede the slices, and a slice with first_mb_in_slice = 0 (ue(v)
// code "1") is a picture's first (H.264 §7.4.1.2.3, §7.3.3).
function opensAccessUnit(type: number, firstByte: number | undefined): boolean {
  if (type >= 6 && type <= 9) return true;
  return (type === 1 || type === 5) && firstByte !== undefined && (firstByte & 0x80) !== 0;
}

/** Options of the H.264 packetizer. */
export interface H264PacketizerOptions {
  /** 0: single NAL unit packets only; 1 (default): also STAP-A and FU-A (RFC 6184 §6.2, §6.3). */
  packetizationMode?: 0 | 1;
}

/** Builds a STAP-A payload from NAL units (RFC 6184 §5.7.1): F is the OR, NRI the maximum of theirs. */
export function buildStapA(nalUnits: readonly Uint8Array[]): Buffer {
  let f = 0;
  let nri = 0;
  let size = 1;
  for (const n of nalUnits) {
    if (n.length === 0 || n.length > 0xffff) throw new OutOfRangeError('ERR_MEDIA_FRAME', `a STAP-A unit must hold 1..65535 bytes, got ${n.length}`);
    f |= n[0]! & 0x80;
    nri = Math.max(nri, n[0]! & 0x60);
    size += 2 + n.length;
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = f | nri | H264_STAP_A;
  let o = 1;
  for (const n of nalUnits) {
    out.writeUInt16BE(n.length, o);
    out.set(n, o + 2);
    o += 2 + n.length;
  }
  return out;
}

/** Splits one NAL unit into FU-A payloads of at most `mtu` bytes (RFC 6184 §5.8). */
export function buildFuA(nal: Uint8Array, mtu: number): Buffer[] {
  const indicator = (nal[0]! & 0xe0) | H264_FU_A;
  const type = nal[0]! & 0x1f;
  const body = nal.subarray(1);
  const sizes = evenChunks(body.length, mtu - 2);
  const out: Buffer[] = [];
  let offset = 0;
  sizes.forEach((size, k) => {
    const p = Buffer.allocUnsafe(2 + size);
    p[0] = indicator;
    p[1] = (k === 0 ? 0x80 : 0) | (k === sizes.length - 1 ? 0x40 : 0) | type;
    p.set(body.subarray(offset, offset + size), 2);
    out.push(p);
    offset += size;
  });
  return out;
}

/**
 * Packetizer for H.264. A frame is one access unit in Annex B form. Access unit delimiters and
 * filler data (types 9, 12) are left out: a receiver over RTP learns picture boundaries from the
 * timestamp and marker bit. In mode 1, consecutive NAL units that fit go into one STAP-A and a NAL
 * unit larger than `mtu` goes into FU-A fragments; in mode 0 a NAL unit larger than `mtu` throws
 * `ERR_MEDIA_FRAME`.
 */
export class H264Packetizer implements Packetizer {
  readonly clockRate = 90_000;
  readonly markerOnLastPayload = true;
  private readonly mode: 0 | 1;

  constructor(options: H264PacketizerOptions = {}) {
    this.mode = options.packetizationMode ?? 1;
  }

  /** Payloads for one access unit. */
  packetize(frame: Uint8Array, mtu: number): Buffer[] {
    checkMtu(mtu);
    const nals = splitAnnexB(frame)
      .map((u) => u.data)
      .filter((n) => n.length > 0 && h264NalType(n) !== 9 && h264NalType(n) !== 12);
    if (nals.length === 0) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'the H.264 access unit holds no NAL unit');
    const out: Buffer[] = [];
    let pending: Buffer[] = [];
    let pendingSize = 1;
    const flush = (): void => {
      if (pending.length === 1) out.push(Buffer.from(pending[0]!));
      else if (pending.length > 1) out.push(buildStapA(pending));
      pending = [];
      pendingSize = 1;
    };
    for (const nal of nals) {
      if (nal.length > mtu) {
        if (this.mode === 0) {
          throw new OutOfRangeError('ERR_MEDIA_FRAME', `a ${nal.length}-byte NAL unit exceeds the ${mtu}-byte MTU in packetization mode 0`);
        }
        flush();
        out.push(...buildFuA(nal, mtu));
        continue;
      }
      if (this.mode === 0) {
        out.push(Buffer.from(nal));
        continue;
      }
      if (pendingSize + 2 + nal.length > mtu) flush();
      pending.push(nal);
      pendingSize += 2 + nal.length;
    }
    flush();
    return out;
  }
}

/** Depacketizer for H.264 in modes 0 and 1; the output is Annex B with 4-byte start codes. */
export class H264Depacketizer implements Depacketizer {
  readonly drops: DropCounters = createDropCounters();

  /**
   * Converts one payload to Annex B. A keyframe starts in a payload that carries an SPS or the
   * start of an IDR slice, alone, in a STAP-A or as the first FU-A fragment. A payload whose first
   * NAL unit is an SEI, SPS, PPS, delimiter or a picture's first slice starts a frame.
   */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined {
    const p = asBuffer(payload);
    const type = p.length > 0 ? p[0]! & 0x1f : 0;
    // A single NAL unit may be its header alone (end of sequence, end of stream); the others need two bytes.
    if (p.length < 1 || (p.length < 2 && (type < 1 || type > 23))) {
      this.drops.truncated++;
      return undefined;
    }
    if (type >= 1 && type <= 23) {
      const frameStart = opensAccessUnit(type, p[1]) ? true : undefined;
      return { data: Buffer.concat([START_CODE, p]), frameStart, frameEnd: false, keyframe: type === 5 || type === 7 };
    }
    if (type === H264_STAP_A) {
      const parts: Buffer[] = [];
      let keyframe = false;
      let o = 1;
      while (o < p.length) {
        if (o + 2 > p.length) {
          this.drops.truncated++;
          return undefined;
        }
        const size = p.readUInt16BE(o);
        if (size === 0 || o + 2 + size > p.length) {
          this.drops.malformed++;
          return undefined;
        }
        const nalType = p[o + 2]! & 0x1f;
        if (nalType === 5 || nalType === 7) keyframe = true;
        parts.push(START_CODE, p.subarray(o + 2, o + 2 + size));
        o += 2 + size;
      }
      const frameStart = opensAccessUnit(p[3]! & 0x1f, p[4]) ? true : undefined;
      return { data: Buffer.concat(parts), frameStart, frameEnd: false, keyframe };
    }
    if (type === H264_FU_A) {
      const fu = p[1]!;
      const start = (fu & 0x80) !== 0;
      if (start && (fu & 0x40) !== 0) {
        // RFC 6184 §5.8: Start and End bits MUST NOT both be set.
        this.drops.malformed++;
        return undefined;
      }
      const body = p.subarray(2);
      if (!start) return { data: body, frameStart: false, frameEnd: false, keyframe: false };
      const header = Buffer.from([(p[0]! & 0xe0) | (fu & 0x1f)]);
      const nalType = fu & 0x1f;
      const frameStart = opensAccessUnit(nalType, p[2]) ? true : undefined;
      return { data: Buffer.concat([START_CODE, header, body]), frameStart, frameEnd: false, keyframe: nalType === 5 || nalType === 7 };
    }
    // STAP-B, MTAP and FU-B belong to the interleaved mode 2; 0, 30 and 31 are undefined.
    this.drops.unsupported++;
    return undefined;
  }

  /** The access unit in Annex B form; a FU-A fragment out of order or left open drops the frame. */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined {
    const parts: Buffer[] = [];
    let inFragment = false;
    for (const payload of payloads) {
      const d = this.depacketize(payload);
      if (d === undefined) return undefined;
      const isFu = (payload[0]! & 0x1f) === H264_FU_A;
      const fuStart = isFu && (payload[1]! & 0x80) !== 0;
      const fuEnd = isFu && (payload[1]! & 0x40) !== 0;
      if (inFragment !== (isFu && !fuStart)) {
        this.drops.malformed++;
        return undefined;
      }
      inFragment = isFu && !fuEnd;
      parts.push(d.data);
    }
    if (inFragment || parts.length === 0) {
      this.drops.malformed++;
      return undefined;
    }
    return Buffer.concat(parts);
  }
}
