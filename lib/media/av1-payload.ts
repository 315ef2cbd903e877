// AV1 RTP payload format (AOMedia "RTP Payload Format for AV1" v1.0: §4.4 aggregation header with the
// Z/Y/W/N bits, §4.5 OBU elements, §5 packetization rules): packetizer and depacketizer.
import { OutOfRangeError } from '../common/errors.js';
import {
  AV1_OBU_FRAME,
  AV1_OBU_FRAME_HEADER,
  AV1_OBU_METADATA,
  AV1_OBU_SEQUENCE_HEADER,
  AV1_OBU_TILE_GROUP,
  AV1_OBU_TEMPORAL_DELIMITER,
  AV1_OBU_TILE_LIST,
  isAv1Keyframe,
  leb128Size,
  parseObus,
  readLeb128,
  serializeObuWithSize,
  writeLeb128,
} from './av1-obu.js';
import { checkMtu } from './media-errors.js';
import {
  asBuffer,
  createDropCounters,
  type DepacketizedPayload,
  type Depacketizer,
  type DropCounters,
  type Packetizer,
} from './payloader.js';

// OBU types that can open a temporal unit after its (removed) temporal delimiter (AV1 spec §7.5).
const OPENING_OBUS = [AV1_OBU_SEQUENCE_HEADER, AV1_OBU_METADATA, AV1_OBU_FRAME_HEADER, AV1_OBU_FRAME];

/** The aggregation header of an AV1 payload (AV1 RTP §4.4). */
export interface Av1AggregationHeader {
  /** Z: the first OBU element continues an OBU fragment from the previous packet. */
  continuesFragment: boolean;
  /** Y: the last OBU element continues in the next packet. */
  fragmentContinues: boolean;
  /** W: number of OBU elements (1..3, the last without length field) or 0 (every element has one). */
  elementCount: number;
  /** N: first packet of a coded video sequence. */
  newSequence: boolean;
}

/** A parsed AV1 payload. */
export interface ParsedAv1Payload {
  /** The aggregation header. */
  header: Av1AggregationHeader;
  /** The OBU elements (whole OBUs or fragments), length fields removed. */
  elements: Buffer[];
}

/** Parses an AV1 payload into its aggregation header and OBU elements; `undefined` when malformed. */
export function parseAv1Payload(payload: Uint8Array): ParsedAv1Payload | undefined {
  const p = asBuffer(payload);
  if (p.length < 2) return undefined;
  const a = p[0]!;
  const header: Av1AggregationHeader = {
    continuesFragment: (a & 0x80) !== 0,
    fragmentContinues: (a & 0x40) !== 0,
    elementCount: (a >> 4) & 3,
    newSequence: (a & 0x08) !== 0,
  };
  // AV1 RTP §4.4: N MUST be 0 when Z is 1 (a new sequence cannot start mid-OBU).
  if (header.newSequence && header.continuesFragment) return undefined;
  const elements: Buffer[] = [];
  let i = 1;
  while (i < p.length) {
    let size: number;
    if (header.elementCount !== 0 && elements.length === header.elementCount - 1) {
      size = p.length - i;
    } else {
      const len = readLeb128(p, i);
      if (len === undefined) return undefined;
      i += len.length;
      size = len.value;
    }
    if (size === 0 || i + size > p.length) return undefined;
    elements.push(p.subarray(i, i + size));
    i += size;
  }
  if (elements.length === 0 || (header.elementCount !== 0 && elements.length !== header.elementCount)) return undefined;
  return { header, elements };
}

/** Builds one AV1 payload from its elements: W counts them when there are 1..3, else every one has a length. */
export function buildAv1Payload(header: Omit<Av1AggregationHeader, 'elementCount'>, elements: readonly Uint8Array[]): Buffer {
  const w = elements.length <= 3 ? elements.length : 0;
  const parts: Uint8Array[] = [
    Buffer.from([(header.continuesFragment ? 0x80 : 0) | (header.fragmentContinues ? 0x40 : 0) | (w << 4) | (header.newSequence ? 0x08 : 0)]),
  ];
  elements.forEach((e, k) => {
    if (w === 0 || k < elements.length - 1) parts.push(writeLeb128(e.length));
    parts.push(e);
  });
  return Buffer.concat(parts);
}

/**
 * Packetizer for AV1. A frame is one temporal unit in the low-overhead format (as in IVF). Temporal
 * delimiters and tile lists are dropped and obu_size fields removed (AV1 RTP §5); OBUs are packed
 * in order, fragmented across packets when they do not fit, and N is set on the first packet of a
 * temporal unit that opens a coded video sequence (sequence header + key frame).
 */
export class Av1Packetizer implements Packetizer {
  readonly clockRate = 90_000;
  readonly markerOnLastPayload = true;

  /** Payloads for one temporal unit; throws `ERR_MEDIA_FRAME` when it is not a valid OBU sequence. */
  packetize(frame: Uint8Array, mtu: number): Buffer[] {
    checkMtu(mtu);
    const obus = parseObus(frame);
    if (obus === undefined) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'the AV1 temporal unit is not a valid sequence of sized OBUs');
    const elements: Buffer[] = [];
    let sequenceHeader = false;
    for (const obu of obus) {
      if (obu.type === AV1_OBU_TEMPORAL_DELIMITER || obu.type === AV1_OBU_TILE_LIST) continue;
      if (obu.type === AV1_OBU_SEQUENCE_HEADER) sequenceHeader = true;
      const h = Buffer.from(obu.header);
      h[0]! &= ~0x02;
      elements.push(Buffer.concat([h, obu.payload]));
    }
    if (elements.length === 0) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'the AV1 temporal unit holds no OBU to send');
    const newSequence = sequenceHeader && isAv1Keyframe(frame);

    const out: Buffer[] = [];
    let current: Buffer[] = [];
    let used = 1;
    let continues = false;
    const close = (fragmentContinues: boolean): void => {
      out.push(buildAv1Payload({ continuesFragment: continues, fragmentContinues, newSequence: newSequence && out.length === 0 }, current));
      continues = fragmentContinues;
      current = [];
      used = 1;
    };
    for (const element of elements) {
      let offset = 0;
      while (offset < element.length) {
        const remaining = element.length - offset;
        const room = mtu - used;
        // Largest piece whose length field plus bytes fit in the room left.
        let piece = Math.min(remaining, room - leb128Size(room));
        while (piece > 0 && leb128Size(piece) + piece > room) piece--;
        if (piece <= 0) {
          close(false);
          continue;
        }
        current.push(element.subarray(offset, offset + piece));
        used += leb128Size(piece) + piece;
        offset += piece;
        if (offset < element.length) close(true);
      }
    }
    if (current.length > 0) close(false);
    return out;
  }
}

/** Depacketizer for AV1; `assemble` gives the temporal unit in the low-overhead format (as in IVF). */
export class Av1Depacketizer implements Depacketizer {
  readonly drops: DropCounters = createDropCounters();

  /**
   * Parses one payload. `data` is its OBU elements joined without length fields (fragments stay
   * fragments). A keyframe starts where N is set or a sequence header opens the payload.
   * `frameStart` is false for a continuation or tile group, true for a sequence header, metadata
   * or frame (header) OBU of the base spatial layer, otherwise unknown.
   */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined {
    const parsed = parseAv1Payload(payload);
    if (parsed === undefined) {
      this.drops.malformed++;
      return undefined;
    }
    const h = parsed.header;
    const first = parsed.elements[0]!;
    const firstType = (first[0]! >> 3) & 0x0f;
    // A temporal unit opens with a sequence header, metadata or the frame (header) of its base
    // spatial layer; a tile group or a fragment's continuation never does (AV1 spec §7.5).
    const baseLayer = (first[0]! & 0x04) === 0 || (first.length > 1 && (first[1]! & 0x18) === 0);
    let frameStart: boolean | undefined;
    if (h.continuesFragment || firstType === AV1_OBU_TILE_GROUP) frameStart = false;
    else if (baseLayer && OPENING_OBUS.includes(firstType)) frameStart = true;
    return {
      data: Buffer.concat(parsed.elements),
      frameStart,
      frameEnd: false,
      keyframe: h.newSequence || (!h.continuesFragment && firstType === AV1_OBU_SEQUENCE_HEADER),
    };
  }

  /** Joins fragments, gives every OBU a size field and prepends a temporal delimiter (AV1 spec §7.5). */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined {
    const out: Buffer[] = [Buffer.from([(AV1_OBU_TEMPORAL_DELIMITER << 3) | 0x02, 0])];
    let fragment: Buffer[] | null = null;
    for (const payload of payloads) {
      const parsed = parseAv1Payload(payload);
      if (parsed === undefined) {
        this.drops.malformed++;
        return undefined;
      }
      const { header, elements } = parsed;
      if (header.continuesFragment !== (fragment !== null)) {
        this.drops.malformed++;
        return undefined;
      }
      for (let k = 0; k < elements.length; k++) {
        let element = elements[k]!;
        if (k === 0 && fragment !== null) {
          fragment.push(element);
          if (elements.length === 1 && header.fragmentContinues) continue;
          element = Buffer.concat(fragment);
          fragment = null;
        }
        if (k === elements.length - 1 && header.fragmentContinues) {
          fragment = [element];
          continue;
        }
        const obu = this.sized(element);
        if (obu === undefined) return undefined;
        out.push(obu);
      }
    }
    if (fragment !== null || out.length === 1) {
      this.drops.malformed++;
      return undefined;
    }
    return Buffer.concat(out);
  }

  // One whole OBU element in the low-overhead format: keeps a size field the sender left in, else adds one.
  private sized(element: Buffer): Buffer | undefined {
    const obus = parseObus(element, true);
    if (obus === undefined || obus.length !== 1) {
      this.drops.malformed++;
      return undefined;
    }
    const obu = obus[0]!;
    if (obu.type === AV1_OBU_TEMPORAL_DELIMITER) return Buffer.alloc(0);
    return serializeObuWithSize(obu.header, obu.payload);
  }
}
