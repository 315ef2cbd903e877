// The ICE agent's own STUN Binding messages written straight into one datagram: requests with
// USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED and USE-CANDIDATE, success responses with
// XOR-MAPPED-ADDRESS, indications (RFC 8445 §7.1-7.3, §11; RFC 8489 §5, §14; RFC 7675 §5.1).
// One allocation per message (a view of Node's shared buffer pool) and no attribute objects:
// idle connections send these every few seconds (docs/architecture.md, idle allocation).
import { putU16, putU32 } from '../common/big-endian.js';
import type { Rng } from '../common/rng.js';
import { encodeAddressValue } from './stun-address-attribute.js';
import { STUN_HEADER_LENGTH, STUN_MAGIC_COOKIE, StunAttr, StunClass, StunMethod } from './stun-constants.js';
import { encodeMessageType, finishWithIntegrity, type StunMessage } from './stun-message.js';
import { ipv4Number, type TransportAddress } from './transport-address.js';

const REQUEST_TYPE = encodeMessageType(StunMethod.Binding, StunClass.Request);
const SUCCESS_TYPE = encodeMessageType(StunMethod.Binding, StunClass.SuccessResponse);
const INDICATION_TYPE = encodeMessageType(StunMethod.Binding, StunClass.Indication);
/** MESSAGE-INTEGRITY (24) and FINGERPRINT (8) at the end of every message with a key. */
const TRAILER = 32;

/**
 * A message buffer of `length` bytes: a view of Node's shared allocation pool, so one small
 * object on the JS heap and no ArrayBuffer of its own. Every byte is written by the callers
 * (padding included: pool memory is not zeroed).
 */
function messageBuffer(length: number, type: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  putU16(out, 0, type);
  putU16(out, 2, 0);
  putU32(out, 4, STUN_MAGIC_COOKIE);
  return out;
}

/** Writes a fresh random transaction id at bytes 8-19 (in place when the rng can fill). */
function writeRandomTransactionId(out: Buffer, rng: Rng): void {
  if (rng.fill) {
    rng.fill(out, 8, 12);
    return;
  }
  putU32(out, 8, rng.uint32());
  putU32(out, 12, rng.uint32());
  putU32(out, 16, rng.uint32());
}

/** Writes a 4-byte attribute header at `off`; returns the value's offset. */
function attributeHeader(out: Buffer, off: number, type: number, length: number): number {
  putU16(out, off, type);
  putU16(out, off + 2, length);
  return off + 4;
}

/**
 * A connectivity or consent check (RFC 8445 §7.2.2, RFC 7675 §5.1) with a new random transaction
 * id: USERNAME `username` (the "remote:local" ufrags), PRIORITY, the role attribute with the
 * 8-byte tie-breaker, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY with `key`, FINGERPRINT.
 */
export function encodeBindingRequest(
  rng: Rng,
  username: Buffer,
  priority: number,
  roleAttribute: number,
  tieBreaker: Buffer,
  useCandidate: boolean,
  key: Uint8Array,
): Buffer {
  const userPadded = (username.length + 3) & ~3;
  const out = messageBuffer(STUN_HEADER_LENGTH + 4 + userPadded + 8 + 12 + (useCandidate ? 4 : 0) + TRAILER, REQUEST_TYPE);
  writeRandomTransactionId(out, rng);
  let off = attributeHeader(out, STUN_HEADER_LENGTH, StunAttr.Username, username.length);
  // TypedArray set and plain stores rather than Buffer's copy and fill: no JavaScript frames of
  // Node's argument checks per call (docs/peer.md "Setup cost").
  out.set(username, off);
  for (let i = off + username.length; i < off + userPadded; i++) out[i] = 0;
  off = attributeHeader(out, off + userPadded, StunAttr.Priority, 4);
  putU32(out, off, priority);
  off = attributeHeader(out, off + 4, roleAttribute, 8);
  out.set(tieBreaker.length === 8 ? tieBreaker : tieBreaker.subarray(0, 8), off);
  off += 8;
  if (useCandidate) off = attributeHeader(out, off, StunAttr.UseCandidate, 0);
  finishWithIntegrity(out, off, key);
  return out;
}

/**
 * The success response to `request` (RFC 8445 §7.3.1.2, RFC 8489 §14.2): its transaction id,
 * XOR-MAPPED-ADDRESS `mapped`, MESSAGE-INTEGRITY with `key`, FINGERPRINT. Undefined when
 * `mapped` is not an IP literal.
 */
export function encodeBindingSuccess(request: StunMessage, mapped: TransportAddress, key: Uint8Array): Buffer | undefined {
  const v4 = ipv4Number(mapped.address);
  if (v4 < 0) {
    // IPv6 (XORed with the transaction id too): the general attribute encoder.
    const value = encodeAddressValue(mapped, true, request.transactionId);
    if (!value) return undefined;
    const out = messageBuffer(STUN_HEADER_LENGTH + 4 + value.length + TRAILER, SUCCESS_TYPE);
    request.copyTransactionId(out, 8);
    const off = attributeHeader(out, STUN_HEADER_LENGTH, StunAttr.XorMappedAddress, value.length);
    out.set(value, off);
    finishWithIntegrity(out, off + value.length, key);
    return out;
  }
  const out = messageBuffer(STUN_HEADER_LENGTH + 12 + TRAILER, SUCCESS_TYPE);
  request.copyTransactionId(out, 8);
  const off = attributeHeader(out, STUN_HEADER_LENGTH, StunAttr.XorMappedAddress, 8);
  putU16(out, off, 0x0001); // reserved byte, family IPv4
  putU16(out, off + 2, mapped.port ^ (STUN_MAGIC_COOKIE >>> 16));
  putU32(out, off + 4, v4 ^ STUN_MAGIC_COOKIE);
  finishWithIntegrity(out, off + 8, key);
  return out;
}

/** A Binding indication with FINGERPRINT only: the keepalive (RFC 8445 §11). */
export function encodeBindingIndication(rng: Rng): Buffer {
  const out = messageBuffer(STUN_HEADER_LENGTH + 8, INDICATION_TYPE);
  writeRandomTransactionId(out, rng);
  finishWithIntegrity(out, STUN_HEADER_LENGTH, undefined);
  return out;
}
