// Fuzz target: StunMessage.decode (RFC 8489 §5, §14: header, attribute TLVs, MESSAGE-INTEGRITY,
// FINGERPRINT placement) and the typed attribute getters (XOR-MAPPED-ADDRESS, ERROR-CODE, ...).
// Invariant: never throws (a rejection reason instead); re-encoding the attributes decodes to the same list.
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr } from '../../lib/ice/stun-constants.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** STUN decode and attribute getters; encode round trip of the attribute list. */
export const stunTarget: FuzzTarget = {
  name: 'stun',
  description: 'StunMessage.decode, integrity/fingerprint checks and typed attribute getters; encode round trip',
  maxLength: 1500,
  run(data: Buffer): void {
    decodeAndCheck(data);
    // Most mutations break the header length; a copy with it fixed reaches the attribute walker.
    if (data.length >= 20 && data.length - 20 <= 0xffff) {
      const fixed = Buffer.from(data);
      fixed.writeUInt16BE(data.length - 20, 2);
      decodeAndCheck(fixed);
    }
  },
};

// Decodes one datagram; when accepted, runs every getter and the encode round trip.
function decodeAndCheck(data: Buffer): void {
  const r = StunMessage.decode(data);
  if (!r.ok) {
    check(typeof r.reason === 'string' && r.reason.length > 0, 'rejection without a reason');
    return;
  }
  const m = r.message;
  m.getAddress(StunAttr.XorMappedAddress);
  m.getAddress(StunAttr.MappedAddress);
  m.getAddress(StunAttr.XorRelayedAddress);
  m.getAddress(StunAttr.XorPeerAddress);
  m.getErrorCode();
  m.getUnknownAttributes();
  m.getString(StunAttr.Username);
  m.verifyIntegrity(Buffer.from('fuzz-password'));
  const copy = new StunMessage(m.method, m.messageClass, m.transactionId);
  for (const a of m.attributes) copy.add(a.type, a.value);
  const again = StunMessage.decode(copy.encode({ fingerprint: true }));
  check(again.ok, `re-encoded message does not decode: ${again.ok ? '' : again.reason}`);
  check(again.message.method === m.method && again.message.messageClass === m.messageClass, 'type changed');
  checkSame(again.message.attributes, m.attributes, 'STUN attributes');
}
