// Frames to RTP packets: wraps a payload packetizer with the RTP header fields (RFC 3550 §5.1):
// one timestamp per frame, consecutive sequence numbers, the marker bit on a video frame's last packet.
import { OutOfRangeError } from '../common/errors.js';
import { RTP_HEADER_LENGTH, RtpPacket } from '../rtp/rtp-packet.js';
import { MIN_PAYLOAD_MTU } from './media-errors.js';
import type { Packetizer } from './payloader.js';

/** Options of an RTP packetizer. */
export interface RtpPacketizerOptions {
  /** Largest RTP packet (header + payload) in bytes, before SRTP; default 1200 (fits every usual path). */
  mtu?: number;
  /** Bytes left free for CSRCs and header extensions the sender adds (e.g. 8 for transport-cc); default 0. */
  headerReserve?: number;
  /** Payload type to set; left unset for the sender when undefined. */
  payloadType?: number;
  /** SSRC to set; left unset for the sender when undefined. */
  ssrc?: number;
  /** First sequence number; when undefined, sequence numbers are left for the sender to fill. */
  initialSequenceNumber?: number;
}

/** Turns coded frames into RtpPackets with a payload packetizer. */
export class RtpPacketizer {
  private readonly payloadMtu: number;
  private sequenceNumber: number | undefined;

  constructor(
    private readonly packetizer: Packetizer,
    private readonly options: RtpPacketizerOptions = {},
  ) {
    const mtu = options.mtu ?? 1200;
    this.payloadMtu = mtu - RTP_HEADER_LENGTH - (options.headerReserve ?? 0);
    if (!Number.isInteger(this.payloadMtu) || this.payloadMtu < MIN_PAYLOAD_MTU) {
      throw new OutOfRangeError('ERR_MEDIA_MTU', `an RTP MTU of ${mtu} leaves ${this.payloadMtu} bytes of payload, below ${MIN_PAYLOAD_MTU}`);
    }
    const seq = options.initialSequenceNumber;
    if (seq !== undefined && (!Number.isInteger(seq) || seq < 0 || seq > 0xffff)) {
      throw new OutOfRangeError('ERR_MEDIA_FIELD', `sequence number must be in 0..65535, got ${seq}`);
    }
    this.sequenceNumber = seq;
  }

  /** RTP clock rate of the payload format. */
  get clockRate(): number {
    return this.packetizer.clockRate;
  }

  /** The packets for one frame sampled at RTP `timestamp` (uint32, in `clockRate` units). */
  packetize(frame: Uint8Array, timestamp: number): RtpPacket[] {
    const payloads = this.packetizer.packetize(frame, this.payloadMtu);
    return payloads.map((payload, k) => {
      const packet = new RtpPacket({
        payload,
        timestamp,
        marker: this.packetizer.markerOnLastPayload && k === payloads.length - 1,
        payloadType: this.options.payloadType,
        ssrc: this.options.ssrc,
        sequenceNumber: this.sequenceNumber,
      });
      if (this.sequenceNumber !== undefined) this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
      return packet;
    });
  }
}
