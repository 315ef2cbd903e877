// createAnswer as a pure function (RFC 8829 §5.3; RFC 3264 §6; RFC 8843 §7.3 BUNDLE; RFC 8842 §5.3
// DTLS role; RFC 4588 §8 RTX; RFC 8285 §6 extmap; RFC 8853 §5.3 simulcast; RFC 8841 data channel).
import { bundleGroups, isRejected } from './bundle.js';
import type { CodecCapability, HeaderExtensionCapability, RtpMediaKind } from './capabilities.js';
import { findMatchingCapability, isRtxCodec, rtxAssociatedPayloadType } from './codec-match.js';
import { defaultCodecs, defaultHeaderExtensions } from './default-capabilities.js';
import { answerDirection, directionReceives, directionSends } from './direction.js';
import type { LocalSenderDescription, LocalSessionParameters, LocalTransportParameters } from './local-parameters.js';
import {
  createMediaSection,
  isRtpSection,
  isSctpSection,
  type MediaDirection,
  type RtcpFeedback,
  type SdpCodec,
  type SdpMediaSection,
  type SdpMsid,
  type SdpSessionDescription,
  type SdpSimulcast,
  type SetupRole,
} from './model.js';
import { addSenderSsrcs, applyTransport, baseDescription, checkTransport } from './local-sections.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './offer.js';
import { validateRemoteDescription, type CheckedRemoteDescription } from './remote-transport.js';
import { SdpInvalidAccessError } from './sdp-error.js';
import { filterList, mapList } from '../common/list-map.js';

/** Codecs whose fmtp parameters define the format: the answer echoes the offer's (lowercase names). */
const FORMAT_DEFINED: ReadonlySet<string> = new Set(['h264', 'vp9', 'av1']);

/** Local decisions for one offered m-section (looked up by its mid). */
export interface LocalAnswerMedia {
  /** Direction of the local transceiver; the answer uses its intersection with the offer. */
  direction?: MediaDirection;
  /** Codecs accepted, in preference order; default the answer-wide codecs. */
  codecs?: CodecCapability[];
  /** Header extensions accepted; default the answer-wide ones. */
  headerExtensions?: HeaderExtensionCapability[];
  /** An installed module serves RRTR/DLRR: answer `a=rtcp-xr:rcvr-rtt=all` when the offer has it (RFC 3611 §5.1). */
  receiverRtt?: boolean;
  /** The local sender, announced when the answer direction sends. */
  sender?: LocalSenderDescription;
  /** Reject the m-section (port 0). */
  reject?: boolean;
}

/** Input of {@link createAnswer}. */
export interface AnswerOptions {
  /** `o=` identity. */
  session: LocalSessionParameters;
  /** ICE/DTLS parameters; `setup` may be `active` (default) or `passive` when the offer says actpass. */
  transport: LocalTransportParameters;
  /** Per-mid local decisions; offered RTP sections without an entry use the defaults below. */
  media?: Record<string, LocalAnswerMedia>;
  /** Answer-wide codecs; default {@link defaultCodecs} of both kinds. */
  codecs?: CodecCapability[];
  /** Answer-wide header extensions; default {@link defaultHeaderExtensions} of both kinds. */
  headerExtensions?: HeaderExtensionCapability[];
  /** Direction of m-sections without a `media` entry; default `recvonly` (a new transceiver, RFC 8829 §5.10). */
  defaultDirection?: MediaDirection;
  /** Accept simulcast the offerer sends (answer `a=rid ... recv` + `a=simulcast:recv`); default true. */
  acceptSimulcast?: boolean;
  /**
   * Data channel: false rejects it; default accept with our SCTP port 5000 and max-message-size
   * {@link DEFAULT_MAX_MESSAGE_SIZE}.
   */
  dataChannel?: false | { sctpPort?: number; maxMessageSize?: number };
}

/**
 * Builds the answer to `offer`. The offer is validated first (unique mids, BUNDLE mids exist,
 * ICE credentials and fingerprints present). m-sections of an unknown kind or protocol (including
 * unencrypted RTP/AVP), RTP sections without rtcp-mux, with no
 * common codec, a second data channel section, or rejected in the offer are rejected with port 0.
 * An extmap whose id an earlier m-section of the same BUNDLE group already uses for another URI is
 * left out, so the answer never maps one id to two URIs in a group (the offer may; aiortc does).
 * @throws SdpInvalidAccessError when the offer cannot be answered or the local parameters are invalid.
 */
export function createAnswer(offer: SdpSessionDescription, options: AnswerOptions): SdpSessionDescription {
  validateRemoteDescription(offer);
  return answerOffer(offer, options);
}

/**
 * {@link createAnswer} of an offer that setRemoteDescription already checked: not validated again
 * (docs/peer.md "Setup cost"). Not part of lib/sdp's public surface.
 * @throws SdpInvalidAccessError when the local parameters are invalid or the offer's setup is holdconn.
 */
export function createAnswerToChecked(offer: CheckedRemoteDescription, options: AnswerOptions): SdpSessionDescription {
  return answerOffer(offer.description, options);
}

function answerOffer(offer: SdpSessionDescription, options: AnswerOptions): SdpSessionDescription {
  const { transport } = options;
  checkTransport(transport);
  const desc = baseDescription(options.session, transport);
  desc.extmapAllowMixed = offer.extmapAllowMixed;
  const groups = bundleGroups(offer);
  const groupOf = new Map<string, number>();
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    for (let j = 0; j < group.length; j++) groupOf.set(group[j]!, i);
  }
  // rtcp-mux is required (RFC 8829 §5.1.3, like Chromium's rtcpMuxPolicy "require"); a bundled
  // section may share it with its group (RFC 8843 §9.2).
  const groupHasRtcpMux = new Set<number>();
  for (let i = 0; i < offer.media.length; i++) {
    const m = offer.media[i]!;
    const g = m.mid === undefined ? undefined : groupOf.get(m.mid);
    if (m.rtcpMux && g !== undefined) groupHasRtcpMux.add(g);
  }
  const idsInGroup = new Map<number, Map<number, string>>();
  let dataAccepted = false;
  const wide: AnswerWide = {
    codecs: options.codecs ?? [...defaultCodecs('audio'), ...defaultCodecs('video')],
    headerExtensions: options.headerExtensions ?? [...defaultHeaderExtensions('audio'), ...defaultHeaderExtensions('video')],
  };

  for (let i = 0; i < offer.media.length; i++) {
    const offered = offer.media[i]!;
    const local = offered.mid !== undefined && options.media !== undefined && Object.hasOwn(options.media, offered.mid) ? options.media[offered.mid] : undefined;
    let answered: SdpMediaSection | undefined;
    if (!isRejected(offered) && local?.reject !== true) {
      const group = offered.mid === undefined ? undefined : groupOf.get(offered.mid);
      const rtcpMux = offered.rtcpMux || (group !== undefined && groupHasRtcpMux.has(group));
      if (isSecureRtpSection(offered) && (offered.kind === 'audio' || offered.kind === 'video') && rtcpMux) {
        const ids = group === undefined ? new Map<number, string>() : (idsInGroup.get(group) ?? new Map<number, string>());
        if (group !== undefined) idsInGroup.set(group, ids);
        answered = answerRtp(offered, offered.kind, local, options, wide, ids, offer.direction);
      } else if (isSctpSection(offered) && options.dataChannel !== false && !dataAccepted) {
        const dc = options.dataChannel ?? {};
        answered = answerData(offered, dc.sctpPort ?? 5000, dc.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE);
        dataAccepted = true;
      }
    }
    desc.media.push(answered ?? rejectedSection(offered));
  }

  const setup = answerSetup(offer, transport.setup);
  const acceptedByMid = new Map<string, number>();
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    if (m.mid !== undefined && m.port !== 0) acceptedByMid.set(m.mid, i);
  }
  const inGroup = new Set<number>();
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!;
    const accepted = filterList(group, (mid) => acceptedByMid.has(mid));
    if (accepted.length === 0) continue;
    desc.groups.push({ semantics: 'BUNDLE', mids: accepted });
    for (let i = 0; i < accepted.length; i++) {
      const idx = acceptedByMid.get(accepted[i]!)!;
      inGroup.add(idx);
      applyTransport(desc.media[idx]!, transport, setup, i === 0);
    }
  }
  for (let i = 0; i < desc.media.length; i++) {
    const m = desc.media[i]!;
    if (m.port !== 0 && !inGroup.has(i)) applyTransport(m, transport, setup, true);
  }
  const streams = new Set<string>();
  for (let i = 0; i < desc.media.length; i++) {
    const msids = desc.media[i]!.msids;
    for (let j = 0; j < msids.length; j++) if (msids[j]!.stream !== '-') streams.add(msids[j]!.stream);
  }
  desc.msidSemantic = { semantic: 'WMS', ids: [...streams] };
  return desc;
}

/** RTP over DTLS-SRTP: a SAVP/SAVPF profile (RFC 5764 §8); plain RTP/AVP cannot be answered. */
function isSecureRtpSection(section: SdpMediaSection): boolean {
  return isRtpSection(section) && /\/SAVPF?$/.test(section.protocol);
}

/** The answer's a=setup (RFC 8842 §5.3): actpass → our choice (active by default), active ↔ passive. */
function answerSetup(offer: SdpSessionDescription, wanted: SetupRole | undefined): SetupRole {
  if (wanted !== undefined && wanted !== 'active' && wanted !== 'passive') {
    throw new SdpInvalidAccessError('ERR_SDP_BAD_SETUP', `an answer's setup must be active or passive, not ${wanted}`);
  }
  const used = offer.media.find((m) => !isRejected(m));
  const offered = used?.setup ?? offer.setup;
  switch (offered) {
    case 'active':
      return 'passive';
    case 'passive':
      return 'active';
    case 'holdconn':
      throw new SdpInvalidAccessError('ERR_SDP_BAD_SETUP', 'the offer says a=setup:holdconn');
    case undefined:
      // RFC 4145 §4: an offer without a=setup means the offerer is active.
      return 'passive';
    default:
      return wanted ?? 'active';
  }
}

/**
 * A rejected m-section: port 0, the offered formats and their rtpmaps, the mid (RFC 8829 §5.3.1,
 * RFC 3264 §6). An m-line needs at least one format; PCMU (static PT 0) stands in when none was offered.
 */
function rejectedSection(offered: SdpMediaSection): SdpMediaSection {
  const rtp = isRtpSection(offered);
  const formats = offered.formats.length > 0 ? [...offered.formats] : rtp ? ['0'] : ['webrtc-datachannel'];
  const s = createMediaSection(offered.kind, 0, offered.protocol, formats);
  if (rtp) {
    s.codecs = offered.formats.length > 0
      ? offered.codecs.map((c) => ({ ...c, parameters: { ...c.parameters }, rtcpFeedback: [] }))
      : [{ payloadType: 0, name: 'PCMU', clockRate: 8000, parameters: {}, rtcpFeedback: [] }];
  }
  s.connection = { addressType: 'IP4', address: '0.0.0.0' };
  if (offered.mid !== undefined) s.mid = offered.mid;
  return s;
}

/**
 * The data channel answer (RFC 8841 §4–§6), in the offer's format: a legacy `DTLS/SCTP <port>`
 * offer gets `DTLS/SCTP <our port>` + a=sctpmap back, a current one `webrtc-datachannel` + a=sctp-port.
 */
function answerData(offered: SdpMediaSection, sctpPort: number, maxMessageSize: number): SdpMediaSection {
  const legacy = offered.sctpPort === undefined && (offered.sctpmap !== undefined || /^\d+$/.test(offered.formats[0] ?? ''));
  const s = createMediaSection('application', 9, offered.protocol, legacy ? [String(sctpPort)] : ['webrtc-datachannel']);
  s.mid = offered.mid!;
  if (legacy) s.sctpmap = { port: sctpPort, app: 'webrtc-datachannel', streams: 65535 };
  else s.sctpPort = sctpPort;
  s.maxMessageSize = maxMessageSize;
  return s;
}

function feedbackKey(f: RtcpFeedback): string {
  return f.parameter === undefined ? f.type : `${f.type} ${f.parameter}`;
}

/** Answer-wide capabilities, resolved once per answer. */
interface AnswerWide {
  codecs: CodecCapability[];
  headerExtensions: HeaderExtensionCapability[];
}

function answerRtp(
  offered: SdpMediaSection,
  kind: RtpMediaKind,
  local: LocalAnswerMedia | undefined,
  options: AnswerOptions,
  wide: AnswerWide,
  idsInGroup: Map<number, string>,
  sessionDirection: MediaDirection | undefined,
): SdpMediaSection | undefined {
  const capabilities = filterList(local?.codecs ?? wide.codecs, (c) => c.kind === kind);
  const chosen: Array<{ codec: SdpCodec; capability: CodecCapability; index: number }> = [];
  for (let i = 0; i < offered.codecs.length; i++) {
    const codec = offered.codecs[i]!;
    if (isRtxCodec(codec)) continue;
    const match = findMatchingCapability(codec, capabilities);
    if (match !== undefined) chosen.push({ codec, ...match });
  }
  if (chosen.length === 0) return undefined;
  // RFC 3264 §6.1: the answer lists formats in the answerer's preference order, with the offer's PTs.
  chosen.sort((a, b) => a.index - b.index);
  const codecs: SdpCodec[] = [];
  for (let i = 0; i < chosen.length; i++) {
    const { codec, capability } = chosen[i]!;
    // Format-defining parameters (H264 profile/packetization, VP9/AV1 profile) must echo the offer;
    // for other codecs the answer states what we want to receive.
    const formatDefined = FORMAT_DEFINED.has(codec.name.toLowerCase());
    const answered: SdpCodec = {
      payloadType: codec.payloadType,
      name: codec.name,
      clockRate: codec.clockRate,
      parameters: { ...(formatDefined ? codec.parameters : capability.parameters) },
      rtcpFeedback: answerFeedback(capability, codec, offered),
    };
    if (codec.channels !== undefined) answered.channels = codec.channels;
    codecs.push(answered);
    if (capability.rtx) {
      const rtx = offered.codecs.find((c) => isRtxCodec(c) && c.clockRate === codec.clockRate && rtxAssociatedPayloadType(c) === codec.payloadType);
      if (rtx !== undefined) codecs.push({ payloadType: rtx.payloadType, name: rtx.name, clockRate: rtx.clockRate, parameters: { apt: String(codec.payloadType) }, rtcpFeedback: [] });
    }
  }
  const s = createMediaSection(kind, 9, offered.protocol, mapList(codecs, formatOf));
  s.mid = offered.mid!;
  s.codecs = codecs;
  s.rtcp = { port: 9, connection: { addressType: 'IP4', address: '0.0.0.0' } };
  s.rtcpMux = true;
  s.rtcpRsize = offered.rtcpRsize;
  if (local?.receiverRtt === true && offered.rtcpXrReceiverRtt?.mode === 'all') s.rtcpXrReceiverRtt = { mode: 'all' };
  const offeredDirection = offered.direction ?? sessionDirection ?? 'sendrecv';
  s.direction = answerDirection(offeredDirection, local?.direction ?? options.defaultDirection ?? 'recvonly');

  const localUris = new Set<string>();
  const extensions = local?.headerExtensions ?? wide.headerExtensions;
  for (let i = 0; i < extensions.length; i++) if (extensions[i]!.kind === kind) localUris.add(extensions[i]!.uri);
  for (let i = 0; i < offered.extmaps.length; i++) {
    const ext = offered.extmaps[i]!;
    if (!localUris.has(ext.uri) || s.extmaps.some((e) => e.uri === ext.uri)) continue;
    const bound = idsInGroup.get(ext.id);
    if (bound !== undefined && bound !== ext.uri) continue;
    idsInGroup.set(ext.id, ext.uri);
    s.extmaps.push({ id: ext.id, uri: ext.uri });
  }
  if (offered.extmapAllowMixed) s.extmapAllowMixed = true;

  const sender = local?.sender;
  if (sender !== undefined && directionSends(s.direction)) {
    s.msids = mapList(sender.msids, copyMsid);
    addSenderSsrcs(s, sender, codecs.some(isRtxCodec));
  }
  if (options.acceptSimulcast !== false && directionReceives(s.direction) && offered.simulcast !== undefined && offered.simulcast.send.length > 0) {
    answerSimulcast(s, offered, offered.simulcast, codecs);
  }
  return s;
}

/** The offered rtcp-fb of `codec` (and the wildcard ones) that `capability` has too, each once, copied. */
function answerFeedback(capability: CodecCapability, codec: SdpCodec, offered: SdpMediaSection): RtcpFeedback[] {
  const out: RtcpFeedback[] = [];
  if (capability.rtcpFeedback.length === 0) return out;
  const localFeedback = new Set<string>();
  for (let i = 0; i < capability.rtcpFeedback.length; i++) localFeedback.add(feedbackKey(capability.rtcpFeedback[i]!));
  const seen = new Set<string>();
  addAnsweredFeedback(out, codec.rtcpFeedback, localFeedback, seen);
  addAnsweredFeedback(out, offered.rtcpFeedbackWildcard, localFeedback, seen);
  return out;
}

function addAnsweredFeedback(out: RtcpFeedback[], offered: readonly RtcpFeedback[], local: ReadonlySet<string>, seen: Set<string>): void {
  for (let i = 0; i < offered.length; i++) {
    const f = offered[i]!;
    const key = feedbackKey(f);
    if (!local.has(key) || seen.has(key)) continue;
    seen.add(key);
    out.push({ ...f });
  }
}

function formatOf(c: SdpCodec): string {
  return String(c.payloadType);
}

function copyMsid(m: SdpMsid): SdpMsid {
  return { ...m };
}

/** The offer's send simulcast (RFC 8853 §5.3) that we receive: its known rids, as recv. */
function answerSimulcast(s: SdpMediaSection, offered: SdpMediaSection, simulcast: SdpSimulcast, codecs: readonly SdpCodec[]): void {
  const sendRids = offered.rids.filter((r) => r.direction === 'send');
  if (sendRids.length > 0) {
    const known = new Set(sendRids.map((r) => r.id));
    const streams = simulcast.send
      .map((alts) => alts.filter((a) => known.has(a.rid)).map((a) => ({ ...a })))
      .filter((alts) => alts.length > 0);
    if (streams.length > 0) {
      const used = new Set(streams.flat().map((a) => a.rid));
      const pts = new Set(codecs.map((c) => c.payloadType));
      s.rids = sendRids
        .filter((r) => used.has(r.id))
        .map((r) => ({ id: r.id, direction: 'recv' as const, payloadTypes: r.payloadTypes.filter((p) => pts.has(p)), restrictions: { ...r.restrictions } }));
      s.simulcast = { send: [], recv: streams };
    }
  }
}
