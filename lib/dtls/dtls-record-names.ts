// Names the records of a DTLS datagram for debug logs (RFC 6347 section 4.1 record header,
// RFC 5246 section 7.4 handshake types, section 7.2 alerts). Reads only the plaintext headers of
// epoch 0; protected records are named "encrypted", their bytes are never looked at.

const CONTENT: Readonly<Record<number, string>> = { 20: 'ChangeCipherSpec', 21: 'Alert', 22: 'Handshake', 23: 'ApplicationData' };
const HANDSHAKE: Readonly<Record<number, string>> = {
  0: 'HelloRequest', 1: 'ClientHello', 2: 'ServerHello', 3: 'HelloVerifyRequest', 11: 'Certificate',
  12: 'ServerKeyExchange', 13: 'CertificateRequest', 14: 'ServerHelloDone', 15: 'CertificateVerify',
  16: 'ClientKeyExchange', 20: 'Finished',
};
const ALERT_LEVEL: Readonly<Record<number, string>> = { 1: 'warning', 2: 'fatal' };
const ALERT: Readonly<Record<number, string>> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 40: 'handshake_failure', 42: 'bad_certificate',
  43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown',
  47: 'illegal_parameter', 48: 'unknown_ca', 50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version',
  71: 'insufficient_security', 80: 'internal_error', 90: 'user_canceled', 110: 'unsupported_extension',
};

/** e.g. `Handshake(ServerHello) Handshake(Certificate) Handshake(ServerHelloDone)`, or `Alert(fatal bad_certificate)`. */
export function describeDtlsDatagram(d: Uint8Array): string {
  const names: string[] = [];
  let off = 0;
  while (off + 13 <= d.length) {
    const type = d[off]!;
    const epoch = (d[off + 3]! << 8) | d[off + 4]!;
    const length = (d[off + 11]! << 8) | d[off + 12]!;
    const body = off + 13;
    const content = CONTENT[type] ?? `content-type-${type}`;
    if (epoch !== 0) names.push(`${content}(encrypted)`);
    else if (type === 22 && length >= 1 && body < d.length) names.push(`Handshake(${HANDSHAKE[d[body]!] ?? `type-${d[body]!}`})`);
    else if (type === 21 && length >= 2 && body + 1 < d.length) names.push(`Alert(${ALERT_LEVEL[d[body]!] ?? d[body]!} ${ALERT[d[body + 1]!] ?? d[body + 1]!})`);
    else names.push(content);
    off = body + length;
  }
  if (off < d.length) names.push(`${d.length - off} trailing bytes`);
  return names.join(' ');
}
