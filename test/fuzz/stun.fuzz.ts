// Fuzz target: StunMessage.decode (RFC 8489 §5, §14: header, attribute TLVs, MESSAGE-INTEGRITY,
// FINGERPRINT placement) and the typed attribute getters (XOR-MAPPED-ADDRESS, ERROR-CODE, ...).
// Invariant: never throws (a rejection reason instead); re-encoding the attributes decodes to the same list;
// decodeInPlace (typed getters read in place) agrees with decode (getters over the attribute list).
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
  const inPlace = StunMessage.decodeInPlace(data);
  check(inPlace.ok === r.ok && (inPlace.ok || r.ok || inPlace.reason === r.reason), 'decodeInPlace and decode disagree');
  if (inPlace.ok && r.ok) {
    const v = inPlace.message;
    const c = r.message;
    void c.attributes; // the copy answers from its attribute objects, the in-place message from its index
    for (const type of [StunAttr.Username, StunAttr.Priority, StunAttr.IceControlling, StunAttr.UseCandidate]) {
      check(v.has(type) === c.has(type) && v.getString(type) === c.getString(type), 'in-place attribute differs');
      check(v.getUint32(type) === c.getUint32(type) && v.getUint64(type) === c.getUint64(type), 'in-place number differs');
    }
    check(v.hasUnknownRequired === c.unknownRequired.length > 0 && v.transactionIdWord(2) === c.transactionIdWord(2), 'in-place header differs');
  }
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
