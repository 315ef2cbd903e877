// Public surface of the DTLS layer (RFC 6347, RFC 5763/5764, RFC 8122) for lib/index.ts.
export { DtlsCertificate, type DtlsCertificateGenerateOptions } from './dtls-certificate.js';
export {
  DtlsTransport,
  type DtlsEvent,
  type DtlsRole,
  type DtlsHandshakeThreadUse,
  type DtlsTransportOptions,
  type DtlsTransportState,
  type DtlsTransportStats,
  type SrtpSessionHandle,
} from './dtls-transport.js';
export {
  formatSdpFingerprint,
  parseSdpFingerprint,
  type DtlsFingerprint,
  type FingerprintAlgorithm,
} from './fingerprint.js';
export { DEFAULT_SRTP_PROFILES, type SrtpProfileName } from './srtp-profile.js';
