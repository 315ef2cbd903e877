// VP9 RTP payload format (RFC 9628): the payload descriptor in flexible and non-flexible mode
// (§4.2), the scalability structure (§4.2.1), packetizer (B/E per frame, §4.2) and depacketizer.
import { OutOfRangeError } from '../common/errors.js';
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
import { parseVp9FrameHeader } from './vp9-frame-header.js';

/** Layer indices (L bit; RFC 9628 §4.2). */
export interface Vp9LayerIndices {
  /** TID, 0..7. */
  temporalId: number;
  /** U: switching up point. */
  switchingUp: boolean;
  /** SID, 0..7. */
  spatialId: number;
  /** D: inter-layer dependency used. */
  interLayerDependency: boolean;
}

/** One picture of the picture group in the SS data (RFC 9628 §4.2.1). */
export interface Vp9PictureGroupEntry {
  /** TID of the picture. */
  temporalId: number;
  /** U: switching up point. */
  switchingUp: boolean;
  /** P_DIFF of each reference (up to 3). */
  referenceDiffs: number[];
}

/** Scalability structure (V bit; RFC 9628 §4.2.1). */
export interface Vp9ScalabilityStructure {
  /** One entry per spatial layer (N_S + 1, at most 8); width/height present for all or none (Y bit). */
  spatialLayers: { width?: number; height?: number }[];
  /** Picture group description (G bit); undefined when absent. */
  pictureGroup?: Vp9PictureGroupEntry[];
}

/** The fields of a VP9 payload descriptor (RFC 9628 §4.2). */
export interface Vp9PayloadDescriptor {
  /** P: the picture uses inter-picture prediction. */
  interPicturePredicted: boolean;
  /** F: flexible mode (references in the descriptor) rather than non-flexible (TL0PICIDX). */
  flexibleMode: boolean;
  /** B: first payload of a layer frame. */
  beginningOfFrame: boolean;
  /** E: last payload of a layer frame. */
  endOfFrame: boolean;
  /** Z: not used as a reference by upper spatial layers. */
  notUpperReference: boolean;
  /** PICTURE ID (I bit), 7 or 15 bits per `pictureIdLong`. */
  pictureId?: number;
  /** M bit: 15-bit (true, default) or 7-bit picture ID. */
  pictureIdLong?: boolean;
  /** Layer indices (L bit). */
  layer?: Vp9LayerIndices;
  /** TL0PICIDX: non-flexible mode with layer indices only. */
  tl0PicIdx?: number;
  /** P_DIFF of each reference (flexible mode with P only), 1..127, up to 3. */
  referenceDiffs?: number[];
  /** Scalability structure (V bit). */
  scalabilityStructure?: Vp9ScalabilityStructure;
}

/** A parsed VP9 payload: the descriptor and where the VP9 data starts. */
export interface ParsedVp9Payload {
  /** The payload descriptor. */
  descriptor: Vp9PayloadDescriptor;
  /** Descriptor length in bytes. */
  headerLength: number;
}

/** Parses the payload descriptor of a VP9 payload; `undefined` when it is truncated or inconsistent. */
export function parseVp9PayloadDescriptor(payload: Uint8Array): ParsedVp9Payload | undefined {
  if (payload.length < 1) return undefined;
  const b0 = payload[0]!;
  const d: Vp9PayloadDescriptor = {
    interPicturePredicted: (b0 & 0x40) !== 0,
    flexibleMode: (b0 & 0x10) !== 0,
    beginningOfFrame: (b0 & 0x08) !== 0,
    endOfFrame: (b0 & 0x04) !== 0,
    notUpperReference: (b0 & 0x01) !== 0,
  };
  let i = 1;
  const need = (n: number): boolean => payload.length >= i + n;
  if (b0 & 0x80) {
    if (!need(1)) return undefined;
    if (payload[i]! & 0x80) {
      if (!need(2)) return undefined;
      d.pictureId = ((payload[i]! & 0x7f) << 8) | payload[i + 1]!;
      d.pictureIdLong = true;
      i += 2;
    } else {
      d.pictureId = payload[i]!;
      d.pictureIdLong = false;
      i += 1;
    }
  }
  if (b0 & 0x20) {
    if (!need(1)) return undefined;
    const l = payload[i++]!;
    d.layer = { temporalId: l >> 5, switchingUp: (l & 0x10) !== 0, spatialId: (l >> 1) & 7, interLayerDependency: (l & 1) !== 0 };
    if (!d.flexibleMode) {
      if (!need(1)) return undefined;
      d.tl0PicIdx = payload[i++]!;
    }
  }
  if (d.flexibleMode && d.interPicturePredicted) {
    d.referenceDiffs = [];
    for (;;) {
      if (!need(1) || d.referenceDiffs.length === 3) return undefined;
      const r = payload[i++]!;
      // P_DIFF 0 would make a picture its own reference (RFC 9628 §4.2: 1..127).
      if (r >> 1 === 0) return undefined;
      d.referenceDiffs.push(r >> 1);
      if ((r & 1) === 0) break;
    }
  }
  if (b0 & 0x02) {
    const ss = parseScalabilityStructure(payload, i);
    if (ss === undefined) return undefined;
    d.scalabilityStructure = ss.structure;
    i = ss.end;
  }
  return { descriptor: d, headerLength: i };
}

function parseScalabilityStructure(p: Uint8Array, start: number): { structure: Vp9ScalabilityStructure; end: number } | undefined {
  let i = start;
  if (p.length < i + 1) return undefined;
  const h = p[i++]!;
  const layers = (h >> 5) + 1;
  const structure: Vp9ScalabilityStructure = { spatialLayers: [] };
  for (let s = 0; s < layers; s++) {
    if (h & 0x10) {
      if (p.length < i + 4) return undefined;
      structure.spatialLayers.push({ width: (p[i]! << 8) | p[i + 1]!, height: (p[i + 2]! << 8) | p[i + 3]! });
      i += 4;
    } else {
      structure.spatialLayers.push({});
    }
  }
  if (h & 0x08) {
    if (p.length < i + 1) return undefined;
    const groups = p[i++]!;
    structure.pictureGroup = [];
    for (let g = 0; g < groups; g++) {
      if (p.length < i + 1) return undefined;
      const e = p[i++]!;
      const refs = (e >> 2) & 3;
      if (p.length < i + refs) return undefined;
      structure.pictureGroup.push({
        temporalId: e >> 5,
        switchingUp: (e & 0x10) !== 0,
        referenceDiffs: Array.from(p.subarray(i, i + refs)),
      });
      i += refs;
    }
  }
  return { structure, end: i };
}

function checkField(name: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
    throw new OutOfRangeError('ERR_MEDIA_FIELD', `VP9 descriptor ${name} must be in ${min}..${max}, got ${v}`);
  }
}

/** Serializes a VP9 payload descriptor (RFC 9628 §4.2); throws `ERR_MEDIA_FIELD` for out-of-range or inconsistent fields. */
export function serializeVp9PayloadDescriptor(d: Vp9PayloadDescriptor): Buffer {
  checkField('pictureId', d.pictureId, 0, d.pictureIdLong === false ? 0x7f : 0x7fff);
  checkField('tl0PicIdx', d.tl0PicIdx, 0, 0xff);
  if (d.layer) {
    checkField('temporalId', d.layer.temporalId, 0, 7);
    checkField('spatialId', d.layer.spatialId, 0, 7);
  }
  const refs = d.flexibleMode && d.interPicturePredicted ? (d.referenceDiffs ?? []) : [];
  if (d.flexibleMode && d.interPicturePredicted && (refs.length < 1 || refs.length > 3)) {
    throw new OutOfRangeError('ERR_MEDIA_FIELD', 'a flexible-mode inter picture needs 1..3 reference P_DIFFs (RFC 9628 §4.2)');
  }
  for (const r of refs) checkField('P_DIFF', r, 1, 127);
  const ss = d.scalabilityStructure;
  const out: number[] = [
    (d.pictureId !== undefined ? 0x80 : 0) |
      (d.interPicturePredicted ? 0x40 : 0) |
      (d.layer ? 0x20 : 0) |
      (d.flexibleMode ? 0x10 : 0) |
      (d.beginningOfFrame ? 0x08 : 0) |
      (d.endOfFrame ? 0x04 : 0) |
      (ss ? 0x02 : 0) |
      (d.notUpperReference ? 0x01 : 0),
  ];
  if (d.pictureId !== undefined) {
    if (d.pictureIdLong === false) out.push(d.pictureId);
    else out.push(0x80 | (d.pictureId >> 8), d.pictureId & 0xff);
  }
  if (d.layer) {
    const l = d.layer;
    out.push((l.temporalId << 5) | (l.switchingUp ? 0x10 : 0) | (l.spatialId << 1) | (l.interLayerDependency ? 1 : 0));
    if (!d.flexibleMode) out.push(d.tl0PicIdx ?? 0);
  }
  refs.forEach((r, k) => out.push((r << 1) | (k < refs.length - 1 ? 1 : 0)));
  if (ss) serializeScalabilityStructure(ss, out);
  return Buffer.from(out);
}

function serializeScalabilityStructure(ss: Vp9ScalabilityStructure, out: number[]): void {
  const n = ss.spatialLayers.length;
  if (n < 1 || n > 8) throw new OutOfRangeError('ERR_MEDIA_FIELD', `VP9 SS needs 1..8 spatial layers, got ${n}`);
  const withSize = ss.spatialLayers[0]!.width !== undefined;
  const groups = ss.pictureGroup;
  if (groups && groups.length > 255) throw new OutOfRangeError('ERR_MEDIA_FIELD', 'VP9 SS picture group holds at most 255 entries');
  out.push(((n - 1) << 5) | (withSize ? 0x10 : 0) | (groups ? 0x08 : 0));
  if (withSize) {
    for (const layer of ss.spatialLayers) {
      checkField('width', layer.width, 0, 0xffff);
      checkField('height', layer.height, 0, 0xffff);
      const w = layer.width ?? 0;
      const h = layer.height ?? 0;
      out.push(w >> 8, w & 0xff, h >> 8, h & 0xff);
    }
  }
  if (groups) {
    out.push(groups.length);
    for (const g of groups) {
      checkField('temporalId', g.temporalId, 0, 7);
      checkField('reference count', g.referenceDiffs.length, 0, 3);
      out.push((g.temporalId << 5) | (g.switchingUp ? 0x10 : 0) | (g.referenceDiffs.length << 2));
      for (const r of g.referenceDiffs) {
        checkField('P_DIFF', r, 0, 255);
        out.push(r);
      }
    }
  }
}

/** Options of the VP9 packetizer. */
export interface Vp9PacketizerOptions {
  /** Flexible mode (F=1, P_DIFF=1 on inter pictures) instead of non-flexible mode. Default false. */
  flexibleMode?: boolean;
  /** First 15-bit picture ID. Default 0. */
  initialPictureId?: number;
}

/**
 * Packetizer for single-layer VP9: 15-bit picture ID on every payload, B on the first and E on the
 * last (RFC 9628 §4.2), P from the frame header, and on key frames an SS with the resolution
 * (RFC 9628 §4.2.1 recommends one with each key frame). The picture ID advances by one per frame.
 */
export class Vp9Packetizer implements Packetizer {
  readonly clockRate = 90_000;
  readonly markerOnLastPayload = true;
  private pictureId: number;
  private readonly flexibleMode: boolean;

  constructor(options: Vp9PacketizerOptions = {}) {
    this.flexibleMode = options.flexibleMode ?? false;
    const id = options.initialPictureId ?? 0;
    checkField('pictureId', id, 0, 0x7fff);
    this.pictureId = id;
  }

  /** Payloads for one VP9 frame; throws `ERR_MEDIA_FRAME` for an empty frame. */
  packetize(frame: Uint8Array, mtu: number): Buffer[] {
    checkMtu(mtu);
    if (frame.length === 0) throw new OutOfRangeError('ERR_MEDIA_FRAME', 'cannot packetize an empty VP9 frame');
    const header = parseVp9FrameHeader(frame);
    const intra = header !== undefined && (header.keyframe || header.intraOnly);
    const base: Vp9PayloadDescriptor = {
      interPicturePredicted: !intra,
      flexibleMode: this.flexibleMode,
      beginningOfFrame: false,
      endOfFrame: false,
      notUpperReference: false,
      pictureId: this.pictureId,
    };
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    if (this.flexibleMode && !intra) base.referenceDiffs = [1];
    const first: Vp9PayloadDescriptor = { ...base, beginningOfFrame: true };
    if (header?.keyframe && header.width !== undefined && header.height !== undefined) {
      first.scalabilityStructure = { spatialLayers: [{ width: header.width, height: header.height }] };
    }
    const firstHeader = serializeVp9PayloadDescriptor(first);
    const plainHeader = serializeVp9PayloadDescriptor(base);
    // Size the chunks for the longer (first) header, so every payload fits.
    const sizes = evenChunks(frame.length, mtu - firstHeader.length);
    const out: Buffer[] = [];
    let offset = 0;
    sizes.forEach((size, k) => {
      const last = k === sizes.length - 1;
      let h = k === 0 ? firstHeader : plainHeader;
      if (last) {
        h = Buffer.from(h);
        h[0]! |= 0x04;
      }
      out.push(Buffer.concat([h, frame.subarray(offset, offset + size)]));
      offset += size;
    });
    return out;
  }
}

/** Depacketizer for VP9 (RFC 9628 §4.2: B and E delimit a layer frame, P and SID tell key pictures). */
export class Vp9Depacketizer implements Depacketizer {
  readonly drops: DropCounters = createDropCounters();

  /**
   * Strips the descriptor. A picture starts at B=1 in the lowest spatial layer; it is a keyframe
   * start when P=0 there too (an intra picture that does not depend on earlier ones).
   */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined {
    const parsed = parseVp9PayloadDescriptor(payload);
    if (parsed === undefined) {
      this.drops.truncated++;
      return undefined;
    }
    const d = parsed.descriptor;
    if (parsed.headerLength >= payload.length) {
      this.drops.truncated++;
      return undefined;
    }
    const baseLayer = d.layer === undefined || d.layer.spatialId === 0;
    const start = d.beginningOfFrame && baseLayer;
    return {
      data: asBuffer(payload).subarray(parsed.headerLength),
      frameStart: start,
      // With spatial layers E ends one layer frame, not the picture; only the marker bit tells.
      frameEnd: d.endOfFrame && d.layer === undefined,
      keyframe: start && !d.interPicturePredicted,
    };
  }

  /** The VP9 frame: the payloads' data concatenated, checking B on the first and E on the last. */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined {
    const parts: Buffer[] = [];
    let lastEnd = false;
    for (const p of payloads) {
      const parsed = parseVp9PayloadDescriptor(p);
      if (parsed === undefined) {
        this.drops.truncated++;
        return undefined;
      }
      if (parts.length === 0 && !parsed.descriptor.beginningOfFrame) {
        this.drops.malformed++;
        return undefined;
      }
      lastEnd = parsed.descriptor.endOfFrame;
      parts.push(asBuffer(p).subarray(parsed.headerLength));
    }
    if (!lastEnd) {
      this.drops.malformed++;
      return undefined;
    }
    return Buffer.concat(parts);
  }
}
