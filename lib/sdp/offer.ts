// createOffer as a pure function (RFC 8829 §5.2): Unified Plan m-sections, BUNDLE (RFC 8843 §7.2),
// codecs + RTX (RFC 4588), extmaps (RFC 8285), msid/SSRC (RFC 8830, 5576), rid/simulcast, data (RFC 8841).
import type { CodecCapability, HeaderExtensionCapability, RtpMediaKind } from './capabilities.js';
import { defaultCodecs, defaultHeaderExtensions } from './default-capabilities.js';
import type { LocalSenderDescription, LocalSessionParameters, LocalTransportParameters } from './local-parameters.js';
import { addSenderSsrcs, applyTransport, baseDescription, checkTransport } from './local-sections.js';
import { createMediaSection, type MediaDirection, type RtcpFeedback, type SdpCodec, type SdpMediaSection, type SdpMsid, type SdpSessionDescription } from './model.js';
import { SdpInvalidAccessError } from './sdp-error.js';
import { filterList, mapList } from '../common/list-map.js';

/** RTP profile of every WebRTC media m-section (RFC 8829 §5.1.2). */
export const RTP_PROTOCOL = 'UDP/TLS/RTP/SAVPF';
/** Protocol of the data channel m-section (RFC 8841 §4.1). */
export const SCTP_PROTOCOL = 'UDP/DTLS/SCTP';
/** Our default max-message-size (256 KiB, what Chromium announces). */
export const DEFAULT_MAX_MESSAGE_SIZE = 262144;

/** A local transceiver, as the offer describes it. */
export interface LocalTransceiverDescription {
  /** Its mid (stable across renegotiations). */
  mid: string;
  /** `audio` or `video`. */
  kind: RtpMediaKind;
  /** The transceiver's direction. */
  direction: MediaDirection;
  /** Codecs in preference order; default {@link defaultCodecs}. */
  codecs?: CodecCapability[];
  /** Header extensions; default {@link defaultHeaderExtensions}. */
  headerExtensions?: HeaderExtensionCapability[];
  /** Offer `a=rtcp-xr:rcvr-rtt=all` (RFC 3611 §5.1): an installed module serves RRTR/DLRR. */
  receiverRtt?: boolean;
  /** The sender's SSRCs and msids, when the transceiver sends a track. */
  sender?: LocalSenderDescription;
  /** rids this side sends as simulcast (`a=rid:<id> send` + `a=simulcast:send`). */
  sendRids?: string[];
  /** rids this side wants to receive as simulcast (`a=rid:<id> recv` + `a=simulcast:recv`). */
  recvRids?: string[];
  /** A stopped transceiver: port 0, outside BUNDLE (RFC 8829 §5.2.2). */
  stopped?: boolean;
}

/** The data channel m-section. */
export interface LocalDataChannelDescription {
  /** Its mid. */
  mid: string;
  /** `a=sctp-port`, default 5000. */
  sctpPort?: number;
  /** `a=max-message-size`, default {@link DEFAULT_MAX_MESSAGE_SIZE}. */
  maxMessageSize?: number;
  /** Position among the m-sections (m-lines never move in renegotiation); default last. */
  index?: number;
}

/** Input of {@link createOffer}. */
export interface OfferOptions {
  /** `o=` identity. */
  session: LocalSessionParameters;
  /** ICE/DTLS parameters of the (bundled) transport. */
  transport: LocalTransportParameters;
  /** The transceivers, in m-line order. */
  transceivers: LocalTransceiverDescription[];
  /** A data channel section, when data channels are used. */
  dataChannel?: LocalDataChannelDescription;
  /**
   * `max-bundle` (default): candidates and a real port only in the first (tag) m-section.
   * `balanced`: every m-section carries the candidates and port, usable if BUNDLE is refused.
   */
  bundlePolicy?: 'max-bundle' | 'balanced';
  /**
   * Mark every bundled m-section except the tag `a=bundle-only` with port 0, as RFC 8829 §5.2.1 does
   * for an initial max-bundle offer. Default false: peers that predate RFC 8843 read port 0 as rejected.
   */
  bundleOnly?: boolean;
}

/** Dynamic payload types in allocation order: 96..127, then 35..63 (RFC 3551 §3, as browsers do). */
const DYNAMIC_PAYLOAD_TYPES: readonly number[] = [
  ...Array.from({ length: 32 }, (_, i) => 96 + i),
  ...Array.from({ length: 29 }, (_, i) => 35 + i),
];

/**
 * Builds an offer. The same capabilities yield the same payload types and extmap ids, so a
 * renegotiation that passes the same transceivers keeps them; payload types and extmap ids are
 * unique across the whole offer so that all m-sections can share one BUNDLE group (RFC 8843 §9.1).
 * @throws SdpInvalidAccessError for duplicate mids or missing ICE/DTLS parameters.
 */
export function createOffer(options: OfferOptions): SdpSessionDescription {
  const { transport } = options;
  checkTransport(transport);
  const mids = new Set<string>();
  for (let i = 0; i < options.transceivers.length; i++) {
    const t = options.transceivers[i]!;
    addMid(mids, t.mid);
  }
  if (options.dataChannel) addMid(mids, options.dataChannel.mid);
  const payloadTypes = new PayloadTypeAllocator();
  const extIds = new ExtmapIdAllocator();
  const sections: SdpMediaSection[] = mapList(options.transceivers, (t) => rtpSection(t, payloadTypes, extIds));
  if (options.dataChannel !== undefined) {
    const d = options.dataChannel;
    const s = createMediaSection('application', 9, SCTP_PROTOCOL, ['webrtc-datachannel']);
    s.mid = d.mid;
    s.sctpPort = d.sctpPort ?? 5000;
    s.maxMessageSize = d.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    sections.splice(Math.min(Math.max(d.index ?? sections.length, 0), sections.length), 0, s);
  }
  const bundled = filterList(sections, (s) => s.port !== 0);
  const policy = options.bundlePolicy ?? 'max-bundle';
  bundled.forEach((s, i) => {
    const isTag = i === 0;
    applyTransport(s, transport, transport.setup ?? 'actpass', isTag || policy === 'balanced');
    if (!isTag && options.bundleOnly === true) {
      s.port = 0;
      s.bundleOnly = true;
    }
  });
  const desc = baseDescription(options.session, transport);
  if (bundled.length > 0) desc.groups.push({ semantics: 'BUNDLE', mids: mapList(bundled, (s) => s.mid!) });
  desc.msidSemantic = { semantic: 'WMS', ids: streamIds(options.transceivers) };
  desc.media = sections;
  return desc;
}

function streamIds(transceivers: readonly LocalTransceiverDescription[]): string[] {
  const ids = new Set<string>();
  for (let i = 0; i < transceivers.length; i++) {
    const t = transceivers[i]!;
    for (const m of t.sender?.msids ?? []) if (m.stream !== '-') ids.add(m.stream);
  }
  return [...ids];
}

function rtpSection(t: LocalTransceiverDescription, payloadTypes: PayloadTypeAllocator, extIds: ExtmapIdAllocator): SdpMediaSection {
  const codecs: SdpCodec[] = [];
  const capabilities = t.codecs ?? defaultCodecs(t.kind);
  for (let i = 0; i < capabilities.length; i++) {
    const cap = capabilities[i]!;
    if (cap.kind !== t.kind) continue;
    const pt = payloadTypes.assign(codecKey(cap), cap.preferredPayloadType);
    const codec: SdpCodec = {
      payloadType: pt,
      name: cap.name,
      clockRate: cap.clockRate,
      parameters: { ...cap.parameters },
      rtcpFeedback: mapList(cap.rtcpFeedback, copyFeedback),
    };
    if (cap.channels !== undefined) codec.channels = cap.channels;
    codecs.push(codec);
    if (cap.rtx) {
      const rtxPt = payloadTypes.assign(`rtx/${cap.clockRate}/apt=${codecKey(cap)}`, cap.preferredRtxPayloadType);
      codecs.push({ payloadType: rtxPt, name: 'rtx', clockRate: cap.clockRate, parameters: { apt: String(pt) }, rtcpFeedback: [] });
    }
  }
  if (codecs.length === 0) throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', `transceiver "${t.mid}" has no ${t.kind} codec`);
  const s = createMediaSection(t.kind, 9, RTP_PROTOCOL, mapList(codecs, formatOf));
  s.mid = t.mid;
  s.codecs = codecs;
  if (t.stopped === true) {
    s.port = 0;
    s.direction = 'inactive';
    return s;
  }
  s.rtcp = { port: 9, connection: { addressType: 'IP4', address: '0.0.0.0' } };
  s.rtcpMux = true;
  s.rtcpRsize = true;
  if (t.receiverRtt === true) s.rtcpXrReceiverRtt = { mode: 'all' };
  s.direction = t.direction;
  const seenUris = new Set<string>();
  const extensions = t.headerExtensions ?? defaultHeaderExtensions(t.kind);
  for (let i = 0; i < extensions.length; i++) {
    const ext = extensions[i]!;
    if (ext.kind !== t.kind || seenUris.has(ext.uri)) continue;
    seenUris.add(ext.uri);
    s.extmaps.push({ id: extIds.assign(ext.uri, ext.preferredId), uri: ext.uri });
  }
  const sends = t.direction === 'sendrecv' || t.direction === 'sendonly';
  if (t.sender !== undefined && sends) {
    s.msids = mapList(t.sender.msids, copyMsid);
    if (t.sendRids === undefined || t.sendRids.length === 0) {
      const hasRtx = codecs.some((c) => c.name === 'rtx');
      addSenderSsrcs(s, t.sender, hasRtx);
    }
  }
  // Simulcast (RFC 8853) only when the transceiver has rids: its own function, out of the common path.
  if (t.sendRids !== undefined || t.recvRids !== undefined) addSimulcast(s, t.sendRids, t.recvRids);
  return s;
}

/** `a=rid` lines and `a=simulcast` for the transceiver's send and receive rids (RFC 8851, RFC 8853). */
function addSimulcast(s: SdpMediaSection, sendRids: readonly string[] | undefined, recvRids: readonly string[] | undefined): void {
  const sim = { send: [] as Array<Array<{ rid: string; paused: boolean }>>, recv: [] as Array<Array<{ rid: string; paused: boolean }>> };
  for (const [dir, rids] of [['send', sendRids], ['recv', recvRids]] as const) {
    for (const rid of rids ?? []) {
      s.rids.push({ id: rid, direction: dir, payloadTypes: [], restrictions: {} });
      sim[dir].push([{ rid, paused: false }]);
    }
  }
  if (sim.send.length > 0 || sim.recv.length > 0) s.simulcast = sim;
}

function addMid(mids: Set<string>, mid: string): void {
  if (mids.has(mid)) throw new SdpInvalidAccessError('ERR_SDP_DUPLICATE_MID', `mid "${mid}" is used twice`);
  mids.add(mid);
}

function copyFeedback(f: RtcpFeedback): RtcpFeedback {
  return { ...f };
}

function copyMsid(m: SdpMsid): SdpMsid {
  return { ...m };
}

function formatOf(c: SdpCodec): string {
  return String(c.payloadType);
}

function codecKey(c: CodecCapability): string {
  const names = Object.keys(c.parameters);
  let params = '';
  if (names.length > 0) {
    const pairs: string[] = [];
    for (let j = 0; j < names.length; j++) {
      const k = names[j]!;
      pairs.push(`${k.toLowerCase()}=${c.parameters[k]}`);
    }
    params = pairs.sort().join(';');
  }
  return `${c.kind}/${c.name.toLowerCase()}/${c.clockRate}/${c.channels ?? 1}/${params}`;
}

/** Payload types unique per codec across the offer (same codec, same PT). */
class PayloadTypeAllocator {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();

  assign(key: string, preferred: number | undefined): number {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    let pt = preferred !== undefined && preferred >= 0 && preferred <= 127 && !this.used.has(preferred) && !(preferred >= 64 && preferred <= 95) ? preferred : undefined;
    pt ??= DYNAMIC_PAYLOAD_TYPES.find((p) => !this.used.has(p));
    if (pt === undefined) throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', 'more codecs than dynamic payload types');
    this.used.add(pt);
    this.byKey.set(key, pt);
    return pt;
  }
}

/**
 * Extmap ids unique per URI across the offer: one id never names two URIs in a BUNDLE group
 * (Chromium rejects that). One-byte ids 1..14 first, then two-byte 16..255 (RFC 8285 §4.3;
 * we always offer extmap-allow-mixed).
 */
class ExtmapIdAllocator {
  private readonly byUri = new Map<string, number>();
  private readonly used = new Set<number>();

  assign(uri: string, preferred: number | undefined): number {
    const existing = this.byUri.get(uri);
    if (existing !== undefined) return existing;
    let id = preferred !== undefined && preferred >= 1 && preferred <= 255 && preferred !== 15 && !this.used.has(preferred) ? preferred : undefined;
    for (let c = 1; id === undefined && c <= 255; c++) if (c !== 15 && !this.used.has(c)) id = c;
    if (id === undefined) throw new SdpInvalidAccessError('ERR_SDP_BAD_LOCAL_PARAMETERS', 'more header extensions than extmap ids');
    this.used.add(id);
    this.byUri.set(uri, id);
    return id;
  }
}
