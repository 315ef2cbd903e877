// RTCPeerConnection (webrtc-pc §4) for raw RTP and data channels: the JSEP signaling state
// machine (RFC 8829 §4.1, §5.5-5.7: offer/answer, implicit descriptions, rollback), transceivers
// (Unified Plan), one BUNDLE transport (RFC 8843, max-bundle) driven by lib/transport, the
// W3C state attributes and events, restartIce (RFC 8445 §9), getStats and close().
import { systemClock } from '../common/clock.js';
import { cryptoRng } from '../common/rng.js';
import { DtlsCertificate } from '../dtls/dtls-certificate.js';
import type { SrtpProfileName } from '../dtls/srtp-profile.js';
import type { DtlsTransportState } from '../dtls/dtls-transport.js';
import { formatCandidate as formatIceCandidate, IceCandidateSyntaxError, type IceCandidate } from '../ice/candidate.js';
import type { IceConnectionState, IceGatheringState } from '../ice/ice-agent.js';
import { createAnswer, createAnswerToChecked, type LocalAnswerMedia } from '../sdp/answer.js';
import { isRejected } from '../sdp/bundle.js';
import { parseCandidate as parseSdpCandidate } from '../sdp/candidate.js';
import { HeaderExtensionUri, type CodecCapability, type HeaderExtensionCapability } from '../sdp/capabilities.js';
import { defaultCodecs, defaultHeaderExtensions } from '../sdp/default-capabilities.js';
import { answerDirection, directionReceives, directionSends, reverseDirection } from '../sdp/direction.js';
import type { LocalSenderDescription, LocalTransportParameters } from '../sdp/local-parameters.js';
import { isRtpSection, isSctpSection, type MediaDirection, type SdpCandidate, type SdpMediaSection, type SdpSessionDescription } from '../sdp/model.js';
import { applyTransport } from '../sdp/local-sections.js';
import { LocalDescriptionText } from '../sdp/local-description-text.js';
import { createOffer, DEFAULT_MAX_MESSAGE_SIZE, type LocalTransceiverDescription } from '../sdp/offer.js';
import { parseSdp } from '../sdp/parse.js';
import {
  checkRemoteDescription,
  extractRemoteTransports,
  isUsableRemoteCandidate,
  remoteSctpPort,
  type CheckedRemoteDescription,
  type RemoteTransportParameters,
} from '../sdp/remote-transport.js';
import { describeRtpSection, negotiatedCapabilities, type RtpSectionParameters } from '../sdp/rtp-parameters.js';
import { SctpAssociation } from '../sctp/association.js';
import { DataChannelManager } from '../sctp/data-channel-manager.js';
import type { RTCDataChannel, RTCDataChannelInit } from '../sctp/data-channel.js';
import { IceTransport } from '../transport/ice-transport.js';
import { defaultHostAddresses, PEER_SOCKET_BUFFER_BYTES, PeerTransport, type PeerTransportHandler } from '../transport/peer-transport.js';
import type { UdpMux } from '../transport/source/udp-mux.js';
import type { TcpMux } from '../transport/source/tcp-mux.js';
import { preferredWithNegotiated } from './codec-preferences.js';
import { checkConfiguration } from './configuration.js';
import { checkRemoteFingerprints, usableRemoteFingerprints } from './remote-fingerprints.js';
import { sdpCandidateOf } from './local-candidate.js';
import { usableIceCandidateOf } from './remote-candidate.js';
import { PeerEventTarget, type PeerEvent } from './event-target.js';
import { queueEventTask } from './event-tasks.js';
import { LocalStreamTrack, MediaStreamTrack, type MediaKind } from './media-stream-track.js';
import { MediaRouter } from './media-router.js';
import { buildStatsReport, type RTCStats, type RTCStatsReport } from './stats.js';
import { selectStats } from './stats-selector.js';
import { addExtraTransportStats } from './stats-extra-transports.js';
import { aggregateConnectionState, aggregateIceState, connectionStateOf, type TransportStates } from './transport-states.js';
import { RTCRtpReceiver } from './rtp-receiver.js';
import { RTCRtpSender, type SenderOwner } from './rtp-sender.js';
import { RTCRtpTransceiver } from './rtp-transceiver.js';
import { PolicyDriver, type PolicyDriverOwner } from './policy-driver.js';
import { RtpPolicyChain } from './rtp-policy-chain.js';
import { internMap, internSet } from '../common/interned-tables.js';
import { defaultRtpPolicies, feedbackKey, type RtpPolicyEvent, type RtpPolicyFactory, type RtpPolicyParameters } from './rtp-policy.js';
import type { RtcpFeedback } from '../sdp/model.js';
import {
  PeerError,
  RTCIceCandidate,
  RTCSessionDescription,
  type RTCIceCandidateInit,
  type RTCSessionDescriptionInit,
} from './session-description.js';
import { createLogger, redacted } from '../common/log.js';
import { NO_ENTRIES } from '../common/no-entries.js';
import { filterList, mapList } from '../common/list-map.js';

const peerLog = createLogger('peer');
const sdpLog = createLogger('sdp');

/** The a=fingerprint values of each certificate (lowercase hash name, uppercase hex), made once per certificate. */
const sdpFingerprints = new WeakMap<DtlsCertificate, LocalTransportParameters['fingerprints']>();

/**
 * `certificate`'s fingerprints as our descriptions write them, shared by every connection using it
 * (lib/sdp copies them into each m-section). Once per certificate, not per candidate and description.
 */
function sdpFingerprintsOf(certificate: DtlsCertificate): LocalTransportParameters['fingerprints'] {
  let list = sdpFingerprints.get(certificate);
  if (list === undefined) {
    list = [];
    for (const f of certificate.getFingerprints()) list.push({ algorithm: f.algorithm.toLowerCase() as typeof f.algorithm, value: f.value.toUpperCase() });
    sdpFingerprints.set(certificate, list);
  }
  return list;
}

/**
 * The rids of addTransceiver's `sendEncodings` (none, or two and more: simulcast; RFC 8851 §10 rid syntax).
 * @throws PeerError TypeError `ERR_PEER_SEND_ENCODINGS` for one rid, a missing, bad or repeated one.
 */
function simulcastRids(encodings: readonly { rid?: string }[]): string[] {
  const rids: string[] = [];
  for (let i = 0; i < encodings.length; i++) {
    const e = encodings[i]!;
    if (e.rid !== undefined) rids.push(e.rid);
  }
  if (rids.length === 1 || (rids.length > 1 && rids.length !== encodings.length)) {
    throw new PeerError('TypeError', 'ERR_PEER_SEND_ENCODINGS', 'simulcast sendEncodings need a rid each, and at least two');
  }
  for (let i = 0; i < rids.length; i++) {
    const rid = rids[i]!;
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(rid) || rids.indexOf(rid) !== rids.lastIndexOf(rid)) {
      throw new PeerError('TypeError', 'ERR_PEER_SEND_ENCODINGS', `bad or repeated rid '${rid}' (RFC 8851 §10: 1-16 alphanumerics, '-' or '_')`);
    }
  }
  return rids;
}

/** The rids the remote end sends (its `a=rid:<id> send` lines). */
function sendRidsOf(params: RtpSectionParameters): string[] {
  const rids: string[] = [];
  for (let i = 0; i < params.rids.length; i++) {
    const r = params.rids[i]!;
    if (r.direction === 'send') rids.push(r.id);
  }
  return rids;
}

function streamIdOf(s: string | { id: string }): string {
  return typeof s === 'string' ? s : s.id;
}

/** W3C RTCSignalingState. */
export type RTCSignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer' | 'have-local-pranswer' | 'have-remote-pranswer' | 'closed';
/** W3C RTCPeerConnectionState. */
export type RTCPeerConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
/** W3C RTCIceConnectionState. */
export type RTCIceConnectionState = IceConnectionState;
/** W3C RTCIceGatheringState. */
export type RTCIceGatheringState = IceGatheringState;

/** W3C RTCIceServer: `stun:`, `turn:` (`?transport=udp|tcp`) and `turns:` URLs. */
export interface RTCIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Options of {@link RTCPeerConnection} (W3C RTCConfiguration plus transport options). */
export interface RTCConfiguration {
  iceServers?: RTCIceServer[];
  /** `all` (default) or `relay` (only TURN-relayed candidates are announced and paired). */
  iceTransportPolicy?: 'all' | 'relay';
  /**
   * Share one UDP port with other connections (server mode, lib/transport/source/udp-mux.ts): host
   * candidates are the mux's address; `hostAddresses`/`portRange` are then ignored.
   */
  udpMux?: UdpMux;
  /**
   * Also announce a passive ICE-TCP host candidate (RFC 6544, `tcptype passive`) on this shared
   * listening TCP port (lib/transport/source/tcp-mux.ts), for peers whose UDP is blocked.
   */
  tcpMux?: TcpMux;
  /**
   * Announce active ICE-TCP candidates (RFC 6544, `tcptype active`) on the host addresses and
   * connect to the peer's passive TCP candidates (a client reaching a server whose UDP is blocked).
   */
  iceTcpActive?: boolean;
  /** `max-bundle` (default) or `balanced` (candidates in every m-section); `max-compat` is read as balanced. */
  bundlePolicy?: 'max-bundle' | 'balanced' | 'max-compat';
  /** W3C rtcpMuxPolicy: only `require` (RTP and RTCP on one port, RFC 8843/5761; the default). */
  rtcpMuxPolicy?: 'require';
  /**
   * W3C iceCandidatePoolSize (0..255, default 0). Above 0 the bundle transport gathers before
   * setLocalDescription (host sockets, STUN, TURN allocations), announced by the first
   * setLocalDescription (docs/peer.md "setConfiguration"). Fixed once setLocalDescription was called.
   */
  iceCandidatePoolSize?: number;
  /** DTLS identity; default one ECDSA P-256 certificate shared by the process, renewed daily. */
  certificates?: DtlsCertificate[];
  /** Act as an ICE-lite agent (a server with a public address). */
  iceLite?: boolean;
  /** IP addresses to gather host candidates on; default every non-internal IPv4 address (127.0.0.1 if none). */
  hostAddresses?: string[];
  /** Ports to bind in, inclusive. */
  portRange?: { min: number; max: number };
  /** Codecs offered and accepted, in preference order; default opus/VP8/VP9/H264/AV1 (lib/sdp). */
  codecs?: CodecCapability[];
  /** Header extensions offered and accepted. */
  headerExtensions?: HeaderExtensionCapability[];
  /** use_srtp profiles in preference order (default AEAD-GCM first, then AES-CM). */
  srtpProfiles?: SrtpProfileName[];
  /** DTLS role we take when answering an `actpass` offer: `client` (a=setup:active, default) or `server`. */
  answerDtlsRole?: 'client' | 'server';
  /** Our `a=max-message-size` for data channels (default 262144). */
  maxMessageSize?: number;
  /**
   * Policy modules to install (docs/policy.md): transceiver-scope factories make one module per
   * transceiver, transport-scope ones one per connection. Default: the set lib/policy registers
   * (RTCP reports, NACK generator and responder, keyframe requests, transport-cc feedback); `[]`
   * installs none. The SDP offers exactly the rtcp-fb and extensions the installed modules serve.
   */
  rtpPolicies?: RtpPolicyFactory[];
}

/** RTCRtpTransceiverInit. */
export interface RTCRtpTransceiverInit {
  direction?: MediaDirection;
  /** Stream ids the track belongs to (`a=msid`); the W3C form takes MediaStreams, their ids are what matter. */
  streams?: (string | { id: string })[];
  /** Simulcast send layers by rid. */
  sendEncodings?: { rid?: string }[];
}

/** A remote MediaStream as the `track` event reports it: its id and its tracks. */
export interface RemoteMediaStream {
  readonly id: string;
  getTracks(): MediaStreamTrack[];
}

/** Events of RTCPeerConnection with their event objects. */
export type RTCPeerConnectionEvents = {
  track: PeerEvent<'track'> & { track: MediaStreamTrack; receiver: RTCRtpReceiver; transceiver: RTCRtpTransceiver; streams: RemoteMediaStream[] };
  icecandidate: PeerEvent<'icecandidate'> & { candidate: RTCIceCandidate | null };
  icegatheringstatechange: PeerEvent<'icegatheringstatechange'>;
  iceconnectionstatechange: PeerEvent<'iceconnectionstatechange'>;
  connectionstatechange: PeerEvent<'connectionstatechange'>;
  signalingstatechange: PeerEvent<'signalingstatechange'>;
  negotiationneeded: PeerEvent<'negotiationneeded'>;
  datachannel: PeerEvent<'datachannel'> & { channel: RTCDataChannel };
  /** A policy module's event (docs/policy.md), with the transceiver it concerns (none: transport-wide). */
  policy: PeerEvent<'policy'> & RtpPolicyEvent & { transceiver: RTCRtpTransceiver | undefined };
};

/**
 * A description as applied: its parsed model and its text, either of which may be absent and is
 * made from the other when asked for. Once negotiation is over (signaling stable) `compact()`
 * drops the model, about 5 KiB of JS heap per audio m-section description that an idle connection
 * does not need (docs/architecture.md, "What a connection costs"); the next use parses the text again.
 * Gathered candidates are written into a local description when it is next read (`editLater`),
 * not once per candidate, and the text is then made again from the description's
 * {@link LocalDescriptionText}: only the lines the candidates change are serialized again
 * (docs/peer.md "Setup cost"). The text is cached: reading it again without an edit is free.
 * A remote description keeps the {@link CheckedRemoteDescription} setRemoteDescription made
 * until compaction, so createAnswer and applying the answer neither check it nor work out its
 * transports again.
 */
class StoredDescription {
  private parsed: SdpSessionDescription | undefined;
  private text: string | undefined;
  private mlines: readonly NegotiatedMLine[] | undefined;
  private pendingEdit: ((model: SdpSessionDescription) => void) | undefined;
  /** Local descriptions: the text in parts, made with the text (or on the first edit) and dropped with the model. */
  private textParts: LocalDescriptionText | undefined;
  /** Remote descriptions: the checked form, dropped with the model. */
  private checkedForm: CheckedRemoteDescription | undefined;

  private constructor(readonly type: 'offer' | 'answer' | 'pranswer', model: SdpSessionDescription, sdp: string | undefined) {
    this.parsed = model;
    this.text = sdp;
  }

  /** A local description: its model and, when made here, the parts its text was serialized from. */
  static local(type: 'offer' | 'answer' | 'pranswer', model: SdpSessionDescription, parts: LocalDescriptionText | undefined): StoredDescription {
    const stored = new StoredDescription(type, model, undefined);
    stored.textParts = parts;
    return stored;
  }

  /** A remote description as setRemoteDescription checked it, with its text. */
  static remote(type: 'offer' | 'answer' | 'pranswer', checked: CheckedRemoteDescription, sdp: string): StoredDescription {
    const stored = new StoredDescription(type, checked.description, sdp);
    stored.checkedForm = checked;
    return stored;
  }

  /** The parsed description (parsed again from the text after `compact()`), with any pending edit applied. */
  get model(): SdpSessionDescription {
    const model = (this.parsed ??= parseSdp(this.text!));
    const edit = this.pendingEdit;
    if (edit) {
      this.pendingEdit = undefined;
      edit(model);
      this.text = undefined;
    }
    return model;
  }

  /** The text (made again after an edit, else the cached one). */
  get sdp(): string {
    if (this.pendingEdit) {
      const compacted = this.parsed === undefined;
      // Applies the edit (parsing the text again when compacted) and drops the text it changes.
      const model = this.model;
      const text = this.serialize(model);
      this.text = text;
      // Compacted: keep only the new text.
      if (compacted) this.dropModel();
      return text;
    }
    return (this.text ??= this.serialize(this.parsed!));
  }

  /** The checked remote description while its model is kept (not after `compact()`). */
  get checked(): CheckedRemoteDescription | undefined {
    return this.checkedForm;
  }

  /** A remote description's transports: kept from the check, else worked out from the model. */
  get transports(): readonly RemoteTransportParameters[] {
    return this.checkedForm?.transports ?? extractRemoteTransports(this.model);
  }

  /**
   * Each m-section's mid, port and direction: what the negotiationneeded check reads after every
   * negotiation. Kept through `compact()`, so that check does not parse the text again (and keep
   * the model it made, about 7 KiB of heap per idle connection). A candidate edit never changes a
   * mid, a direction or whether a port is 0 (lib/sdp/local-sections.ts applyTransport), all that
   * is read of them, so it does not make them again.
   */
  get mediaLines(): readonly NegotiatedMLine[] {
    return (this.mlines ??= mapList(this.model.media, (m) => ({ mid: m.mid, port: m.port, direction: m.direction ?? 'sendrecv' })));
  }

  /**
   * Edits the model in place when it is next read (`model`, `sdp`, `compact()`); a later call
   * replaces an edit not yet made, so `edit` must write the whole current state, not a delta.
   * The edit may change only what lib/sdp/local-sections.ts applyTransport writes
   * ({@link LocalDescriptionText}).
   */
  editLater(edit: (model: SdpSessionDescription) => void): void {
    this.pendingEdit = edit;
  }

  /** Keeps the text and the m-section summary only; a pending edit stays pending on the text. */
  compact(): void {
    if (this.parsed === undefined) return;
    void this.model;
    void this.mediaLines;
    this.text ??= this.serialize(this.parsed);
    this.dropModel();
  }

  private serialize(model: SdpSessionDescription): string {
    return (this.textParts ??= new LocalDescriptionText(model)).serialize(model);
  }

  private dropModel(): void {
    this.parsed = undefined;
    this.textParts = undefined;
    this.checkedForm = undefined;
  }
}

/** An m-section of an applied description as the negotiationneeded check sees it (webrtc-pc §4.7.3). */
interface NegotiatedMLine {
  readonly mid: string | undefined;
  /** Read only for being 0 (a rejected or stopped m-section); a candidate edit changes a non-zero port. */
  readonly port: number;
  readonly direction: MediaDirection;
}

/** A line of the m-section order: its mid and what it carries. */
interface MLine {
  mid: string;
  transceiver: RTCRtpTransceiver | undefined;
}

/**
 * A transport for m-sections that an unbundled remote offer does not bundle with its first
 * transport (we answer them each on their own ICE/DTLS transport, RFC 8843 §7.3 not applying).
 */
interface ExtraTransport {
  /** The remote transport's mids (its BUNDLE group, or its one m-section). */
  readonly mids: string[];
  transport: PeerTransport | undefined;
  candidates: SdpCandidate[];
  gatheringComplete: boolean;
  gathering: IceGatheringState;
  ice: IceConnectionState;
  dtls: DtlsTransportState;
}

const DEFAULT_SCTP_PORT = 5000;
/** Connections created in this thread, for log names. */
let connectionCount = 0;
/** How long connections without `certificates` share one generated certificate. */
const SHARED_CERTIFICATE_MS = 24 * 60 * 60 * 1000;
let shared: { certificate: DtlsCertificate; until: number } | undefined;

/**
 * The certificate of connections created without `certificates`: one per process, renewed daily
 * (its 30-day validity always covers the connections using it). Generating a key per connection
 * costs more than the rest of a connection's setup; a browser-facing server gains nothing from
 * distinct fingerprints. Pass `certificates` for a per-connection identity.
 */
function defaultCertificate(): DtlsCertificate {
  const now = Date.now();
  if (!shared || now >= shared.until) shared = { certificate: DtlsCertificate.generate(), until: now + SHARED_CERTIFICATE_MS };
  return shared.certificate;
}

/**
 * What a sender reaches of its connection (SenderOwner): one small object per sender whose
 * getters and methods sit on the prototype; an object literal with getters was a property
 * dictionary of about 0.5 KiB and two closures per sender (docs/architecture.md, memory).
 */
class TransceiverSenderOwner implements SenderOwner {
  /** Set once the transceiver exists (it is made after its sender). */
  transceiver: RTCRtpTransceiver | undefined;
  constructor(private readonly pc: RTCPeerConnection) {}
  get mediaTransport(): PeerTransport | undefined {
    // Element access reaches the connection's private helpers from this module only.
    return this.pc['senderTransport'](this.transceiver);
  }
  nextTransportSequence(): number {
    return this.pc['takeTransportSequence']();
  }
  now(): number {
    return this.pc['clock'].now();
  }
  get transportPolicies(): RtpPolicyChain {
    return this.pc.transportPolicies;
  }
}

/**
 * What the bundle transport reports to its connection (PeerTransportHandler): methods on the
 * prototype instead of five closures per connection (docs/architecture.md, memory).
 */
class BundleTransportHandler implements PeerTransportHandler {
  constructor(private readonly pc: RTCPeerConnection) {}
  onLocalCandidate(c: IceCandidate | null, line?: string): void {
    this.pc['onLocalCandidate'](c, line);
  }
  onIceGatheringState(s: IceGatheringState): void {
    this.pc['onBundleGatheringState'](s);
  }
  onIceConnectionState(s: IceConnectionState): void {
    this.pc['onBundleIceState'](s);
  }
  onDtlsState(s: DtlsTransportState, reason?: string): void {
    this.pc['onBundleDtlsState'](s, reason);
  }
  onMedia(data: Buffer, starts: Uint32Array, lengths: Uint32Array, count: number): void {
    this.pc['onTransportMedia'](data, starts, lengths, count);
  }
}

/** A configuration's policy factories by scope, in chain order. */
interface PolicyFactories {
  readonly transceiver: readonly RtpPolicyFactory[];
  readonly transport: readonly RtpPolicyFactory[];
}

/** The split of the last factory list seen: connections of one configuration (the default set) share it. */
let lastPolicyFactories: { readonly source: readonly RtpPolicyFactory[]; readonly split: PolicyFactories } | undefined;

/**
 * `factories` by scope. The lists are shared by every connection whose factories are the same ones
 * in the same order (defaultRtpPolicies() gives a fresh array each time): a connection keeps no
 * list of its own (docs/peer.md "Memory per idle connection").
 */
function splitPolicyFactories(factories: readonly RtpPolicyFactory[]): PolicyFactories {
  const last = lastPolicyFactories;
  if (last !== undefined && last.source.length === factories.length && last.source.every((f, i) => f === factories[i])) return last.split;
  const source = Object.freeze([...factories]);
  const split: PolicyFactories = Object.freeze({
    transceiver: Object.freeze(source.filter((f) => f.scope === 'transceiver')),
    transport: Object.freeze(source.filter((f) => f.scope === 'transport')),
  });
  lastPolicyFactories = { source, split };
  return split;
}

/**
 * The handler of a transport pre-gathered for the candidate pool (webrtc-pc §4.4.1.1,
 * `iceCandidatePoolSize` > 0): what the gathering finds before setLocalDescription (candidates,
 * gathering states, in order) is held, so no event fires and `iceGatheringState` stays 'new'; the
 * first setLocalDescription passes it on, then everything after goes straight through.
 */
class PooledTransportHandler extends BundleTransportHandler {
  private held: ({ c: IceCandidate | null; line: string | undefined } | { state: IceGatheringState })[] | undefined = [];
  /** createOffer or setRemoteDescription took the transport: its credentials may be in a description. */
  claimed = false;

  override onLocalCandidate(c: IceCandidate | null, line?: string): void {
    if (this.held) this.held.push({ c, line });
    else super.onLocalCandidate(c, line);
  }

  override onIceGatheringState(s: IceGatheringState): void {
    if (this.held) this.held.push({ state: s });
    else super.onIceGatheringState(s);
  }

  /** True while the pool still holds what it gathered (before the first setLocalDescription). */
  get holding(): boolean {
    return this.held !== undefined;
  }

  /** setLocalDescription: what was held, in order, then nothing is held any more. */
  release(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    for (let i = 0; i < held.length; i++) {
      const e = held[i]!;
      if ('state' in e) super.onIceGatheringState(e.state);
      else super.onLocalCandidate(e.c, e.line);
    }
  }
}

/** What the policy driver reaches of its connection (PolicyDriverOwner), as methods on the prototype. */
class PolicyDriverLink implements PolicyDriverOwner {
  constructor(private readonly pc: RTCPeerConnection) {}
  get router(): MediaRouter {
    return this.pc['router'];
  }
  mediaTransport(): PeerTransport | undefined {
    return this.pc.mediaTransport;
  }
  now(): number {
    return this.pc['clock'].now();
  }
  transceivers(): readonly RTCRtpTransceiver[] {
    return this.pc['transceiverList'];
  }
  emitPolicyEvent(event: RtpPolicyEvent, transceiver: RTCRtpTransceiver | undefined): void {
    if (!this.pc['isClosed']) this.pc.dispatch({ type: 'policy', ...event, transceiver });
  }
}

/** Options fixed at construction (setConfiguration refuses another value; ours, not W3C's). */
const FIXED_OPTIONS = ['udpMux', 'tcpMux', 'iceTcpActive', 'iceLite', 'hostAddresses', 'portRange', 'codecs', 'headerExtensions',
  'srtpProfiles', 'answerDtlsRole', 'maxMessageSize', 'rtpPolicies'] as const;

/** The same option value: identical, or arrays / plain objects with the same members (one level deep, then identity). */
function sameOption(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i] || shallowEqual(x, b[i]));
  return shallowEqual(a, b);
}

function shallowEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => (a as Record<string, unknown>)[k] === (b as Record<string, unknown>)[k]);
}

function invalidState(code: string, message: string): PeerError {
  return new PeerError('InvalidStateError', code, message);
}

/**
 * A peer connection. The transport runs over real UDP sockets opened at setLocalDescription
 * (host candidates are gathered synchronously, so `localDescription` already carries them).
 * Media sent before the connection is up is queued (bounded, see docs/peer.md) and leaves once
 * DTLS-SRTP is keyed; `await pc.connected()` waits for `connectionState === 'connected'`.
 * Each sender reaches it through its own SenderOwner (the transport of its m-section, the
 * transport-wide sequence number and the clock), not through public members.
 */
export class RTCPeerConnection extends PeerEventTarget<RTCPeerConnectionEvents> {
  private config: RTCConfiguration;
  private readonly certificate: DtlsCertificate;
  private readonly clock = systemClock;
  private readonly sessionId = BigInt.asUintN(62, cryptoRng.bytes(8).readBigUInt64BE(0)).toString();
  private sessionVersion = 0n;
  private readonly cname = cryptoRng.bytes(12).toString('base64url');
  /** Names this connection in `peer` / `sdp` debug logs (docs/logging.md). */
  private readonly logId = ++connectionCount;
  private transport: PeerTransport | undefined;
  private transceiverList: RTCRtpTransceiver[] = [];
  private mLines: MLine[] = [];
  private dataMid: string | undefined;
  private dataWanted = false;
  private sctp: DataChannelManager | undefined;
  private pendingLocal: StoredDescription | undefined;
  private currentLocal: StoredDescription | undefined;
  private pendingRemote: StoredDescription | undefined;
  private currentRemote: StoredDescription | undefined;
  private signaling: RTCSignalingState = 'stable';
  /** Aggregated over every transport (webrtc-pc §4.3.3); primaryIce is the first transport's. */
  private iceConnection: IceConnectionState = 'new';
  private primaryIce: IceConnectionState = 'new';
  private primaryGathering: IceGatheringState = 'new';
  private extras: ExtraTransport[] = [];
  private iceGathering: IceGatheringState = 'new';
  private dtlsState: DtlsTransportState = 'new';
  private connection: RTCPeerConnectionState = 'new';
  private failure: string | undefined;
  /** Settles pending connected() promises on close(), which fires no event. */
  // Made by the first connected() or whenClosed() (most connections never call either).
  private closeWaiters: Set<() => void> | undefined;
  private localCandidates: SdpCandidate[] = [];
  private gatheringComplete = false;
  /** Set while setLocalDescription gathers: the candidates it announces do not compact the descriptions one by one. */
  private compactionHeld = false;
  /**
   * The description createOffer/createAnswer made last, text and model: setLocalDescription of
   * that same text takes the model instead of parsing the text it was just serialized from
   * (docs/peer.md "Setup cost"). Taken (and dropped) by the first setLocalDescription.
   */
  private lastCreated: { type: 'offer' | 'answer'; sdp: string; model: SdpSessionDescription; parts: LocalDescriptionText } | undefined;
  /**
   * describeRtpSection of the m-sections being negotiated, each worked out once (a remote offer's
   * section is read by the track events and again when the answer is applied); dropped with the
   * descriptions' models once signaling is stable (compactDescriptions) and on rollback.
   */
  private sectionParameters: Map<SdpMediaSection, RtpSectionParameters> | undefined;
  /** See probePolicies. */
  private policyProbes: Map<MediaKind, RtpPolicyChain> | undefined;
  private restartPending = false;
  /** The candidate pool's handler while the bundle transport was pre-gathered (fillCandidatePool). */
  private pool: PooledTransportHandler | undefined;
  /** The ICE servers and policy the pool gathered with. */
  private pooledWith: { servers: readonly RTCIceServer[]; policy: string } | undefined;
  /** setLocalDescription was called (iceCandidatePoolSize can no longer change). */
  private localDescriptionCalled = false;
  private negotiationQueued = false;
  private isClosed = false;
  /** Transport-wide sequence number (transport-cc) of the next packet; truly private (#). */
  #transportSequence = 0;
  // Made by the first track event.
  private firedTracks: Set<MediaStreamTrack> | undefined;
  private readonly router = new MediaRouter();
  private readonly policyFactories: PolicyFactories;
  /** Transport-wide policy modules (transport-cc feedback, bandwidth estimation): add, remove or replace them here. */
  readonly transportPolicies: RtpPolicyChain;
  private readonly policyDriver: PolicyDriver;
  /** SSRC of transport-wide RTCP when no transceiver has one to lend. */
  private readonly transportRtcpSsrc = cryptoRng.uint32() || 1;
  private dataChannelsOpened = 0;
  /** Remote candidates (description or addIceCandidate) that ICE cannot use, ignored (RFC 8839 §5.1); getStats `pwtRemoteCandidatesIgnored`. */
  private remoteCandidatesIgnored = 0;
  private dataChannelsClosed = 0;

  constructor(configuration: RTCConfiguration = {}) {
    super();
    // TypeError / SyntaxError / InvalidAccessError / RangeError with a stable code (lib/peer/configuration.ts).
    configuration = checkConfiguration(configuration);
    this.config = configuration;
    this.certificate = configuration.certificates?.[0] ?? defaultCertificate();
    this.policyFactories = splitPolicyFactories(configuration.rtpPolicies ?? defaultRtpPolicies());
    this.transportPolicies = RtpPolicyChain.deferred(this.policyFactories.transport, undefined);
    this.policyDriver = new PolicyDriver(new PolicyDriverLink(this), this.transportPolicies);
    this.fillCandidatePool();
  }

  // ---- attributes ---------------------------------------------------------------------

  /** W3C signalingState (RFC 8829 §4.1.1 states). */
  get signalingState(): RTCSignalingState {
    return this.signaling;
  }
  /** W3C iceConnectionState of the (single, bundled) ICE transport. */
  get iceConnectionState(): RTCIceConnectionState {
    return this.iceConnection;
  }
  /** W3C iceGatheringState. */
  get iceGatheringState(): RTCIceGatheringState {
    return this.iceGathering;
  }
  /** W3C connectionState: ICE and DTLS combined (webrtc-pc §4.3.3). */
  get connectionState(): RTCPeerConnectionState {
    return this.connection;
  }
  /** The pending local description, else the current one; it carries the gathered candidates. */
  get localDescription(): RTCSessionDescription | null {
    return this.describe(this.pendingLocal ?? this.currentLocal);
  }
  /** The local description of the last completed negotiation. */
  get currentLocalDescription(): RTCSessionDescription | null {
    return this.describe(this.currentLocal);
  }
  /** The local offer or provisional answer being negotiated. */
  get pendingLocalDescription(): RTCSessionDescription | null {
    return this.describe(this.pendingLocal);
  }
  /** The pending remote description, else the current one. */
  get remoteDescription(): RTCSessionDescription | null {
    return this.describe(this.pendingRemote ?? this.currentRemote);
  }
  /** The remote description of the last completed negotiation. */
  get currentRemoteDescription(): RTCSessionDescription | null {
    return this.describe(this.currentRemote);
  }
  /** The remote offer or provisional answer being negotiated. */
  get pendingRemoteDescription(): RTCSessionDescription | null {
    return this.describe(this.pendingRemote);
  }
  /** Why `connectionState` is `failed` (DTLS alert or fingerprint mismatch, ICE failure); not W3C. */
  get failureReason(): string | undefined {
    return this.failure;
  }

  /** W3C getConfiguration(): the options, with the DTLS certificate in use. */
  getConfiguration(): RTCConfiguration {
    return { ...this.config, certificates: [this.certificate] };
  }

  /**
   * W3C setConfiguration() (webrtc-pc §4.4.1.6 "set a configuration", RFC 8829 §4.1.18): replaces the
   * ICE options. `iceServers` (default none) and `iceTransportPolicy` (default 'all') take effect at
   * the next gathering phase: call {@link restartIce} (or send an ICE-restart offer) to gather from
   * the new servers now; under 'relay' only relayed candidates are announced and paired from then
   * on (the restart's new generation keeps no other). `iceCandidatePoolSize` may change until
   * setLocalDescription is first called. Everything else is fixed at construction: a member given
   * with another value than the connection's throws, one left out keeps the connection's (except
   * `bundlePolicy` and `rtcpMuxPolicy`, whose W3C defaults stand in when left out, and ours are
   * 'max-bundle' and 'require'). Throws, and changes nothing:
   * - InvalidStateError (`ERR_PEER_CLOSED`) on a closed connection;
   * - the constructor's errors for a malformed configuration (TypeError, SyntaxError for a bad ICE
   *   server URL, InvalidAccessError for a TURN server without username or credential, RangeError);
   * - InvalidModificationError (`ERR_PEER_CONFIGURATION_MODIFIED`) for a change of `certificates`,
   *   `bundlePolicy`, `rtcpMuxPolicy` or one of our construction-time options (`udpMux`, `tcpMux`,
   *   `iceTcpActive`, `iceLite`, `hostAddresses`, `portRange`, `codecs`, `headerExtensions`,
   *   `srtpProfiles`, `answerDtlsRole`, `maxMessageSize`, `rtpPolicies`), or of
   *   `iceCandidatePoolSize` after setLocalDescription was called.
   */
  setConfiguration(configuration: RTCConfiguration): void {
    this.assertOpen();
    const c = checkConfiguration(configuration);
    const modified = (what: string): PeerError =>
      new PeerError('InvalidModificationError', 'ERR_PEER_CONFIGURATION_MODIFIED', `setConfiguration: ${what} cannot be changed after construction`);
    // §4.4.1.6 step 3: the certificates, when given, must be those the connection was made with.
    if (c.certificates !== undefined) {
      const made = this.config.certificates ?? [this.certificate];
      const same = (list: readonly unknown[]): boolean => list.length === c.certificates!.length && list.every((x, i) => x === c.certificates![i]);
      if (!same(made) && !same([this.certificate])) throw modified('certificates');
    }
    // Steps 4-5: with their defaults when left out.
    if ((c.bundlePolicy ?? 'max-bundle') !== (this.config.bundlePolicy ?? 'max-bundle')) throw modified('bundlePolicy');
    if ((c.rtcpMuxPolicy ?? 'require') !== (this.config.rtcpMuxPolicy ?? 'require')) throw modified('rtcpMuxPolicy');
    for (const key of FIXED_OPTIONS) {
      if (c[key] !== undefined && !sameOption(c[key], this.config[key])) throw modified(key);
    }
    // Step 6: "If the value of configuration.iceCandidatePoolSize differs from the previously set
    // value and setLocalDescription has already been called, throw an InvalidModificationError."
    const pool = c.iceCandidatePoolSize ?? 0;
    if (pool !== (this.config.iceCandidatePoolSize ?? 0) && this.localDescriptionCalled) throw modified('iceCandidatePoolSize after setLocalDescription');
    // Steps 7-11: the ICE agent's servers and policy, used by the next gathering phase.
    // (W3C members with defaults: one left out is its default, so it is removed here.)
    const next: RTCConfiguration = { ...this.config };
    delete next.iceServers;
    delete next.iceTransportPolicy;
    delete next.iceCandidatePoolSize;
    if (c.iceServers !== undefined) next.iceServers = c.iceServers.map((server) => ({ ...server }));
    if (c.iceTransportPolicy !== undefined) next.iceTransportPolicy = c.iceTransportPolicy;
    if (c.iceCandidatePoolSize !== undefined) next.iceCandidatePoolSize = pool;
    this.config = next;
    const ice = { iceServers: this.config.iceServers ?? [], iceTransportPolicy: this.config.iceTransportPolicy ?? 'all' };
    // §4.4.1.6 steps 7-11: a pool no description used yet is gathered again under the new servers and
    // policy (or released when its size went back to 0); one a description used keeps its candidates.
    if (this.pool && !this.pool.claimed && this.pool.holding) {
      const before = this.pooledWith;
      if (pool === 0 || !before || before.policy !== ice.iceTransportPolicy || JSON.stringify(before.servers) !== JSON.stringify(ice.iceServers)) this.emptyCandidatePool();
    }
    this.transport?.setIceConfiguration(ice);
    for (let i = 0; i < this.extras.length; i++) {
      const e = this.extras[i]!;
      e.transport?.setIceConfiguration(ice);
    }
    peerLog('pc%d setConfiguration: %d ICE servers, policy %s', this.logId, ice.iceServers.length, ice.iceTransportPolicy);
    this.fillCandidatePool();
  }

  get onpolicy(): ((e: RTCPeerConnectionEvents['policy']) => void) | null { return this.getHandler('policy'); }
  set onpolicy(h: ((e: RTCPeerConnectionEvents['policy']) => void) | null) { this.setHandler('policy', h); }

  // onX handlers (webrtc-pc §4.4.1.x event handlers).
  get ontrack(): ((e: RTCPeerConnectionEvents['track']) => void) | null { return this.getHandler('track'); }
  set ontrack(h: ((e: RTCPeerConnectionEvents['track']) => void) | null) { this.setHandler('track', h); }
  get onicecandidate(): ((e: RTCPeerConnectionEvents['icecandidate']) => void) | null { return this.getHandler('icecandidate'); }
  set onicecandidate(h: ((e: RTCPeerConnectionEvents['icecandidate']) => void) | null) { this.setHandler('icecandidate', h); }
  get onicegatheringstatechange(): ((e: RTCPeerConnectionEvents['icegatheringstatechange']) => void) | null { return this.getHandler('icegatheringstatechange'); }
  set onicegatheringstatechange(h: ((e: RTCPeerConnectionEvents['icegatheringstatechange']) => void) | null) { this.setHandler('icegatheringstatechange', h); }
  get oniceconnectionstatechange(): ((e: RTCPeerConnectionEvents['iceconnectionstatechange']) => void) | null { return this.getHandler('iceconnectionstatechange'); }
  set oniceconnectionstatechange(h: ((e: RTCPeerConnectionEvents['iceconnectionstatechange']) => void) | null) { this.setHandler('iceconnectionstatechange', h); }
  get onconnectionstatechange(): ((e: RTCPeerConnectionEvents['connectionstatechange']) => void) | null { return this.getHandler('connectionstatechange'); }
  set onconnectionstatechange(h: ((e: RTCPeerConnectionEvents['connectionstatechange']) => void) | null) { this.setHandler('connectionstatechange', h); }
  get onsignalingstatechange(): ((e: RTCPeerConnectionEvents['signalingstatechange']) => void) | null { return this.getHandler('signalingstatechange'); }
  set onsignalingstatechange(h: ((e: RTCPeerConnectionEvents['signalingstatechange']) => void) | null) { this.setHandler('signalingstatechange', h); }
  get onnegotiationneeded(): ((e: RTCPeerConnectionEvents['negotiationneeded']) => void) | null { return this.getHandler('negotiationneeded'); }
  set onnegotiationneeded(h: ((e: RTCPeerConnectionEvents['negotiationneeded']) => void) | null) { this.setHandler('negotiationneeded', h); }
  get ondatachannel(): ((e: RTCPeerConnectionEvents['datachannel']) => void) | null { return this.getHandler('datachannel'); }
  set ondatachannel(h: ((e: RTCPeerConnectionEvents['datachannel']) => void) | null) { this.setHandler('datachannel', h); }

  // ---- what senders and policy modules use (each sender gets a TransceiverSenderOwner) ----

  /**
   * @internal The bundle transport once an answer or pranswer was applied (tests read its
   * counters; not part of the API, docs/api-report.md).
   */
  get mediaTransport(): PeerTransport | undefined {
    // Media may flow once an answer or a provisional answer (RFC 8829 §4.1.8.1) was applied.
    const applied = (this.currentRemote && this.currentLocal) || this.pendingLocal?.type === 'pranswer' || this.pendingRemote?.type === 'pranswer';
    return this.transport && applied ? this.transport : undefined;
  }

  /**
   * @internal Calls `listener` with the bytes of each well-formed compound RTCP packet this
   * connection receives, before its packets are routed (lib/sfu answers NACKs natively, one call
   * per compound); the bytes are valid only during the call. Returns the function that removes it.
   */
  onRtcpBytes(listener: (data: Buffer, start: number, length: number) => void): () => void {
    const listeners = (this.router.rtcpBytesListeners ??= new Set());
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  // ---- transceivers -------------------------------------------------------------------

  /**
   * Adds a transceiver for a LocalStreamTrack or a kind (webrtc-pc §5.1 addTransceiver).
   * Negotiation is needed afterwards.
   */
  addTransceiver(trackOrKind: LocalStreamTrack | MediaKind, init: RTCRtpTransceiverInit = {}): RTCRtpTransceiver {
    this.assertOpen();
    const track = typeof trackOrKind === 'string' ? null : trackOrKind;
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind?.kind;
    if (kind !== 'audio' && kind !== 'video') throw new PeerError('TypeError', 'ERR_PEER_TRACK_KIND', `kind must be 'audio' or 'video', got ${String(kind)}`);
    if (track !== null && !(track instanceof LocalStreamTrack)) {
      throw new PeerError('TypeError', 'ERR_PEER_TRACK', 'addTransceiver takes a LocalStreamTrack or a kind');
    }
    const direction = init.direction ?? 'sendrecv';
    if (!['sendrecv', 'sendonly', 'recvonly', 'inactive'].includes(direction)) {
      throw new PeerError('TypeError', 'ERR_PEER_DIRECTION', `unknown direction ${String(direction)}`);
    }
    const rids = init.sendEncodings == null ? [] : simulcastRids(init.sendEncodings);
    const streamIds = init.streams == null ? [] : mapList(init.streams, streamIdOf);
    const holder = new TransceiverSenderOwner(this);
    const sender = new RTCRtpSender(kind, track, holder, cryptoRng, rids);
    const receiver = new RTCRtpReceiver(kind);
    const t = new RTCRtpTransceiver(kind, sender, receiver, direction, streamIds, () => this.updateNegotiationNeeded(), this.transceiverPolicies(kind));
    holder.transceiver = t;
    this.linkStats(t);
    this.transceiverList.push(t);
    this.policyDriver.attach(t);
    this.updateNegotiationNeeded();
    return t;
  }

  /** W3C addTrack(): a sendrecv transceiver for the track (a free one of its kind is reused). */
  addTrack(track: LocalStreamTrack, ...streams: (string | { id: string })[]): RTCRtpSender {
    this.assertOpen();
    if (this.transceiverList.some((t) => t.sender.track === track)) {
      throw new PeerError('InvalidAccessError', 'ERR_PEER_TRACK_EXISTS', 'the track already has a sender');
    }
    const free = this.transceiverList.find((t) => !t.stopped && t.kind === track.kind && t.sender.track === null && t.mid !== null && !directionSends(t.localDirection));
    if (free) {
      free.sender.setTrack(track);
      free.streamIds = streams.map((s) => (typeof s === 'string' ? s : s.id));
      free.direction = free.localDirection === 'recvonly' ? 'sendrecv' : 'sendonly';
      return free.sender;
    }
    return this.addTransceiver(track, { direction: 'sendrecv', streams }).sender;
  }

  /** Every transceiver, stopped ones included, in creation order. */
  getTransceivers(): RTCRtpTransceiver[] {
    return [...this.transceiverList];
  }
  /** The senders of transceivers that are not stopped. */
  getSenders(): RTCRtpSender[] {
    return this.transceiverList.filter((t) => !t.stopped).map((t) => t.sender);
  }
  /** The receivers of transceivers that are not stopped. */
  getReceivers(): RTCRtpReceiver[] {
    return this.transceiverList.filter((t) => !t.stopped).map((t) => t.receiver);
  }

  // ---- data channels ------------------------------------------------------------------

  /**
   * webrtc-pc §6.1 createDataChannel(). The first channel makes negotiation needed (an
   * m=application section); the channel opens once SCTP is up.
   */
  createDataChannel(label: string, init: RTCDataChannelInit = {}): RTCDataChannel {
    this.assertOpen();
    // WebIDL: the label is required (converted with String() otherwise), the init a dictionary.
    if (label === undefined) throw new PeerError('TypeError', 'ERR_DATACHANNEL_LABEL', 'createDataChannel needs a label');
    if (init === null) init = {};
    if (typeof init !== 'object') throw new PeerError('TypeError', 'ERR_DATACHANNEL_INIT', `createDataChannel: the options must be an object, got ${typeof init}`);
    const manager = this.ensureSctp();
    const channel = manager.createDataChannel(String(label), init);
    this.trackChannel(channel);
    if (!this.dataWanted) {
      this.dataWanted = true;
      this.updateNegotiationNeeded();
    }
    return channel;
  }

  /**
   * The data-channel manager, created on first use. Its SCTP ports are fixed then: the remote
   * offer's `a=sctp-port` when we answer, else 5000 (what every browser uses).
   */
  private ensureSctp(remotePort = DEFAULT_SCTP_PORT): DataChannelManager {
    if (this.sctp) return this.sctp;
    const manager = new DataChannelManager(
      new SctpAssociation({
        localPort: DEFAULT_SCTP_PORT,
        remotePort,
        maxReceiveMessageSize: this.config.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
        zeroChecksum: true,
      }),
      { clock: this.clock },
    );
    manager.on('datachannel', (e) => {
      this.trackChannel(e.channel);
      this.dispatch({ type: 'datachannel', channel: e.channel });
    });
    this.sctp = manager;
    return manager;
  }

  private trackChannel(channel: RTCDataChannel): void {
    channel.once('open', () => this.dataChannelsOpened++);
    channel.once('close', () => this.dataChannelsClosed++);
  }

  // ---- offer / answer -----------------------------------------------------------------

  /** RFC 8829 §5.2: an offer with one m-section per transceiver (and the data section). */
  async createOffer(options: { iceRestart?: boolean } = {}): Promise<RTCSessionDescription> {
    this.assertOpen();
    if (this.signaling !== 'stable' && this.signaling !== 'have-local-offer') {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `createOffer in signaling state ${this.signaling}`);
    }
    const transport = this.ensureTransport('controlling');
    if (options.iceRestart === true || this.restartPending) {
      this.restartPending = false;
      this.localCandidates = [];
      this.gatheringComplete = false;
      transport.restartIce();
    }
    const lines = this.offerLines();
    const transceivers: LocalTransceiverDescription[] = [];
    let dataIndex: number | undefined;
    const negotiated = this.currentRemote?.type === 'answer' ? this.currentRemote.model : this.currentLocal?.model;
    lines.forEach((line, index) => {
      if (!line.transceiver) {
        dataIndex = index;
        return;
      }
      const t = line.transceiver;
      const previous = negotiated?.media.find((m) => m.mid === line.mid && isRtpSection(m) && m.port !== 0);
      const caps = previous ? negotiatedCapabilities(previous) : { codecs: this.codecsFor(t.kind, t), headerExtensions: this.extensionsFor(t.kind, t) };
      if (t.codecPreferences) caps.codecs = previous ? preferredWithNegotiated(t.codecPreferences, caps.codecs) : t.codecPreferences;
      const d: LocalTransceiverDescription = {
        mid: line.mid,
        kind: t.kind,
        direction: t.localDirection,
        codecs: caps.codecs,
        headerExtensions: caps.headerExtensions,
        receiverRtt: this.policyReceiverRtt(t.kind, t),
        stopped: t.stopped,
      };
      const sender = this.senderDescription(t);
      if (sender) d.sender = sender;
      if (sender && t.sender.encodings.length > 0) d.sendRids = t.sender.encodings.map((e) => e.rid);
      transceivers.push(d);
    });
    const model = createOffer({
      session: this.nextSession(),
      transport: this.localTransportParameters('actpass'),
      transceivers,
      ...(this.dataMid !== undefined ? { dataChannel: { mid: this.dataMid, maxMessageSize: this.config.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE, ...(dataIndex !== undefined ? { index: dataIndex } : {}) } } : {}),
      bundlePolicy: this.config.bundlePolicy === undefined || this.config.bundlePolicy === 'max-bundle' ? 'max-bundle' : 'balanced',
    });
    return this.created('offer', model);
  }

  /** RFC 8829 §5.3: the answer to the pending remote offer. */
  async createAnswer(): Promise<RTCSessionDescription> {
    this.assertOpen();
    if ((this.signaling !== 'have-remote-offer' && this.signaling !== 'have-local-pranswer') || !this.pendingRemote) {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `createAnswer in signaling state ${this.signaling}`);
    }
    const offer = this.pendingRemote.model;
    const checked = this.pendingRemote.checked;
    const media: Record<string, LocalAnswerMedia> = {};
    for (let i = 0; i < offer.media.length; i++) {
      const section = offer.media[i]!;
      if (section.mid === undefined || !isRtpSection(section)) continue;
      const t = this.transceiverList.find((x) => x.mid === section.mid);
      if (!t) {
        // associateTransceivers gave every usable audio/video m-section a transceiver; this is
        // only a guard, answering as a fresh recvonly transceiver would.
        if (section.kind === 'audio' || section.kind === 'video') {
          media[section.mid] = { direction: 'recvonly', codecs: this.codecsFor(section.kind), headerExtensions: this.extensionsFor(section.kind), receiverRtt: this.policyReceiverRtt(section.kind, undefined) };
        }
        continue;
      }
      if (t.stopped) {
        media[section.mid] = { reject: true };
        continue;
      }
      const entry: LocalAnswerMedia = {
        direction: t.localDirection, codecs: t.codecPreferences ?? this.codecsFor(t.kind, t), headerExtensions: this.extensionsFor(t.kind, t),
        receiverRtt: this.policyReceiverRtt(t.kind, t),
      };
      const sender = this.senderDescription(t);
      if (sender) entry.sender = sender;
      media[section.mid] = entry;
    }
    const dtls = this.transport?.dtls;
    const setup = dtls ? (dtls.role === 'client' ? 'active' : 'passive') : this.config.answerDtlsRole === 'server' ? 'passive' : 'active';
    const answerOptions = {
      session: this.nextSession(),
      transport: this.localTransportParameters(setup),
      media,
      // Every audio/video m-section has its entry above: no answer-wide lists to fall back on
      // (making them asked a probe policy chain per kind, every module created; docs/peer.md "Setup cost").
      codecs: [],
      headerExtensions: [],
      dataChannel: { maxMessageSize: this.config.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE },
    };
    // setRemoteDescription checked the offer: it is not checked again (docs/peer.md "Setup cost").
    const model = checked ? createAnswerToChecked(checked, answerOptions) : createAnswer(offer, answerOptions);
    for (let i = 0; i < model.media.length; i++) {
      const section = model.media[i]!;
      const extra = section.mid !== undefined && section.port !== 0 ? this.extraFor(section.mid) : undefined;
      if (extra) applyTransport(section, this.extraParameters(extra, setup), setup, true);
    }
    return this.created('answer', model);
  }

  /** The description just made, remembered with its model and text parts for setLocalDescription. */
  private created(type: 'offer' | 'answer', model: SdpSessionDescription): RTCSessionDescription {
    const parts = new LocalDescriptionText(model);
    const sdp = parts.serialize(model);
    this.lastCreated = { type, sdp, model, parts };
    return new RTCSessionDescription({ type, sdp });
  }

  /**
   * The model of a description to apply locally: the one createOffer/createAnswer serialized
   * `sdp` from, when it is that text (parseSdp of it gives an equal model:
   * test/unit/sdp/pinned.test.ts), else the text parsed. Either way nothing else holds it.
   */
  private localModel(type: string, sdp: string): { model: SdpSessionDescription; parts: LocalDescriptionText | undefined } {
    const last = this.lastCreated;
    this.lastCreated = undefined;
    return last !== undefined && last.type === type && last.sdp === sdp ? last : { model: parseSdp(sdp), parts: undefined };
  }

  /**
   * webrtc-pc §4.4.1.5. Without an argument (or without sdp) the description is created
   * implicitly. Host candidates are gathered before this resolves.
   */
  async setLocalDescription(description?: RTCSessionDescriptionInit): Promise<void> {
    this.assertOpen();
    // webrtc-pc §4.4.1.6 "set a configuration": iceCandidatePoolSize is fixed from here on.
    this.localDescriptionCalled = true;
    let desc = description;
    if (desc?.type === 'rollback') {
      this.rollback('local');
      return;
    }
    if (!desc || !desc.sdp) {
      const type = desc?.type ?? (this.signaling === 'have-remote-offer' || this.signaling === 'have-local-pranswer' ? 'answer' : 'offer');
      desc = type === 'answer' ? await this.createAnswer() : await this.createOffer();
    }
    if (desc.type !== 'offer' && desc.type !== 'answer' && desc.type !== 'pranswer') {
      throw new PeerError('TypeError', 'ERR_PEER_SDP_TYPE', `setLocalDescription of type ${String(desc.type)}`);
    }
    if (desc.type === 'offer' && this.signaling !== 'stable' && this.signaling !== 'have-local-offer') {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `setLocalDescription(offer) in signaling state ${this.signaling}`);
    }
    // RFC 8829 §4.1.8.1: an answer or provisional answer follows a remote offer or our own pranswer.
    if (desc.type !== 'offer' && this.signaling !== 'have-remote-offer' && this.signaling !== 'have-local-pranswer') {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `setLocalDescription(${desc.type}) in signaling state ${this.signaling}`);
    }
    const { model, parts } = this.localModel(desc.type, desc.sdp!);
    if (desc.type === 'offer') {
      this.commitMLines(model);
      this.pendingLocal = StoredDescription.local('offer', model, parts);
      this.setSignaling('have-local-offer');
    } else if (desc.type === 'pranswer') {
      // A provisional answer is applied like an answer (transport and media start, RFC 8829
      // §4.1.8.1) but the offer stays pending until the final answer.
      this.pendingLocal = StoredDescription.local('pranswer', model, parts);
      this.applyNegotiation(false, model, this.pendingRemote!.model, this.pendingRemote!.transports);
      this.setSignaling('have-local-pranswer');
    } else {
      const before = [this.currentLocal, this.currentRemote, this.pendingRemote, this.pendingLocal] as const;
      this.currentLocal = StoredDescription.local('answer', model, parts);
      this.currentRemote = this.pendingRemote;
      this.pendingRemote = undefined;
      this.pendingLocal = undefined;
      try {
        this.applyNegotiation(false);
      } catch (err) {
        // The answer is not applied: the offer stays pending, so that the call can be retried
        // with another answer or rolled back (webrtc-pc §4.4.1.5 rejects without changing state).
        [this.currentLocal, this.currentRemote, this.pendingRemote, this.pendingLocal] = before;
        throw err;
      }
      this.setSignaling('stable');
    }
    // Host candidates arrive synchronously inside gather(): the description is compacted once
    // they are all written (below), not after each, which would serialize and parse it again.
    this.compactionHeld = true;
    try {
      this.transport!.gather();
      // Candidates the pool gathered before: announced now, as if just found (no new bind or allocation).
      this.pool?.release();
      for (let j = 0; j < this.extras.length; j++) {
        const e = this.extras[j]!;
        e.transport!.gather();
      }
    } finally {
      this.compactionHeld = false;
    }
    this.injectCandidates();
    this.updateNegotiationNeeded();
  }

  /** Unbundled transports: each extra transport gets the ICE parameters of the remote transport of its mids. */
  private setExtrasRemoteIce(remoteTransports: readonly RemoteTransportParameters[], remoteIceCandidates: readonly IceCandidate[][]): void {
    remoteTransports.forEach((rt, i) => {
      const extra = this.extras.find((e) => e.mids.some((m) => rt.mids.includes(m)));
      extra?.transport!.setRemoteIce({ ufrag: rt.iceUfrag, password: rt.icePwd }, rt.iceLite, remoteIceCandidates[i]!, rt.endOfCandidates);
    });
  }

  /** webrtc-pc §4.4.1.6. A malformed description throws a typed error and changes nothing. */
  async setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
    this.assertOpen();
    if (!description || typeof description.type !== 'string') throw new PeerError('TypeError', 'ERR_PEER_SDP_TYPE', 'a description needs a type');
    if (description.type === 'rollback') {
      this.rollback('remote');
      return;
    }
    if (description.type !== 'offer' && description.type !== 'answer' && description.type !== 'pranswer') {
      throw new PeerError('TypeError', 'ERR_PEER_SDP_TYPE', `setRemoteDescription of type ${String(description.type)}`);
    }
    if (description.type === 'offer' && this.signaling !== 'stable' && this.signaling !== 'have-remote-offer') {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `setRemoteDescription(offer) in signaling state ${this.signaling}`);
    }
    // RFC 8829 §4.1.8.1: an answer or provisional answer follows our offer or the peer's pranswer.
    if (description.type !== 'offer' && this.signaling !== 'have-local-offer' && this.signaling !== 'have-remote-pranswer') {
      throw invalidState('ERR_PEER_SIGNALING_STATE', `setRemoteDescription(${description.type}) in signaling state ${this.signaling}`);
    }
    const model = parseSdp(description.sdp ?? '');
    // m-lines are never removed or re-kinded (RFC 3264 §8.2, RFC 8829 §5.7/§5.8): an offer is
    // checked against the last completed negotiation, an answer against the offer it answers.
    const established: SdpSessionDescription[] = [];
    if (description.type !== 'offer') {
      if (this.pendingLocal) established.push(this.pendingLocal.model);
    } else {
      if (this.currentLocal) established.push(this.currentLocal.model);
      if (this.currentRemote) established.push(this.currentRemote.model);
    }
    // The description's transports, worked out once for validation, the DTLS setup and ICE.
    const checked = checkRemoteDescription(model, established, description.type === 'offer' ? 'offer' : 'answer');
    const remoteTransports = checked.transports;
    checkRemoteFingerprints(remoteTransports);
    const remoteTransport = remoteTransports[0];
    // The agent takes each transport's candidates as lib/sdp parsed them (no line written and split
    // again; docs/peer.md "Setup cost"). One that ICE cannot use (an FQDN host, an unknown type,
    // priority 0, an address form lib/ice does not know) is ignored and counted, and the rest of
    // the description applies (RFC 8839 §5.1).
    const remoteIceCandidates = mapList(remoteTransports, (rt) => this.usableRemoteCandidates(rt.candidates));
    if (sdpLog.enabled) sdpLog('pc%d remote %s: %d m-section(s), ufrag %s, %d candidate(s)%s', this.logId, description.type, model.media.length, remoteTransport ? redacted(remoteTransport.iceUfrag) : 'none', remoteTransport?.candidates.length ?? 0, remoteTransport?.iceLite === true ? ', ice-lite' : '');
    const stored = StoredDescription.remote(description.type, checked, description.sdp ?? '');
    if (description.type === 'offer') {
      const transport = this.ensureTransport('controlled');
      const previousUfrag = transport.ice.remoteCredentials?.ufrag;
      if (previousUfrag !== undefined && previousUfrag !== remoteTransport?.iceUfrag) {
        // The peer restarts ICE (RFC 8445 §9): our answer carries new credentials too.
        this.localCandidates = [];
        this.gatheringComplete = false;
        transport.restartIce();
      }
      this.syncExtras(remoteTransports);
      this.associateTransceivers(model);
      this.pendingRemote = stored;
      this.setSignaling('have-remote-offer');
    } else if (description.type === 'pranswer') {
      this.pendingRemote = stored;
      this.applyNegotiation(true, model, model, remoteTransports);
      this.setSignaling('have-remote-pranswer');
    } else {
      this.currentRemote = stored;
      this.currentLocal = this.pendingLocal;
      this.pendingLocal = undefined;
      this.pendingRemote = undefined;
      this.applyNegotiation(true, undefined, model, remoteTransports);
      this.setSignaling('stable');
    }
    if (remoteTransport && this.transport) {
      this.transport.setRemoteIce(
        { ufrag: remoteTransport.iceUfrag, password: remoteTransport.icePwd },
        remoteTransport.iceLite,
        remoteIceCandidates[0]!,
        remoteTransport.endOfCandidates,
      );
    }
    if (this.extras.length > 0) this.setExtrasRemoteIce(remoteTransports, remoteIceCandidates);
    this.fireTrackEvents(model);
    this.updateNegotiationNeeded();
    this.compactDescriptions();
  }

  /** webrtc-pc §4.4.1.7: a trickled remote candidate; null or '' means end-of-candidates. */
  async addIceCandidate(candidate?: RTCIceCandidateInit | RTCIceCandidate | null): Promise<void> {
    this.assertOpen();
    if (!this.pendingRemote && !this.currentRemote) {
      throw invalidState('ERR_PEER_NO_REMOTE_DESCRIPTION', 'addIceCandidate before setRemoteDescription');
    }
    // WebIDL: an RTCIceCandidateInit dictionary (or null/undefined: the end of candidates).
    if (candidate !== undefined && candidate !== null && typeof candidate !== 'object') {
      throw new PeerError('TypeError', 'ERR_PEER_CANDIDATE_TYPE', `addIceCandidate: expected an RTCIceCandidateInit, got ${typeof candidate}`);
    }
    const text = candidate?.candidate ?? '';
    if (typeof text !== 'string') throw new PeerError('TypeError', 'ERR_PEER_CANDIDATE_TYPE', `addIceCandidate: candidate must be a string, got ${typeof text}`);
    // WebIDL converts the dictionary's members before webrtc-pc looks at them (sdpMid is a
    // DOMString?, sdpMLineIndex an unsigned short?): signaling that round-trips JSON loosely sends
    // `sdpMid: 0` or `sdpMLineIndex: '0'`, which a browser accepts.
    const sdpMid = candidate?.sdpMid == null ? null : String(candidate.sdpMid);
    const sdpMLineIndex = candidate?.sdpMLineIndex == null ? null : webIdlUnsignedShort(candidate.sdpMLineIndex);
    // webrtc-pc §4.4.1.6 addIceCandidate: a mid no m-section has, or an index past the last one,
    // is an OperationError (checked for the end-of-candidates form too).
    this.assertCandidateSection(sdpMid, sdpMLineIndex);
    if (text === '') {
      this.transport?.addRemoteCandidate(null);
      for (let j = 0; j < this.extras.length; j++) {
        const e = this.extras[j]!;
        e.transport!.addRemoteCandidate(null);
      }
      return;
    }
    let parsed: SdpCandidate;
    try {
      parsed = parseSdpCandidate(text);
    } catch (err) {
      throw new PeerError('OperationError', 'ERR_PEER_BAD_CANDIDATE', `addIceCandidate: ${(err as Error).message}`, { cause: err });
    }
    // What a description's candidates would give to ICE (lib/sdp's rule): component 1, UDP or passive TCP.
    if (!isUsableRemoteCandidate(parsed)) return;
    // Unbundled: the candidate belongs to the transport of its m-section.
    const target = sdpMid !== null && this.extras.length > 0 ? this.transportForMid(sdpMid) : this.transport;
    const remoteUfrag = target?.ice.remoteCredentials?.ufrag;
    if (candidate?.usernameFragment && remoteUfrag !== undefined && candidate.usernameFragment !== remoteUfrag) return;
    if (!target) return;
    // lib/ice checks it by its own rules; a candidate ICE cannot use is ignored and counted, as in a
    // description (RFC 8839 §5.1); only text lib/sdp cannot parse rejects (OperationError, above).
    const c = this.usableRemoteCandidate(parsed);
    if (c) target.addRemoteCandidate(c);
  }

  /**
   * webrtc-pc §4.4.1.6: `sdpMid`, when given, names an m-section of the remote description; else
   * `sdpMLineIndex`, when given, is one of its indices. Not W3C: with neither, the candidate goes to
   * the bundle transport (docs/peer.md "Trickle").
   */
  private assertCandidateSection(mid: string | null, index: number | null): void {
    const media = (this.pendingRemote ?? this.currentRemote)!.model.media;
    if (mid !== null) {
      if (!media.some((m) => m.mid === mid)) throw new PeerError('OperationError', 'ERR_PEER_CANDIDATE_MID', `addIceCandidate: no m-section of the remote description has mid ${JSON.stringify(mid).slice(0, 80)}`);
    } else if (index !== null) {
      if (index >= media.length) {
        throw new PeerError('OperationError', 'ERR_PEER_CANDIDATE_MLINE', `addIceCandidate: sdpMLineIndex ${String(index)} is not an m-section of the remote description (${media.length})`);
      }
    }
  }

  /** The candidates of `list` ICE can use; the others are ignored and counted (RFC 8839 §5.1). */
  private usableRemoteCandidates(list: readonly SdpCandidate[]): IceCandidate[] {
    const out: IceCandidate[] = [];
    for (let i = 0; i < list.length; i++) {
      const sc = list[i]!;
      const c = this.usableRemoteCandidate(sc);
      if (c) out.push(c);
    }
    return out;
  }

  /** `sc` as lib/ice's candidate, or undefined (counted in `pwtRemoteCandidatesIgnored`, logged) when ICE cannot use it. */
  private usableRemoteCandidate(sc: SdpCandidate): IceCandidate | undefined {
    const c = usableIceCandidateOf(sc);
    if (!(c instanceof IceCandidateSyntaxError)) return c;
    this.remoteCandidatesIgnored++;
    if (peerLog.enabled) peerLog('pc%d remote candidate ignored (%s): %s %s typ %s (total %d)', this.logId, c.message, sc.transport, redacted(sc.address), sc.type, this.remoteCandidatesIgnored);
    return undefined;
  }

  /** webrtc-pc §4.4.1.8 restartIce(): the next offer carries new ICE credentials. */
  restartIce(): void {
    this.assertOpen();
    this.restartPending = true;
    this.updateNegotiationNeeded(true);
  }

  /**
   * Resolves once `connectionState` is `connected` (ICE and DTLS up, SRTP keyed); rejects with
   * an InvalidStateError if it becomes `failed` or `closed`, or after `timeoutMs` when given.
   */
  connected(timeoutMs?: number): Promise<void> {
    if (this.connection === 'connected') return Promise.resolve();
    if (this.connection === 'failed' || this.connection === 'closed') {
      return Promise.reject(invalidState('ERR_PEER_NOT_CONNECTED', `the connection is ${this.connection}`));
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onChange = (): void => {
        const s = this.connection;
        if (s !== 'connected' && s !== 'failed' && s !== 'closed') return;
        cleanup();
        if (s === 'connected') resolve();
        else reject(invalidState('ERR_PEER_NOT_CONNECTED', `the connection is ${s}`));
      };
      const onClose = (): void => {
        cleanup();
        reject(invalidState('ERR_PEER_NOT_CONNECTED', 'the connection is closed'));
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        this.off('connectionstatechange', onChange);
        this.dropCloseWaiter(onClose);
      };
      this.on('connectionstatechange', onChange);
      (this.closeWaiters ??= new Set()).add(onClose);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new PeerError('OperationError', 'ERR_PEER_CONNECT_TIMEOUT', `not connected after ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /**
   * @internal Runs `fn` once when close() is called (close() fires no event), at once when already
   * closed; returns a function that unregisters it. lib/sfu cleans up its forwarding rules with it.
   */
  whenClosed(fn: () => void): () => void {
    if (this.isClosed) {
      fn();
      return () => undefined;
    }
    (this.closeWaiters ??= new Set()).add(fn);
    return () => this.dropCloseWaiter(fn);
  }

  /** Unregisters a close waiter; the set goes once empty (an idle PC keeps none: docs/peer.md). */
  private dropCloseWaiter(fn: () => void): boolean {
    const had = this.closeWaiters?.delete(fn) ?? false;
    if (this.closeWaiters?.size === 0) this.closeWaiters = undefined;
    return had;
  }

  /**
   * W3C getStats(selector?) (webrtc-pc getStats): a Map of stats objects with W3C type names and
   * fields, plus drop counters. With a sender, a receiver or a track, only that one's RTP stream
   * entries and what they refer to (transport, codec, candidate pair, certificates...). Rejects
   * with InvalidAccessError for a selector that is not (uniquely) this connection's.
   */
  async getStats(selector?: RTCRtpSender | RTCRtpReceiver | MediaStreamTrack | null): Promise<RTCStatsReport> {
    const seed = selector === undefined || selector === null ? undefined : this.statsSeed(selector);
    const report = buildStatsReport({
      now: Date.now(),
      transport: this.transport,
      certificate: this.certificate,
      transceivers: this.transceiverList,
      router: this.router,
      dtlsState: this.dtlsState,
      iceState: this.primaryIce,
      sctp: this.sctp,
      dataChannelsOpened: this.dataChannelsOpened,
      dataChannelsClosed: this.dataChannelsClosed,
      remoteCandidatesIgnored: this.remoteCandidatesIgnored,
      transportPolicies: this.transportPolicies,
    });
    this.extras.forEach((e, i) => {
      addExtraTransportStats(report, {
        id: `T0${i + 2}`, timestamp: report.get('P')!.timestamp, transport: e.transport!, localCertificate: this.certificate,
        dtlsState: e.dtls, iceState: e.ice, mids: e.mids,
      });
    });
    return seed ? selectStats(report, seed) : report;
  }

  /** webrtc-pc's stats selection algorithm for one selector: which RTP entries are its own. */
  private statsSeed(selector: RTCRtpSender | RTCRtpReceiver | MediaStreamTrack): (s: RTCStats) => boolean {
    let sender: RTCRtpSender | undefined;
    let receiver: RTCRtpReceiver | undefined;
    if (selector instanceof RTCRtpSender) sender = this.transceiverList.find((t) => t.sender === selector)?.sender;
    else if (selector instanceof RTCRtpReceiver) receiver = this.transceiverList.find((t) => t.receiver === selector)?.receiver;
    else if (selector instanceof MediaStreamTrack) {
      const senders = this.transceiverList.filter((t) => t.sender.track === selector);
      const receivers = this.transceiverList.filter((t) => t.receiver.tracks.includes(selector));
      if (senders.length + receivers.length !== 1) {
        throw new PeerError('InvalidAccessError', 'ERR_PEER_STATS_SELECTOR', `the track has ${senders.length + receivers.length} senders and receivers on this connection, not one`);
      }
      sender = senders[0]?.sender;
      receiver = receivers[0]?.receiver;
    }
    if (sender) {
      const ssrcs = new Set([sender.ssrc, ...sender.encodings.map((e) => e.ssrc)]);
      return (s) => s.type === 'outbound-rtp' && ssrcs.has(s.ssrc as number);
    }
    if (receiver) {
      const r = receiver;
      return (s) => s.type === 'inbound-rtp' && r.streams.has(s.ssrc as number);
    }
    throw new PeerError('InvalidAccessError', 'ERR_PEER_STATS_SELECTOR', 'the selector is not a sender, receiver or track of this connection');
  }

  /**
   * Closes everything: transport (DTLS close_notify, sockets, timer), tracks, data channels.
   * No event fires afterwards; every method but close() and getStats() then throws.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.signaling = 'closed';
    this.connection = 'closed';
    this.iceConnection = 'closed';
    this.lastCreated = undefined;
    this.policyProbes = undefined;
    this.policyDriver.close();
    for (let i = 0; i < this.transceiverList.length; i++) {
      const t = this.transceiverList[i]!;
      t.markStopped();
    }
    if (this.sctp) {
      for (const channel of this.sctp.channels.values()) channel.markClosed();
    }
    this.transport?.close();
    for (let i = 0; i < this.extras.length; i++) {
      const e = this.extras[i]!;
      e.transport!.close();
    }
    if (this.closeWaiters) for (const settle of [...this.closeWaiters]) settle();
    this.removeAllListeners();
  }

  // ---- internals: transport -----------------------------------------------------------

  private ensureTransport(role: 'controlling' | 'controlled'): PeerTransport {
    const pool = this.pool;
    if (this.transport && pool && !pool.claimed) {
      // The pre-gathered transport serves the first offer or answer; an answerer's is controlled.
      pool.claimed = true;
      if (role !== 'controlling') this.transport.ice.assignRole(role);
      if (this.sctp && (this.dataMid === undefined || !this.extraFor(this.dataMid))) this.transport.attachSctp(this.sctp);
    }
    if (this.transport) return this.transport;
    const handler = new BundleTransportHandler(this);
    this.transport = this.createPeerTransport(role, handler);
    if (this.sctp && (this.dataMid === undefined || !this.extraFor(this.dataMid))) this.transport.attachSctp(this.sctp);
    return this.transport;
  }

  /**
   * webrtc-pc §4.4.1.1 / §4.4.1.6: with `iceCandidatePoolSize` > 0 and no setLocalDescription yet,
   * the bundle transport is made and gathers now (host sockets bound, STUN queried, TURN allocated),
   * its findings held by a PooledTransportHandler until setLocalDescription. One transport whatever
   * the size: every m-section is bundled on one (max-bundle); an unbundled answer's extra transports
   * gather at setLocalDescription as before.
   */
  private fillCandidatePool(): void {
    if (this.transport || this.isClosed || this.localDescriptionCalled || (this.config.iceCandidatePoolSize ?? 0) === 0) return;
    const handler = new PooledTransportHandler(this);
    this.pool = handler;
    this.transport = this.createPeerTransport('controlling', handler);
    this.pooledWith = { servers: this.config.iceServers ?? [], policy: this.config.iceTransportPolicy ?? 'all' };
    peerLog('pc%d candidate pool: pre-gathering', this.logId);
    try {
      this.transport.gather();
    } catch (err) {
      // Nothing to gather with (no address could be bound): setLocalDescription gathers and reports it.
      peerLog('pc%d candidate pool not filled: %s', this.logId, err instanceof Error ? err.message : String(err));
      this.emptyCandidatePool();
    }
  }

  /** Closes a pooled transport no description has used (the pool size back to 0, or new ICE servers or policy). */
  private emptyCandidatePool(): void {
    const pool = this.pool;
    if (!pool || pool.claimed || !pool.holding || !this.transport) return;
    this.pool = undefined;
    this.transport.close();
    this.transport = undefined;
    peerLog('pc%d candidate pool released', this.logId);
  }

  /** The bundle transport's gathering state (BundleTransportHandler). */
  private onBundleGatheringState(s: IceGatheringState): void {
    if (this.isClosed) return;
    this.primaryGathering = s;
    this.refreshGathering();
  }

  /** The bundle transport's ICE state (BundleTransportHandler). */
  private onBundleIceState(s: IceConnectionState): void {
    if (this.isClosed) return;
    this.primaryIce = s;
    this.refreshIceState();
  }

  /** The bundle transport's DTLS state (BundleTransportHandler). */
  private onBundleDtlsState(s: DtlsTransportState, reason: string | undefined): void {
    if (this.isClosed) return;
    this.dtlsState = s;
    if (s === 'failed') this.failure ??= `DTLS failed: ${reason ?? 'handshake error'}`;
    if (s === 'connected') for (const t of this.transceiverList) t.sender.flush();
    this.updateConnectionState();
  }

  /** Clear RTP/RTCP of one receive batch, to the router (every transport of the connection). */
  private onTransportMedia(data: Buffer, starts: Uint32Array, lengths: Uint32Array, count: number): void {
    this.router.receive(data, starts, lengths, count, this.clock.now());
  }

  /** A PeerTransport with this connection's options (the bundle transport, or an extra one). */
  private createPeerTransport(role: 'controlling' | 'controlled', handler: PeerTransportHandler): PeerTransport {
    // One driver for every path (docs/architecture.md): own sockets, the shared UdpMux port or
    // TURN relays are datagram sources of the IceTransport; native SRTP, trickle, restart,
    // consent and mDNS resolution are the same on each.
    const iceOptions = {
      role,
      mode: this.config.iceLite === true ? ('lite' as const) : ('full' as const),
      ...(this.config.iceServers ? { iceServers: this.config.iceServers } : {}),
      ...(this.config.iceTransportPolicy ? { iceTransportPolicy: this.config.iceTransportPolicy } : {}),
      clock: this.clock,
    };
    const ice = this.config.udpMux
      ? this.config.udpMux.createTransport(iceOptions)
      : new IceTransport({
        ...iceOptions,
        gather: {
          addresses: this.config.hostAddresses ?? defaultHostAddresses(),
          recvBufferSize: PEER_SOCKET_BUFFER_BYTES,
          sendBufferSize: PEER_SOCKET_BUFFER_BYTES,
          ...(this.config.portRange ? { portRange: this.config.portRange } : {}),
          ...(this.config.iceTcpActive ? { tcpActive: true } : {}),
        },
      });
    this.config.tcpMux?.attach(ice);
    return new PeerTransport({
      handler,
      certificate: this.certificate,
      ice,
      clock: this.clock,
      ...(this.config.srtpProfiles ? { srtpProfiles: this.config.srtpProfiles } : {}),
    });
  }

  /** The extra transport carrying `mid`, if an unbundled remote offer gave it one. */
  private extraFor(mid: string): ExtraTransport | undefined {
    for (let i = 0; i < this.extras.length; i++) {
      const e = this.extras[i]!;
      if (e.mids.includes(mid)) return e;
    }
    return undefined;
  }

  /** The transport carrying `mid`. */
  private transportForMid(mid: string): PeerTransport | undefined {
    return this.extraFor(mid)?.transport ?? this.transport;
  }

  /**
   * Answerer side of an unbundled offer: one extra transport (own ICE agent, sockets and DTLS)
   * per remote transport after the first (RFC 8843: without BUNDLE each m-section has its own).
   * A renegotiation that re-bundles keeps the transports it had.
   */
  private syncExtras(remote: readonly RemoteTransportParameters[]): void {
    for (const rt of remote.slice(1)) {
      if (rt.mids.length === 0) continue;
      let extra = this.extras.find((e) => e.mids.some((m) => rt.mids.includes(m)));
      if (!extra) {
        const e: ExtraTransport = { mids: [...rt.mids], transport: undefined, candidates: [], gatheringComplete: false, gathering: 'new', ice: 'new', dtls: 'new' };
        e.transport = this.createPeerTransport('controlled', {
          onLocalCandidate: (c, line) => this.onExtraCandidate(e, c, line),
          onIceGatheringState: (state) => {
            if (this.isClosed) return;
            e.gathering = state;
            this.refreshGathering();
          },
          onIceConnectionState: (state) => {
            if (this.isClosed) return;
            e.ice = state;
            this.refreshIceState();
          },
          onDtlsState: (state, reason) => {
            if (this.isClosed) return;
            e.dtls = state;
            if (state === 'failed') this.failure ??= `DTLS failed (mid ${e.mids.join(',')}): ${reason ?? 'handshake error'}`;
            if (state === 'connected') for (const t of this.transceiverList) t.sender.flush();
            this.updateConnectionState();
          },
          onMedia: (data, starts, lengths, count) => this.router.receive(data, starts, lengths, count, this.clock.now()),
        });
        this.extras.push(e);
        sdpLog('pc%d mids %s get their own transport (not bundled with mid %s)', this.logId, e.mids.join(','), remote[0]?.mids[0] ?? '-');
        extra = e;
      } else {
        const previous = extra.transport!.ice.remoteCredentials?.ufrag;
        if (previous !== undefined && previous !== rt.iceUfrag) {
          extra.candidates = [];
          extra.gatheringComplete = false;
          extra.transport!.restartIce();
        }
      }
    }
  }

  private onExtraCandidate(e: ExtraTransport, c: IceCandidate | null, formatted?: string): void {
    if (this.isClosed) return;
    if (c === null) {
      e.gatheringComplete = true;
      this.injectCandidates();
      this.announceEndOfCandidates();
      return;
    }
    const line = formatted ?? formatIceCandidate(c);
    const sdpCandidate = sdpCandidateOf(c);
    if (!e.candidates.some((x) => x.address === sdpCandidate.address && x.port === sdpCandidate.port && x.type === sdpCandidate.type)) e.candidates.push(sdpCandidate);
    this.injectCandidates();
    const mid = e.mids[0]!;
    const index = this.mLines.findIndex((l) => l.mid === mid);
    const candidate = new RTCIceCandidate({ candidate: line, sdpMid: mid, sdpMLineIndex: index < 0 ? null : index, usernameFragment: e.transport!.localCredentials.ufrag });
    queueEventTask(() => !this.isClosed && this.fire({ type: 'icecandidate', candidate }), this.listenerCount('icecandidate') > 0);
  }

  /** Our ICE/DTLS parameters for the m-sections of an extra transport. */
  private extraParameters(e: ExtraTransport, setup: LocalTransportParameters['setup']): LocalTransportParameters {
    const creds = e.transport!.localCredentials;
    const p: LocalTransportParameters = {
      iceUfrag: creds.ufrag,
      icePwd: creds.password,
      fingerprints: sdpFingerprintsOf(this.certificate),
      candidates: e.candidates,
      endOfCandidates: e.gatheringComplete,
    };
    if (setup !== undefined) p.setup = setup;
    if (this.config.iceLite === true) p.iceLite = true;
    return p;
  }

  private transportStates(): TransportStates[] {
    return [{ ice: this.primaryIce, dtls: this.dtlsState }, ...this.extras.map((e) => ({ ice: e.ice, dtls: e.dtls }))];
  }

  /** webrtc-pc RTCIceGatheringState over every transport: gathering while any is, complete when all are, else new. */
  private refreshGathering(): void {
    // One transport (bundled): its state is the connection's, no list to build.
    const s = this.extras.length === 0 ? this.primaryGathering : this.aggregateGathering();
    if (s === this.iceGathering) return;
    this.iceGathering = s;
    this.dispatch({ type: 'icegatheringstatechange' });
  }

  /** webrtc-pc RTCIceGatheringState over the bundle transport and the extra ones. */
  private aggregateGathering(): IceGatheringState {
    const states = [this.primaryGathering, ...this.extras.map((e) => e.gathering)];
    return states.includes('gathering') ? 'gathering' : states.every((x) => x === 'complete') ? 'complete' : 'new';
  }

  /** The end-of-candidates `icecandidate` event (candidate null), once every transport finished gathering. */
  private announceEndOfCandidates(): void {
    if (!this.gatheringComplete || this.extras.some((e) => !e.gatheringComplete)) return;
    queueEventTask(() => !this.isClosed && this.fire({ type: 'icecandidate', candidate: null }), this.listenerCount('icecandidate') > 0);
  }

  /** Recomputes the aggregated iceConnectionState (webrtc-pc §4.3.3) and the connection state. */
  private refreshIceState(): void {
    // One transport (bundled): its state is the connection's, no aggregate to build.
    const s = this.extras.length === 0 ? this.primaryIce : aggregateIceState(this.transportStates());
    if (s !== this.iceConnection) {
      this.iceConnection = s;
      if (s === 'failed') {
        this.failure ??= this.transport?.ice.stateReason === 'tcp-connection-closed'
          ? 'ICE failed: the TCP connection of the selected pair closed and no other pair worked (RFC 6544)'
          : 'ICE failed: no candidate pair worked, or consent was lost (RFC 7675)';
      }
      this.dispatch({ type: 'iceconnectionstatechange' });
    }
    this.updateConnectionState();
  }

  private onLocalCandidate(c: IceCandidate | null, formatted?: string): void {
    if (this.isClosed) return;
    const mid = this.mLines.find((l) => !this.isStoppedLine(l))?.mid ?? null;
    const ufrag = this.transport?.localCredentials.ufrag ?? null;
    if (c === null) {
      this.gatheringComplete = true;
      this.injectCandidates();
      this.announceEndOfCandidates();
      return;
    }
    const line = formatted ?? formatIceCandidate(c);
    const sdpCandidate = sdpCandidateOf(c);
    if (!this.localCandidates.some((x) => x.address === sdpCandidate.address && x.port === sdpCandidate.port && x.type === sdpCandidate.type)) {
      this.localCandidates.push(sdpCandidate);
    }
    this.injectCandidates();
    queueEventTask(() => {
      // The candidate object is made only when someone listens (at the time the event fires).
      if (this.isClosed || this.listenerCount('icecandidate') === 0) return false;
      this.dispatch({ type: 'icecandidate', candidate: new RTCIceCandidate({ candidate: line, sdpMid: mid, sdpMLineIndex: mid === null ? null : 0, usernameFragment: ufrag }) });
      return true;
    }, this.listenerCount('icecandidate') > 0);
  }

  private isStoppedLine(l: MLine): boolean {
    return l.transceiver?.stopped === true;
  }

  /** Writes the gathered candidates into the local description (the tag m-section, RFC 8829 §5.2.1). */
  private injectCandidates(): void {
    if (this.transport && (this.pendingLocal || this.currentLocal)) {
      const edit = (model: SdpSessionDescription): void => this.writeLocalTransport(model);
      this.pendingLocal?.editLater(edit);
      this.currentLocal?.editLater(edit);
    }
    this.compactDescriptions();
  }

  /** Writes the local transport parameters and the candidates gathered so far into `model`. */
  private writeLocalTransport(model: SdpSessionDescription): void {
    if (!this.transport) return;
    const params = this.localTransportParameters(undefined);
    const balanced = this.config.bundlePolicy === 'balanced' || this.config.bundlePolicy === 'max-compat';
    let first = true;
    for (let i = 0; i < model.media.length; i++) {
      const s = model.media[i]!;
      if (s.port === 0 && s.bundleOnly !== true) continue;
      const extra = s.mid !== undefined && this.extras.length > 0 ? this.extraFor(s.mid) : undefined;
      if (extra) {
        applyTransport(s, this.extraParameters(extra, s.setup), s.setup, true);
        continue;
      }
      if (first || balanced) applyTransport(s, params, s.setup, true);
      first = false;
    }
  }

  /** Drops the parsed models of the current descriptions while nothing is being negotiated. */
  private compactDescriptions(): void {
    if (this.signaling !== 'stable' || this.compactionHeld) return;
    this.currentLocal?.compact();
    this.currentRemote?.compact();
    this.sectionParameters = undefined;
    // The lists that grew by push keep 17 slots for one or two entries: copied to their exact
    // length once negotiation is over (docs/architecture.md, memory). Nothing keeps the old arrays.
    this.transceiverList = this.transceiverList.slice();
    this.mLines = this.mLines.slice();
    this.localCandidates = this.localCandidates.slice();
  }

  private localTransportParameters(setup: LocalTransportParameters['setup']): LocalTransportParameters {
    const creds = this.transport!.localCredentials;
    const p: LocalTransportParameters = {
      iceUfrag: creds.ufrag,
      icePwd: creds.password,
      fingerprints: sdpFingerprintsOf(this.certificate),
      candidates: this.localCandidates,
      endOfCandidates: this.gatheringComplete,
    };
    if (setup !== undefined) p.setup = setup;
    if (this.config.iceLite === true) p.iceLite = true;
    return p;
  }

  private describe(stored: StoredDescription | undefined): RTCSessionDescription | null {
    if (!stored) return null;
    // Local descriptions are re-serialized after candidates were written into their model.
    return new RTCSessionDescription({ type: stored.type, sdp: stored.sdp });
  }

  private nextSession(): { sessionId: string; sessionVersion: string } {
    const v = this.sessionVersion;
    this.sessionVersion += 1n;
    return { sessionId: this.sessionId, sessionVersion: v.toString() };
  }

  // The defaults are a new list of `kind` only: not filtered into another copy (a list and a
  // callback per call, several calls per negotiation; docs/peer.md "Setup cost").
  private codecsFor(kind: MediaKind, t?: RTCRtpTransceiver): CodecCapability[] {
    const configured = this.config.codecs;
    return configured == null ? defaultCodecs(kind, this.policyFeedback(kind, t)) : filterList(configured, (c) => c.kind === kind);
  }

  private extensionsFor(kind: MediaKind, t?: RTCRtpTransceiver): HeaderExtensionCapability[] {
    const configured = this.config.headerExtensions;
    return configured == null ? defaultHeaderExtensions(kind, this.policyExtensions(kind, t)) : filterList(configured, (e) => e.kind === kind);
  }

  private senderDescription(t: RTCRtpTransceiver): LocalSenderDescription | undefined {
    if (!directionSends(t.localDirection)) return undefined;
    const trackId = t.sender.track?.id ?? `${t.kind}-${t.sender.ssrc}`;
    const streams = t.streamIds.length > 0 ? t.streamIds : ['-'];
    return { cname: this.cname, ssrc: t.sender.ssrc, rtxSsrc: t.sender.rtxSsrc, msids: mapList(streams, (stream) => ({ stream, track: trackId })) };
  }

  /** The m-line order for a new offer: the negotiated lines, then new transceivers and the data section. */
  private offerLines(): MLine[] {
    const lines = [...this.mLines];
    const used = new Set(lines.map((l) => l.mid));
    const freshMid = (): string => {
      let n = 0;
      while (used.has(String(n))) n++;
      used.add(String(n));
      return String(n);
    };
    for (let i = 0; i < this.transceiverList.length; i++) {
      const t = this.transceiverList[i]!;
      if (t.mid !== null && !used.has(t.mid) && !t.stopped) {
        // A mid from an offer that was rolled back: it is offered again.
        used.add(t.mid);
        lines.push({ mid: t.mid, transceiver: t });
      }
      if (t.mid !== null || t.stopped) continue;
      t.mid = freshMid();
      lines.push({ mid: t.mid, transceiver: t });
    }
    if (this.dataWanted && this.dataMid === undefined) {
      this.dataMid = freshMid();
      lines.push({ mid: this.dataMid, transceiver: undefined });
    }
    return lines;
  }

  private commitMLines(model: SdpSessionDescription): void {
    const lines: MLine[] = [];
    for (let i = 0; i < model.media.length; i++) {
      const s = model.media[i]!;
      if (s.mid === undefined) continue;
      if (isSctpSection(s)) {
        this.dataMid = s.mid;
        lines.push({ mid: s.mid, transceiver: undefined });
        continue;
      }
      lines.push({ mid: s.mid, transceiver: this.transceiverList.find((t) => t.mid === s.mid) });
    }
    this.mLines = lines;
  }

  /** RFC 8829 §5.10: match offered m-sections to transceivers, creating recvonly ones. */
  private associateTransceivers(offer: SdpSessionDescription): void {
    for (let i = 0; i < offer.media.length; i++) {
      const s = offer.media[i]!;
      if (s.mid === undefined) continue;
      if (isSctpSection(s)) {
        if (!isRejected(s)) {
          this.dataMid = s.mid;
          this.dataWanted = true;
          const manager = this.ensureSctp(remoteSctpPort(s));
          this.transportForMid(s.mid)?.attachSctp(manager);
        }
        continue;
      }
      if (!isRtpSection(s) || (s.kind !== 'audio' && s.kind !== 'video')) continue;
      let t = this.transceiverList.find((x) => x.mid === s.mid);
      if (!t && !isRejected(s)) {
        t = this.transceiverList.find((x) => x.mid === null && !x.stopped && x.kind === s.kind);
        if (!t) {
          t = this.addTransceiverInternal(s.kind, 'recvonly');
        }
        t.mid = s.mid;
      }
      if (t && isRejected(s)) t.markStopped();
    }
    this.commitMLines(offer);
  }

  private addTransceiverInternal(kind: MediaKind, direction: MediaDirection): RTCRtpTransceiver {
    const holder = new TransceiverSenderOwner(this);
    const sender = new RTCRtpSender(kind, null, holder, cryptoRng);
    const receiver = new RTCRtpReceiver(kind);
    const t = new RTCRtpTransceiver(kind, sender, receiver, direction, [], () => this.updateNegotiationNeeded(), this.transceiverPolicies(kind));
    holder.transceiver = t;
    this.linkStats(t);
    this.transceiverList.push(t);
    this.policyDriver.attach(t);
    return t;
  }

  /**
   * What a sender sends through: the transport of its transceiver's m-section (the bundle
   * transport unless an unbundled remote offer gave the m-section its own). Read by
   * TransceiverSenderOwner.
   */
  private senderTransport(t: RTCRtpTransceiver | undefined): PeerTransport | undefined {
    const base = this.mediaTransport;
    if (!base || this.extras.length === 0) return base;
    const mid = t?.mid;
    return (mid != null ? this.extraFor(mid)?.transport : undefined) ?? base;
  }

  /** The next transport-wide sequence number (shared by every sender). Read by TransceiverSenderOwner. */
  private takeTransportSequence(): number {
    const s = this.#transportSequence;
    this.#transportSequence = (s + 1) & 0xffff;
    return s;
  }

  /**
   * What a transceiver reaches of its connection: the codecs setCodecPreferences chooses from, and
   * getStats with its sender / receiver as selector (sender.getStats(), receiver.getStats()).
   */
  private linkStats(t: RTCRtpTransceiver): void {
    t.codecCapabilities = () => this.codecsFor(t.kind, t);
    t.sender.statsSource = this;
    t.receiver.statsSource = this;
  }

  /** A new chain of the transceiver-scope modules of the configuration. */
  private transceiverPolicies(kind: MediaKind): RtpPolicyChain {
    return RtpPolicyChain.deferred(this.policyFactories.transceiver, kind);
  }

  /**
   * A chain of `kind` made only to ask what a fresh transceiver's modules serve (rtcp-fb, header
   * extensions, RRTR): made once per kind while negotiating rather than on every question (a
   * createAnswer asked four times per kind, each time creating every module), and dropped when
   * signaling is stable again so an idle connection does not keep it.
   */
  private probePolicies(kind: MediaKind): RtpPolicyChain {
    const probes = (this.policyProbes ??= new Map());
    let chain = probes.get(kind);
    if (chain === undefined) {
      chain = this.transceiverPolicies(kind);
      probes.set(kind, chain);
    }
    return chain;
  }

  /** rtcp-fb the modules of `t` (else of a fresh transceiver) and of the transport serve for `kind`. */
  private policyFeedback(kind: MediaKind, t: RTCRtpTransceiver | undefined): RtcpFeedback[] {
    const chain = t?.policies ?? this.probePolicies(kind);
    const out = chain.rtcpFeedback(kind);
    for (const f of this.transportPolicies.rtcpFeedback(kind)) {
      if (!out.some((x) => x.type === f.type && x.parameter === f.parameter)) out.push(f);
    }
    return out;
  }

  /** Whether the modules of `t` (else of a fresh transceiver) or of the transport serve `a=rtcp-xr:rcvr-rtt=all`. */
  private policyReceiverRtt(kind: MediaKind, t: RTCRtpTransceiver | undefined): boolean {
    return (t?.policies ?? this.probePolicies(kind)).receiverRtt(kind) || this.transportPolicies.receiverRtt(kind);
  }

  /** Header extensions the modules of `t` (else of a fresh transceiver) and of the transport need. */
  private policyExtensions(kind: MediaKind, t: RTCRtpTransceiver | undefined): string[] {
    const chain = t?.policies ?? this.probePolicies(kind);
    // Both lists in order, each URI once. Two or three URIs: a scan, not a Set built from spread
    // arrays (a Set and three iterations per call in cold code; docs/peer.md "Setup cost").
    const out: string[] = [];
    const lists = [chain.headerExtensions(kind), this.transportPolicies.headerExtensions(kind)];
    for (let l = 0; l < lists.length; l++) {
      const list = lists[l]!;
      for (let i = 0; i < list.length; i++) if (!out.includes(list[i]!)) out.push(list[i]!);
    }
    return out;
  }

  /**
   * Applies the negotiated offer/answer (both now current): DTLS role and fingerprints, SRTP
   * senders/receivers per m-section, SCTP, currentDirection, stopped transceivers.
   */
  private applyNegotiation(
    weOffered: boolean,
    answer = (weOffered ? this.currentRemote : this.currentLocal)!.model,
    remote = this.currentRemote!.model,
    remoteTransports: readonly RemoteTransportParameters[] = this.currentRemote!.transports,
  ): void {
    const transport = this.transport!;
    const remoteTransport = remoteTransports[0];
    transport.requireSrtp = answer.media.some((m) => isRtpSection(m) && !isRejected(m) && (m.mid === undefined || !this.extraFor(m.mid)));
    if (remoteTransport) {
      let role: 'client' | 'server';
      if (weOffered) role = remoteTransport.setup === 'active' ? 'server' : 'client';
      else {
        const ours = answer.media.find((m) => m.port !== 0 || m.bundleOnly === true)?.setup;
        role = ours === 'passive' ? 'server' : 'client';
      }
      if (sdpLog.enabled) sdpLog('pc%d DTLS role %s (remote a=setup:%s), %d remote fingerprint(s)', this.logId, role, remoteTransport.setup ?? 'none', remoteTransport.fingerprints.length);
      transport.setDtls(role, usableRemoteFingerprints(remoteTransport));
      for (const rt of this.extras.length > 0 ? remoteTransports : []) {
        const extra = this.extras.find((e) => e.mids.some((m) => rt.mids.includes(m)));
        if (!extra) continue;
        extra.transport!.requireSrtp = answer.media.some((m) => m.mid !== undefined && extra.mids.includes(m.mid) && isRtpSection(m) && !isRejected(m));
        extra.transport!.setDtls(role, usableRemoteFingerprints(rt));
      }
    }
    const extIds = new Map<string, number>();
    const configured: { t: RTCRtpTransceiver; params: RtpPolicyParameters }[] = [];
    for (let i = 0; i < answer.media.length; i++) {
      const section = answer.media[i]!;
      if (section.mid === undefined) continue;
      if (isSctpSection(section)) {
        if (isRejected(section)) continue;
        const manager = this.ensureSctp();
        const remoteSection = remote.media.find((m) => m.mid === section.mid);
        if (remoteSection?.maxMessageSize !== undefined) manager.association.remoteMaxMessageSize = remoteSection.maxMessageSize;
        else if (remoteTransport?.sctp) manager.association.remoteMaxMessageSize = remoteTransport.sctp.maxMessageSize;
        (this.transportForMid(section.mid) ?? transport).attachSctp(manager);
        continue;
      }
      const t = this.transceiverList.find((x) => x.mid === section.mid);
      if (!t) continue;
      if (isRejected(section)) {
        sdpLog('pc%d mid %s rejected (port 0): transceiver stopped', this.logId, section.mid);
        t.markStopped();
        this.router.unbind(t);
        continue;
      }
      const params = this.rtpParameters(section);
      // forEach, not for-of with [key, value]: no entry array per element (docs/peer.md "Setup cost").
      // One id-by-URI map per section, read by the sender and the policy modules alike.
      const extensionTable = new Map<string, number>();
      params.headerExtensions.forEach((uri, id) => {
        extIds.set(uri, id);
        extensionTable.set(uri, id);
      });
      // Shared with the connections that negotiated the same ids (lib/common/interned-tables.ts).
      const extensionIds = internMap(extensionTable);
      const direction = section.direction ?? 'sendrecv';
      t.current = weOffered ? reverseDirection(direction) : direction;
      const codec = params.codecs[0];
      if (sdpLog.enabled) sdpLog('pc%d mid %s %s: %s, send codec %s/%d pt %d, rtx %s, %d extension(s)', this.logId, section.mid, t.kind, t.current, codec?.name ?? 'none', codec?.clockRate ?? 0, codec?.payloadType ?? -1, codec ? params.rtxPayloadTypes.get(codec.payloadType) ?? 'no' : 'no', params.headerExtensions.size);
      if (codec) {
        t.sender.configure({
          mid: section.mid,
          payloadType: codec.payloadType,
          clockRate: codec.clockRate,
          codec: codec.name,
          rtxPayloadType: params.rtxPayloadTypes.get(codec.payloadType),
          extensionIds,
          cname: this.cname,
          rtcpReducedSize: params.rtcpReducedSize,
        }, directionSends(t.current), weOffered && (section.simulcast?.recv.length ?? 0) > 1);
      }
      const remoteSection = remote.media.find((m) => m.mid === section.mid);
      const remoteParams = remoteSection ? this.rtpParameters(remoteSection) : params;
      const clockRateTable = new Map<number, number>();
      for (let j = 0; j < params.codecs.length; j++) {
        const c = params.codecs[j]!;
        clockRateTable.set(c.payloadType, c.clockRate);
      }
      const clockRates = internMap(clockRateTable);
      // Without RTX (audio) the table stays the shared empty one (lib/common/no-entries.ts).
      let rtxOriginal: ReadonlyMap<number, number> = NO_ENTRIES;
      params.rtxPayloadTypes.forEach((rtx, pt) => {
        rtxOriginal = (rtxOriginal === NO_ENTRIES ? new Map<number, number>() : (rtxOriginal as Map<number, number>)).set(rtx, pt);
      });
      t.receiver.params = { clockRates, rtxOriginal, rids: sendRidsOf(remoteParams) };
      this.router.bind(t, section.mid, directionReceives(t.current) ? remoteParams.senders : []);
      const feedbackTable = new Set<string>();
      for (let j = 0; j < params.codecs.length; j++) {
        const c = params.codecs[j]!;
        for (const f of c.rtcpFeedback) feedbackTable.add(feedbackKey(f));
      }
      const feedback = internSet(feedbackTable);
      const policyParams: RtpPolicyParameters = {
        kind: t.kind,
        cname: this.cname,
        localSsrc: t.sender.ssrc,
        sendStreams: !directionSends(t.current)
          ? []
          : t.sender.encodings.length > 0
            ? mapList(t.sender.encodings, (e) => ({ ssrc: e.ssrc, rtxSsrc: undefined, rid: e.rid, kind: t.kind }))
            : [{ ssrc: t.sender.ssrc, rtxSsrc: codec && params.rtxPayloadTypes.has(codec.payloadType) ? t.sender.rtxSsrc : undefined, rid: undefined, kind: t.kind }],
        sendCodec: codec && directionSends(t.current)
          ? { payloadType: codec.payloadType, clockRate: codec.clockRate, rtxPayloadType: params.rtxPayloadTypes.get(codec.payloadType) }
          : undefined,
        receiveClockRates: directionReceives(t.current) ? clockRates : NO_ENTRIES,
        rtcpFeedback: feedback,
        headerExtensions: extensionIds,
        reducedSizeRtcp: params.rtcpReducedSize,
        receiverRtt: params.receiverRtt,
      };
      configured.push({ t, params: policyParams });
    }
    this.router.setExtensionIds(extIds.get(HeaderExtensionUri.mid), extIds.get(HeaderExtensionUri.rtpStreamId), extIds.get(HeaderExtensionUri.repairedRtpStreamId));
    this.configurePolicies(configured, extIds);
    for (let i = 0; i < this.transceiverList.length; i++) {
      const t = this.transceiverList[i]!;
      t.sender.flush();
    }
  }

  /** Gives every transceiver's modules and the transport's modules what was negotiated. */
  private configurePolicies(configured: readonly { t: RTCRtpTransceiver; params: RtpPolicyParameters }[], extIds: ReadonlyMap<string, number>): void {
    const now = this.clock.now();
    this.policyDriver.transportCcId = extIds.get(HeaderExtensionUri.transportWideCc);
    // With one m-section (the common case) the transport's modules read that section's maps
    // (every module treats its parameters as read-only); with several, merged copies.
    const only = configured.length === 1 ? configured[0]!.params : undefined;
    const receiveClockRates = only ? only.receiveClockRates : new Map<number, number>();
    const feedback = only ? only.rtcpFeedback : new Set<string>();
    for (const { t, params } of configured) {
      t.policies.configure(now, params);
      if (only) continue;
      for (const [pt, rate] of params.receiveClockRates) (receiveClockRates as Map<number, number>).set(pt, rate);
      for (const f of params.rtcpFeedback) (feedback as Set<string>).add(f);
    }
    this.transportPolicies.configure(now, {
      kind: undefined,
      cname: this.cname,
      localSsrc: configured[0]?.t.sender.ssrc ?? this.transportRtcpSsrc,
      sendStreams: configured.flatMap((c) => c.params.sendStreams),
      sendCodec: undefined,
      receiveClockRates,
      rtcpFeedback: feedback,
      // With one m-section its table has the same entries as extIds: the (shared) one is kept.
      headerExtensions: only ? only.headerExtensions : extIds,
      reducedSizeRtcp: configured.some((c) => c.params.reducedSizeRtcp),
      receiverRtt: configured.some((c) => c.params.receiverRtt === true),
    });
    this.policyDriver.updateTap();
  }

  private fireTrackEvents(remote: SdpSessionDescription): void {
    for (let i = 0; i < remote.media.length; i++) {
      const section = remote.media[i]!;
      if (section.mid === undefined || !isRtpSection(section) || isRejected(section)) continue;
      const direction = section.direction ?? remote.direction ?? 'sendrecv';
      if (!directionSends(direction)) continue;
      const t = this.transceiverList.find((x) => x.mid === section.mid);
      if (!t || t.stopped || !directionReceives(t.localDirection)) continue;
      const params = this.rtpParameters(section);
      let tracks: MediaStreamTrack[] | undefined;
      for (let j = 0; j < params.rids.length; j++) {
        const r = params.rids[j]!;
        if (r.direction === 'send') (tracks ??= []).push(t.receiver.trackForRid(r.id));
      }
      for (const track of tracks ?? [t.receiver.track]) {
        if (this.firedTracks?.has(track)) continue;
        (this.firedTracks ??= new Set()).add(track);
        const streams: RemoteMediaStream[] = params.msids
          .filter((m) => m.stream !== '-')
          .map((m) => ({ id: m.stream, getTracks: () => [track] }));
        const event = { type: 'track' as const, track, receiver: t.receiver, transceiver: t, streams };
        queueEventTask(() => !this.isClosed && this.fire(event), this.listenerCount('track') > 0);
      }
    }
  }

  /** describeRtpSection of an m-section of a description being negotiated, worked out once. */
  private rtpParameters(section: SdpMediaSection): RtpSectionParameters {
    const memo = (this.sectionParameters ??= new Map());
    let params = memo.get(section);
    if (params === undefined) {
      params = describeRtpSection(section);
      memo.set(section, params);
    }
    return params;
  }

  private rollback(side: 'local' | 'remote'): void {
    const expected = side === 'local' ? 'have-local-offer' : 'have-remote-offer';
    if (this.signaling !== expected) throw invalidState('ERR_PEER_SIGNALING_STATE', `rollback of a ${side} description in signaling state ${this.signaling}`);
    this.sectionParameters = undefined;
    if (side === 'local') {
      const offered = this.pendingLocal?.model;
      this.pendingLocal = undefined;
      const negotiatedMids = new Set((this.currentLocal?.model.media ?? []).map((m) => m.mid));
      for (const s of offered?.media ?? []) {
        if (s.mid === undefined || negotiatedMids.has(s.mid)) continue;
        const t = this.transceiverList.find((x) => x.mid === s.mid);
        if (t) t.mid = null;
        if (s.mid === this.dataMid) this.dataMid = undefined;
      }
    } else {
      const offer = this.pendingRemote?.model;
      this.pendingRemote = undefined;
      // Transceivers this offer created (recvonly, no track) and mids it assigned are undone (RFC 8829 §4.1.10.2).
      const negotiatedMids = new Set((this.currentLocal?.model.media ?? []).map((m) => m.mid));
      for (const s of offer?.media ?? []) {
        if (s.mid === undefined || negotiatedMids.has(s.mid)) continue;
        const t = this.transceiverList.find((x) => x.mid === s.mid);
        if (!t) continue;
        if (t.sender.track === null && t.localDirection === 'recvonly') {
          this.transceiverList.splice(this.transceiverList.indexOf(t), 1);
          t.receiver.endTracks();
        } else {
          t.mid = null;
        }
      }
    }
    if (this.currentLocal) this.commitMLines(this.currentLocal.model);
    else this.mLines = [];
    this.setSignaling('stable');
    this.updateNegotiationNeeded();
  }

  /** An event task's dispatch (lib/peer/event-tasks.ts): true when a listener was called. */
  private fire<K extends keyof RTCPeerConnectionEvents & string>(event: RTCPeerConnectionEvents[K] & { type: K }): boolean {
    if (this.listenerCount(event.type) === 0) return false;
    this.dispatch<K>(event);
    return true;
  }

  private setSignaling(state: RTCSignalingState): void {
    if (state === this.signaling) return;
    if (peerLog.enabled) peerLog('pc%d signaling %s -> %s', this.logId, this.signaling, state);
    this.signaling = state;
    if (state === 'stable' || state === 'closed') this.policyProbes = undefined;
    this.dispatch({ type: 'signalingstatechange' });
  }

  /** webrtc-pc §4.7.3: fire negotiationneeded (once, when stable) if the description lags the API state. */
  private updateNegotiationNeeded(force = false): void {
    if (this.isClosed || this.negotiationQueued) return;
    if (!force && !this.isNegotiationNeeded()) return;
    this.negotiationQueued = true;
    queueEventTask(() => {
      this.negotiationQueued = false;
      if (this.isClosed || this.signaling !== 'stable') return false;
      if (!force && !this.isNegotiationNeeded() && !this.restartPending) return false;
      return this.fire({ type: 'negotiationneeded' });
    }, this.listenerCount('negotiationneeded') > 0);
  }

  private isNegotiationNeeded(): boolean {
    if (this.restartPending) return true;
    if (this.dataWanted && this.dataMid === undefined) return true;
    const local = this.currentLocal?.mediaLines;
    for (let i = 0; i < this.transceiverList.length; i++) {
      const t = this.transceiverList[i]!;
      if (t.mid === null) {
        if (!t.stopped) return true;
        continue;
      }
      const section = local?.find((m) => m.mid === t.mid);
      if (!section) return !t.stopped;
      if (t.stopped) {
        if (section.port !== 0) return true;
        continue;
      }
      const answered = section.direction;
      if (this.currentLocal!.type === 'offer') {
        if (answered !== t.localDirection) return true;
      } else {
        // webrtc-pc §4.7.3: an answer lags when it differs from our direction intersected with the offer.
        const offered = this.currentRemote?.mediaLines.find((m) => m.mid === t.mid)?.direction ?? 'sendrecv';
        if (answered !== answerDirection(offered, t.localDirection)) return true;
      }
    }
    return false;
  }

  private updateConnectionState(): void {
    if (this.isClosed) return;
    const ice = this.iceConnection;
    const dtls = this.dtlsState;
    // webrtc-pc §4.3.3 over every transport: a DTLS transport the peer closed (close_notify)
    // counts like a connected one; ICE consent then decides (disconnected, failed).
    const next: RTCPeerConnectionState = this.extras.length === 0 ? connectionStateOf(this.primaryIce, this.dtlsState) : aggregateConnectionState(this.transportStates());
    if (next === this.connection) return;
    if (peerLog.enabled) peerLog('pc%d connection %s -> %s (ice %s, dtls %s)%s', this.logId, this.connection, next, ice, dtls, next === 'failed' ? `: ${this.failure ?? ''}` : '');
    this.connection = next;
    this.dispatch({ type: 'connectionstatechange' });
  }

  private assertOpen(): void {
    if (this.isClosed) throw invalidState('ERR_PEER_CLOSED', 'the RTCPeerConnection is closed');
  }
}

/**
 * WebIDL's `unsigned short` conversion (WebIDL §3.2.4, not [EnforceRange]): ToNumber, NaN and the
 * infinities give 0, else the integer part modulo 2^16 (so -1 is 65535, past any m-section).
 */
function webIdlUnsignedShort(value: unknown): number {
  if (typeof value === 'symbol') throw new PeerError('TypeError', 'ERR_PEER_CANDIDATE_TYPE', 'addIceCandidate: sdpMLineIndex must be a number, got a symbol');
  const n = Number(value);
  if (!Number.isFinite(n)) return 0;
  const x = Math.trunc(n) % 65_536;
  return x < 0 ? x + 65_536 : x === 0 ? 0 : x;
}
