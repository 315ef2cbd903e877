// DTLS-SRTP protection profile names and ids (RFC 5764 section 4.1.2, RFC 7714 section 14.2).
import { InvalidArgumentError } from '../common/errors.js';

/** The SRTP protection profiles this package negotiates in the use_srtp extension. */
export type SrtpProfileName = 'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM' | 'AES128_CM_HMAC_SHA1_80' | 'AES128_CM_HMAC_SHA1_32';

const IDS: Readonly<Record<SrtpProfileName, number>> = {
  AEAD_AES_128_GCM: 0x0007,
  AEAD_AES_256_GCM: 0x0008,
  AES128_CM_HMAC_SHA1_80: 0x0001,
  AES128_CM_HMAC_SHA1_32: 0x0002,
};

/** Default preference order: AEAD first (RFC 7714), then the mandatory AES-CM profiles. */
export const DEFAULT_SRTP_PROFILES: readonly SrtpProfileName[] = [
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
  'AES128_CM_HMAC_SHA1_80',
  'AES128_CM_HMAC_SHA1_32',
];

/** The RFC 5764 id of a profile name; throws InvalidArgumentError for an unknown name. */
export function srtpProfileId(name: SrtpProfileName): number {
  const id = Object.prototype.hasOwnProperty.call(IDS, name) ? IDS[name] : undefined;
  if (id === undefined) throw new InvalidArgumentError('ERR_DTLS_SRTP_PROFILE', `unknown SRTP profile '${String(name)}'`);
  return id;
}

/** Names by id, made once (no entry arrays per connected transport; docs/peer.md "Setup cost"). */
const NAMES: ReadonlyMap<number, SrtpProfileName> = new Map(
  (Object.keys(IDS) as SrtpProfileName[]).map((name) => [IDS[name], name] as const),
);

/** The name of a profile id, or undefined for 0 / an unknown id. */
export function srtpProfileName(id: number): SrtpProfileName | undefined {
  return NAMES.get(id);
}
