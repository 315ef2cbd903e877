// H.264 profile-level-id (RFC 6184 §8.1): which profile a `profile-level-id` names, for offer/answer
// matching (RFC 6184 §8.2.2: the profile and packetization-mode must agree; the level may differ).

/** H.264 profiles that matter for WebRTC negotiation. */
export type H264Profile =
  | 'constrained-baseline'
  | 'baseline'
  | 'main'
  | 'extended'
  | 'high'
  | 'constrained-high'
  | 'high-10'
  | 'high-422'
  | 'high-444';

/** A parsed profile-level-id. */
export interface H264ProfileLevelId {
  /** The profile named by profile_idc and the constraint flags in profile-iop. */
  profile: H264Profile;
  /** level_idc (e.g. 31 = level 3.1); level 1b is reported as 0. */
  level: number;
}

/** The default when an fmtp has no profile-level-id: Baseline, level 1 (RFC 6184 §8.1). */
export const DEFAULT_H264_PROFILE_LEVEL_ID = '42000a';

/**
 * Parses a 6-hex-digit profile-level-id. profile-iop bits are constraint_set0..5 (ITU-T H.264 §7.4.2.1.1);
 * constraint_set1 on Baseline, or constraint_set0 on Main, or both on Extended means Constrained Baseline
 * (H.264 Annex A.2.1.1); constraint_set4+5 on High means Constrained High (A.2.4.2).
 * Returns undefined for text that is not a known profile.
 */
export function parseH264ProfileLevelId(text: string): H264ProfileLevelId | undefined {
  if (!/^[0-9A-Fa-f]{6}$/.test(text)) return undefined;
  const idc = parseInt(text.slice(0, 2), 16);
  const iop = parseInt(text.slice(2, 4), 16);
  let level = parseInt(text.slice(4, 6), 16);
  const set0 = (iop & 0x80) !== 0;
  const set1 = (iop & 0x40) !== 0;
  const set3 = (iop & 0x10) !== 0;
  // Level 1b: level_idc 11 with constraint_set3 in Baseline/Main/Extended (H.264 §A.3.1).
  if (level === 11 && set3 && (idc === 0x42 || idc === 0x4d || idc === 0x58)) level = 0;
  let profile: H264Profile | undefined;
  switch (idc) {
    case 0x42:
      profile = set1 ? 'constrained-baseline' : 'baseline';
      break;
    case 0x4d:
      profile = set0 ? 'constrained-baseline' : 'main';
      break;
    case 0x58:
      profile = set0 && set1 ? 'constrained-baseline' : set0 ? 'baseline' : 'extended';
      break;
    case 0x64:
      profile = (iop & 0x0c) === 0x0c ? 'constrained-high' : 'high';
      break;
    case 0x6e:
      profile = 'high-10';
      break;
    case 0x7a:
      profile = 'high-422';
      break;
    case 0xf4:
      profile = 'high-444';
      break;
    default:
      return undefined;
  }
  return { profile, level };
}
