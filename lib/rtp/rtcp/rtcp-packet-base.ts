// Common RTCP header (RFC 3550 §6.4.1: V=2, P, count, packet type, length in words - 1) and the
// padding rule (RFC 3550 §6.4.1: the last octet counts the padding octets), shared by every type.
import { OutOfRangeError } from '../../common/errors.js';

/** Throws a typed error unless `value` is an unsigned integer of `bits` bits. */
export function checkUint(value: number, bits: number, what: string): void {
  if (!(Number.isInteger(value) && value >= 0 && value < 2 ** bits)) {
    throw new OutOfRangeError('ERR_RTCP_FIELD', `${what} ${value} is not an unsigned ${bits}-bit integer`);
  }
}

/** Throws a typed error unless `length` is a multiple of 4 (RTCP fields end on 32-bit boundaries). */
export function checkAligned(length: number, what: string): void {
  if (length % 4 !== 0) throw new OutOfRangeError('ERR_RTCP_FIELD', `${what} is ${length} bytes; it must be a multiple of 4`);
}

/**
 * Base of every structured RTCP packet: writes the 4-byte header and padding around the body a
 * subclass writes. A body that is not a multiple of 4 bytes gets the padding it needs (P bit set),
 * as libwebrtc does for transport-cc feedback.
 */
export abstract class RtcpPacketBase {
  /** RTCP packet type (200 SR, 201 RR, ... 207 XR). */
  abstract readonly packetType: number;
  /**
   * Padding octets (including the count octet) written after the body; parse fills it from the
   * P bit so a packet is written back as received. More is added if the body needs alignment.
   */
  paddingSize = 0;

  /** The 5-bit count / format field of the header. */
  protected abstract countField(): number;
  /** Bytes of the body (everything after the 4-byte header, before padding). */
  protected abstract bodyLength(): number;
  /** Writes the body at `offset`; the fields are already checked. */
  protected abstract writeBody(buf: Buffer, offset: number): void;
  /** Throws a typed error for an out-of-range field. */
  protected abstract check(): void;

  private padding(body: number): number {
    let pad = this.paddingSize;
    while ((body + pad) & 3) pad++;
    return pad;
  }

  /** Bytes `serialize()` produces. */
  get byteLength(): number {
    const body = 4 + this.bodyLength();
    return body + this.padding(body);
  }

  /** Writes the packet into `buf` at `offset`; returns the bytes written. Throws OutOfRangeError for a bad field or short buffer. */
  serializeInto(buf: Buffer, offset = 0): number {
    this.check();
    const body = 4 + this.bodyLength();
    const pad = this.padding(body);
    const size = body + pad;
    checkUint(this.paddingSize, 8, 'RTCP padding size');
    if (pad > 255) throw new OutOfRangeError('ERR_RTCP_FIELD', `RTCP padding ${pad} does not fit one octet`);
    if (size > 4 * 65536) throw new OutOfRangeError('ERR_RTCP_FIELD', `RTCP packet of ${size} bytes exceeds the 16-bit length field`);
    if (!(offset >= 0 && offset + size <= buf.length)) {
      throw new OutOfRangeError('ERR_RTCP_BUFFER_TOO_SMALL', `RTCP packet needs ${size} bytes at offset ${offset}; buffer has ${buf.length}`);
    }
    const count = this.countField();
    checkUint(count, 5, 'RTCP count field');
    buf[offset] = 0x80 | (pad > 0 ? 0x20 : 0) | count;
    buf[offset + 1] = this.packetType;
    buf.writeUInt16BE(size / 4 - 1, offset + 2);
    this.writeBody(buf, offset + 4);
    if (pad > 0) {
      buf.fill(0, offset + body, offset + size - 1);
      buf[offset + size - 1] = pad;
    }
    return size;
  }

  /** Serializes into a new Buffer. */
  serialize(): Buffer {
    const buf = Buffer.alloc(this.byteLength);
    this.serializeInto(buf, 0);
    return buf;
  }
}
