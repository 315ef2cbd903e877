// The remote a=fingerprint lines DTLS can check a certificate against (RFC 8122 §5, RFC 8842 §5.1):
// a supported hash function (sha-1 … sha-512) and a value of that hash's digest length. A
// description whose transport has none is refused at setRemoteDescription (InvalidAccessError),
// not later when DTLS starts; lines with another hash (md5, an unknown name) are left out.
import { isUsableFingerprint, type DtlsFingerprint, type FingerprintAlgorithm } from '../dtls/fingerprint.js';
import type { RemoteTransportParameters } from '../sdp/remote-transport.js';
import { PeerError } from './session-description.js';

/**
 * The usable fingerprints of each remote transport, worked out once: setRemoteDescription checks
 * them and the negotiation hands them to DTLS (one check per line, not one per use).
 */
const usableByTransport = new WeakMap<RemoteTransportParameters, readonly DtlsFingerprint[]>();

/** The fingerprints of `transport` DTLS can use, lowercase as lib/dtls takes them (one list per transport: do not modify it). */
export function usableRemoteFingerprints(transport: RemoteTransportParameters): readonly DtlsFingerprint[] {
  let list = usableByTransport.get(transport);
  if (list === undefined) {
    list = decodeUsable(transport);
    usableByTransport.set(transport, list);
  }
  return list;
}

function decodeUsable(transport: RemoteTransportParameters): DtlsFingerprint[] {
  const out: DtlsFingerprint[] = [];
  for (let i = 0; i < transport.fingerprints.length; i++) {
    const f = transport.fingerprints[i]!;
    const algorithm = f.algorithm.toLowerCase();
    const value = f.value.toLowerCase();
    // Left out: an unsupported hash or a value of the wrong length, not one DTLS can check against.
    if (isUsableFingerprint(algorithm, value)) out.push({ algorithm: algorithm as FingerprintAlgorithm, value });
  }
  // At its length: the list grew by push (17 slots, 152 bytes) and the DTLS transport keeps it.
  return out.slice();
}

/** Throws InvalidAccessError `ERR_PEER_BAD_FINGERPRINT` when a transport has no usable fingerprint. */
export function checkRemoteFingerprints(transports: readonly RemoteTransportParameters[]): void {
  for (let i = 0; i < transports.length; i++) {
    const t = transports[i]!;
    if (usableRemoteFingerprints(t).length > 0) continue;
    const seen = t.fingerprints.map((f) => `${f.algorithm} (${(f.value.length + 1) / 3} bytes)`).join(', ');
    throw new PeerError('InvalidAccessError', 'ERR_PEER_BAD_FINGERPRINT',
      `the remote description's a=fingerprint (${seen}) has no supported hash (sha-1, sha-224, sha-256, sha-384, sha-512) with a digest of its length`);
  }
}
