// Certificate fingerprints as carried in SDP a=fingerprint (RFC 8122 section 5) and in the
// W3C RTCDtlsFingerprint dictionary (lowercase hex with colons).
import { InvalidArgumentError } from '../common/errors.js';

/** Hash functions accepted in a fingerprint (RFC 8122 section 5; MD5/MD2 are refused). */
export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

/** A certificate fingerprint: W3C RTCDtlsFingerprint. */
export interface DtlsFingerprint {
  /** Hash function name as in the IANA "Hash Function Textual Names" registry. */
  readonly algorithm: FingerprintAlgorithm;
  /** Lowercase hex bytes separated by colons, e.g. `ab:01:...`. */
  readonly value: string;
}

/** Digest length in bytes of every supported algorithm, and its native id (the array index). */
export const FINGERPRINT_ALGORITHMS: readonly FingerprintAlgorithm[] = ['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512'];
const DIGEST_LENGTHS: Readonly<Record<FingerprintAlgorithm, number>> = {
  'sha-1': 20,
  'sha-224': 28,
  'sha-256': 32,
  'sha-384': 48,
  'sha-512': 64,
};

/** True when `name` (any case) is a supported algorithm. */
export function isFingerprintAlgorithm(name: string): name is FingerprintAlgorithm {
  return (FINGERPRINT_ALGORITHMS as readonly string[]).includes(name);
}

// `length` pairs of hex digits separated by single colons once the length is checked.
const HEX_PAIRS = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/;

/**
 * True when {@link fingerprintToBytes} would accept `algorithm` (lowercase) and `value`, without
 * decoding: one expression instead of a loop per character and a Buffer, for callers that only
 * sort usable fingerprints out (still interpreted while a connection sets up, docs/peer.md "Setup cost").
 */
export function isUsableFingerprint(algorithm: string, value: string): boolean {
  return isFingerprintAlgorithm(algorithm) && value.length === 3 * DIGEST_LENGTHS[algorithm] - 1 && HEX_PAIRS.test(value);
}

/** The native id (0..4) of an algorithm. */
export function fingerprintAlgorithmId(algorithm: FingerprintAlgorithm): number {
  return FINGERPRINT_ALGORITHMS.indexOf(algorithm);
}

/** Formats raw digest bytes as a DtlsFingerprint. */
export function fingerprintFromBytes(algorithm: FingerprintAlgorithm, digest: Uint8Array): DtlsFingerprint {
  return { algorithm, value: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(':') };
}

/**
 * Validates a fingerprint and returns its digest bytes. Throws InvalidArgumentError
 * (ERR_DTLS_FINGERPRINT) for an unknown algorithm or a value that is not colon-separated hex
 * of the algorithm's digest length.
 */
export function fingerprintToBytes(fp: DtlsFingerprint): Buffer {
  const algorithm = String(fp?.algorithm ?? '').toLowerCase();
  if (!isFingerprintAlgorithm(algorithm)) {
    throw new InvalidArgumentError('ERR_DTLS_FINGERPRINT', `unsupported fingerprint algorithm '${String(fp?.algorithm)}'`);
  }
  const value = typeof fp.value === 'string' ? fp.value : '';
  // Exactly `length` pairs of hex digits separated by single colons, read in one pass: every
  // connection checks the peer's fingerprint and its own (docs/peer.md "Setup cost").
  const length = DIGEST_LENGTHS[algorithm];
  const digest = value.length === 3 * length - 1 ? Buffer.allocUnsafe(length) : undefined;
  for (let i = 0; digest !== undefined && i < length; i++) {
    const at = 3 * i;
    const high = hexDigit(value.charCodeAt(at));
    const low = hexDigit(value.charCodeAt(at + 1));
    if (high < 0 || low < 0 || (i + 1 < length && value.charCodeAt(at + 2) !== 0x3a)) break;
    digest[i] = (high << 4) | low;
    if (i + 1 === length) return digest;
  }
  throw new InvalidArgumentError('ERR_DTLS_FINGERPRINT', `malformed ${algorithm} fingerprint value`);
}

/** The value of one hex digit's character code (either case), or -1. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/** Parses the value of an SDP a=fingerprint attribute, e.g. `sha-256 AB:CD:...` (RFC 8122 section 5). */
export function parseSdpFingerprint(attribute: string): DtlsFingerprint {
  const m = /^\s*(\S+)\s+(\S+)\s*$/.exec(attribute);
  if (!m) throw new InvalidArgumentError('ERR_DTLS_FINGERPRINT', 'a=fingerprint must be "<hash-func> <fingerprint>"');
  const fp = { algorithm: m[1]!.toLowerCase() as FingerprintAlgorithm, value: m[2]!.toLowerCase() };
  fingerprintToBytes(fp);
  return fp;
}

/** Formats a fingerprint for SDP: lowercase hash name, uppercase hex (RFC 8122 section 5). */
export function formatSdpFingerprint(fp: DtlsFingerprint): string {
  fingerprintToBytes(fp);
  return `${fp.algorithm.toLowerCase()} ${fp.value.toUpperCase()}`;
}
