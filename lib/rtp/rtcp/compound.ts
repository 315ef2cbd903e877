// Compound RTCP (RFC 3550 §6.1) and reduced-size RTCP (RFC 5506 §3): a sequence of RTCP packets in
// one datagram, each decoded by type/FMT; unknown types and FMTs are kept raw, byte-exact.
import { OutOfRangeError } from '../../common/errors.js';
import { RtpParseError, type RtpDropCounters, type RtpParseFailureReason } from '../errors.js';
import { RtcpApplicationDefined } from './application-defined.js';
import { RtcpCongestionControlFeedback } from './congestion-control-feedback.js';
import { RtcpExtendedReport } from './extended-report.js';
import { PSFB, RTPFB } from './feedback-base.js';
import { RtcpFullIntraRequest } from './full-intra-request.js';
import { RtcpGenericNack } from './generic-nack.js';
import { RtcpGoodbye } from './goodbye.js';
import { RtcpPictureLossIndication } from './picture-loss-indication.js';
import { RtcpRawPacket } from './raw-packet.js';
import { RtcpReceiverEstimatedMaxBitrate } from './receiver-estimated-max-bitrate.js';
import { RtcpReceiverReport } from './receiver-report.js';
import { RtcpSenderReport } from './sender-report.js';
import { RtcpSourceDescription } from './source-description.js';
import { RtcpTransportCcFeedback } from './transport-cc-feedback.js';
import { RtcpUnknownFeedback } from './unknown-feedback.js';

/** Any RTCP packet; switch on `kind`. */
export type RtcpPacket =
  | RtcpSenderReport
  | RtcpReceiverReport
  | RtcpSourceDescription
  | RtcpGoodbye
  | RtcpApplicationDefined
  | RtcpExtendedReport
  | RtcpGenericNack
  | RtcpTransportCcFeedback
  | RtcpCongestionControlFeedback
  | RtcpPictureLossIndication
  | RtcpFullIntraRequest
  | RtcpReceiverEstimatedMaxBitrate
  | RtcpUnknownFeedback
  | RtcpRawPacket;

// Decodes one packet's body by type; null when the body is malformed.
function decodeOne(buf: Buffer, start: number, bodyStart: number, end: number, type: number, count: number): RtcpPacket | null {
  switch (type) {
    case RtcpSenderReport.TYPE:
      return RtcpSenderReport.parseBody(buf, bodyStart, end, count);
    case RtcpReceiverReport.TYPE:
      return RtcpReceiverReport.parseBody(buf, bodyStart, end, count);
    case RtcpSourceDescription.TYPE:
      return RtcpSourceDescription.parseBody(buf, bodyStart, end, count);
    case RtcpGoodbye.TYPE:
      return RtcpGoodbye.parseBody(buf, bodyStart, end, count);
    case RtcpApplicationDefined.TYPE:
      return RtcpApplicationDefined.parseBody(buf, bodyStart, end, count);
    case RtcpExtendedReport.TYPE:
      return RtcpExtendedReport.parseBody(buf, bodyStart, end);
    case RTPFB:
    case PSFB: {
      if (type === RTPFB && count === RtcpCongestionControlFeedback.FMT) return RtcpCongestionControlFeedback.parseBody(buf, bodyStart, end);
      if (bodyStart + 8 > end) return null;
      const sender = buf.readUInt32BE(bodyStart);
      const media = buf.readUInt32BE(bodyStart + 4);
      const fci = bodyStart + 8;
      if (type === RTPFB) {
        if (count === RtcpGenericNack.FMT) return RtcpGenericNack.parseFci(buf, fci, end, sender, media);
        if (count === RtcpTransportCcFeedback.FMT) return RtcpTransportCcFeedback.parseFci(buf, fci, end, sender, media);
      } else {
        if (count === RtcpPictureLossIndication.FMT) return RtcpPictureLossIndication.parseFci(fci, end, sender, media);
        if (count === RtcpFullIntraRequest.FMT) return RtcpFullIntraRequest.parseFci(buf, fci, end, sender, media);
        if (count === RtcpReceiverEstimatedMaxBitrate.FMT && RtcpReceiverEstimatedMaxBitrate.isRemb(buf, fci, end)) {
          return RtcpReceiverEstimatedMaxBitrate.parseFci(buf, fci, end, sender, media);
        }
      }
      return new RtcpUnknownFeedback({ packetType: type, fmt: count, senderSsrc: sender, mediaSsrc: media, fci: buf.subarray(fci, end) });
    }
    default:
      return new RtcpRawPacket(buf.subarray(start, end));
  }
}

// Walks the compound packet; returns the failure reason or null, filling `out`.
function decode(buf: Buffer, offset: number, length: number, out: RtcpPacket[]): RtpParseFailureReason | null {
  if (!((offset | 0) === offset && (length | 0) === length && offset >= 0 && length >= 0 && offset + length <= buf.length)) return 'bad-length';
  if (length < 4) return 'truncated';
  const end = offset + length;
  let p = offset;
  while (p < end) {
    if (p + 4 > end) return 'truncated';
    const b0 = buf[p]!;
    if (b0 >> 6 !== 2) return 'bad-version';
    const size = (buf.readUInt16BE(p + 2) + 1) * 4;
    if (p + size > end) return 'truncated';
    let padding = 0;
    if (b0 & 0x20) {
      padding = buf[p + size - 1]!;
      if (padding === 0 || padding > size - 4) return 'bad-padding';
    }
    const type = buf[p + 1]!;
    // Unknown types keep their padding inside the raw bytes; decoded ones remember its size.
    const known = type >= 200 && type <= 207;
    const pkt = decodeOne(buf, p, p + 4, known ? p + size - padding : p + size, type, b0 & 0x1f);
    if (pkt === null) return 'bad-field';
    if (pkt.kind !== 'raw') pkt.paddingSize = padding;
    out.push(pkt);
    p += size;
  }
  return null;
}

/**
 * Parses a compound (or reduced-size, RFC 5506) RTCP packet from `buf[offset, offset + length)`.
 * Byte fields of the result (raw packets, FCI, profile extensions, SDES values) are views over `buf`.
 * @throws RtpParseError (code `ERR_RTCP_PARSE`) when any packet in it is malformed.
 */
export function parseRtcp(buf: Uint8Array, offset = 0, length = buf.length - offset): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const reason = decode(b, offset, length, out);
  if (reason !== null) throw new RtpParseError('ERR_RTCP_PARSE', reason, `not a valid RTCP packet: ${reason}`);
  return out;
}

/** Like `parseRtcp` but returns null instead of throwing; counts the reason in `drops` when given. */
export function tryParseRtcp(buf: Uint8Array, offset = 0, length = buf.length - offset, drops?: RtpDropCounters): RtcpPacket[] | null {
  const out: RtcpPacket[] = [];
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const reason = decode(b, offset, length, out);
  if (reason === null) return out;
  if (drops) drops[reason]++;
  return null;
}

/** Bytes `serializeRtcp(packets)` produces. */
export function rtcpByteLength(packets: readonly RtcpPacket[]): number {
  let n = 0;
  for (let i = 0; i < packets.length; i++) n += packets[i]!.byteLength;
  return n;
}

/** Writes the packets back to back into `buf` at `offset`; returns the bytes written. */
export function serializeRtcpInto(packets: readonly RtcpPacket[], buf: Buffer, offset = 0): number {
  let p = offset;
  for (const pkt of packets) p += pkt.serializeInto(buf, p);
  return p - offset;
}

/**
 * Serializes packets into one compound RTCP datagram.
 * @throws OutOfRangeError for an empty list or an out-of-range field.
 */
export function serializeRtcp(packets: readonly RtcpPacket[]): Buffer {
  if (packets.length === 0) throw new OutOfRangeError('ERR_RTCP_EMPTY', 'an RTCP datagram needs at least one packet');
  const buf = Buffer.alloc(rtcpByteLength(packets));
  serializeRtcpInto(packets, buf, 0);
  return buf;
}
