// How a producer's RTP maps onto a consumer's negotiation (docs/sfu.md "Rewrite"): payload type by
// codec (mime type + clock rate, RFC 3551 §6 / RFC 8829 §5.1.3), header-extension ids by URI
// (RFC 8285 §5). Pure: negotiated parameters in, the engine's lookup tables out.
import { PwtError } from '../common/errors.js';
import type { RTCRtpSendParameters } from '../peer/rtp-sender.js';
import {
  ABS_SEND_TIME_URI,
  SDES_MID_URI,
  SDES_REPAIRED_RTP_STREAM_ID_URI,
  SDES_RTP_STREAM_ID_URI,
  TRANSPORT_CC_URI,
} from '../rtp/extensions/uris.js';
import { FORWARD_UNMAPPED } from '../native/forward.js';

/** The negotiated codec and header extensions of one side (RTCRtpSender.getParameters() shape). */
export type NegotiatedRtp = Pick<RTCRtpSendParameters, 'codecs' | 'headerExtensions'>;

const RTX_SUFFIX = '/rtx';

/** The engine's tables for one consumer of one producer. */
export interface ConsumerMapping {
  /** Producer payload type (0..127) -> consumer payload type; FORWARD_UNMAPPED drops. */
  readonly payloadTypes: Uint8Array;
  /** Producer extension id (0..255) -> consumer id; 0 strips the element. */
  readonly extensionIds: Uint8Array;
  /** Consumer ids the engine writes per leg (0: not negotiated). */
  readonly absSendTimeId: number;
  readonly transportCcId: number;
  /** Clock rate of the consumer's codec. */
  readonly clockRate: number;
  /** RFC 4588 RTX payload type of the consumer's codec (FORWARD_UNMAPPED: none negotiated). */
  readonly rtxPayloadType: number;
}

/**
 * Extensions whose values name the producer's own m= section or simulcast stream: forwarding them
 * would misroute at the subscriber, whose receiver knows the stream by its announced SSRC.
 */
const STRIPPED_URIS = new Set([SDES_MID_URI, SDES_RTP_STREAM_ID_URI, SDES_REPAIRED_RTP_STREAM_ID_URI]);

/** Thrown when the consumer negotiated none of the producer's codecs. */
export class SfuCodecMismatchError extends PwtError {
  constructor(message: string) {
    super('InvalidAccessError', 'ERR_SFU_CODEC_MISMATCH', message);
  }
}

function codecKey(c: { mimeType: string; clockRate: number }): string {
  return `${c.mimeType.toLowerCase()}/${c.clockRate}`;
}

/**
 * The tables that rewrite `producer`'s packets for `consumer`. Codecs match by mime type and clock
 * rate (RTX, whose payload would need its own rewrite, is not forwarded); extensions by URI, with
 * mid/rid/repaired-rid stripped and abs-send-time / transport-cc written per leg.
 */
export function mapConsumer(producer: NegotiatedRtp, consumer: NegotiatedRtp): ConsumerMapping {
  const payloadTypes = new Uint8Array(128).fill(FORWARD_UNMAPPED);
  const byCodec = new Map<string, { payloadType: number; clockRate: number }>();
  for (const c of consumer.codecs) if (!c.mimeType.toLowerCase().endsWith(RTX_SUFFIX)) byCodec.set(codecKey(c), c);
  let clockRate = 0;
  let target0: { payloadType: number; clockRate: number } | undefined;
  for (const c of producer.codecs) {
    if (c.mimeType.toLowerCase().endsWith(RTX_SUFFIX) || c.payloadType > 127) continue;
    const target = byCodec.get(codecKey(c));
    if (!target) continue;
    payloadTypes[c.payloadType] = target.payloadType;
    if (clockRate === 0) {
      clockRate = target.clockRate;
      target0 = target;
    }
  }
  if (clockRate === 0) {
    const p = producer.codecs.map((c) => c.mimeType).join(', ') || 'none';
    const q = consumer.codecs.map((c) => c.mimeType).join(', ') || 'none';
    throw new SfuCodecMismatchError(`the consumer negotiated none of the producer's codecs (producer: ${p}; consumer: ${q})`);
  }
  const extensionIds = new Uint8Array(256);
  const consumerIds = new Map(consumer.headerExtensions.map((e) => [e.uri, e.id]));
  for (const e of producer.headerExtensions) {
    if (e.id < 1 || e.id > 255 || STRIPPED_URIS.has(e.uri)) continue;
    extensionIds[e.id] = consumerIds.get(e.uri) ?? 0;
  }
  // getParameters() lists the RTX codec right after the codec it repairs (lib/peer/rtp-sender.ts).
  const i = consumer.codecs.findIndex((c) => c.payloadType === target0?.payloadType);
  const rtx = i >= 0 ? consumer.codecs[i + 1] : undefined;
  const rtxPayloadType = rtx && rtx.mimeType.toLowerCase().endsWith(RTX_SUFFIX) ? rtx.payloadType : FORWARD_UNMAPPED;
  return {
    rtxPayloadType,
    payloadTypes,
    extensionIds,
    absSendTimeId: consumerIds.get(ABS_SEND_TIME_URI) ?? 0,
    transportCcId: consumerIds.get(TRANSPORT_CC_URI) ?? 0,
    clockRate,
  };
}
