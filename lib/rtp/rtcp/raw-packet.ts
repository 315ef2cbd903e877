// An RTCP packet of a type this library does not decode (RFC 3550 §6.1 allows new types), kept
// byte-exact (header, body and padding) so a forwarder can pass it on.
import { OutOfRangeError } from '../../common/errors.js';

/** An undecoded RTCP packet. */
export class RtcpRawPacket {
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'raw' as const;
  /** The whole packet as received (a view over the parsed buffer). */
  readonly bytes: Buffer;

  /** Wraps the bytes of one complete RTCP packet. */
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  /** RTCP packet type (second byte). */
  get packetType(): number {
    return this.bytes[1]!;
  }

  /** The 5-bit count / format field. */
  get countField(): number {
    return this.bytes[0]! & 0x1f;
  }

  /** Bytes `serialize()` produces. */
  get byteLength(): number {
    return this.bytes.length;
  }

  /** Copies the packet into `buf` at `offset`; returns the bytes written. */
  serializeInto(buf: Buffer, offset = 0): number {
    if (!(offset >= 0 && offset + this.bytes.length <= buf.length)) {
      throw new OutOfRangeError('ERR_RTCP_BUFFER_TOO_SMALL', `RTCP packet needs ${this.bytes.length} bytes at offset ${offset}; buffer has ${buf.length}`);
    }
    this.bytes.copy(buf, offset);
    return this.bytes.length;
  }

  /** A copy of the packet bytes. */
  serialize(): Buffer {
    return Buffer.from(this.bytes);
  }
}
