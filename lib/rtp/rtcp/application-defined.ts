// RTCP APP, PT 204 (RFC 3550 §6.7): subtype, SSRC, 4-character name and application data.
import { OutOfRangeError } from '../../common/errors.js';
import { RtcpPacketBase, checkUint } from './rtcp-packet-base.js';

/** RTCP APP (RFC 3550 §6.7). */
export class RtcpApplicationDefined extends RtcpPacketBase {
  /** Packet type 204. */
  static readonly TYPE = 204;
  /** Discriminator of the RtcpPacket union. */
  readonly kind = 'app' as const;
  readonly packetType = 204;
  /** 5-bit subtype (in the count field). */
  subtype: number;
  /** SSRC/CSRC of the sender. */
  ssrc: number;
  /** Four ASCII characters. */
  name: string;
  /** Application-dependent data (RFC 3550 §6.7 wants a multiple of 4 bytes; padding is added otherwise). */
  data: Buffer;

  /** Builds an APP packet; fields are checked when serialized. */
  constructor(init: { subtype: number; ssrc: number; name: string; data?: Buffer }) {
    super();
    this.subtype = init.subtype;
    this.ssrc = init.ssrc;
    this.name = init.name;
    this.data = init.data ?? Buffer.alloc(0);
  }

  /** Decodes the body [start, end) with subtype `count`; null when malformed. */
  static parseBody(buf: Buffer, start: number, end: number, count: number): RtcpApplicationDefined | null {
    if (start + 8 > end) return null;
    return new RtcpApplicationDefined({
      subtype: count,
      ssrc: buf.readUInt32BE(start),
      name: buf.toString('latin1', start + 4, start + 8),
      data: buf.subarray(start + 8, end),
    });
  }

  protected countField(): number {
    return this.subtype;
  }

  protected bodyLength(): number {
    return 8 + this.data.length;
  }

  protected check(): void {
    checkUint(this.ssrc, 32, 'APP SSRC');
    if (!/^[\x00-\xff]{4}$/.test(this.name)) {
      throw new OutOfRangeError('ERR_RTCP_FIELD', `APP name "${this.name}" must be 4 characters (RFC 3550 §6.7)`);
    }
  }

  protected writeBody(buf: Buffer, o: number): void {
    buf.writeUInt32BE(this.ssrc, o);
    buf.write(this.name, o + 4, 4, 'latin1');
    buf.set(this.data, o + 8);
  }
}
