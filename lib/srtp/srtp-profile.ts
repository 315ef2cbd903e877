// SRTP protection profiles: RFC 5764 section 4.1.2 (AES-CM + HMAC-SHA1) and RFC 7714
// section 14.2 (AEAD AES-GCM), with the key, salt and tag lengths each one uses.

/** DTLS-SRTP protection profile identifiers (the values on the wire in use_srtp). */
export const SrtpProtectionProfile = {
  /** SRTP_AES128_CM_HMAC_SHA1_80 (RFC 5764). */
  AES128_CM_HMAC_SHA1_80: 0x0001,
  /** SRTP_AES128_CM_HMAC_SHA1_32 (RFC 5764): 32-bit SRTP tag, 80-bit SRTCP tag. */
  AES128_CM_HMAC_SHA1_32: 0x0002,
  /** SRTP_AEAD_AES_128_GCM (RFC 7714). */
  AEAD_AES_128_GCM: 0x0007,
  /** SRTP_AEAD_AES_256_GCM (RFC 7714). */
  AEAD_AES_256_GCM: 0x0008,
} as const;

/** One of the SrtpProtectionProfile identifiers. */
export type SrtpProtectionProfile = (typeof SrtpProtectionProfile)[keyof typeof SrtpProtectionProfile];

/** Lengths in bytes that a profile fixes. */
export interface SrtpProfileLengths {
  /** Master key length. */
  readonly keyLength: number;
  /** Master salt length. */
  readonly saltLength: number;
  /** Bytes protect appends to an RTP packet (the tag). */
  readonly rtpOverhead: number;
  /** Bytes protect appends to an RTCP packet (tag + E flag/SRTCP index word). */
  readonly rtcpOverhead: number;
}

const LENGTHS: ReadonlyMap<number, SrtpProfileLengths> = new Map<number, SrtpProfileLengths>([
  [SrtpProtectionProfile.AES128_CM_HMAC_SHA1_80, { keyLength: 16, saltLength: 14, rtpOverhead: 10, rtcpOverhead: 14 }],
  [SrtpProtectionProfile.AES128_CM_HMAC_SHA1_32, { keyLength: 16, saltLength: 14, rtpOverhead: 4, rtcpOverhead: 14 }],
  [SrtpProtectionProfile.AEAD_AES_128_GCM, { keyLength: 16, saltLength: 12, rtpOverhead: 16, rtcpOverhead: 20 }],
  [SrtpProtectionProfile.AEAD_AES_256_GCM, { keyLength: 32, saltLength: 12, rtpOverhead: 16, rtcpOverhead: 20 }],
]);

/** The lengths of `profile`, or undefined when it is not one this engine implements. */
export function srtpProfileLengths(profile: number): SrtpProfileLengths | undefined {
  return LENGTHS.get(profile);
}

/** The most any profile adds to an RTCP packet: size output buffers with this. */
export const SRTP_MAX_OVERHEAD = 20;
