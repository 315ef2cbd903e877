// Packetizer and depacketizer by MIME type (the names SDP rtpmap and RTCRtpCodecParameters use).
import { PwtError } from '../common/errors.js';
import { Av1Depacketizer, Av1Packetizer } from './av1-payload.js';
import { H264Depacketizer, H264Packetizer } from './h264-payload.js';
import { OpusDepacketizer, OpusPacketizer } from './opus-payload.js';
import type { Depacketizer, Packetizer } from './payloader.js';
import { Vp8Depacketizer, Vp8Packetizer } from './vp8-payload.js';
import { Vp9Depacketizer, Vp9Packetizer } from './vp9-payload.js';

/** MIME types lib/media has payload formats for. */
export const MEDIA_MIME_TYPES = ['audio/opus', 'video/VP8', 'video/VP9', 'video/H264', 'video/AV1'] as const;

/** One of `MEDIA_MIME_TYPES`. */
export type MediaMimeType = (typeof MEDIA_MIME_TYPES)[number];

function canonical(mimeType: string): MediaMimeType {
  const found = MEDIA_MIME_TYPES.find((m) => m.toLowerCase() === mimeType.toLowerCase());
  if (found === undefined) throw new PwtError('NotSupportedError', 'ERR_MEDIA_CODEC', `no RTP payload format for ${mimeType}`);
  return found;
}

/** A packetizer with default options for `mimeType` (case-insensitive); throws `ERR_MEDIA_CODEC` for others. */
export function createPacketizer(mimeType: string): Packetizer {
  switch (canonical(mimeType)) {
    case 'audio/opus':
      return new OpusPacketizer();
    case 'video/VP8':
      return new Vp8Packetizer();
    case 'video/VP9':
      return new Vp9Packetizer();
    case 'video/H264':
      return new H264Packetizer();
    case 'video/AV1':
      return new Av1Packetizer();
  }
}

/** A depacketizer for `mimeType` (case-insensitive); throws `ERR_MEDIA_CODEC` for others. */
export function createDepacketizer(mimeType: string): Depacketizer {
  switch (canonical(mimeType)) {
    case 'audio/opus':
      return new OpusDepacketizer();
    case 'video/VP8':
      return new Vp8Depacketizer();
    case 'video/VP9':
      return new Vp9Depacketizer();
    case 'video/H264':
      return new H264Depacketizer();
    case 'video/AV1':
      return new Av1Depacketizer();
  }
}
