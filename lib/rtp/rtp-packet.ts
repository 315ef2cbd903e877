// RtpPacket: the RTP fixed header, CSRCs, header extensions, payload and padding (RFC 3550 §5.1,
// §5.3.1; RFC 8285 §4). Parsing is a cheap view over the caller's buffer; copying is explicit.
import { InvalidStateError, OutOfRangeError } from '../common/errors.js';
import { RtpParseError, type RtpDropCounters, type RtpParseFailureReason } from './errors.js';
import {
  ONE_BYTE_PROFILE,
  TWO_BYTE_PROFILE,
  checkExtensionElement,
  chooseTwoByteForm,
  decodeExtensionElements,
  extensionElementsLength,
  findExtensionElement,
  isTwoByteProfile,
  validateExtensionElements,
  writeExtensionElements,
  type RtpHeaderExtension,
  type RtpHeaderExtensionForm,
} from './header-extension.js';

/** Bytes of the fixed RTP header (RFC 3550 §5.1). */
export const RTP_HEADER_LENGTH = 12;

/**
 * Fields of a packet to build. Fields left out stay `undefined` on the packet so that the sender
 * (a track or a forwarder) fills exactly those: SSRC, payload type, sequence number, timestamp.
 */
export interface RtpPacketInit {
  /** Marker bit (RFC 3550 §5.1); default false. */
  marker?: boolean;
  /** 0..127. */
  payloadType?: number;
  /** 0..65535. */
  sequenceNumber?: number;
  /** 0..2^32-1, in the media clock rate. */
  timestamp?: number;
  /** 0..2^32-1. */
  ssrc?: number;
  /** Contributing sources, at most 15. */
  csrcs?: readonly number[];
  /** Header extension elements (RFC 8285), each id at most once. */
  extensions?: readonly RtpHeaderExtension[];
  /** Which element form to write (default `auto`: one-byte whenever every element fits). */
  extensionForm?: RtpHeaderExtensionForm;
  /** Payload bytes (kept by reference, not copied). */
  payload?: Uint8Array;
  /** Padding bytes to append, including the count byte (0 = no padding, else 1..255). */
  paddingSize?: number;
}

const EMPTY_CSRCS: readonly number[] = Object.freeze([]);
const EMPTY_PAYLOAD = Buffer.alloc(0);
const UNSET_FIELDS = 'set payloadType, sequenceNumber, timestamp and ssrc before serializing';

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function indexOfId(list: readonly RtpHeaderExtension[], id: number): number {
  for (let i = 0; i < list.length; i++) if (list[i]!.id === id) return i;
  return -1;
}

function isUint32(v: number): boolean {
  return v >>> 0 === v;
}

/**
 * An RTP packet. Build one from fields (`new RtpPacket({ timestamp, payload })`), or parse one
 * (`RtpPacket.parse(buf, offset, length)`) as a view over a received buffer: the fixed header fields
 * are decoded at once, the header extensions and the payload are read from the buffer only when asked,
 * and nothing is copied until `clone()` or `serialize()`. A parsed packet stays valid only as long as
 * the caller does not reuse the buffer. Every field is mutable; `serialize()` validates them.
 */
export class RtpPacket {
  /** Marker bit. */
  marker: boolean;
  /** Payload type (0..127), or undefined for the sender to fill. */
  payloadType: number | undefined;
  /** Sequence number (0..65535), or undefined for the sender to fill. */
  sequenceNumber: number | undefined;
  /** RTP timestamp (uint32), or undefined for the sender to fill. */
  timestamp: number | undefined;
  /** Synchronisation source (uint32), or undefined for the sender to fill. */
  ssrc: number | undefined;
  /** Contributing sources (RFC 3550 §5.1), at most 15. */
  csrcs: readonly number[];
  /** Padding length including the final count byte; 0 when the P bit is clear. */
  paddingSize: number;
  /** Element form used when the extensions are (re)written. */
  extensionForm: RtpHeaderExtensionForm;

  // Source buffer of a parsed packet; payload and the raw extension block are read from it lazily.
  private _src: Buffer | null;
  private _payload: Buffer | null;
  private _payloadOffset: number;
  private _payloadLength: number;
  // Padding length on the wire; while payload and padding size are untouched, the padding bytes
  // are copied as received (senders need not zero them).
  private _wirePadding: number;
  // The raw extension block in _src stays authoritative until an extension is changed, so a
  // forwarded packet keeps its exact bytes (profile, appbits, padding between elements).
  private _extRaw: boolean;
  private _extProfile: number;
  private _extOffset: number;
  private _extLength: number;
  private _extList: RtpHeaderExtension[] | null;

  /** Builds a packet from fields; out-of-range fields throw an `OutOfRangeError`. */
  constructor(init?: RtpPacketInit) {
    this.marker = init?.marker ?? false;
    this.payloadType = init?.payloadType;
    this.sequenceNumber = init?.sequenceNumber;
    this.timestamp = init?.timestamp;
    this.ssrc = init?.ssrc;
    this.csrcs = init?.csrcs ?? EMPTY_CSRCS;
    this.paddingSize = init?.paddingSize ?? 0;
    this.extensionForm = init?.extensionForm ?? 'auto';
    this._src = null;
    this._payload = init?.payload ? asBuffer(init.payload) : EMPTY_PAYLOAD;
    this._payloadOffset = 0;
    this._payloadLength = 0;
    this._wirePadding = 0;
    this._extRaw = false;
    this._extProfile = 0;
    this._extOffset = 0;
    this._extLength = 0;
    this._extList = null;
    if (init === undefined) return;
    if (init.extensions && init.extensions.length > 0) {
      const list: RtpHeaderExtension[] = [];
      for (const e of init.extensions) {
        checkExtensionElement(e);
        if (indexOfId(list, e.id) >= 0) {
          throw new OutOfRangeError('ERR_RTP_EXTENSION_DUPLICATE', `RTP header extension id ${e.id} given twice`);
        }
        list.push({ id: e.id, data: asBuffer(e.data) });
      }
      this._extList = list;
    }
    this.checkFields(false);
  }

  /**
   * Parses one RTP packet from `buf[offset, offset + length)` without copying.
   * @throws RtpParseError (code `ERR_RTP_PARSE`) when the bytes are not a valid RTP packet.
   */
  static parse(buf: Uint8Array, offset = 0, length = buf.length - offset): RtpPacket {
    const pkt = new RtpPacket();
    const reason = pkt.decode(asBuffer(buf), offset, length);
    if (reason !== null) throw new RtpParseError('ERR_RTP_PARSE', reason, `not a valid RTP packet: ${reason}`);
    return pkt;
  }

  /**
   * Like `parse` but returns null instead of throwing; when `drops` is given, the reason of a
   * failure is counted there.
   */
  static tryParse(buf: Uint8Array, offset = 0, length = buf.length - offset, drops?: RtpDropCounters): RtpPacket | null {
    const pkt = new RtpPacket();
    const reason = pkt.decode(asBuffer(buf), offset, length);
    if (reason === null) return pkt;
    if (drops) drops[reason]++;
    return null;
  }

  private decode(buf: Buffer, offset: number, length: number): RtpParseFailureReason | null {
    if (!((offset | 0) === offset && (length | 0) === length && offset >= 0 && length >= 0 && offset + length <= buf.length)) return 'bad-length';
    if (length < RTP_HEADER_LENGTH) return 'truncated';
    const b0 = buf[offset]!;
    if (b0 >> 6 !== 2) return 'bad-version';
    const end = offset + length;
    const cc = b0 & 0x0f;
    let p = offset + RTP_HEADER_LENGTH + cc * 4;
    if (p > end) return 'truncated';
    if (b0 & 0x10) {
      if (p + 4 > end) return 'truncated';
      const profile = (buf[p]! << 8) | buf[p + 1]!;
      const extLength = ((buf[p + 2]! << 8) | buf[p + 3]!) * 4;
      p += 4;
      if (p + extLength > end) return 'truncated';
      if (profile === ONE_BYTE_PROFILE || isTwoByteProfile(profile)) {
        if (!validateExtensionElements(buf, p, extLength, profile !== ONE_BYTE_PROFILE)) return 'bad-extension';
      }
      this._extRaw = true;
      this._extProfile = profile;
      this._extOffset = p;
      this._extLength = extLength;
      p += extLength;
    }
    let padding = 0;
    if (b0 & 0x20) {
      padding = buf[end - 1]!;
      if (padding === 0 || p + padding > end) return 'bad-padding';
    }
    const b1 = buf[offset + 1]!;
    this.marker = b1 >= 0x80;
    this.payloadType = b1 & 0x7f;
    this.sequenceNumber = (buf[offset + 2]! << 8) | buf[offset + 3]!;
    this.timestamp = buf[offset + 4]! * 0x1000000 + ((buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!);
    this.ssrc = buf[offset + 8]! * 0x1000000 + ((buf[offset + 9]! << 16) | (buf[offset + 10]! << 8) | buf[offset + 11]!);
    if (cc > 0) {
      const csrcs: number[] = [];
      for (let i = 0, q = offset + RTP_HEADER_LENGTH; i < cc; i++, q += 4) {
        csrcs.push(buf[q]! * 0x1000000 + ((buf[q + 1]! << 16) | (buf[q + 2]! << 8) | buf[q + 3]!));
      }
      this.csrcs = csrcs;
    }
    this.paddingSize = padding;
    this._src = buf;
    this._payload = null;
    this._payloadOffset = p;
    this._payloadLength = end - padding - p;
    this._wirePadding = padding;
    return null;
  }

  /** Payload bytes (a view over the parsed buffer; no copy). Assigning replaces it. */
  get payload(): Buffer {
    if (this._payload === null) this._payload = this._src!.subarray(this._payloadOffset, this._payloadOffset + this._payloadLength);
    return this._payload;
  }

  set payload(value: Uint8Array) {
    this._payload = asBuffer(value);
  }

  /** Payload length in bytes, without creating a view. */
  get payloadLength(): number {
    return this._payload === null ? this._payloadLength : this._payload.length;
  }

  /**
   * The "defined by profile" value of the extension header as it will be written: 0xBEDE (one-byte),
   * 0x100X (two-byte), another profile kept raw from a parsed packet, or undefined without extensions.
   */
  get extensionProfile(): number | undefined {
    if (this._extRaw) return this._extProfile;
    if (this._extList === null || this._extList.length === 0) return undefined;
    return chooseTwoByteForm(this._extList, this.extensionForm) ? TWO_BYTE_PROFILE : ONE_BYTE_PROFILE;
  }

  /** The header extension elements (RFC 8285), in wire order. Change them with set/removeExtension. */
  get extensions(): readonly RtpHeaderExtension[] {
    if (this._extList === null) {
      this._extList = this._extRaw && this.rawIs8285()
        ? decodeExtensionElements(this._src!, this._extOffset, this._extLength, this._extProfile !== ONE_BYTE_PROFILE)
        : [];
    }
    return this._extList;
  }

  private rawIs8285(): boolean {
    return this._extProfile === ONE_BYTE_PROFILE || isTwoByteProfile(this._extProfile);
  }

  /** Value of extension `id` (a view, no copy), or undefined when the packet does not carry it. */
  getExtension(id: number): Buffer | undefined {
    if (this._extRaw) {
      if (!this.rawIs8285()) return undefined;
      const r = findExtensionElement(this._src!, this._extOffset, this._extLength, this._extProfile !== ONE_BYTE_PROFILE, id);
      if (r < 0) return undefined;
      const start = Math.floor(r / 256);
      return this._src!.subarray(start, start + (r % 256));
    }
    if (this._extList === null) return undefined;
    for (let i = 0; i < this._extList.length; i++) if (this._extList[i]!.id === id) return this._extList[i]!.data;
    return undefined;
  }

  /** Sets (or replaces) extension `id`; the value is kept by reference. Throws for an id outside 1..255. */
  setExtension(id: number, data: Uint8Array): void {
    const ext = { id, data: asBuffer(data) };
    checkExtensionElement(ext);
    const list = this.ownExtensions();
    const i = indexOfId(list, id);
    if (i >= 0) list[i] = ext;
    else list.push(ext);
  }

  /** Removes extension `id`; returns whether it was present. */
  removeExtension(id: number): boolean {
    const list = this.ownExtensions();
    const i = indexOfId(list, id);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  /**
   * Gives this packet the header extensions of `source` exactly as `source` would write them (a raw
   * received block stays raw and byte-exact, duplicates and foreign profiles included), without
   * copying the bytes. Used to re-wrap received packets (RTX, forwarding) without re-validating
   * network input.
   */
  copyExtensionsFrom(source: RtpPacket): void {
    if (this._payload === null) this._payload = this.payload;
    this.extensionForm = source.extensionForm;
    if (source._extRaw) {
      this._src = source._src;
      this._extRaw = true;
      this._extProfile = source._extProfile;
      this._extOffset = source._extOffset;
      this._extLength = source._extLength;
      this._extList = source._extList;
    } else {
      this._extRaw = false;
      this._extList = source._extList === null ? null : [...source._extList];
    }
  }

  /** Removes every header extension (and a raw extension block of another profile). */
  clearExtensions(): void {
    this._extRaw = false;
    this._extList = null;
  }

  // Switches from the raw block to an owned, editable list (a non-RFC 8285 block is dropped).
  private ownExtensions(): RtpHeaderExtension[] {
    const list = this.extensions as RtpHeaderExtension[];
    this._extRaw = false;
    this._extList = list;
    return list;
  }

  private extensionBlockLength(): number {
    if (this._extRaw) return 4 + this._extLength;
    const list = this._extList;
    if (list === null || list.length === 0) return 0;
    return 4 + ((extensionElementsLength(list, chooseTwoByteForm(list, this.extensionForm)) + 3) & ~3);
  }

  /** Bytes of the header as it will be written: fixed header, CSRCs and extension block. */
  get headerLength(): number {
    return RTP_HEADER_LENGTH + this.csrcs.length * 4 + this.extensionBlockLength();
  }

  /** A plain summary for logs and test output (payload and extension values as hex). */
  toJSON(): Record<string, unknown> {
    return {
      marker: this.marker,
      payloadType: this.payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      ssrc: this.ssrc,
      csrcs: [...this.csrcs],
      extensionProfile: this.extensionProfile,
      extensions: this.extensions.map((e) => ({ id: e.id, data: e.data.toString('hex') })),
      paddingSize: this.paddingSize,
      payloadLength: this.payloadLength,
      payload: this.payload.toString('hex'),
    };
  }

  /** Bytes `serialize()` will produce. */
  get byteLength(): number {
    return RTP_HEADER_LENGTH + this.csrcs.length * 4 + this.extensionBlockLength() + this.payloadLength + this.paddingSize;
  }

  private checkFields(requireSet: boolean): void {
    const { payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc } = this;
    if (requireSet && (pt === undefined || seq === undefined || ts === undefined || ssrc === undefined)) {
      throw new InvalidStateError('ERR_RTP_FIELD_UNSET', UNSET_FIELDS);
    }
    if (pt !== undefined && !(isUint32(pt) && pt <= 127)) {
      throw new OutOfRangeError('ERR_RTP_PAYLOAD_TYPE', `RTP payload type ${pt} is outside 0..127`);
    }
    if (seq !== undefined && !(isUint32(seq) && seq <= 0xffff)) {
      throw new OutOfRangeError('ERR_RTP_SEQUENCE_NUMBER', `RTP sequence number ${seq} is outside 0..65535`);
    }
    if (ts !== undefined && !isUint32(ts)) throw new OutOfRangeError('ERR_RTP_TIMESTAMP', `RTP timestamp ${ts} is not a uint32`);
    if (ssrc !== undefined && !isUint32(ssrc)) throw new OutOfRangeError('ERR_RTP_SSRC', `RTP SSRC ${ssrc} is not a uint32`);
    if (this.csrcs.length > 15) throw new OutOfRangeError('ERR_RTP_CSRC_COUNT', `${this.csrcs.length} CSRCs given; at most 15 fit (RFC 3550 §5.1)`);
    for (const c of this.csrcs) if (!isUint32(c)) throw new OutOfRangeError('ERR_RTP_CSRC', `CSRC ${c} is not a uint32`);
    if (!(isUint32(this.paddingSize) && this.paddingSize <= 255)) {
      throw new OutOfRangeError('ERR_RTP_PADDING', `RTP padding size ${this.paddingSize} is outside 0..255`);
    }
    if (!this._extRaw && this._extList !== null && this._extList.length > 0) {
      const twoByte = chooseTwoByteForm(this._extList, this.extensionForm);
      if (((extensionElementsLength(this._extList, twoByte) + 3) >> 2) > 0xffff) {
        throw new OutOfRangeError('ERR_RTP_EXTENSION_LENGTH', 'RTP header extensions exceed 65535 words');
      }
    }
  }

  /**
   * Writes the packet into `buf` at `offset` and returns the bytes written.
   * @throws InvalidStateError `ERR_RTP_FIELD_UNSET` when a field the sender fills is still unset,
   *   OutOfRangeError for an out-of-range field or a buffer that is too small.
   */
  serializeInto(buf: Buffer, offset = 0): number {
    this.checkFields(true);
    const size = this.byteLength;
    if (!(offset >= 0 && offset + size <= buf.length)) {
      throw new OutOfRangeError('ERR_RTP_BUFFER_TOO_SMALL', `RTP packet needs ${size} bytes at offset ${offset}; buffer has ${buf.length}`);
    }
    const cc = this.csrcs.length;
    const list = this._extList;
    const hasExt = this._extRaw || (list !== null && list.length > 0);
    buf[offset] = 0x80 | (this.paddingSize > 0 ? 0x20 : 0) | (hasExt ? 0x10 : 0) | cc;
    buf[offset + 1] = (this.marker ? 0x80 : 0) | this.payloadType!;
    const seq = this.sequenceNumber!;
    buf[offset + 2] = seq >> 8;
    buf[offset + 3] = seq;
    const ts = this.timestamp!;
    buf[offset + 4] = ts >>> 24;
    buf[offset + 5] = ts >>> 16;
    buf[offset + 6] = ts >>> 8;
    buf[offset + 7] = ts;
    const ssrc = this.ssrc!;
    buf[offset + 8] = ssrc >>> 24;
    buf[offset + 9] = ssrc >>> 16;
    buf[offset + 10] = ssrc >>> 8;
    buf[offset + 11] = ssrc;
    let p = offset + RTP_HEADER_LENGTH;
    for (let i = 0; i < cc; i++, p += 4) {
      const c = this.csrcs[i]!;
      buf[p] = c >>> 24;
      buf[p + 1] = c >>> 16;
      buf[p + 2] = c >>> 8;
      buf[p + 3] = c;
    }
    if (this._extRaw) {
      buf[p] = this._extProfile >> 8;
      buf[p + 1] = this._extProfile;
      buf[p + 2] = this._extLength >> 10;
      buf[p + 3] = this._extLength >> 2;
      // Extension blocks are a few words; a byte loop beats Buffer#copy's call overhead there.
      const src = this._src!;
      for (let i = 0, q = p + 4, r = this._extOffset; i < this._extLength; i++) buf[q + i] = src[r + i]!;
      p += 4 + this._extLength;
    } else if (hasExt) {
      const twoByte = chooseTwoByteForm(list!, this.extensionForm);
      const n = writeExtensionElements(buf, p + 4, list!, twoByte);
      const profile = twoByte ? TWO_BYTE_PROFILE : ONE_BYTE_PROFILE;
      buf[p] = profile >> 8;
      buf[p + 1] = profile;
      buf[p + 2] = n >> 10;
      buf[p + 3] = n >> 2;
      p += 4 + n;
    }
    if (this._payload === null) {
      const keepPadding = this.paddingSize === this._wirePadding ? this._wirePadding : 0;
      this._src!.copy(buf, p, this._payloadOffset, this._payloadOffset + this._payloadLength + keepPadding);
      p += this._payloadLength + keepPadding;
      if (keepPadding > 0) return p - offset;
    } else {
      buf.set(this._payload, p);
      p += this._payload.length;
    }
    if (this.paddingSize > 0) {
      buf.fill(0, p, p + this.paddingSize - 1);
      p += this.paddingSize;
      buf[p - 1] = this.paddingSize;
    }
    return p - offset;
  }

  /** Serializes into a new Buffer (see `serializeInto` for the errors). */
  serialize(): Buffer {
    const buf = Buffer.allocUnsafe(this.byteLength);
    this.serializeInto(buf, 0);
    return buf;
  }

  /** A deep copy that owns its bytes (payload and extension values copied), independent of the source buffer. */
  clone(): RtpPacket {
    const c = new RtpPacket();
    c.marker = this.marker;
    c.payloadType = this.payloadType;
    c.sequenceNumber = this.sequenceNumber;
    c.timestamp = this.timestamp;
    c.ssrc = this.ssrc;
    c.csrcs = this.csrcs.length ? [...this.csrcs] : EMPTY_CSRCS;
    c.paddingSize = this.paddingSize;
    c.extensionForm = this.extensionForm;
    c._payload = Buffer.from(this.payload);
    if (this._extRaw) {
      c._extRaw = true;
      c._extProfile = this._extProfile;
      c._src = Buffer.from(this._src!.subarray(this._extOffset, this._extOffset + this._extLength));
      c._extLength = this._extLength;
    } else if (this._extList !== null) {
      c._extList = this._extList.map((e) => ({ id: e.id, data: Buffer.from(e.data) }));
    }
    return c;
  }
}
