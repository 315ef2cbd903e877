// Codec and header-extension capabilities: what the application declares it can send/receive.
// The library does not encode, so a codec is only a name, clock, parameters and feedback (RFC 8829 §5.1.2).
import type { RtcpFeedback } from './model.js';

/** Media kinds with RTP m-sections. */
export type RtpMediaKind = 'audio' | 'video';

/** A codec the application can send and receive. */
export interface CodecCapability {
  /** `audio` or `video`. */
  kind: RtpMediaKind;
  /** Encoding name, e.g. `opus`, `VP8`, `H264` (matched case-insensitively). */
  name: string;
  /** RTP clock rate in Hz. */
  clockRate: number;
  /** Channels (audio); absent means 1. */
  channels?: number;
  /** fmtp parameters offered for this codec. */
  parameters: Record<string, string>;
  /** RTCP feedback offered for this codec. */
  rtcpFeedback: RtcpFeedback[];
  /** Whether to offer/accept an RTX (RFC 4588) codec associated with this one. */
  rtx: boolean;
  /** Payload type to use in offers when it is free (otherwise one is allocated). */
  preferredPayloadType?: number;
  /** Payload type of the RTX codec in offers when it is free. */
  preferredRtxPayloadType?: number;
}

/** A header extension (RFC 8285) the application can use. */
export interface HeaderExtensionCapability {
  /** `audio` or `video`. */
  kind: RtpMediaKind;
  /** Extension URI. */
  uri: string;
  /** Id to use in offers when it is free in the BUNDLE group (otherwise one is allocated). */
  preferredId?: number;
}

/** Well-known header extension URIs. */
export const HeaderExtensionUri = {
  /** RFC 8843 §15.2 (BUNDLE demux by mid). */
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  /** RFC 8852 §3.1 (simulcast rid). */
  rtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  /** RFC 8852 §3.2 (rid of the stream RTX repairs). */
  repairedRtpStreamId: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  /** abs-send-time (for REMB). */
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  /** transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01). */
  transportWideCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  /** RFC 6464 client-to-mixer audio level. */
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
} as const;
