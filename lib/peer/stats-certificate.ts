// W3C webrtc-stats RTCCertificateStats: the `certificate` entries for our DTLS certificate
// and the peer's (fingerprint as in RFC 8122 section 5, base64 DER). See docs/peer.md (getStats).
import { createHash } from 'node:crypto';
import type { DtlsCertificate } from '../dtls/dtls-certificate.js';
import type { RTCStats } from './stats.js';

/** The fields of one `certificate` stats entry (besides id, type and timestamp). */
export interface CertificateStatsFields {
  /** Upper-case hex bytes separated by colons (RFC 8122 section 5 `fingerprint`). */
  readonly fingerprint: string;
  /** Hash function of `fingerprint`, IANA textual name. */
  readonly fingerprintAlgorithm: string;
  /** The DER certificate, base64. */
  readonly base64Certificate: string;
}

// A local certificate's entry never changes; remote ones are recomputed only when the DER changes.
const localCache = new WeakMap<DtlsCertificate, CertificateStatsFields>();
let lastRemote: { der: Buffer; fields: CertificateStatsFields } | undefined;

function sha256Fingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** The stats fields of a certificate given as DER. */
export function certificateFieldsFromDer(der: Uint8Array): CertificateStatsFields {
  if (lastRemote && lastRemote.der.equals(der)) return lastRemote.fields;
  const fields = { fingerprint: sha256Fingerprint(der), fingerprintAlgorithm: 'sha-256', base64Certificate: Buffer.from(der).toString('base64') };
  lastRemote = { der: Buffer.from(der), fields };
  return fields;
}

/** The stats fields of one of our certificates (the fingerprint our SDP announces). */
export function localCertificateFields(certificate: DtlsCertificate): CertificateStatsFields {
  let fields = localCache.get(certificate);
  if (!fields) {
    const fp = certificate.fingerprint('sha-256');
    fields = { fingerprint: fp.value.toUpperCase(), fingerprintAlgorithm: fp.algorithm, base64Certificate: certificate.certificateDer().toString('base64') };
    localCache.set(certificate, fields);
  }
  return fields;
}

/**
 * A `certificate` entry; its id is `CF` + the fingerprint (as libwebrtc names them), so the same
 * certificate has one id in every report. `issuerCertificateId` is absent: WebRTC DTLS
 * certificates are self-signed and peers send the leaf only (RFC 8827 section 6.5).
 */
export function certificateStats(fields: CertificateStatsFields, timestamp: number): RTCStats {
  return { id: `CF${fields.fingerprint}`, type: 'certificate', timestamp, ...fields };
}
