// The codecs a room negotiates on every leg (docs/sfu.md "Room server"): Opus and VP8 with the
// rtcp-fb our policy modules serve, so every publisher sends what every subscriber can decode and the
// engine forwards without transcoding (payload types are mapped per leg, lib/sfu/rtp-mapping.ts).
import type { CodecCapability } from '../sdp/capabilities.js';
import { servedCodecs } from '../echo/served-codecs.js';

/** Opus for audio and VP8 (with its RTX) for video, in that order. */
export function roomCodecs(): CodecCapability[] {
  const keep = (c: CodecCapability): boolean => ['opus', 'vp8'].includes(c.name.toLowerCase());
  return [...servedCodecs('audio', keep), ...servedCodecs('video', keep)];
}
