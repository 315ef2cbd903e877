// A DTLS identity (W3C RTCCertificate): a generated self-signed ECDSA P-256 / RSA-2048
// certificate or one loaded from PEM, and its fingerprints (RFC 8122 section 5, RFC 8827 6.5).
import { InvalidArgumentError, OutOfRangeError } from '../common/errors.js';
import {
  fingerprintAlgorithmId,
  fingerprintFromBytes,
  isFingerprintAlgorithm,
  type DtlsFingerprint,
  type FingerprintAlgorithm,
} from './fingerprint.js';
import { callNative, nativeDtlsCertificateClass, type NativeDtlsCertificate } from './native-dtls.js';

/** Options of DtlsCertificate.generate. */
export interface DtlsCertificateGenerateOptions {
  /** 'ecdsa' (P-256, default; what browsers use) or 'rsa' (2048-bit). */
  keyType?: 'ecdsa' | 'rsa';
  /** Lifetime in milliseconds from now (default 30 days, as W3C generateCertificate). */
  expiresInMs?: number;
}

const DAY_MS = 86_400_000;
const MAX_LIFETIME_MS = 3650 * DAY_MS;

/** A certificate and private key presented by DtlsTransport; immutable and shareable. */
export class DtlsCertificate {
  /** @internal The native object (its SSL_CTX is shared by every transport using it). */
  readonly native: NativeDtlsCertificate;
  /** Expiry (notAfter) in milliseconds since the Unix epoch. */
  readonly expires: number;
  /** 'ECDSA', 'RSA' or OpenSSL's name for another key type loaded from PEM. */
  readonly keyType: string;
  // Fingerprints never change; each is computed once.
  private readonly fingerprints = new Map<FingerprintAlgorithm, DtlsFingerprint>();
  private der: Buffer | undefined;

  private constructor(native: NativeDtlsCertificate) {
    this.native = native;
    this.expires = native.expires();
    this.keyType = native.keyType();
  }

  /** Generates a self-signed certificate with a random CN. */
  static generate(options: DtlsCertificateGenerateOptions = {}): DtlsCertificate {
    const keyType = options.keyType ?? 'ecdsa';
    if (keyType !== 'ecdsa' && keyType !== 'rsa') {
      throw new InvalidArgumentError('ERR_DTLS_CERTIFICATE', `keyType must be 'ecdsa' or 'rsa'`);
    }
    const lifetime = options.expiresInMs ?? 30 * DAY_MS;
    if (!Number.isFinite(lifetime) || lifetime < 1000 || lifetime > MAX_LIFETIME_MS) {
      throw new OutOfRangeError('ERR_DTLS_CERTIFICATE', 'expiresInMs must be between 1 s and 10 years');
    }
    const Native = nativeDtlsCertificateClass();
    return new DtlsCertificate(callNative(() => new Native(0, keyType === 'rsa' ? 1 : 0, Math.floor(lifetime / 1000))));
  }

  /** Loads a PEM certificate and its unencrypted PEM private key (PKCS#8, SEC1 or PKCS#1). */
  static fromPem(certificatePem: string, privateKeyPem: string): DtlsCertificate {
    if (typeof certificatePem !== 'string' || typeof privateKeyPem !== 'string') {
      throw new InvalidArgumentError('ERR_DTLS_CERTIFICATE_PEM', 'certificate and key must be PEM strings');
    }
    const Native = nativeDtlsCertificateClass();
    return new DtlsCertificate(callNative(() => new Native(1, certificatePem, privateKeyPem)));
  }

  /** The fingerprint with one hash function. */
  fingerprint(algorithm: FingerprintAlgorithm = 'sha-256'): DtlsFingerprint {
    if (!isFingerprintAlgorithm(algorithm)) {
      throw new InvalidArgumentError('ERR_DTLS_FINGERPRINT', `unsupported fingerprint algorithm '${String(algorithm)}'`);
    }
    let fp = this.fingerprints.get(algorithm);
    if (!fp) {
      fp = Object.freeze(fingerprintFromBytes(algorithm, this.native.fingerprint(fingerprintAlgorithmId(algorithm))));
      this.fingerprints.set(algorithm, fp);
    }
    return fp;
  }

  /** W3C RTCCertificate.getFingerprints(): the sha-256 fingerprint (what goes into SDP). */
  getFingerprints(): DtlsFingerprint[] {
    return [this.fingerprint('sha-256')];
  }

  /** The certificate (not the key) in DER, e.g. for W3C `certificate` stats (`base64Certificate`). */
  certificateDer(): Buffer {
    if (!this.der) {
      // PEM is base64 DER between the BEGIN/END lines (RFC 7468 section 2).
      const body = this.native.certificatePem().replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
      this.der = Buffer.from(body, 'base64');
    }
    return Buffer.from(this.der);
  }

  /** The certificate and private key as PEM, e.g. to persist an identity across restarts. */
  toPem(): { certificate: string; privateKey: string } {
    return { certificate: this.native.certificatePem(), privateKey: this.native.privateKeyPem() };
  }
}
