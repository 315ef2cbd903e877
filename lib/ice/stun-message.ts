// STUN message codec: header, attributes, MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256
// and FINGERPRINT (RFC 8489 §5, §14, §14.5-14.7), with the typed attributes ICE and TURN use.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from './crc32.js';
import { decodeAddressValue, encodeAddressValue } from './stun-address-attribute.js';
import {
  COMPREHENSION_OPTIONAL_MIN,
  KNOWN_REQUIRED_ATTRIBUTES,
  STUN_HEADER_LENGTH,
  STUN_MAGIC_COOKIE,
  StunAttr,
  StunClass,
} from './stun-constants.js';
import type { TransportAddress } from './transport-address.js';
import { getU16, getU32, putU16, putU32 } from '../common/big-endian.js';
import { InvalidArgumentError } from '../common/errors.js';
import { stunIntegritySha1 } from '../native/stun-integrity.js';

/** Where a MESSAGE-INTEGRITY is computed before it is compared or copied (one thread, synchronous use only). */
const integrityScratch = Buffer.alloc(20);
/** The value of every flag attribute (USE-CANDIDATE): one shared empty buffer. */
const EMPTY = Buffer.alloc(0);
/**
 * Passed by decode() to the constructor instead of a transaction id: a decoded message reads its
 * id from the datagram (a view made on first use), no copy (docs/architecture.md, idle allocation).
 */
const DECODED_ID = Buffer.alloc(12);

/** One attribute as it appears on the wire (value without padding). */
export interface StunAttribute {
  readonly type: number;
  readonly value: Buffer;
}

/** Why a datagram was not accepted as a STUN message. */
export type StunDecodeFailure =
  | 'too-short'
  | 'not-stun'
  | 'bad-length'
  | 'truncated-attribute'
  | 'fingerprint-not-last'
  | 'bad-fingerprint';

/** Result of {@link StunMessage.decode}: a message, or the reason it was rejected. */
export type StunDecodeResult = { ok: true; message: StunMessage } | { ok: false; reason: StunDecodeFailure };

/** Options for {@link StunMessage.encode}. */
export interface StunEncodeOptions {
  /** Key of MESSAGE-INTEGRITY (HMAC-SHA1): the short-term password or the long-term MD5 key. */
  integrityKey?: Uint8Array;
  /** Key of MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256). */
  integritySha256Key?: Uint8Array;
  /** Append FINGERPRINT (always for ICE, RFC 8445 §7.1.1). */
  fingerprint?: boolean;
}

const FINGERPRINT_XOR = 0x5354554e;

/** The method and class bits of a message type (RFC 8489 §5, figure 3). */
export function encodeMessageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((cls & 1) << 4) | ((method & 0x0070) << 1) | ((cls & 2) << 7) | ((method & 0x0f80) << 2);
}

/** Cheap check used by demultiplexers: two zero bits, the magic cookie and a consistent length. */
export function isStunMessage(data: Uint8Array): boolean {
  if (data.length < STUN_HEADER_LENGTH || (data[0]! & 0xc0) !== 0) return false;
  const len = (data[2]! << 8) | data[3]!;
  return (
    (len & 3) === 0 &&
    len + STUN_HEADER_LENGTH === data.length &&
    data[4] === 0x21 &&
    data[5] === 0x12 &&
    data[6] === 0xa4 &&
    data[7] === 0x42
  );
}

/** A STUN message: method, class, transaction id and an ordered attribute list. */
export class StunMessage {
  /** Method, e.g. StunMethod.Binding. */
  readonly method: number;
  /** Class: request, indication, success or error response. */
  readonly messageClass: StunClass;
  private txid: Buffer | undefined;
  /** Attributes as objects: those added, or a decoded message's once asked for (see {@link attributes}). */
  private list: StunAttribute[] | undefined;
  /**
   * A decoded message whose attributes were not asked for as objects: where its listed attributes
   * end in `raw` (the first integrity or fingerprint attribute), -1 otherwise. decode() checked
   * every TLV before it, so the typed getters walk them in place: no view or index per attribute.
   */
  private listEnd = -1;
  private unknown: number[] | undefined;
  private raw: Buffer | undefined;
  private integrityOffset = -1;
  private integritySha256Offset = -1;
  private fingerprintOffset = -1;

  constructor(method: number, messageClass: StunClass, transactionId: Uint8Array) {
    if (transactionId.length !== 12) throw new InvalidArgumentError('ERR_STUN_TRANSACTION_ID', 'transaction id must be 12 bytes');
    this.method = method;
    this.messageClass = messageClass;
    if (transactionId !== DECODED_ID) this.txid = Buffer.from(transactionId);
  }

  /** The 96-bit transaction id (of a decoded message: a view of the datagram, made on first use). */
  get transactionId(): Buffer {
    return (this.txid ??= this.raw!.subarray(8, 20));
  }

  /** Attributes in wire order (integrity and fingerprint are added by encode, not listed here). */
  get attributes(): StunAttribute[] {
    let list = this.list;
    if (list) return list;
    list = [];
    const raw = this.raw;
    if (raw && this.listEnd >= 0) {
      for (let off = STUN_HEADER_LENGTH; off < this.listEnd; off += 4 + ((getU16(raw, off + 2) + 3) & ~3)) {
        list.push({ type: getU16(raw, off), value: raw.subarray(off + 4, off + 4 + getU16(raw, off + 2)) });
      }
    }
    this.listEnd = -1;
    this.list = list;
    return list;
  }

  /** Comprehension-required attribute types that this codec does not know (RFC 8489 §6.3.1). */
  get unknownRequired(): number[] {
    return (this.unknown ??= []);
  }

  /** True when the message carries a comprehension-required attribute this codec does not know. */
  get hasUnknownRequired(): boolean {
    return this.unknown !== undefined && this.unknown.length > 0;
  }

  /** Word `i` (0-2) of the transaction id as an unsigned 32-bit number (no view made). */
  transactionIdWord(i: number): number {
    return this.txid ? this.txid.readUInt32BE(i * 4) : this.raw!.readUInt32BE(8 + i * 4);
  }

  /** Byte `i` (0-11) of the transaction id (no view made). */
  transactionIdByte(i: number): number {
    return this.txid ? this.txid[i]! : this.raw![8 + i]!;
  }

  /** True when `data[offset, offset + 12)` is this message's transaction id (no view made). */
  hasTransactionId(data: Uint8Array, offset: number): boolean {
    // One read of the source, not a call per byte (a dozen calls per check in cold code, docs/peer.md "Setup cost").
    const src = this.txid ?? this.raw!;
    const at = this.txid ? 0 : 8;
    for (let i = 0; i < 12; i++) if (src[at + i] !== data[offset + i]) return false;
    return true;
  }

  /** Copies the transaction id into `target` at `offset` (byte by byte: Buffer#copy of a range makes a view). */
  copyTransactionId(target: Uint8Array, offset: number): void {
    const src = this.txid ?? this.raw!;
    const at = this.txid ? 0 : 8;
    for (let i = 0; i < 12; i++) target[offset + i] = src[at + i]!;
  }

  /**
   * Parses a datagram. Never throws; a rejected datagram comes back with the reason. Attributes
   * after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored
   * (RFC 8489 §14.5); FINGERPRINT must be last and, when present, must match (§14.7). The message
   * keeps its own copy of the datagram.
   */
  static decode(input: Uint8Array): StunDecodeResult {
    // One copy: the caller's buffer may be a batch view that is reused after the callback.
    return StunMessage.parse(input, true);
  }

  /**
   * {@link decode} without the copy: the message reads `input` in place, and every Buffer it
   * returns (transaction id, attribute values) is a view of `input`, valid only while `input` is
   * unchanged. For a receiver that handles each datagram synchronously and keeps nothing of the
   * message (the ICE agent: docs/architecture.md, idle allocation).
   */
  static decodeInPlace(input: Uint8Array): StunDecodeResult {
    return StunMessage.parse(input, false);
  }

  private static parse(input: Uint8Array, copy: boolean): StunDecodeResult {
    if (input.length < STUN_HEADER_LENGTH) return { ok: false, reason: 'too-short' };
    if ((input[0]! & 0xc0) !== 0 || input[4] !== 0x21 || input[5] !== 0x12 || input[6] !== 0xa4 || input[7] !== 0x42) {
      return { ok: false, reason: 'not-stun' };
    }
    const length = (input[2]! << 8) | input[3]!;
    if ((length & 3) !== 0 || length + STUN_HEADER_LENGTH !== input.length) return { ok: false, reason: 'bad-length' };
    const data = copy ? Buffer.from(input) : Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const type = getU16(data, 0);
    const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
    const cls = (((type & 0x0100) >> 7) | ((type & 0x0010) >> 4)) as StunClass;
    const msg = new StunMessage(method, cls, DECODED_ID);
    msg.raw = data;
    let listEnd = -1;
    let off = STUN_HEADER_LENGTH;
    let afterIntegrity = false;
    while (off < data.length) {
      if (off + 4 > data.length) return { ok: false, reason: 'truncated-attribute' };
      const at = getU16(data, off);
      const alen = getU16(data, off + 2);
      const end = off + 4 + alen;
      if (end > data.length) return { ok: false, reason: 'truncated-attribute' };
      if (msg.fingerprintOffset >= 0) return { ok: false, reason: 'fingerprint-not-last' };
      if (listEnd < 0 && (at === StunAttr.MessageIntegrity || at === StunAttr.MessageIntegritySha256 || at === StunAttr.Fingerprint)) listEnd = off;
      if (at === StunAttr.MessageIntegrity && !afterIntegrity) {
        if (alen !== 20) return { ok: false, reason: 'truncated-attribute' };
        msg.integrityOffset = off;
        afterIntegrity = true;
      } else if (at === StunAttr.MessageIntegritySha256 && msg.integritySha256Offset < 0) {
        if (alen < 16 || alen > 32 || (alen & 3) !== 0) return { ok: false, reason: 'truncated-attribute' };
        msg.integritySha256Offset = off;
        afterIntegrity = true;
      } else if (at === StunAttr.Fingerprint) {
        if (alen !== 4) return { ok: false, reason: 'truncated-attribute' };
        msg.fingerprintOffset = off;
      } else if (!afterIntegrity) {
        if (at < COMPREHENSION_OPTIONAL_MIN && !KNOWN_REQUIRED_ATTRIBUTES.has(at)) msg.unknownRequired.push(at);
      }
      off = off + 4 + ((alen + 3) & ~3);
    }
    if (off !== data.length) return { ok: false, reason: 'truncated-attribute' };
    msg.listEnd = listEnd < 0 ? data.length : listEnd;
    if (msg.fingerprintOffset >= 0) {
      const expected = (crc32(data, 0, msg.fingerprintOffset) ^ FINGERPRINT_XOR) >>> 0;
      if (getU32(data, msg.fingerprintOffset + 4) !== expected) return { ok: false, reason: 'bad-fingerprint' };
    }
    return { ok: true, message: msg };
  }

  /** True when the decoded message carried a FINGERPRINT (it was verified by decode). */
  get hasFingerprint(): boolean {
    return this.fingerprintOffset >= 0;
  }

  /** True when the decoded message carried MESSAGE-INTEGRITY. */
  get hasIntegrity(): boolean {
    return this.integrityOffset >= 0;
  }

  /** True when the decoded message carried MESSAGE-INTEGRITY-SHA256. */
  get hasIntegritySha256(): boolean {
    return this.integritySha256Offset >= 0;
  }

  /** Verifies MESSAGE-INTEGRITY (HMAC-SHA1) with `key` (RFC 8489 §14.5). False when absent. */
  verifyIntegrity(key: Uint8Array): boolean {
    return this.verifyHmac('sha1', this.integrityOffset, key);
  }

  /** Verifies MESSAGE-INTEGRITY-SHA256 with `key` (RFC 8489 §14.6). False when absent. */
  verifyIntegritySha256(key: Uint8Array): boolean {
    return this.verifyHmac('sha256', this.integritySha256Offset, key);
  }

  private verifyHmac(algorithm: 'sha1' | 'sha256', offset: number, key: Uint8Array): boolean {
    const raw = this.raw;
    if (!raw || offset < 0) return false;
    const macLen = getU16(raw, offset + 2);
    if (algorithm === 'sha1') {
      // Native HMAC-SHA1 (lib/native/stun-integrity.ts): node:crypto's createHmac costs ~15 µs a
      // message here, a provider fetch each time; ICE consent makes this a per-connection cost.
      if (macLen !== 20 || !stunIntegritySha1(key, raw, offset, offset + 4 + macLen - STUN_HEADER_LENGTH, integrityScratch)) return false;
      // Compared without an early exit (as timingSafeEqual does) and without a view of the MAC.
      let diff = 0;
      for (let i = 0; i < 20; i++) diff |= integrityScratch[i]! ^ raw[offset + 4 + i]!;
      return diff === 0;
    }
    const got = raw.subarray(offset + 4, offset + 4 + macLen);
    // The length field covers everything up to and including this attribute (§14.5).
    const len = Buffer.alloc(2);
    len.writeUInt16BE(offset + 4 + macLen - STUN_HEADER_LENGTH);
    const hmac = createHmac(algorithm, key).update(raw.subarray(0, 2)).update(len).update(raw.subarray(4, offset)).digest();
    return timingSafeEqual(hmac.subarray(0, macLen), got);
  }

  /** Value offset in `raw` of the first listed `type`, or -1 (only while listEnd >= 0). */
  private valueOffset(type: number): number {
    const raw = this.raw!;
    for (let off = STUN_HEADER_LENGTH; off < this.listEnd; off += 4 + ((getU16(raw, off + 2) + 3) & ~3)) {
      if (getU16(raw, off) === type) return off + 4;
    }
    return -1;
  }

  /** Length of the value at `valueOffset` (from its TLV header). */
  private valueLength(valueOffset: number): number {
    return getU16(this.raw!, valueOffset - 2);
  }

  /** The first attribute value of `type`, if present. */
  get(type: number): Buffer | undefined {
    if (this.listEnd >= 0) {
      const v = this.valueOffset(type);
      return v < 0 ? undefined : this.raw!.subarray(v, v + this.valueLength(v));
    }
    const list = this.list;
    if (list) for (let i = 0; i < list.length; i++) if (list[i]!.type === type) return list[i]!.value;
    return undefined;
  }

  /** True when an attribute of `type` is present. */
  has(type: number): boolean {
    return this.listEnd >= 0 ? this.valueOffset(type) >= 0 : this.get(type) !== undefined;
  }

  /** Appends a raw attribute. */
  add(type: number, value: Uint8Array): this {
    if (value.length > 0xffff) throw new InvalidArgumentError('ERR_STUN_ATTRIBUTE_LENGTH', 'attribute value too long');
    return this.addOwned(type, Buffer.from(value));
  }

  /** Appends a value this message owns (made here, or kept unchanged by contract): no copy. */
  private addOwned(type: number, value: Buffer): this {
    if (value.length > 0xffff) throw new InvalidArgumentError('ERR_STUN_ATTRIBUTE_LENGTH', 'attribute value too long');
    (this.list ?? this.attributes).push({ type, value });
    return this;
  }

  /**
   * Appends bytes the caller keeps unchanged for as long as this message lives (the ICE agent's
   * cached USERNAME of its checks): referenced, not copied.
   */
  addConstant(type: number, value: Buffer): this {
    return this.addOwned(type, value);
  }

  /** Appends a UTF-8 string attribute (USERNAME, REALM, NONCE, SOFTWARE). */
  addString(type: number, text: string): this {
    return this.addOwned(type, Buffer.from(text, 'utf8'));
  }

  /** A UTF-8 string attribute, if present. */
  getString(type: number): string | undefined {
    if (this.listEnd >= 0) {
      const v = this.valueOffset(type);
      return v < 0 ? undefined : this.raw!.toString('utf8', v, v + this.valueLength(v));
    }
    return this.get(type)?.toString('utf8');
  }

  /** Appends a 32-bit attribute (PRIORITY, LIFETIME). */
  addUint32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value >>> 0);
    return this.addOwned(type, b);
  }

  /** A 32-bit attribute, if present and exactly four bytes long. */
  getUint32(type: number): number | undefined {
    if (this.listEnd >= 0) {
      const v = this.valueOffset(type);
      return v >= 0 && this.valueLength(v) === 4 ? getU32(this.raw!, v) : undefined;
    }
    const v = this.get(type);
    return v && v.length === 4 ? v.readUInt32BE(0) : undefined;
  }

  /** Appends a 64-bit attribute (ICE-CONTROLLING / ICE-CONTROLLED tie-breaker). */
  addUint64(type: number, value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt.asUintN(64, value));
    return this.addOwned(type, b);
  }

  /** A 64-bit attribute, if present and exactly eight bytes long. */
  getUint64(type: number): bigint | undefined {
    if (this.listEnd >= 0) {
      const v = this.valueOffset(type);
      return v >= 0 && this.valueLength(v) === 8 ? this.raw!.readBigUInt64BE(v) : undefined;
    }
    const v = this.get(type);
    return v && v.length === 8 ? v.readBigUInt64BE(0) : undefined;
  }

  /** Appends an empty attribute (USE-CANDIDATE, DONT-FRAGMENT). */
  addFlag(type: number): this {
    return this.addOwned(type, EMPTY);
  }

  /** Appends an address attribute; XOR-encoded for the XOR-* types. */
  addAddress(type: number, addr: TransportAddress): this {
    const v = encodeAddressValue(addr, isXorType(type), this.transactionId);
    if (!v) throw new InvalidArgumentError('ERR_STUN_ADDRESS', `not an IP address: ${addr.address}`);
    return this.add(type, v);
  }

  /** An address attribute (XOR-decoded for XOR-* types); undefined when absent or malformed. */
  getAddress(type: number): TransportAddress | undefined {
    const v = this.get(type);
    return v ? decodeAddressValue(v, isXorType(type), this.transactionId) : undefined;
  }

  /** Appends ERROR-CODE (RFC 8489 §14.8). */
  addErrorCode(code: number, reason: string): this {
    const text = Buffer.from(reason, 'utf8');
    const b = Buffer.alloc(4 + text.length);
    b[2] = Math.floor(code / 100) & 0x07;
    b[3] = code % 100;
    text.copy(b, 4);
    return this.add(StunAttr.ErrorCode, b);
  }

  /** ERROR-CODE as number and reason phrase; undefined when absent or malformed. */
  getErrorCode(): { code: number; reason: string } | undefined {
    const v = this.get(StunAttr.ErrorCode);
    if (!v || v.length < 4) return undefined;
    const code = (v[2]! & 0x07) * 100 + v[3]!;
    if (code < 300 || code > 699 || v[3]! > 99) return undefined;
    return { code, reason: v.subarray(4).toString('utf8') };
  }

  /** Appends UNKNOWN-ATTRIBUTES (RFC 8489 §14.9). */
  addUnknownAttributes(types: readonly number[]): this {
    const b = Buffer.alloc(types.length * 2);
    types.forEach((t, i) => b.writeUInt16BE(t, i * 2));
    return this.add(StunAttr.UnknownAttributes, b);
  }

  /** UNKNOWN-ATTRIBUTES as a list of types. */
  getUnknownAttributes(): number[] | undefined {
    const v = this.get(StunAttr.UnknownAttributes);
    if (!v) return undefined;
    const out: number[] = [];
    for (let i = 0; i + 1 < v.length; i += 2) out.push(v.readUInt16BE(i));
    return out;
  }

  /** Serialises the message, then appends the requested integrity attributes and FINGERPRINT. */
  encode(options: StunEncodeOptions = {}): Buffer {
    let bodyLen = 0;
    for (const a of this.attributes) bodyLen += 4 + ((a.value.length + 3) & ~3);
    const total =
      STUN_HEADER_LENGTH +
      bodyLen +
      (options.integrityKey ? 24 : 0) +
      (options.integritySha256Key ? 36 : 0) +
      (options.fingerprint ? 8 : 0);
    const out = Buffer.alloc(total);
    out.writeUInt16BE(encodeMessageType(this.method, this.messageClass), 0);
    out.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
    this.copyTransactionId(out, 8);
    let off = STUN_HEADER_LENGTH;
    for (const a of this.attributes) {
      out.writeUInt16BE(a.type, off);
      out.writeUInt16BE(a.value.length, off + 2);
      a.value.copy(out, off + 4);
      off += 4 + ((a.value.length + 3) & ~3);
    }
    if (options.integrityKey) off = writeMac(out, off, 'sha1', StunAttr.MessageIntegrity, options.integrityKey, 20);
    if (options.integritySha256Key) off = writeMac(out, off, 'sha256', StunAttr.MessageIntegritySha256, options.integritySha256Key, 32);
    if (options.fingerprint) {
      out.writeUInt16BE(off + 8 - STUN_HEADER_LENGTH, 2);
      const fp = (crc32(out, 0, off) ^ FINGERPRINT_XOR) >>> 0;
      out.writeUInt16BE(StunAttr.Fingerprint, off);
      out.writeUInt16BE(4, off + 2);
      out.writeUInt32BE(fp, off + 4);
      off += 8;
    }
    out.writeUInt16BE(off - STUN_HEADER_LENGTH, 2);
    return out;
  }
}

/**
 * Finishes a message written by hand into `out` (header and attributes up to `off`): appends
 * MESSAGE-INTEGRITY (HMAC-SHA1 with `key`, when given) and FINGERPRINT and sets the header's
 * length (RFC 8489 §14.5, §14.7). `out` must have room for both and the message must stay below
 * 64 KiB (the length field is not range-checked); returns the end offset.
 */
export function finishWithIntegrity(out: Buffer, off: number, key: Uint8Array | undefined): number {
  if (key) off = writeMac(out, off, 'sha1', StunAttr.MessageIntegrity, key, 20);
  putU16(out, 2, off + 8 - STUN_HEADER_LENGTH);
  const fp = crc32(out, 0, off) ^ FINGERPRINT_XOR;
  putU16(out, off, StunAttr.Fingerprint);
  putU16(out, off + 2, 4);
  putU32(out, off + 4, fp);
  return off + 8;
}

/** Writes a MESSAGE-INTEGRITY(-SHA256) attribute at `off` of `out` (RFC 8489 §14.5, §14.6); returns the offset after it. */
function writeMac(out: Buffer, off: number, algorithm: 'sha1' | 'sha256', type: number, key: Uint8Array, macLen: number): number {
  const length = off + 4 + macLen - STUN_HEADER_LENGTH;
  // Not range-checked here: encode() ends with a checked store of the whole length (an oversize
  // message still throws), and the binding encoders' messages are a few hundred bytes.
  putU16(out, 2, length);
  if (algorithm === 'sha1') {
    stunIntegritySha1(key, out, off, length, integrityScratch);
    out.set(integrityScratch, off + 4);
  } else createHmac(algorithm, key).update(out.subarray(0, off)).digest().copy(out, off + 4, 0, macLen);
  putU16(out, off, type);
  putU16(out, off + 2, macLen);
  return off + 4 + macLen;
}

function isXorType(type: number): boolean {
  return type === StunAttr.XorMappedAddress || type === StunAttr.XorPeerAddress || type === StunAttr.XorRelayedAddress;
}
