// Codec matching for offer/answer: same encoding, clock and channels, and for codecs whose fmtp
// defines the format, the same format (H264 RFC 6184 §8.2.2, VP9 RFC 9628 §6, AV1 RTP spec §7.2).
import type { CodecCapability } from './capabilities.js';
import { fmtpGet } from './fmtp.js';
import { DEFAULT_H264_PROFILE_LEVEL_ID, parseH264ProfileLevelId } from './h264-profile.js';
import type { SdpCodec } from './model.js';

/** The encoding/format fields that decide whether two codec descriptions are the same codec. */
export type CodecFormat = Pick<SdpCodec, 'name' | 'clockRate' | 'channels' | 'parameters'>;

/** True for the RTX pseudo-codec (RFC 4588 §8.1). */
export function isRtxCodec(codec: Pick<SdpCodec, 'name'>): boolean {
  return codec.name.toLowerCase() === 'rtx';
}

/** The `apt` (associated payload type) of an RTX codec, or undefined if missing or malformed. */
export function rtxAssociatedPayloadType(codec: Pick<SdpCodec, 'parameters'>): number | undefined {
  const apt = fmtpGet(codec.parameters, 'apt');
  if (apt === undefined || !/^\d{1,3}$/.test(apt) || Number(apt) > 127) return undefined;
  return Number(apt);
}

/**
 * True when `a` and `b` describe the same codec for negotiation: name (case-insensitive), clock
 * rate and channel count (absent = 1) agree, and for H264 the profile (from profile-level-id, levels
 * may differ) and packetization-mode (default 0), for VP9 profile-id (default 0), for AV1 profile
 * (default 0) agree.
 */
export function codecFormatsMatch(a: CodecFormat, b: CodecFormat): boolean {
  const name = a.name.toLowerCase();
  if (name !== b.name.toLowerCase() || a.clockRate !== b.clockRate || (a.channels ?? 1) !== (b.channels ?? 1)) return false;
  switch (name) {
    case 'h264': {
      const pa = parseH264ProfileLevelId(fmtpGet(a.parameters, 'profile-level-id') ?? DEFAULT_H264_PROFILE_LEVEL_ID);
      const pb = parseH264ProfileLevelId(fmtpGet(b.parameters, 'profile-level-id') ?? DEFAULT_H264_PROFILE_LEVEL_ID);
      if (pa === undefined || pb === undefined || pa.profile !== pb.profile) return false;
      return (fmtpGet(a.parameters, 'packetization-mode') ?? '0') === (fmtpGet(b.parameters, 'packetization-mode') ?? '0');
    }
    case 'vp9':
      return (fmtpGet(a.parameters, 'profile-id') ?? '0') === (fmtpGet(b.parameters, 'profile-id') ?? '0');
    case 'av1':
      return (fmtpGet(a.parameters, 'profile') ?? '0') === (fmtpGet(b.parameters, 'profile') ?? '0');
    default:
      return true;
  }
}

/** The first capability that matches an offered codec, with its index (preference), or undefined. */
export function findMatchingCapability(
  offered: SdpCodec,
  capabilities: readonly CodecCapability[],
): { capability: CodecCapability; index: number } | undefined {
  for (let i = 0; i < capabilities.length; i++) {
    const capability = capabilities[i]!;
    if (!isRtxCodec(capability) && codecFormatsMatch(offered, capability)) return { capability, index: i };
  }
  return undefined;
}
