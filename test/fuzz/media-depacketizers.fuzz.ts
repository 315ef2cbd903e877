// Fuzz target: the RTP payload depacketizers (RFC 7587 Opus, RFC 7741 VP8, RFC 9628 VP9,
// RFC 6184 H.264, AV1 RTP spec §4) and the descriptor/frame-header/OBU parsers behind them.
// Input: byte 0 picks the codec; then payloads, each a 16-bit big-endian length and its bytes
// (a length past the end takes what is left). Invariant: nothing throws (undefined + a drop
// count instead); a parsed VP8/VP9 descriptor re-serializes and parses to the same fields.
import { OpusDepacketizer, opusPacketSamples } from '../../lib/media/opus-payload.js';
import { Vp8Depacketizer, parseVp8PayloadDescriptor, serializeVp8PayloadDescriptor } from '../../lib/media/vp8-payload.js';
import { Vp9Depacketizer, parseVp9PayloadDescriptor, serializeVp9PayloadDescriptor } from '../../lib/media/vp9-payload.js';
import { H264Depacketizer } from '../../lib/media/h264-payload.js';
import { Av1Depacketizer, parseAv1Payload } from '../../lib/media/av1-payload.js';
import { parseObus, isAv1Keyframe } from '../../lib/media/av1-obu.js';
import { parseVp9FrameHeader } from '../../lib/media/vp9-frame-header.js';
import { readAnnexBAccessUnits, isH264Keyframe } from '../../lib/media/annex-b.js';
import type { Depacketizer } from '../../lib/media/payloader.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** Codecs in the order byte 0 selects them (modulo the count). */
export const DEPACKETIZER_CODECS = ['opus', 'vp8', 'vp9', 'h264', 'av1'] as const;

/** Splits the fuzz input into payloads (16-bit length prefixed, the last one cut to what is left). */
export function splitPayloads(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + 2 <= body.length && out.length < 64) {
    const len = body.readUInt16BE(off);
    out.push(body.subarray(off + 2, Math.min(body.length, off + 2 + len)));
    off += 2 + len;
  }
  return out;
}

/** Joins payloads in the format splitPayloads reads, behind a codec selector byte. */
export function joinPayloads(codecIndex: number, payloads: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from([codecIndex])];
  for (const p of payloads) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(p.length);
    parts.push(len, Buffer.from(p));
  }
  return Buffer.concat(parts);
}

function makeDepacketizer(codec: (typeof DEPACKETIZER_CODECS)[number]): Depacketizer {
  switch (codec) {
    case 'opus':
      return new OpusDepacketizer();
    case 'vp8':
      return new Vp8Depacketizer();
    case 'vp9':
      return new Vp9Depacketizer();
    case 'h264':
      return new H264Depacketizer();
    case 'av1':
      return new Av1Depacketizer();
  }
}

function checkDescriptorRoundTrip(codec: string, payload: Buffer): void {
  if (codec === 'vp8') {
    const p = parseVp8PayloadDescriptor(payload);
    if (!p) return;
    const again = parseVp8PayloadDescriptor(serializeVp8PayloadDescriptor(p.descriptor));
    check(again !== undefined, 'serialized VP8 descriptor does not parse');
    checkSame(again.descriptor, p.descriptor, 'VP8 descriptor');
  } else if (codec === 'vp9') {
    const p = parseVp9PayloadDescriptor(payload);
    if (!p) return;
    const again = parseVp9PayloadDescriptor(serializeVp9PayloadDescriptor(p.descriptor));
    check(again !== undefined, 'serialized VP9 descriptor does not parse');
    checkSame(again.descriptor, p.descriptor, 'VP9 descriptor');
  } else if (codec === 'av1') {
    parseAv1Payload(payload);
  } else if (codec === 'opus') {
    opusPacketSamples(payload);
  }
}

/** Depacketize + assemble of one codec's payload sequence. */
export const mediaDepacketizersTarget: FuzzTarget = {
  name: 'media-depacketizers',
  description: 'Opus/VP8/VP9/H.264/AV1 depacketize + assemble, descriptor round trips, VP9 frame header, AV1 OBUs',
  maxLength: 4096,
  run(data: Buffer): void {
    if (data.length === 0) return;
    const codec = DEPACKETIZER_CODECS[data[0]! % DEPACKETIZER_CODECS.length]!;
    const payloads = splitPayloads(data.subarray(1));
    const d = makeDepacketizer(codec);
    let accepted = 0;
    for (const p of payloads) {
      checkDescriptorRoundTrip(codec, p);
      const r = d.depacketize(p);
      if (r) {
        accepted++;
        check(Buffer.isBuffer(r.data), 'depacketized data is not a Buffer');
      }
    }
    const dropped = d.drops.truncated + d.drops.malformed + d.drops.unsupported;
    check(accepted + dropped >= payloads.length, `${payloads.length - accepted} payloads refused but ${dropped} counted`);
    const frame = d.assemble(payloads);
    if (frame === undefined) return;
    if (codec === 'vp9') parseVp9FrameHeader(frame);
    if (codec === 'av1') {
      parseObus(frame);
      isAv1Keyframe(frame);
    }
    if (codec === 'h264' && frame.length > 0) {
      isH264Keyframe(frame);
      readAnnexBAccessUnits(frame);
    }
  },
};
