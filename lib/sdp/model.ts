// The typed SDP model: a session description and its media sections, as WebRTC uses them
// (RFC 8866 grammar; RFC 8829 JSEP attributes; RFC 8843 BUNDLE; RFC 8841 SCTP; RFC 8851/8853 rid/simulcast).

/** Media direction of an m-section (RFC 8866 §6.7). */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** DTLS role attribute `a=setup` (RFC 4145 §4, RFC 8842 §5). */
export type SetupRole = 'actpass' | 'active' | 'passive' | 'holdconn';

/** Address type of `c=` / `o=` lines. */
export type AddressType = 'IP4' | 'IP6';

/** A `c=IN <addrType> <address>` connection line. */
export interface SdpConnection {
  /** `IP4` or `IP6`. */
  addressType: AddressType;
  /** Connection address, `0.0.0.0` when unknown (RFC 8829 §5.2.1). */
  address: string;
}

/** The `o=` line (RFC 8866 §5.2). */
export interface SdpOrigin {
  /** Username, `-` in WebRTC. */
  username: string;
  /** Session id: decimal digits, kept as a string because it may exceed 2^53. */
  sessionId: string;
  /** Session version: decimal digits, kept as a string; JSEP increments it per new description. */
  sessionVersion: string;
  /** Network type, `IN`. */
  netType: string;
  /** `IP4` or `IP6`. */
  addressType: AddressType;
  /** Unicast address of the originator. */
  address: string;
}

/** `a=group:<semantics> <mid>...` (RFC 5888 §5); `BUNDLE` per RFC 8843. */
export interface SdpGroup {
  /** Group semantics, e.g. `BUNDLE`, `LS`. */
  semantics: string;
  /** Identification tags of the grouped m-sections, in order; the first of a BUNDLE group is its tag. */
  mids: string[];
}

/** `a=fingerprint:<hash-function> <hex:hex...>` (RFC 8122 §5). */
export interface DtlsFingerprint {
  /** Hash function name in lower case, e.g. `sha-256`. */
  algorithm: string;
  /** Upper-case colon-separated hex bytes. */
  value: string;
}

/** One `rtcp-fb` entry (RFC 4585 §4.2), e.g. `nack pli` → type `nack`, parameter `pli`. */
export interface RtcpFeedback {
  /** Feedback type: `nack`, `ccm`, `goog-remb`, `transport-cc`, ... */
  type: string;
  /** Optional parameter: `pli`, `fir`, ... */
  parameter?: string;
}

/** A negotiated or offered codec of an RTP m-section: rtpmap + fmtp + rtcp-fb of one payload type. */
export interface SdpCodec {
  /** RTP payload type, 0..127. */
  payloadType: number;
  /** Encoding name as written, e.g. `opus`, `VP8`, `rtx`. Compare case-insensitively. */
  name: string;
  /** Clock rate in Hz. */
  clockRate: number;
  /** Channel count (audio); absent when the rtpmap has no third field. */
  channels?: number;
  /**
   * fmtp parameters in line order (RFC 8866 §6.15). A token without `=` (such as RED's `111/111`)
   * is kept as a key with the empty string as value.
   */
  parameters: Record<string, string>;
  /** `a=rtcp-fb:<pt> ...` lines for this payload type, in order. */
  rtcpFeedback: RtcpFeedback[];
}

/** `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8). */
export interface SdpExtmap {
  /** Local identifier 1..14 (one-byte) or 1..255 (two-byte, RFC 8285 §4.3). */
  id: number;
  /** Extension URI. */
  uri: string;
  /** Optional direction restriction. */
  direction?: MediaDirection;
  /** Optional extension attributes after the URI. */
  attributes?: string;
}

/** One `a=ssrc:<ssrc> <attribute>[:<value>]` line (RFC 5576 §4.1). */
export interface SdpSsrcAttribute {
  /** The SSRC, 0..2^32-1. */
  ssrc: number;
  /** Attribute name, e.g. `cname`, `msid`. */
  attribute: string;
  /** Attribute value when present. */
  value?: string;
}

/** `a=ssrc-group:<semantics> <ssrc>...` (RFC 5576 §4.2); `FID` pairs a primary SSRC with its RTX SSRC. */
export interface SdpSsrcGroup {
  /** Semantics: `FID`, `SIM`, `FEC-FR`, ... */
  semantics: string;
  /** SSRCs in order (for FID: primary, then repair). */
  ssrcs: number[];
}

/** `a=msid:<stream-id> [<track-id>]` (RFC 8830 §2). */
export interface SdpMsid {
  /** MediaStream id, `-` for none. */
  stream: string;
  /** Track id (appdata), absent when not given. */
  track?: string;
}

/** `a=rid:<id> <send|recv> [pt=...;restrictions]` (RFC 8851 §4). */
export interface SdpRid {
  /** RTP stream id: letters, digits, `-`, `_`. */
  id: string;
  /** Direction of the RTP stream the rid describes. */
  direction: 'send' | 'recv';
  /** Payload types allowed for this stream (`pt=`); empty means all. */
  payloadTypes: number[];
  /** Other restrictions (`max-width=1280`, ...), in line order. */
  restrictions: Record<string, string>;
}

/** One alternative in a simulcast stream list (RFC 8853 §5.1): a rid, paused when written with `~`. */
export interface SimulcastRid {
  /** The rid. */
  rid: string;
  /** `~` prefix: the stream is initially paused. */
  paused: boolean;
}

/** `a=simulcast:` (RFC 8853 §5.1): each stream is a list of alternative rids. */
export interface SdpSimulcast {
  /** Streams the sender of this description sends. */
  send: SimulcastRid[][];
  /** Streams the sender of this description receives. */
  recv: SimulcastRid[][];
}

/** An ICE candidate (RFC 8839 §5.1). */
export interface SdpCandidate {
  /** Foundation: 1..32 ice-chars. */
  foundation: string;
  /** Component id: 1 = RTP (the only one with rtcp-mux). */
  component: number;
  /** Transport in lower case: `udp`, `tcp`. */
  transport: string;
  /** Priority, 0..2^32-1. */
  priority: number;
  /** Connection address: IPv4, IPv6 or an mDNS/FQDN name. */
  address: string;
  /** Port, 0..65535. */
  port: number;
  /** `host`, `srflx`, `prflx`, `relay`. */
  type: string;
  /** `raddr`, when present. */
  relatedAddress?: string;
  /** `rport`, when present. */
  relatedPort?: number;
  /** `tcptype` (RFC 6544): `active`, `passive`, `so`. */
  tcpType?: string;
  /** Other extension attributes (`generation`, `ufrag`, `network-id`, ...), in order. */
  extensions: Array<{ name: string; value: string }>;
}

/** Legacy `a=sctpmap:<port> <app> [<streams>]` (draft-ietf-mmusic-sctp-sdp-05, older peers). */
export interface SdpSctpmap {
  /** SCTP port. */
  port: number;
  /** Application, `webrtc-datachannel`. */
  app: string;
  /** Maximum number of streams, when given. */
  streams?: number;
}

/** An attribute this model does not type, kept verbatim so that nothing is lost in a round trip. */
export interface SdpOtherAttribute {
  /** Attribute name (text before the first `:`). */
  name: string;
  /** Value after the first `:`, absent for flag attributes. */
  value?: string;
}

/** ICE and DTLS attributes valid at session or media level (RFC 8839 §5, RFC 8842 §5). */
export interface SdpTransportAttributes {
  /** `a=ice-ufrag`. */
  iceUfrag?: string;
  /** `a=ice-pwd`. */
  icePwd?: string;
  /** `a=ice-options` tokens, e.g. `trickle`, `ice2`. */
  iceOptions: string[];
  /** Every `a=fingerprint` line (RFC 8122 allows several). */
  fingerprints: DtlsFingerprint[];
  /** `a=setup`. */
  setup?: SetupRole;
}

/** `rcvr-rtt` of `a=rtcp-xr` (RFC 3611 §5.1): who may send RRTR blocks, and their largest size. */
export interface SdpRtcpXrReceiverRtt {
  /** `all`: every participant; `sender`: only active senders. */
  mode: 'all' | 'sender';
  /** `max-size` in bytes, when given. */
  maxSize?: number;
}

/** One m-section (RFC 8866 §5.14) with the attributes WebRTC uses. */
export interface SdpMediaSection extends SdpTransportAttributes {
  /** Media type: `audio`, `video`, `application`, or anything else a peer wrote. */
  kind: string;
  /** Port; 0 means rejected or (with `bundleOnly`) bundled-only (RFC 8843 §6). */
  port: number;
  /** Transport protocol, e.g. `UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, `DTLS/SCTP`. */
  protocol: string;
  /** The m-line format list verbatim: payload types for RTP, `webrtc-datachannel` or `5000` for SCTP. */
  formats: string[];
  /** `c=` line, if any. */
  connection?: SdpConnection;
  /** `b=` lines as `type` → kbps/bps value. */
  bandwidth: Array<{ type: string; value: number }>;
  /** `a=mid`. */
  mid?: string;
  /** Explicit direction attribute; absent means the SDP default `sendrecv`. */
  direction?: MediaDirection;
  /** Codecs of RTP formats that have an rtpmap (or a static RFC 3551 payload type), in m-line order. */
  codecs: SdpCodec[];
  /** `a=rtcp-fb:* ...` lines, which apply to every codec. */
  rtcpFeedbackWildcard: RtcpFeedback[];
  /** `a=extmap` lines. */
  extmaps: SdpExtmap[];
  /** `a=extmap-allow-mixed` at media level (RFC 8285 §6). */
  extmapAllowMixed: boolean;
  /** `a=ssrc` lines. */
  ssrcs: SdpSsrcAttribute[];
  /** `a=ssrc-group` lines. */
  ssrcGroups: SdpSsrcGroup[];
  /** `a=msid` lines. */
  msids: SdpMsid[];
  /** `a=rid` lines. */
  rids: SdpRid[];
  /** `a=simulcast`, if present. */
  simulcast?: SdpSimulcast;
  /** `a=candidate` lines. */
  candidates: SdpCandidate[];
  /** `a=end-of-candidates` (RFC 8840 §8.2). */
  endOfCandidates: boolean;
  /** `a=rtcp:<port> [IN IP4 <addr>]` (RFC 3605), kept for peers that want it. */
  rtcp?: { port: number; connection?: SdpConnection };
  /** `a=rtcp-mux` (RFC 5761). */
  rtcpMux: boolean;
  /** `a=rtcp-rsize` (RFC 5506). */
  rtcpRsize: boolean;
  /** `a=rtcp-xr:` `rcvr-rtt=<mode>[:<max-size>]` (RFC 3611 §5.1); the other XR parameters are not kept. */
  rtcpXrReceiverRtt?: SdpRtcpXrReceiverRtt;
  /** `a=bundle-only` (RFC 8843 §6). */
  bundleOnly: boolean;
  /** `a=sctp-port` (RFC 8841 §5). */
  sctpPort?: number;
  /** `a=max-message-size` (RFC 8841 §6), 0..2^53-1; 0 means no limit. */
  maxMessageSize?: number;
  /** Legacy `a=sctpmap`. */
  sctpmap?: SdpSctpmap;
  /** Attributes not modelled above, in order. */
  otherAttributes: SdpOtherAttribute[];
}

/** A whole session description. */
export interface SdpSessionDescription extends SdpTransportAttributes {
  /** The `o=` line. */
  origin: SdpOrigin;
  /** `s=` text, `-` in WebRTC. */
  sessionName: string;
  /** `t=<start> <stop>`, `0 0` in WebRTC. */
  timing: { start: number; stop: number };
  /** Session-level `c=` line, if any. */
  connection?: SdpConnection;
  /** `a=group` lines. */
  groups: SdpGroup[];
  /** Session-level `a=extmap-allow-mixed` (RFC 8285 §6). */
  extmapAllowMixed: boolean;
  /** `a=ice-lite` (RFC 8839 §5.3). */
  iceLite: boolean;
  /** `a=msid-semantic:<semantic> [<ids>]` (obsolete but sent by every browser). */
  msidSemantic?: { semantic: string; ids: string[] };
  /** Session-level direction attribute, applied to m-sections without their own. */
  direction?: MediaDirection;
  /** Session-level attributes not modelled above, in order. */
  otherAttributes: SdpOtherAttribute[];
  /** The m-sections in order. */
  media: SdpMediaSection[];
}

/** Creates an m-section with every list empty and every flag false. */
export function createMediaSection(kind: string, port: number, protocol: string, formats: string[]): SdpMediaSection {
  return {
    kind,
    port,
    protocol,
    formats,
    bandwidth: [],
    iceOptions: [],
    fingerprints: [],
    codecs: [],
    rtcpFeedbackWildcard: [],
    extmaps: [],
    extmapAllowMixed: false,
    ssrcs: [],
    ssrcGroups: [],
    msids: [],
    rids: [],
    candidates: [],
    endOfCandidates: false,
    rtcpMux: false,
    rtcpRsize: false,
    bundleOnly: false,
    otherAttributes: [],
  };
}

/** True when the m-section carries RTP (its protocol names RTP, RFC 8866 §5.14). */
export function isRtpSection(section: SdpMediaSection): boolean {
  // WebRTC's own profile answered without the expression (asked several times per m-section per negotiation).
  return section.protocol === 'UDP/TLS/RTP/SAVPF' || /(^|\/)RTP\//.test(section.protocol);
}

/** True when the m-section is an SCTP data channel section, current or legacy form (RFC 8841 §4). */
export function isSctpSection(section: SdpMediaSection): boolean {
  return section.kind === 'application' && /(^|\/)SCTP$/.test(section.protocol);
}
