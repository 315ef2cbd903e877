// RTX retransmission payload format (RFC 4588 §4): the original sequence number (OSN) goes first
// in the payload; SSRC, payload type and sequence number become the RTX stream's.
import { InvalidStateError } from '../common/errors.js';
import { RtpPacket } from './rtp-packet.js';

/** What the RTX stream uses in place of the original packet's fields. */
export interface RtxStreamFields {
  /** RTX SSRC (RFC 4588 §4: a separate SSRC, session-multiplexed). */
  ssrc: number;
  /** RTX payload type (the one whose fmtp apt= names the original). */
  payloadType: number;
  /** Next sequence number of the RTX stream. */
  sequenceNumber: number;
}

/**
 * Builds the RTX form of `original` (RFC 4588 §4): payload = OSN (2 bytes) + original payload; marker,
 * timestamp, CSRCs and header extensions (byte-exact) are kept. Padding is not carried over.
 * @throws InvalidStateError when `original` has no sequence number.
 */
export function wrapRtx(original: RtpPacket, rtx: RtxStreamFields): RtpPacket {
  const osn = original.sequenceNumber;
  if (osn === undefined) throw new InvalidStateError('ERR_RTP_FIELD_UNSET', 'cannot wrap a packet without a sequence number into RTX');
  const payload = Buffer.allocUnsafe(2 + original.payloadLength);
  payload[0] = osn >> 8;
  payload[1] = osn;
  payload.set(original.payload, 2);
  const p = new RtpPacket({
    marker: original.marker,
    payloadType: rtx.payloadType,
    sequenceNumber: rtx.sequenceNumber,
    timestamp: original.timestamp,
    ssrc: rtx.ssrc,
    csrcs: original.csrcs,
    payload,
  });
  p.copyExtensionsFrom(original);
  return p;
}

/**
 * Recovers the original packet from an RTX packet: sequence number from the OSN, payload after it
 * (a view, no copy), `ssrc` and `payloadType` of the original stream. Returns null when the RTX
 * payload is shorter than the 2-byte OSN (RFC 4588 §4: network input, so no throw).
 */
export function unwrapRtx(rtx: RtpPacket, original: { ssrc: number; payloadType: number }): RtpPacket | null {
  const payload = rtx.payload;
  if (payload.length < 2) return null;
  const p = new RtpPacket({
    marker: rtx.marker,
    payloadType: original.payloadType,
    sequenceNumber: (payload[0]! << 8) | payload[1]!,
    timestamp: rtx.timestamp,
    ssrc: original.ssrc,
    csrcs: rtx.csrcs,
    payload: payload.subarray(2),
  });
  p.copyExtensionsFrom(rtx);
  return p;
}
