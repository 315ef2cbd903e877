// IceTransport: the driver that wires an IceAgent (and its TURN clients) to real sockets and
// timers, and hands the selected pair's non-STUN datagrams to the layer above (DTLS/SRTP).
// Demultiplexing follows RFC 7983: 0-3 STUN, 64-79 TURN ChannelData, everything else is data.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../common/clock.js';
import { CoalescingTimers } from '../common/coalescing-timers.js';
import { timerWork } from '../common/turn-queue.js';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import { createLogger, loggedDropCounters } from '../common/log.js';
import { cryptoRng, type Rng } from '../common/rng.js';
import { reportListenerError, TypedEventEmitter } from '../common/typed-emitter.js';
import { formatCandidate, type IceCandidate } from '../ice/candidate.js';
import {
  IceAgent,
  type IceAgentOptions,
  type IceConnectionState,
  type IceGatheringState,
  type IceRestartGathering,
  type IceRole,
  type IceSelectedPair,
  type LocalCandidateInit,
  MDNS_QUERY_TIMEOUT_MS,
} from '../ice/ice-agent.js';
import type { IceCredentials } from '../ice/ice-credentials.js';
import type { TurnDropReason } from '../ice/turn-client.js';
import { addressKey, canonicalIp, type TransportAddress } from '../ice/transport-address.js';
import { listHostAddresses, type HostAddressOptions } from './source/host-addresses.js';
import { newMdnsDrops, resolveMdnsName, type MdnsDropReason } from './ice-mdns.js';
import { TurnLink, type TurnLinkStreamStats, type TurnServerTarget } from './source/turn-link.js';
import { TCP_ACTIVE_PORT, TcpActiveSource, tcpConnectTimeoutMs } from './source/tcp-active.js';
import { remoteKey, type IceUdpBatch, type IceUdpSocket, type IceUdpSocketFactory } from './source/datagram-socket.js';
import type { SrtpSession } from '../srtp/srtp-session.js';
import type { PortDrops } from './source/port-drops.js';
import type { TcpSrtpRoute } from './source/tcp-mux.js';
import { UdpSocket, UdpSrtpStatus, type UdpDestination, type UdpSrtpRoute } from './source/udp-socket.js';
import type { NativeConsentCheckSetup } from '../native/udp.js';
import { UdpConsentResponder } from './source/udp-consent-responder.js';

const log = createLogger('ice');
/**
 * The ICE timers (checks, retransmissions, consent, keepalives) of every transport on this thread
 * share one Node timer (docs/ice.md "Timers"); a far deadline such as a consent check may run a
 * little late so that many connections' deadlines run in one callback. Ref'd, like the
 * per-transport timers it replaced: a waiting check or consent keeps the process alive.
 */
const iceTimers = new CoalescingTimers(undefined, true);

/**
 * Check pacing Ta (RFC 8445 §14.2 allows down to 5 ms). With BUNDLE a transport has one check
 * list of a few pairs, and the nominating check after the first success waits for the pacer:
 * 5 ms instead of the agent's 20 ms default takes ~15 ms off every setup (docs/ice.md "Driver").
 */
const CHECK_PACING_MS = 5;

/** A STUN or TURN server, W3C RTCIceServer-shaped. */
export interface IceServer {
  urls: string | readonly string[];
  username?: string;
  credential?: string;
}

/** Host candidate gathering options. */
export interface IceGatherOptions extends HostAddressOptions {
  /** Local port for every host socket (default 0: ephemeral). */
  port?: number;
  /**
   * Public address to announce instead of the bound one (server behind 1:1 NAT, as SFUs
   * need); applied to bases of the same IP family.
   */
  announcedAddress?: string;
  /** Socket receive/send buffer sizes. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Ports to bind host sockets in, inclusive (the first free one is used). */
  portRange?: { min: number; max: number };
  /**
   * Also announce an active ICE-TCP candidate (RFC 6544, `tcptype active`, port 9) per host
   * address, and connect to the peer's passive TCP candidates (lib/transport/source/tcp-active.ts).
   */
  tcpActive?: boolean;
}

/** Options of {@link IceTransport}. */
export interface IceTransportOptions {
  /** Initial ICE role (default controlling). */
  role?: IceRole;
  /** Full (default) or lite ICE. */
  mode?: 'full' | 'lite';
  /** STUN/TURN servers (`stun:`, `turn:` with `?transport=udp|tcp`, `turns:`). */
  iceServers?: readonly IceServer[];
  /** W3C iceTransportPolicy: 'relay' announces and pairs only relayed candidates. Default 'all'. */
  iceTransportPolicy?: 'all' | 'relay';
  /** Host gathering; ignored in one-port (UdpMux) mode. */
  gather?: IceGatherOptions;
  /** Socket factory (default: the native batch UdpSocket). */
  socketFactory?: IceUdpSocketFactory;
  /**
   * Resolves a remote `.local` candidate name. Default: a one-shot multicast DNS query; null
   * leaves such candidates unresolved (peer-reflexive candidates from the peer's checks take over).
   */
  resolveMdns?: ((name: string) => Promise<string | undefined>) | null;
  /** Verify TURN TLS certificates (default true). */
  tlsRejectUnauthorized?: boolean;
  /** Agent timers and limits. */
  agent?: Omit<IceAgentOptions, 'rng' | 'role' | 'mode' | 'stunServers'>;
  /**
   * Answer the peer's consent checks on the selected pair, and send a full agent's own, natively when
   * that pair is on a socket of this transport's own (default true with the native socket; docs/ice.md
   * "Consent checks answered natively", "Consent checks sent natively"). A shared port has its own
   * switch (`UdpMux.bind({ nativeConsent })`).
   */
  nativeConsent?: boolean;
  clock?: Clock;
  rng?: Rng;
}

/** W3C-style ICE parameters of one side. */
export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite?: boolean;
}

/** Events of {@link IceTransport} (W3C RTCIceTransport names where they exist). */
export type IceTransportEvents = {
  statechange: [IceConnectionState];
  gatheringstatechange: [IceGatheringState];
  /**
   * A local candidate line (`candidate:...`) and the candidate it was written from (so that a
   * listener need not parse the line back), or null and null at the end of gathering.
   */
  icecandidate: [string | null, IceCandidate | null];
  selectedcandidatepairchange: [IceSelectedPair];
  /**
   * ICE found its first valid pair while none is selected (RFC 8445 §12.1, the agent's `valid-pair`
   * event): {@link IceTransport.send} goes there from now until a pair is selected (a later
   * `selectedcandidatepairchange` moves it to the selected pair, whichever it is). A DTLS client
   * may start its handshake here (docs/ice.md "Data before the nomination").
   */
  validpair: [IceSelectedPair];
  /**
   * The native route on a passive ICE-TCP port ({@link IceTransport.tcpLegRoute}) was built, rebuilt
   * (another connection, a new SRTP session) or removed; fired before the pair's
   * `selectedcandidatepairchange`. For SFU legs over TCP (docs/sfu.md "Legs over TCP").
   */
  tcplegroutechange: [];
  /** A non-STUN datagram from the peer (only when no data handler is set). Valid during the call. */
  data: [Buffer, TransportAddress];
  /** A TURN server could not be used. */
  turnerror: [string, string];
};

/**
 * Handler of received data; the buffer is a view valid until the batch ends (`onBatchEnd`).
 * `srtp` is the socket's SRTP outcome for it: {@link UdpSrtpStatus} (0 when the socket has no
 * route for the source, 1 when `data` is already clear RTP/RTCP, 2 + SrtpStatus when SRTP refused it).
 */
export type IceDataHandler = (data: Buffer, from: TransportAddress, srtp: number) => void;

/** Driver counters. */
export interface IceTransportStats {
  dataReceived: number;
  dataSent: number;
  /**
   * RTP/RTCP datagrams on a TURN relay that JavaScript framed (sent) or unframed (received) one by
   * one: Send/Data indications, and ChannelData before the channel's native route exists or over
   * TCP/TLS. With a UDP relay and a bound channel media takes the native route and these stay put
   * (docs/udp.md "TURN channels"; the socket counts `channelDataReceived`/`channelDataSent`).
   */
  relayedMediaInJs: { received: number; sent: number };
  /**
   * Times the transport's timer ran the agent (consent checks, retransmissions, state checks).
   * Connected and idle, about one per consent check (docs/ice.md "Driver").
   */
  timerWakes: number;
  /**
   * `unknown-source`: DTLS or RTP/RTCP from a source ICE has not authenticated; `unknown-first-byte`:
   * empty, or a first byte outside RFC 7983's ranges, from such a source.
   */
  drops: { 'unknown-source': number; 'unknown-first-byte': number; 'no-selected-pair': number; 'send-failed': number };
  /** Remote `.local` candidates (docs/ice.md "mDNS"). */
  mdns: IceMdnsStats;
}

/** mDNS lookups of remote `.local` candidates (docs/ice.md "mDNS"). */
export interface IceMdnsStats {
  /** Names looked up (one per name, however many candidates carry it). */
  queries: number;
  /** Names that resolved to a usable address. */
  resolved: number;
  /**
   * Answers (usable or not) for names whose lookup an ICE restart dropped before they came (the
   * candidates that carried the name belonged to the previous generation): nothing is added, and
   * they count neither as `resolved` nor as `unresolved` (docs/ice.md "mDNS").
   */
  stale: number;
  /**
   * Names that did not: no usable answer within the resolver's time (1.5 s by default, at most
   * {@link MDNS_RESOLVE_DEADLINE_MS} for any resolver), a failed or rejected lookup, or a resolver
   * result that is not an IP address.
   */
  unresolved: number;
  /** Remote candidates ignored because their name did not resolve (the connection goes on). */
  candidatesIgnored: number;
  /** Answer records of responses to our queries that were not used, by reason. */
  drops: Record<MdnsDropReason, number>;
}

/** One lookup of a remote `.local` name: whether an ICE restart dropped it, whether it was settled. */
interface MdnsLookup {
  stale: boolean;
  done: boolean;
}

/**
 * The longest the transport waits for any mDNS resolver before the name counts as unresolved: the
 * agent's own deadline, {@link MDNS_QUERY_TIMEOUT_MS}.
 */
export const MDNS_RESOLVE_DEADLINE_MS = MDNS_QUERY_TIMEOUT_MS;

/** How the one-port mux talks to the transports it serves (internal contract with UdpMux). */
export interface IceMuxPort {
  readonly socket: IceUdpSocket;
  readonly local: TransportAddress;
  readonly announced: string | undefined;
  /** Drops of datagrams no transport on the port claims (shown in every transport's stats). */
  readonly drops: PortDrops;
  register(transport: IceTransport, ufrag: string): void;
  learn(transport: IceTransport, remote: TransportAddress): void;
  release(transport: IceTransport): void;
  /**
   * The transport's selected pair now sends from this port to `remote` (undefined: from elsewhere, or
   * none any more); a shared port may steer that flow in the kernel (docs/scaling.md "Connected flow sockets").
   */
  select?(transport: IceTransport, remote: TransportAddress | undefined): void;
  /** The transport's credentials or role changed: what the port answers natively for it must follow. */
  refreshConsent?(transport: IceTransport): void;
  /** A consent check of the transport's is due: the port sends it natively (docs/ice.md "Consent checks sent natively"). */
  queueConsentCheck?(transport: IceTransport): boolean;
  /** The agent sent this Binding request to `remote` itself: its answer is the agent's, not a native drop. */
  noteAgentConsentCheck?(transport: IceTransport, remote: TransportAddress, request: Uint8Array): void;
  /** Delivers the port's native consent counts now (before the transport's agent handles a timeout). */
  takeConsent?(): void;
  /**
   * A TCP port's native SRTP route for the connection from `remote` (docs/udp.md "TCP framing"):
   * frames unprotected in the read batch, sends protected and framed at flush. Undefined: none.
   */
  tcpSrtpRoute?(transport: IceTransport, remote: TransportAddress, session: SrtpSession): TcpSrtpRoute | undefined;
}

type Base =
  | { kind: 'socket'; local: TransportAddress; socket: IceUdpSocket; owned: boolean }
  | { kind: 'relay'; local: TransportAddress; link: TurnLink };

/** Parses an ICE server URL (RFC 7064 / RFC 7065). */
export function parseIceServerUrl(url: string): { scheme: 'stun' | 'stuns' | 'turn' | 'turns'; host: string; port: number; transport: 'udp' | 'tcp' } {
  const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/i.exec(url.trim());
  if (!m) throw new InvalidArgumentError('ERR_ICE_SERVER_URL', `bad ICE server URL: ${url}`);
  const scheme = m[1]!.toLowerCase() as 'stun' | 'stuns' | 'turn' | 'turns';
  const host = m[2]!.replace(/^\[|\]$/g, '');
  const secure = scheme === 'turns' || scheme === 'stuns';
  const port = m[3] ? Number(m[3]) : secure ? 5349 : 3478;
  if (port < 1 || port > 65535) throw new InvalidArgumentError('ERR_ICE_SERVER_URL', `bad port in ${url}`);
  const transport = (m[4]?.toLowerCase() as 'udp' | 'tcp' | undefined) ?? (secure ? 'tcp' : 'udp');
  return { scheme, host, port, transport };
}

/**
 * One ICE transport (one component). Gathers host/srflx/relay candidates, runs the agent on
 * real sockets and timers, and carries the selected pair's datagrams for the layers above.
 */
export class IceTransport extends TypedEventEmitter<IceTransportEvents> {
  /** The sans-I/O agent (exposed for stats and diagnostics). */
  readonly agent: IceAgent;
  /** Driver counters. */
  readonly stats: IceTransportStats = { dataReceived: 0, dataSent: 0, relayedMediaInJs: { received: 0, sent: 0 }, timerWakes: 0, drops: loggedDropCounters('ice-transport', { 'unknown-source': 0, 'unknown-first-byte': 0, 'no-selected-pair': 0, 'send-failed': 0 }), mdns: { queries: 0, resolved: 0, unresolved: 0, stale: 0, candidatesIgnored: 0, drops: loggedDropCounters('mdns', newMdnsDrops()) } };
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly options: IceTransportOptions;
  private readonly mux: IceMuxPort | undefined;
  private readonly bases = new Map<string, Base>();
  private readonly links: TurnLink[] = [];
  /** Remotes allowed to send data, keyed like UdpBatch.addressKey (the value is reused as `from`). */
  private readonly trusted = new Map<number | string, TransportAddress>();
  private muxBase: (Base & { kind: 'socket' }) | undefined;
  /** The native consent responder of the own socket the selected pair is on (docs/ice.md "Consent checks answered natively"). */
  private ownConsent: { socket: UdpSocket; responder: UdpConsentResponder } | undefined;
  /** The agent's consent checks are sent natively by the registration of its selected pair (docs/ice.md "Consent checks sent natively"). */
  private consentNative = false;
  /** A shared listening TCP port (TcpMux) whose passive candidate this transport announces. */
  private tcpPort: IceMuxPort | undefined;
  private tcpBase: (Base & { kind: 'socket' }) | undefined;
  /**
   * The TcpMux port's base held back by the 'relay' policy: not registered (so a peer's checks over
   * the port are not answered, as with no port) until a restart's gathering under 'all' announces it.
   */
  private tcpBaseHeld: (Base & { kind: 'socket' }) | undefined;
  /** A restart under 'relay' holds the passive base once the selected pair is not on it (holdTcpBase). */
  private tcpBaseRetiring = false;
  /** The active ICE-TCP candidates were made (gatherTcpActive, once). */
  private tcpActiveGathered = false;
  private dataHandler: IceDataHandler | undefined;
  private dataEnd: (() => void) | undefined;
  /** Set when data went up since the last batch end. */
  private dataPending = false;
  /** The SRTP session routed through the selected socket's session table (docs/udp.md). */
  private srtpSession: SrtpSession | undefined;
  /**
   * The native route of the selected pair: on its host socket, or (a UDP TURN relay with a bound
   * channel) on the socket that carries the allocation, keyed by the TURN server and the channel;
   * `relay` then says which relayed base and peer its unframed datagrams belong to.
   */
  private srtpRoute: { socket: UdpSocket; route: UdpSrtpRoute; relay?: { base: Base; remote: TransportAddress; key: number | string } } | undefined;
  /**
   * The native route of a selected pair on the attached TCP port or an active connection of ours
   * (docs/udp.md "TCP framing"); `base`: that connection's local base.
   */
  private tcpRoute: { route: TcpSrtpRoute; remote: TransportAddress; session: SrtpSession; base: TransportAddress } | undefined;
  /**
   * The native route of a selected pair relayed over a TURN TCP/TLS stream with a bound channel
   * (docs/udp.md "TCP framing"): its peer's datagrams arrive unframed from the link's reader.
   */
  private streamRelay: { route: TcpSrtpRoute; link: TurnLink; base: Base; remote: TransportAddress; key: number | string; channel: number; session: SrtpSession } | undefined;
  private route: { base: Base; remote: TransportAddress; dest?: UdpDestination } | undefined;
  /**
   * Where data goes before ICE selected a pair: the first valid pair (RFC 8445 §12.1, the agent's
   * `valid-pair` event), or the last trusted source that sent data (a DTLS ClientHello can arrive
   * before the controlling side nominates; answering it at once saves a retransmission timeout).
   */
  private replyTo: { base: Base; remote: TransportAddress; dest?: UdpDestination } | undefined;
  /** ICE announced a valid pair and replyTo went there (until the transport fails or closes). */
  private validPairRoute = false;
  /** This transport's deadline in the thread's shared ICE timer group (see `iceTimers`). */
  private readonly timer = iceTimers.create(() => this.deferTimer());
  private timerAt = Infinity;
  /** A due timer waits for this turn's I/O (see {@link deferTimer}). */
  private timerDeferred = false;
  private readonly deferredTimer = (): void => {
    this.timerDeferred = false;
    this.onTimer();
  };
  /** The first hop of {@link deferTimer}: queued from a turn-queue callback, the work runs one turn later. */
  private readonly deferTimerAgain = (): void => {
    timerWork.push(this.deferredTimer);
  };
  private flushing = false;
  /** See {@link baseOf}. */
  private lastBase: { local: TransportAddress; base: Base } | undefined;
  private flushAgain = false;
  private gathered = false;
  private closed = false;
  /**
   * Lookups of remote `.local` names not yet answered, expired nor dropped by the agent, by name
   * (see resolveMdns); made by the first lookup (most transports never resolve a `.local` candidate).
   */
  private mdnsLookups: Map<string, MdnsLookup> | undefined;
  // TURN links that succeeded or failed; made by the first one (most connections have none).
  private settledLinks: Set<TurnLink> | undefined;
  private serversStarted = false;
  private endOfCandidatesSent = false;
  /** STUN/TURN servers and transport policy in force (setConfiguration replaces them). */
  private iceServers: readonly IceServer[];
  private iceTransportPolicy: 'all' | 'relay';
  /** The servers and policy of the last gathering phase (a restart after setConfiguration gathers again). */
  private gatheredWith: { servers: readonly IceServer[]; policy: 'all' | 'relay' } | undefined;
  /** A TURN server's name did not resolve at the last gathering (no link was made): a plain restart tries again. */
  private turnUnresolved = false;
  /** Every host candidate found, announced or not (the relay policy announces none; a restart under 'all' then does). */
  // Replaced by a copy one longer per candidate (a handful), not grown by push: kept at its length
  // for the transport's life (17 slots, 152 bytes, after the first push).
  private hostCandidates: readonly LocalCandidateInit[] = [];
  /** TURN links of servers a new list no longer names: released once the selected pair does not use them. */
  private retiredLinks: Set<TurnLink> | undefined;
  /** Retired links a restart's list names again before they were released (announced again by gatherAgain). */
  private revivedLinks: TurnLink[] | undefined;
  /** The relay candidate of each allocated link, for announcing it again (revivedLinks). */
  private relayCandidates: Map<TurnLink, LocalCandidateInit> | undefined;
  /** Sockets bound for UDP allocations on a shared port (bindTurnSocket): closed with their last link. */
  private turnSocketBases: Set<Base> | undefined;

  constructor(options: IceTransportOptions = {}, mux?: IceMuxPort) {
    super();
    this.options = options;
    this.iceServers = options.iceServers ?? [];
    this.iceTransportPolicy = options.iceTransportPolicy ?? 'all';
    this.mux = mux;
    this.clock = options.clock ?? systemClock;
    this.rng = options.rng ?? cryptoRng;
    this.agent = new IceAgent({ taMs: CHECK_PACING_MS, ...options.agent, rng: this.rng, role: options.role ?? 'controlling', mode: options.mode ?? 'full' });
    mux?.register(this, this.agent.localCredentials.ufrag);
  }

  /** Our ICE parameters for the SDP. */
  get localParameters(): IceParameters {
    const c = this.agent.localCredentials;
    return { usernameFragment: c.ufrag, password: c.password, iceLite: this.agent.mode === 'lite' };
  }

  /** W3C RTCIceTransportState. */
  get state(): IceConnectionState {
    return this.agent.state;
  }

  /** W3C RTCIceGatheringState. */
  get gatheringState(): IceGatheringState {
    return this.agent.gathering;
  }

  /** Current role. */
  get role(): IceRole {
    return this.agent.role;
  }

  /** The selected candidate pair, once nominated. */
  get selectedPair(): IceSelectedPair | undefined {
    return this.agent.selectedPair;
  }

  /**
   * True when {@link send} has a pair to go to: a selected pair, or a valid pair before the
   * selection (RFC 8445 §12.1, the `validpair` event).
   */
  get hasValidPair(): boolean {
    return !this.closed && (this.route !== undefined || this.validPairRoute);
  }

  /** Local candidates gathered so far. */
  get localCandidates(): IceCandidate[] {
    return this.agent.localCandidates;
  }

  /**
   * Sets the hot-path receive handler (replaces the 'data' event); null restores the event.
   * `onBatchEnd` runs once after each socket batch (or TURN input) that delivered data, before
   * the pooled views are reused.
   */
  setDataHandler(handler: IceDataHandler | null, onBatchEnd?: () => void): void {
    this.dataHandler = handler ?? undefined;
    this.dataEnd = handler ? onBatchEnd : undefined;
  }

  /**
   * Routes `session` through the session table of the selected pair's socket (the native
   * UdpSocket, own or a shared UdpMux port; docs/architecture.md "Data path"): RTP/RTCP from the
   * selected remote arrive unprotected inside the receive batch (`srtp` 1 in the data handler)
   * and {@link sendSrtp} protects at flush. The route follows pair switches; undefined removes it.
   */
  setSrtpSession(session: SrtpSession | undefined): void {
    this.srtpSession = session;
    this.updateSrtpRoute();
  }

  /**
   * Queues one clear RTP/RTCP packet to be protected natively at flush on the selected pair.
   * False when no native route exists (a relayed pair, no SRTP session): the caller protects.
   */
  sendSrtp(packet: Uint8Array): boolean {
    const tcp = this.tcpRoute ?? this.streamRelay;
    if (tcp) {
      if (this.closed || !tcp.route.send(packet)) return false;
      this.stats.dataSent++;
      return true;
    }
    const r = this.srtpRoute;
    if (!r || this.closed || r.socket.closed) return false;
    r.socket.sendSrtp(packet, r.route);
    this.stats.dataSent++;
    return true;
  }

  /** Drops of the shared port this transport is on (undefined with own sockets). */
  get portDrops(): PortDrops | undefined {
    return this.mux?.drops;
  }

  /** True while the selected pair's SRTP goes through a native session table. */
  get srtpRouted(): boolean {
    return this.srtpRoute !== undefined || this.tcpRoute !== undefined || this.streamRelay !== undefined;
  }

  /** True while that native route is a TURN channel (ChannelData framed natively, docs/udp.md "TURN channels"). */
  get relayRouted(): boolean {
    return this.srtpRoute?.relay !== undefined || this.streamRelay !== undefined;
  }

  /**
   * The native route of a selected pair on the attached passive ICE-TCP port, for an SFU leg over
   * TCP (docs/sfu.md "Legs over TCP"); undefined on any other pair.
   */
  get tcpLegRoute(): TcpSrtpRoute | undefined {
    return this.tcpRoute?.route;
  }

  /** The native routes of this transport's TURN TCP/TLS streams, summed (docs/udp.md "TCP framing"). */
  get turnStreamStats(): TurnLinkStreamStats {
    const sum: TurnLinkStreamStats = { relayedReceived: 0, relayedSent: 0, sendDrops: 0, broken: 0 };
    for (const l of this.links) {
      const s = l.streamStats;
      sum.relayedReceived += s.relayedReceived;
      sum.relayedSent += s.relayedSent;
      sum.sendDrops += s.sendDrops;
      sum.broken += s.broken;
    }
    return sum;
  }

  /** Drops of every TURN client of this transport, summed by reason (undefined without TURN servers). */
  get turnDrops(): Record<TurnDropReason, number> | undefined {
    if (this.links.length === 0) return undefined;
    const sum = {} as Record<TurnDropReason, number>;
    for (const l of this.links) {
      for (const [k, v] of Object.entries(l.client.stats.drops) as [TurnDropReason, number][]) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  private updateSrtpRoute(): void {
    this.updateTcpRoute();
    this.updateStreamRelay();
    const r = this.route;
    const session = this.srtpSession;
    const target = r ? this.nativeRouteTarget(r.base, r.remote) : undefined;
    const current = this.srtpRoute;
    if (current) {
      const dest = current.route.destination;
      const same = target !== undefined && target.socket === current.socket && session === current.route.session &&
        dest.port === target.port && dest.address === target.address && current.route.channel === target.channel &&
        current.relay?.remote === (target.channel ? r!.remote : undefined);
      if (same && !this.closed) return;
      if (!current.socket.closed) current.socket.removeSrtpRoute(current.route);
      this.srtpRoute = undefined;
    }
    if (!target || !session || session.closed || !r || this.closed) return;
    try {
      const { socket } = target;
      const route = socket.addSrtpRoute(socket.destination(target.port, target.address), session, target.channel);
      this.srtpRoute = target.channel
        ? { socket, route, relay: { base: r.base, remote: r.remote, key: remoteKey(r.remote.address, r.remote.port) } }
        : { socket, route };
    } catch (err) {
      // A full table (65535 routes on one socket): this connection protects in JavaScript.
      log('no native SRTP route: %s', err instanceof Error ? err.message : String(err));
    }
  }

  /** Follows the selected pair onto (or off) a connection of the attached TCP port. */
  private updateTcpRoute(): void {
    const r = this.route;
    const session = this.srtpSession;
    const port = this.tcpPort;
    // The passive port's connection, or an active connection of ours (RFC 6544 §5.1).
    const active = r?.base.kind === 'socket' && r.base.socket instanceof TcpActiveSource ? r.base.socket : undefined;
    const passive = port?.tcpSrtpRoute && r?.base === this.tcpBase;
    const wanted = r && !this.closed && session && !session.closed && (passive || active) ? r.remote : undefined;
    const current = this.tcpRoute;
    if (current && wanted && r && current.session === session && addressKey(current.base) === addressKey(r.base.local) && current.remote.address === wanted.address && current.remote.port === wanted.port) return;
    const before = current?.route;
    if (current) {
      current.route.remove();
      this.tcpRoute = undefined;
    }
    const route = wanted && session ? (active ? active.srtpRoute(wanted, session) : port?.tcpSrtpRoute?.(this, wanted, session)) : undefined;
    if (route && wanted && session && r) this.tcpRoute = { route, remote: wanted, session, base: r.base.local };
    // An SFU leg follows its route even when no other pair is selected (docs/sfu.md "Legs over TCP").
    if (route !== before) this.emitEvent('tcplegroutechange');
  }

  /** Follows the selected pair onto (or off) a bound channel of a TURN TCP/TLS stream. */
  private updateStreamRelay(): void {
    const r = this.route;
    const session = this.srtpSession;
    const link = r?.base.kind === 'relay' && r.base.link.target.transport !== 'udp' ? r.base.link : undefined;
    const channel = link && r && !this.closed && session && !session.closed ? link.client.boundChannel(r.remote) : undefined;
    const current = this.streamRelay;
    if (current && channel !== undefined && current.link === link && current.channel === channel && current.session === session && current.remote === r!.remote) return;
    if (current) {
      current.route.remove();
      this.streamRelay = undefined;
    }
    if (channel === undefined || !link || !r || !session) return;
    const route = link.srtpRoute(session, channel);
    if (route) this.streamRelay = { route, link, base: r.base, remote: r.remote, key: remoteKey(r.remote.address, r.remote.port), channel, session };
  }

  /**
   * One datagram of the routed channel's peer on a TURN TCP/TLS stream, unframed (and its SRTP
   * unprotected) in the link's native read batch, as the TURN client's `data` event would give it.
   */
  private receiveStreamRelayed(link: TurnLink, data: Buffer, srtp: number): void {
    const sr = this.streamRelay;
    if (!sr || sr.link !== link || this.closed) {
      this.stats.drops['unknown-source']++;
      return;
    }
    if (srtp === UdpSrtpStatus.none) {
      this.receive(sr.base, data, sr.key, sr.remote.address, sr.remote.port);
      return;
    }
    const from = this.trusted.get(sr.key);
    if (from) this.deliver(sr.base, data, from, srtp);
    else this.stats.drops['unknown-source']++;
  }

  /**
   * Where the selected pair's native route lives: the pair's own native socket, or for a UDP TURN
   * relay whose channel to the peer is bound (RFC 8656 §12) the native socket that carries the
   * allocation, keyed by the server's address and the channel number. Undefined: no native route
   * (a Node dgram socket, TCP/TLS relays, a channel not bound yet).
   */
  private nativeRouteTarget(base: Base, remote: TransportAddress): { socket: UdpSocket; address: string; port: number; channel: number } | undefined {
    if (base.kind === 'socket') {
      const s = base.socket;
      return s instanceof UdpSocket && !s.closed ? { socket: s, address: remote.address, port: remote.port, channel: 0 } : undefined;
    }
    const link = base.link;
    const s = link.udpSocket;
    if (!(s instanceof UdpSocket) || s.closed || link.target.transport !== 'udp') return undefined;
    const channel = link.client.boundChannel(remote);
    return channel === undefined ? undefined : { socket: s, address: link.target.server.address, port: link.target.server.port, channel };
  }

  /**
   * Gathers candidates: binds a socket per host address (or uses the mux port), queries STUN
   * servers and allocates on TURN servers. Candidates arrive as 'icecandidate' events.
   */
  gather(): Promise<void> {
    this.assertOpen();
    if (this.gathered) return Promise.resolve();
    this.gathered = true;
    this.gatheredWith = { servers: this.iceServers, policy: this.iceTransportPolicy };
    const now = (): number => this.clock.now();
    // Host candidates on the native socket or the mux port are announced synchronously (a bind
    // error with nothing else to gather throws here); a custom factory and servers take turns.
    if (!this.mux && !this.options.socketFactory) this.gatherHost();
    return this.gatherRest(now);
  }

  private async gatherRest(now: () => number): Promise<void> {
    if (this.mux) {
      const base: Base & { kind: 'socket' } = { kind: 'socket', local: this.mux.local, socket: this.mux.socket, owned: false };
      this.setBase(addressKey(this.mux.local), base);
      this.muxBase = base;
      // With the relay policy the shared port only receives what its relays' peers send elsewhere.
      this.addHostCandidate({
        type: 'host',
        address: this.mux.announced ?? this.mux.local.address,
        port: this.mux.local.port,
        base: this.mux.local,
      });
    } else if (this.options.socketFactory) {
      await this.gatherHostWithFactory(this.options.socketFactory);
      if (this.closed) return;
    }
    this.gatherTcp(now);
    this.flush();
    // Without servers gathering ends here, synchronously: no event-loop turn before the checks.
    if (this.iceServers.length > 0) await this.startServers();
    if (this.closed) return;
    this.serversStarted = true;
    this.maybeEndGathering();
    this.flush();
  }

  /**
   * Announces the passive ICE-TCP host candidate of the attached TcpMux (RFC 6544 §4.1), not under
   * the relay policy (addHostCandidate). Skipped when its address and port are those of a UDP base (the agent
   * keys bases by address and port). Under 'relay' its base is not registered either, so the port's
   * connections get no STUN answer from this transport (receiveFromTcpMux) until a restart's
   * gathering under 'all' (gatherAgain) registers it with the candidate.
   */
  private gatherTcp(now: () => number): void {
    const port = this.tcpPort;
    if (!port) return;
    if (this.bases.has(addressKey(port.local))) {
      log('TCP candidate %s:%d skipped: a UDP base has the same address and port', port.local.address, port.local.port);
      return;
    }
    const base: Base & { kind: 'socket' } = { kind: 'socket', local: port.local, socket: port.socket, owned: false };
    if (this.iceTransportPolicy === 'relay') this.tcpBaseHeld = base;
    else this.registerTcpBase(base);
    this.addHostCandidate({ type: 'host', protocol: 'tcp', address: port.announced ?? port.local.address, port: port.local.port, base: port.local }, now());
  }

  private registerTcpBase(base: Base & { kind: 'socket' }): void {
    this.setBase(addressKey(base.local), base);
    this.tcpBase = base;
  }

  /**
   * Takes the passive candidate of a shared listening TCP port (TcpMux.attach); before gather().
   * @internal
   */
  attachTcpPort(port: IceMuxPort): void {
    this.assertOpen();
    if (this.gathered) throw new InvalidStateError('ERR_ICE_GATHERED', 'attach the TCP port before gathering');
    if (this.tcpPort) throw new InvalidStateError('ERR_ICE_TCP_PORT', 'a TCP port is already attached');
    this.tcpPort = port;
    port.register(this, this.agent.localCredentials.ufrag);
  }

  /**
   * Binds one socket per host address (RFC 8445 §5.1.1.1), synchronously for the native socket.
   * Throws the last bind error when no address could be bound and no server could give a candidate.
   */
  private gatherHost(): void {
    const g = this.options.gather ?? {};
    const addresses = listHostAddresses(g);
    let index = 0;
    let lastError: unknown;
    for (const address of addresses) {
      const type = isIP(address) === 6 ? 'udp6' : 'udp4';
      let socket: IceUdpSocket;
      try {
        socket = this.bindHost(type, address, g);
      } catch (err) {
        lastError = err;
        log('cannot bind %s: %s', address, err instanceof Error ? err.message : String(err));
        continue;
      }
      const bound = socket.address();
      const local = { address: canonicalIp(bound.address), port: bound.port };
      const base: Base = { kind: 'socket', local, socket, owned: true };
      this.setBase(addressKey(local), base);
      socket.onBatch((batch) => this.onSocketBatch(base, batch));
      const announced = g.announcedAddress && isIP(g.announcedAddress) === isIP(address) ? g.announcedAddress : undefined;
      // RFC 8421: IPv6 preferred over IPv4; earlier interfaces preferred within a family.
      const localPreference = (type === 'udp6' ? 60000 : 50000) - index++;
      // With the relay policy the socket only carries the TURN allocation.
      this.addHostCandidate({ type: 'host', address: announced ?? local.address, port: local.port, base: local, localPreference });
    }
    if (this.bases.size === 0 && lastError !== undefined && this.iceServers.length === 0) throw lastError;
    // Under 'relay' none: a restart's gathering under 'all' makes them (gatherAgain).
    if (g.tcpActive && this.iceTransportPolicy !== 'relay') this.gatherTcpActive(addresses, g.announcedAddress);
  }

  /**
   * One active ICE-TCP candidate per host address (RFC 6544 §5.1); connections open on the first check.
   * Made once (kept with the host candidates, so a later restart under 'all' announces them again).
   */
  private gatherTcpActive(addresses: readonly string[], announcedAddress: string | undefined): void {
    if (this.tcpActiveGathered) return;
    this.tcpActiveGathered = true;
    for (const address of addresses) {
      const local = { address: canonicalIp(address), port: TCP_ACTIVE_PORT };
      if (this.bases.has(addressKey(local))) continue;
      let base: (Base & { kind: 'socket' }) | undefined;
      const source = new TcpActiveSource(local.address, (frames, srtp, key, remote) => {
        if (base) this.onTcpFrames(base, frames, srtp, key, remote);
      }, (remote) => this.tcpConnectionClosed(remote, local), tcpConnectTimeoutMs(this.options.agent ?? {}));
      base = { kind: 'socket', local, socket: source, owned: true };
      this.setBase(addressKey(local), base);
      const announced = announcedAddress && isIP(announcedAddress) === isIP(address) ? announcedAddress : undefined;
      this.addHostCandidate({ type: 'host', protocol: 'tcp', tcpType: 'active', address: announced ?? local.address, port: TCP_ACTIVE_PORT, base: local });
    }
  }

  /** The frames of one native read batch on an active connection, with their SRTP status: one flush. */
  private onTcpFrames(base: Base & { kind: 'socket' }, frames: readonly Buffer[], srtp: Uint8Array, key: number | string, remote: TransportAddress): void {
    if (this.closed) return;
    for (let i = 0; i < frames.length; i++) {
      const data = frames[i]!;
      const from = isControl(data) ? undefined : this.trusted.get(key);
      if (from) this.deliver(base, data, from, srtp[i]!);
      else this.receive(base, data, key, remote.address, remote.port, remote);
    }
    this.flush();
  }

  /** One host socket: the native batch socket (bound synchronously) in the configured port range. */
  private bindHost(type: 'udp4' | 'udp6', address: string, g: IceGatherOptions): IceUdpSocket {
    const factory = this.options.socketFactory;
    if (factory) throw new InvalidStateError('ERR_ICE_ASYNC_FACTORY', 'a custom socket factory is bound asynchronously');
    const buffers = { recvBufferSize: g.recvBufferSize ?? 0, sendBufferSize: g.sendBufferSize ?? 0 };
    const range = g.portRange ?? (g.port !== undefined ? { min: g.port, max: g.port } : undefined);
    if (!range) return UdpSocket.bindSync({ type, address, ...buffers });
    let lastError: unknown;
    for (let port = range.min; port <= range.max; port++) {
      try {
        return UdpSocket.bindSync({ type, address, port, ...buffers });
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError ?? new InvalidArgumentError('ERR_ICE_PORT_RANGE', 'empty port range');
  }

  /** Host sockets bound through a custom factory (asynchronous). */
  private async gatherHostWithFactory(factory: IceUdpSocketFactory): Promise<void> {
    const g = this.options.gather ?? {};
    let index = 0;
    for (const address of listHostAddresses(g)) {
      const type = isIP(address) === 6 ? 'udp6' : 'udp4';
      let socket: IceUdpSocket;
      try {
        socket = await factory({ type, address, port: g.port ?? 0, recvBufferSize: g.recvBufferSize, sendBufferSize: g.sendBufferSize });
      } catch (err) {
        log('cannot bind %s: %s', address, err instanceof Error ? err.message : String(err));
        continue;
      }
      if (this.closed) {
        socket.close();
        return;
      }
      const bound = socket.address();
      const local = { address: canonicalIp(bound.address), port: bound.port };
      const base: Base = { kind: 'socket', local, socket, owned: true };
      this.setBase(addressKey(local), base);
      socket.onBatch((batch) => this.onSocketBatch(base, batch));
      const announced = g.announcedAddress && isIP(g.announcedAddress) === isIP(address) ? g.announcedAddress : undefined;
      const localPreference = (type === 'udp6' ? 60000 : 50000) - index++;
      this.addHostCandidate({ type: 'host', address: announced ?? local.address, port: local.port, base: local, localPreference });
    }
  }

  /** The transport's own host sockets (not a shared port's) with their bases, for stats. */
  get localSockets(): { base: TransportAddress; socket: UdpSocket }[] {
    const out: { base: TransportAddress; socket: UdpSocket }[] = [];
    for (const b of this.bases.values()) if (b.kind === 'socket' && b.owned && b.socket instanceof UdpSocket) out.push({ base: b.local, socket: b.socket });
    return out;
  }

  /** Applies the peer's ICE parameters (an ICE restart when the ufrag changes). */
  setRemoteParameters(params: IceParameters): void {
    this.assertOpen();
    this.agent.setRemoteCredentials(this.clock.now(), { ufrag: params.usernameFragment, password: params.password }, { lite: params.iceLite ?? false });
    this.mux?.refreshConsent?.(this);
    this.ownConsent?.responder.refresh(this);
    this.flush();
  }

  /**
   * Adds a remote candidate: a line (`candidate:...` or `a=candidate:...`), a candidate already
   * parsed (lib/ice's form), or null for end-of-candidates.
   */
  addRemoteCandidate(candidate: string | IceCandidate | null): void {
    this.assertOpen();
    this.agent.addRemoteCandidate(this.clock.now(), candidate);
    this.flush();
  }

  /**
   * New STUN/TURN servers and ICE transport policy (webrtc-pc §4.4.1.6 "set a configuration", from
   * RTCPeerConnection.setConfiguration; the caller has validated them). As RFC 8829 §4.1.18 says,
   * nothing is gathered until the next gathering phase: the first gather(), or the next restart(),
   * which announces the candidates the new policy allows (under 'relay' only relayed ones; under
   * 'all' the host candidates the relay policy had held back too), allocates on TURN servers the
   * list adds, and releases the allocations of servers it no longer names once the selected pair
   * does not use them. Until then the new policy already applies to every candidate gathered from
   * now on (a host candidate found later, a TURN allocation that completes later).
   */
  setConfiguration(config: { iceServers?: readonly IceServer[]; iceTransportPolicy?: 'all' | 'relay' }): void {
    this.assertOpen();
    this.iceServers = config.iceServers ?? [];
    this.iceTransportPolicy = config.iceTransportPolicy ?? 'all';
  }

  /**
   * Starts an ICE restart: new local credentials; candidates are announced again. After a
   * {@link setConfiguration} that changed the servers or the policy, this is a new gathering phase.
   * Without one, the TURN allocations that failed or ended (a server that was down, a quota that was
   * full) are made again; the live ones and the other candidates are kept.
   */
  restart(): IceCredentials {
    this.assertOpen();
    const now = this.clock.now();
    const previous = this.gatheredWith;
    const configChanged = previous !== undefined && (previous.policy !== this.iceTransportPolicy || !sameServerList(previous.servers, this.iceServers));
    const retryTurn = previous !== undefined && !configChanged &&
      (this.turnUnresolved || this.links.some((l) => l.client.state !== 'allocating' && l.client.state !== 'allocated'));
    const regather = configChanged || retryTurn;
    let gathering: IceRestartGathering | undefined;
    if (regather) {
      this.gatheredWith = { servers: this.iceServers, policy: this.iceTransportPolicy };
      // Allocations on servers the new list does not name: their candidates are not announced again.
      const wanted = new Set<string>();
      for (const server of this.iceServers) for (const url of typeof server.urls === 'string' ? [server.urls] : server.urls) wanted.add(serverKey(url, server.username, server.credential));
      const retiredRelays = new Set<string>();
      for (const l of this.links) {
        // A link whose allocation failed or ended is retired like a dropped server's, named again
        // or not: startServers then allocates anew on a server the list still names.
        const alive = l.client.state === 'allocating' || l.client.state === 'allocated';
        if (alive && wanted.has(serverKey(l.target.url, l.target.username, l.target.credential))) {
          // A -> B -> A: an allocation on A an earlier restart retired but did not release yet (its
          // pair was still selected) serves again, announced in the new generation (gatherAgain):
          // no second allocation on A while the first is alive.
          if (this.retiredLinks?.delete(l)) (this.revivedLinks ??= []).push(l);
          continue;
        }
        (this.retiredLinks ??= new Set()).add(l);
        if (l.relayed) retiredRelays.add(addressKey(l.relayed));
      }
      const relayOnly = this.iceTransportPolicy === 'relay';
      gathering = {
        keepLocal: (c) => (!relayOnly || c.type === 'relay') && !(c.type === 'relay' && retiredRelays.has(addressKey(c))),
        moreCandidates: true,
        // Server-reflexive candidates come again from the servers of the new list (startServers);
        // an unchanged list keeps them.
        serverReflexiveAgain: configChanged,
      };
    }
    const creds = this.agent.restart(now, undefined, gathering);
    this.mux?.register(this, creds.ufrag);
    this.mux?.refreshConsent?.(this);
    this.ownConsent?.responder.refresh(this);
    this.tcpPort?.register(this, creds.ufrag);
    if (regather) this.gatherAgain(now, configChanged);
    this.flush();
    return creds;
  }

  /**
   * The gathering phase of a restart after setConfiguration, or of a plain restart that makes failed
   * TURN allocations again: host candidates the policy allows, then the servers (the STUN servers
   * only when `queryStun`: an unchanged list keeps its server-reflexive candidates).
   */
  private gatherAgain(now: number, queryStun: boolean): void {
    this.releaseRetiredLinks();
    // Allocations the list names again while they were still alive: their relay candidate again
    // (one still allocating announces it on 'allocated', being no longer retired).
    for (const l of this.revivedLinks?.splice(0) ?? []) {
      const init = this.relayCandidates?.get(l);
      if (init && l.client.state === 'allocated') this.agent.addLocalCandidate(now, init);
    }
    if (this.iceTransportPolicy !== 'relay') {
      // The TcpMux base the relay policy held back, before its candidate is announced (gatherTcp).
      this.tcpBaseRetiring = false;
      const held = this.tcpBaseHeld;
      this.tcpBaseHeld = undefined;
      if (held && !this.tcpBase) this.registerTcpBase(held);
      for (const init of this.hostCandidates) this.agent.addLocalCandidate(now, init);
      // Active ICE-TCP candidates the first gathering (under 'relay') did not make.
      const g = this.options.gather ?? {};
      if (g.tcpActive && !this.mux && !this.options.socketFactory) this.gatherTcpActive(listHostAddresses(g), g.announcedAddress);
    } else this.holdTcpBase();
    this.serversStarted = false;
    this.endOfCandidatesSent = false;
    const done = (): void => {
      if (this.closed) return;
      this.serversStarted = true;
      this.maybeEndGathering();
      this.flush();
    };
    if (this.iceServers.length === 0) done();
    else void this.startServers(queryStun).then(done);
  }

  /**
   * Under 'relay' (a restart after setConfiguration) the TcpMux port's passive base is unregistered,
   * as gatherTcp holds it under 'relay' from the start: checks over the port get no answer. While the
   * selected pair is on it, it stays until ICE selected another pair (the 'selected-pair' event).
   */
  private holdTcpBase(): void {
    const base = this.tcpBase;
    this.tcpBaseRetiring = false;
    if (!base) return;
    const selected = this.agent.selectedPair?.localBase;
    if (selected && addressKey(selected) === addressKey(base.local)) {
      this.tcpBaseRetiring = true;
      return;
    }
    this.bases.delete(addressKey(base.local));
    this.tcpBase = undefined;
    this.tcpBaseHeld = base;
    this.lastBase = undefined;
    log('passive TCP base %s:%d held: relay policy', base.local.address, base.local.port);
  }

  /**
   * Releases the TURN allocations of servers a new list no longer names (restart after
   * setConfiguration), each once the agent's selected pair is not on it: a pair in use keeps its
   * allocation until ICE selected another one.
   */
  private releaseRetiredLinks(): void {
    const retired = this.retiredLinks;
    if (!retired || retired.size === 0) return;
    const selected = this.agent.selectedPair?.localBase;
    const now = this.clock.now();
    for (const l of [...retired]) {
      if (selected && l.relayed && addressKey(selected) === addressKey(l.relayed)) continue;
      retired.delete(l);
      l.close(now);
      if (l.relayed) this.bases.delete(addressKey(l.relayed));
      this.lastBase = undefined;
      const at = this.links.indexOf(l);
      if (at >= 0) this.links.splice(at, 1);
      this.settledLinks?.delete(l);
      this.relayCandidates?.delete(l);
      this.closeTurnSocket(l);
      log('released the TURN allocation on %s: no longer in iceServers', l.target.url);
    }
  }

  /**
   * After `link` was released: the socket bindTurnSocket bound for it on a shared port is closed
   * once no other link's allocation is on it (its close first sends what is queued, the Refresh with
   * lifetime 0 of the release included). A host socket carrying an allocation stays.
   */
  private closeTurnSocket(link: TurnLink): void {
    const socket = link.udpSocket;
    const key = link.udpBase && addressKey(link.udpBase);
    const base = key === undefined ? undefined : this.bases.get(key);
    if (!socket || !base || base.kind !== 'socket' || base.socket !== socket || !this.turnSocketBases?.has(base)) return;
    if (this.links.some((o) => o.udpSocket === socket)) return;
    this.turnSocketBases.delete(base);
    this.bases.delete(key!);
    this.lastBase = undefined;
    socket.close();
    log('closed the socket %s:%d of the released allocation', base.local.address, base.local.port);
  }

  /** Host candidates go through here: all are kept, those the policy allows are announced. */
  private addHostCandidate(init: LocalCandidateInit, now = this.clock.now()): void {
    // concat, not a spread: a spread's array has room for 17.
    this.hostCandidates = this.hostCandidates.concat(init);
    if (this.iceTransportPolicy !== 'relay') this.agent.addLocalCandidate(now, init);
  }

  /**
   * Sends what waits in the selected pair's native socket now rather than at the end of the
   * event-loop turn (the socket flushes once per turn): for a DTLS handshake flight whose sender
   * still has work in this turn (keying SRTP, the 'connected' listeners, SCTP), so that the peer's
   * next step does not wait for it (docs/peer.md "Setup cost"). On a shared port this also sends
   * what other connections queued this turn, earlier than they would have left.
   * @internal
   */
  flushNow(): void {
    const r = this.route ?? this.replyTo;
    if (!r || this.closed || r.base.kind !== 'socket') return;
    const socket = r.base.socket;
    if (socket instanceof UdpSocket && !socket.closed) socket.flush();
  }

  /**
   * Sends a datagram on the selected pair. Returns false (and counts it) when no pair is
   * selected yet or the transport failed.
   */
  send(data: Uint8Array): boolean {
    const r = this.route ?? this.replyTo;
    if (!r || this.closed) {
      this.stats.drops['no-selected-pair']++;
      return false;
    }
    this.stats.dataSent++;
    if (r.dest && r.base.kind === 'socket') (r.base.socket as UdpSocket).sendTo(data, r.dest);
    else if (r.base.kind === 'socket') r.base.socket.send(data, r.remote.port, r.remote.address);
    else {
      if (isMedia(data)) this.stats.relayedMediaInJs.sent++;
      r.base.link.client.send(this.clock.now(), r.remote, data);
      r.base.link.flush();
    }
    this.agent.noteDataSent(this.clock.now());
    return true;
  }

  /**
   * @internal What the port's native responder answers this transport's consent checks with (docs/ice.md
   * "Consent checks answered natively"): the agent's current credentials and role; undefined before
   * the remote credentials are known or once closed.
   */
  consentCredentials(): { localUfrag: string; remoteUfrag: string; password: string; controlling: boolean; checks?: NativeConsentCheckSetup } | undefined {
    const remote = this.agent.remoteCredentials;
    if (this.closed || !remote) return undefined;
    const local = this.agent.localCredentials;
    const check = this.agent.nativeConsentCheck();
    const checks = check && { remotePassword: remote.password, tieBreaker: check.tieBreaker, priority: check.priority, timeoutMs: check.timeoutMs };
    return { localUfrag: local.ufrag, remoteUfrag: remote.ufrag, password: local.password, controlling: this.agent.role === 'controlling', checks };
  }

  /**
   * @internal The registration of the selected pair now sends the agent's consent checks natively
   * (or no longer does): the agent counts them due instead of building them (docs/ice.md "Consent
   * checks sent natively").
   */
  consentChecksNative(on: boolean): void {
    this.consentNative = on && !this.closed;
    this.agent.delegateConsentChecks(this.consentNative);
  }

  /**
   * @internal `count` consent checks from `remote` to the socket at `local` (a shared port or an own
   * socket) were answered natively since the last call, `nominations` of them with USE-CANDIDATE;
   * `verified` answers to our own natively sent checks arrived, the last `ageMs` ago.
   */
  consentAnswered(count: number, nominations: number, local: TransportAddress, remote: TransportAddress, verified = 0, ageMs = 0): void {
    if (this.closed) return;
    let changed = false;
    try {
      const now = this.clock.now();
      changed = this.agent.noteRequestsAnswered(now, count, nominations, local, remote);
      if (verified > 0 && this.agent.noteConsentResponses(now, verified, now - ageMs, local, remote)) changed = true;
    } catch (err) {
      reportListenerError(err);
    }
    if (!changed) return;
    try {
      this.flush();
    } catch (err) {
      reportListenerError(err);
    } finally {
      if (!this.closed) this.armTimer();
    }
  }

  /**
   * @internal The consent check queued with the registration was not sent (no registration, or the
   * native side could not build it): delegation stops and the agent sends it, and the later ones,
   * from JavaScript (docs/ice.md "Consent checks sent natively").
   */
  consentCheckUnsent(): void {
    if (this.closed) return;
    this.consentChecksNative(false);
    this.agent.sendUnsentConsentCheck(this.clock.now());
    this.flush();
  }

  /** Closes sockets, releases TURN allocations and stops timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.agent.close();
    iceTimers.cancel(this.timer);
    this.timerAt = Infinity;
    const now = this.clock.now();
    for (const l of this.links) l.close(now);
    this.route = undefined;
    this.replyTo = undefined;
    this.updateSrtpRoute();
    this.selectOwnConsent(undefined, undefined);
    for (const b of this.bases.values()) if (b.kind === 'socket' && b.owned) b.socket.close();
    this.mux?.release(this);
    this.tcpPort?.release(this);
    this.emitEvent('statechange', 'closed');
  }

  // ---- receive path -------------------------------------------------------------------

  private onSocketBatch(base: Base & { kind: 'socket' }, batch: IceUdpBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const data = batch.data(i);
      const relay = batch.relayRoute?.(i) ?? 0;
      if (relay !== 0) {
        this.receiveRelayed(relay, data, batch.srtpStatus?.(i) ?? UdpSrtpStatus.none);
        continue;
      }
      // ChannelData of a routed TURN channel that lied about its length: dropped and counted natively;
      // a consent check the socket answered natively (docs/ice.md "Consent checks answered natively").
      const status = batch.srtpStatus?.(i);
      if (status === UdpSrtpStatus.channelDataMalformed || status === UdpSrtpStatus.consentAnswered) continue;
      const key = batch.addressKey(i);
      // Data (RTP/RTCP/DTLS) from a trusted remote: no address formatting, no allocation; nor for
      // its STUN (consent checks and their answers), which the agent gets with the trusted address.
      const from = this.trusted.get(key);
      if (from && !isControl(data)) this.deliver(base, data, from, batch.srtpStatus?.(i) ?? UdpSrtpStatus.none);
      else if (from) this.receive(base, data, key, from.address, from.port, from);
      else this.receive(base, data, key, batch.address(i), batch.port(i));
    }
    this.flush();
  }

  /**
   * One datagram a TURN server relayed on the channel of our native route, its ChannelData header
   * already stripped in the receive batch (and RTP/RTCP unprotected): it comes from the relayed
   * pair's peer through the relayed base, as the TURN client's `data` event would have said.
   */
  private receiveRelayed(routeId: number, data: Buffer, srtp: number): void {
    const r = this.srtpRoute;
    const relay = r?.route.id === routeId ? r.relay : undefined;
    if (!relay) {
      // A route removed while its datagrams were in flight: nobody here knows the peer any more.
      this.stats.drops['unknown-source']++;
      return;
    }
    if (srtp === UdpSrtpStatus.none) {
      this.receive(relay.base, data, relay.key, relay.remote.address, relay.remote.port);
      return;
    }
    const from = this.trusted.get(relay.key);
    if (from) this.deliver(relay.base, data, from, srtp);
    else this.stats.drops['unknown-source']++;
  }

  /**
   * One datagram from the mux (already routed to us). The mux calls {@link flushFromMux}
   * after its batch.
   * @internal
   */
  receiveFromMux(data: Buffer, key: number | string, remote: TransportAddress, srtp: number): void {
    const base = this.muxBase;
    if (!base) return;
    const from = isControl(data) ? undefined : this.trusted.get(key);
    if (from) this.deliver(base, data, from, srtp);
    else this.receive(base, data, key, remote.address, remote.port, remote);
  }

  /**
   * One RFC 4571 frame from a connection of the attached TcpMux (already routed to us), with its
   * SRTP outcome from the native read batch (docs/udp.md "TCP framing"); the port calls
   * {@link flushFromMux} after each batch.
   * @internal
   */
  receiveFromTcpMux(data: Buffer, key: number | string, remote: TransportAddress, srtp: number = UdpSrtpStatus.none): void {
    const base = this.tcpBase;
    if (!base) return;
    const from = isControl(data) ? undefined : this.trusted.get(key);
    if (from) this.deliver(base, data, from, srtp);
    else this.receive(base, data, key, remote.address, remote.port, remote);
  }

  /** @internal */
  flushFromMux(): void {
    this.flush();
  }

  /**
   * @internal The TCP connection from `remote` to the attached TcpMux port, or of an active
   * candidate on `base` (default: the port's), closed or was reset: the agent fails its pairs at
   * once and moves on (RFC 6544 §7.2; docs/ice.md "ICE-TCP").
   */
  tcpConnectionClosed(remote: TransportAddress, base: TransportAddress | undefined = this.tcpBase?.local): void {
    if (this.closed || !base) return;
    // The closed connection's native SRTP route goes with it: a new connection to the same remote (our
    // active side reconnecting, docs/ice.md "ICE-TCP") gets a route of its own once selected again.
    // Only the route of that connection: same base (the passive port and an active source may both
    // reach one remote address and port) and same remote, compared canonically (one IPv6 address has many spellings).
    const tr = this.tcpRoute;
    if (tr && tr.remote.port === remote.port && canonicalIp(tr.remote.address) === canonicalIp(remote.address) && addressKey(tr.base) === addressKey(base)) {
      tr.route.remove();
      this.tcpRoute = undefined;
      this.emitEvent('tcplegroutechange');
    }
    this.agent.connectionClosed(this.clock.now(), base, remote);
    this.flush();
  }

  /** `remote`, when the caller has one for (address, port) that does not change, is handed on instead of a new object. */
  private receive(base: Base, data: Buffer, key: number | string, address: string, port: number, remote?: TransportAddress): void {
    if (this.closed) return;
    if (data.length === 0) {
      this.stats.drops['unknown-first-byte']++;
      return;
    }
    if (isControl(data)) {
      // TURN server traffic on the host socket it shares with the relay allocation.
      if (base.kind === 'socket') {
        for (let li = 0; li < this.links.length; li++) {
          const l = this.links[li]!;
          if (l.udpBase && l.target.server.port === port && l.target.server.address === address && addressKey(l.udpBase) === addressKey(base.local)) {
            l.client.handleInput(this.clock.now(), data);
            return;
          }
        }
      }
      if (data[0]! < 4) {
        this.agent.handleInput(this.clock.now(), { local: base.local, remote: remote ?? { address, port }, data });
        return;
      }
    }
    let from = this.trusted.get(key);
    if (!from) {
      const b = data[0]!;
      // A check response that validated this source may be in the same receive batch, its
      // `remote-validated` event not drained yet: with the DTLS client starting on a valid pair
      // (RFC 8445 §12.1), its ClientHello often arrives right behind it. The agent's own record
      // decides, the same proof the event carries (docs/ice.md "Data before the nomination").
      const src = remote ?? { address, port };
      if (b >= 20 && b <= 63 && this.agent.isValidatedRemote(src, base.local)) {
        this.trust(src);
        from = this.trusted.get(key);
      }
    }
    if (!from) {
      const b = data[0]!;
      if ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) this.stats.drops['unknown-source']++;
      else this.stats.drops['unknown-first-byte']++;
      return;
    }
    this.deliver(base, data, from, UdpSrtpStatus.none);
  }

  private deliver(base: Base, data: Buffer, from: TransportAddress, srtp: number): void {
    this.stats.dataReceived++;
    if (!this.route && this.replyTo?.remote !== from) this.replyTo = { base, remote: from, ...this.destinationOf(base, from) };
    if (this.dataHandler) {
      this.dataPending = true;
      try {
        this.dataHandler(data, from, srtp);
      } catch (err) {
        reportListenerError(err);
      }
    } else this.emitEvent('data', data, from);
  }

  // ---- servers ------------------------------------------------------------------------

  private async startServers(queryStun = true): Promise<void> {
    this.turnUnresolved = false;
    for (const server of this.iceServers) {
      const urls = typeof server.urls === 'string' ? [server.urls] : server.urls;
      for (const url of urls) {
        let parsed: ReturnType<typeof parseIceServerUrl>;
        try {
          parsed = parseIceServerUrl(url);
        } catch (err) {
          this.emitEvent('turnerror', url, err instanceof Error ? err.message : String(err));
          continue;
        }
        const stun = parsed.scheme === 'stun' || parsed.scheme === 'stuns';
        if (stun && (this.iceTransportPolicy === 'relay' || !queryStun)) continue;
        let address = parsed.host;
        if (isIP(address) === 0) {
          try {
            address = (await lookup(parsed.host, { family: 4 })).address;
          } catch {
            if (!stun) this.turnUnresolved = true;
            this.emitEvent('turnerror', url, 'name resolution failed');
            continue;
          }
        }
        if (this.closed) return;
        const target = { address: canonicalIp(address), port: parsed.port };
        if (stun) {
          this.agent.gatherServerReflexive(this.clock.now(), target);
          continue;
        }
        if (server.username === undefined || server.credential === undefined) {
          this.emitEvent('turnerror', url, 'TURN needs username and credential');
          continue;
        }
        // A restart after setConfiguration keeps the allocations of servers the new list still names.
        const key = serverKey(url, server.username, server.credential);
        if (this.links.some((l) => !this.retiredLinks?.has(l) && serverKey(l.target.url, l.target.username, l.target.credential) === key)) continue;
        const transport = parsed.scheme === 'turns' ? 'tls' : parsed.transport;
        this.startTurn({ url, server: target, host: parsed.host, transport, username: server.username, credential: server.credential });
      }
    }
  }

  private startTurn(target: TurnServerTarget): void {
    let udpBase: (Base & { kind: 'socket' }) | undefined;
    if (target.transport === 'udp') {
      for (const b of this.bases.values()) {
        if (b.kind === 'socket' && b !== this.muxBase && b !== this.tcpBase && !(b.socket instanceof TcpActiveSource) && isIP(b.local.address) === isIP(target.server.address)) udpBase = udpBase ?? b;
      }
      // On a shared port: an allocation is identified by its 5-tuple (RFC 8656 §2.2), so one port
      // cannot hold one per connection; the connection's allocation gets a socket of its own.
      if (!udpBase && this.mux) udpBase = this.bindTurnSocket(target);
      if (!udpBase) {
        this.emitEvent('turnerror', target.url, 'no local socket of the server family');
        return;
      }
    }
    const link = new TurnLink(
      target,
      this.rng,
      udpBase?.socket,
      udpBase?.local,
      (l, frames) => {
        const now = this.clock.now();
        for (const f of frames) l.client.handleInput(now, f);
        this.flush();
      },
      (l) => {
        if (l.client.state === 'allocating') l.client.close(this.clock.now());
        this.linkDone(l, 'stream closed');
        this.flush();
      },
      { tlsRejectUnauthorized: this.options.tlsRejectUnauthorized ?? true },
      (l, data, srtp) => this.receiveStreamRelayed(l, data, srtp),
    );
    this.links.push(link);
    link.client.allocate(this.clock.now());
    link.flush();
  }

  private linkDone(link: TurnLink, error?: string): void {
    if (error) this.emitEvent('turnerror', link.target.url, error);
    const settled = (this.settledLinks ??= new Set());
    if (settled.has(link)) return;
    settled.add(link);
    this.maybeEndGathering();
  }

  /** Host gathering is over and every TURN allocation succeeded or failed. */
  private maybeEndGathering(): void {
    if (!this.serversStarted || this.endOfCandidatesSent || this.closed || (this.settledLinks?.size ?? 0) < this.links.length) return;
    this.endOfCandidatesSent = true;
    this.agent.endOfLocalCandidates(this.clock.now());
  }

  // ---- output path --------------------------------------------------------------------

  private flush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      let rounds = 0;
      do {
        this.flushAgain = false;
        // The guards here, not only inside: most rounds have no data batch and no TURN link, and
        // each call is one more in code that is still interpreted while a burst of PCs sets up.
        if (this.dataPending) this.endDataBatch();
        if (this.links.length > 0) this.drainLinks();
        if (this.dataPending) this.endDataBatch();
        this.drainAgent();
        if (this.agent.takeConsentChecksDue() > 0) this.sendConsentCheck();
        // A timeout already due (the first check once a pair exists, a paced check whose time
        // has come) runs now rather than after a zero-delay timer: no event-loop hop.
        if (!this.flushAgain && rounds++ < 4 && this.runDueTimeouts()) this.flushAgain = true;
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
    }
    this.armTimer();
  }

  /** Runs the agent's and TURN clients' timeouts that are due now; true when any was. */
  private runDueTimeouts(): boolean {
    if (this.closed) return false;
    const now = this.clock.now();
    let due = false;
    const a = this.agent.pollTimeout();
    if (a !== undefined && a <= now) {
      // As in onTimer: answers to natively sent consent checks count before any deadline is judged.
      if (this.consentNative) this.takeNativeConsent();
      this.agent.handleTimeout(now);
      due = true;
    }
    for (let li = 0; li < this.links.length; li++) {
      const l = this.links[li]!;
      const t = l.client.pollTimeout();
      if (t !== undefined && t <= now) {
        l.client.handleTimeout(now);
        due = true;
      }
    }
    return due;
  }

  /**
   * The end of a batch that delivered data: the layer above processes it now, while the pooled
   * views are still valid (no microtask, no event-loop hop).
   */
  private endDataBatch(): void {
    if (!this.dataPending) return;
    this.dataPending = false;
    try {
      this.dataEnd?.();
    } catch (err) {
      reportListenerError(err);
    }
  }

  /** Adds or replaces a base (and forgets the base {@link baseOf} looked up last). */
  private setBase(key: string, base: Base): void {
    this.bases.set(key, base);
    this.lastBase = undefined;
  }

  /** The base of an agent transmit's local address; the last one is remembered (no key string per send). */
  private baseOf(local: TransportAddress): Base | undefined {
    const last = this.lastBase;
    if (last && last.local === local) return last.base;
    const base = this.bases.get(addressKey(local));
    if (base) this.lastBase = { local, base };
    return base;
  }

  private drainAgent(): void {
    for (let t = this.agent.pollTransmit(); t; t = this.agent.pollTransmit()) {
      const base = this.baseOf(t.local);
      if (!base) {
        this.stats.drops['send-failed']++;
        continue;
      }
      if (base.kind === 'socket') {
        // UdpSocket.send resolves through destination(), which remembers the last remote (docs/udp.md).
        base.socket.send(t.data, t.remote.port, t.remote.address);
        if (!base.owned && base !== this.tcpBase) this.mux?.learn(this, t.remote);
        // A Binding request the agent sent on a natively registered pair (docs/ice.md "Consent checks sent natively").
        if (t.data[0] === 0 && t.data[1] === 1) this.noteAgentRequest(base, t.remote, t.data);
      } else {
        base.link.client.send(this.clock.now(), t.remote, t.data);
        base.link.flush();
      }
    }
    for (let e = this.agent.pollEvent(); e; e = this.agent.pollEvent()) {
      switch (e.type) {
        case 'local-candidate':
          this.emitEvent('icecandidate', e.candidate ? formatCandidate(e.candidate) : null, e.candidate);
          break;
        case 'gathering-state':
          this.emitEvent('gatheringstatechange', e.state);
          break;
        case 'connection-state':
          if (e.state === 'failed' || e.state === 'closed') {
            // Connections our active candidates opened (a reconnect's included, which may come up
            // after the failure) close with it instead of holding a link until the transport closes.
            if (e.state === 'failed') for (const b of this.bases.values()) if (b.kind === 'socket' && b.socket instanceof TcpActiveSource) b.socket.closeLinks();
            this.route = undefined;
            this.replyTo = undefined;
            this.validPairRoute = false;
            this.updateSrtpRoute();
            this.mux?.select?.(this, undefined);
            this.selectOwnConsent(undefined, undefined);
          } else if (this.agent.selectedPair && !this.route) this.setRoute(this.agent.selectedPair);
          this.emitEvent('statechange', e.state);
          break;
        case 'selected-pair':
          if (log.enabled) log('selected pair %s %s:%d -> %s %s:%d', e.pair.local.type, e.pair.localBase.address, e.pair.localBase.port, e.pair.remote.type, e.pair.remoteAddress.address, e.pair.remoteAddress.port);
          this.setRoute(e.pair);
          this.mux?.select?.(this, this.mux && addressKey(e.pair.localBase) === addressKey(this.mux.local) ? e.pair.remoteAddress : undefined);
          this.selectOwnConsent(e.pair.localBase, e.pair.remoteAddress);
          this.releaseRetiredLinks();
          if (this.tcpBaseRetiring) this.holdTcpBase();
          this.emitEvent('selectedcandidatepairchange', e.pair);
          break;
        case 'valid-pair': {
          // RFC 8445 §12.1: before a pair is selected, data may go on any valid pair. No native
          // SRTP route, no shared-port steering or consent: those follow the selected pair.
          const base = this.route ? undefined : this.bases.get(addressKey(e.pair.localBase));
          if (!base) break;
          this.replyTo = { base, remote: e.pair.remoteAddress, ...this.destinationOf(base, e.pair.remoteAddress) };
          this.validPairRoute = true;
          this.trust(e.pair.remoteAddress);
          this.emitEvent('validpair', e.pair);
          break;
        }
        case 'remote-validated':
          this.trust(e.remote);
          break;
        case 'remote-authenticated':
          if (this.mux && addressKey(e.local) === addressKey(this.mux.local)) this.mux.learn(this, e.remote);
          else if (this.tcpPort && addressKey(e.local) === addressKey(this.tcpPort.local)) this.tcpPort.learn(this, e.remote);
          break;
        case 'mdns-query':
          this.resolveMdns(e.name);
          break;
        case 'mdns-expired': {
          // The agent's deadline (MDNS_QUERY_TIMEOUT_MS) came before the resolver's answer.
          const lookup = this.mdnsLookups?.get(e.name);
          if (lookup) {
            lookup.done = true;
            this.mdnsLookups!.delete(e.name);
            this.stats.mdns.unresolved++;
            this.stats.mdns.candidatesIgnored += e.candidatesIgnored;
          }
          break;
        }
        case 'mdns-dropped': {
          // An ICE restart dropped the name's candidates: the answer still to come is stale.
          const lookup = this.mdnsLookups?.get(e.name);
          if (lookup) {
            lookup.stale = true;
            this.mdnsLookups!.delete(e.name);
          }
          break;
        }
        case 'role':
          // The port's native consent answers depend on the role (docs/ice.md "Consent checks answered natively").
          this.mux?.refreshConsent?.(this);
          this.ownConsent?.responder.refresh(this);
          break;
      }
    }
  }

  /**
   * A native socket for one UDP TURN allocation of a connection on a shared port: bound on the
   * port's address (any port), carrying only the allocation (no host candidate); its batches take
   * the native channel route like any host socket's (docs/udp.md "TURN channels").
   */
  private bindTurnSocket(target: TurnServerTarget): (Base & { kind: 'socket' }) | undefined {
    const mux = this.mux;
    if (!mux || this.options.socketFactory) return undefined;
    const family = isIP(target.server.address);
    const address = isIP(mux.local.address) === family ? mux.local.address : family === 6 ? '::' : '0.0.0.0';
    let socket: UdpSocket;
    try {
      socket = UdpSocket.bindSync({ type: family === 6 ? 'udp6' : 'udp4', address });
    } catch (err) {
      log('no socket for the TURN allocation: %s', err instanceof Error ? err.message : String(err));
      return undefined;
    }
    const bound = socket.address();
    const local = { address: canonicalIp(bound.address), port: bound.port };
    const base: Base & { kind: 'socket' } = { kind: 'socket', local, socket, owned: true };
    this.setBase(addressKey(local), base);
    (this.turnSocketBases ??= new Set()).add(base);
    socket.onBatch((batch) => this.onSocketBatch(base, batch));
    return base;
  }

  private drainLinks(): void {
    const now = this.clock.now();
    for (const link of this.links) {
      for (let e = link.client.pollEvent(); e; e = link.client.pollEvent()) {
        switch (e.type) {
          case 'allocated': {
            link.relayed = e.relayed;
            const base: Base = { kind: 'relay', local: e.relayed, link };
            this.setBase(addressKey(e.relayed), base);
            const init: LocalCandidateInit = {
              type: 'relay',
              address: e.relayed.address,
              port: e.relayed.port,
              ...(e.mapped ? { related: e.mapped } : {}),
              server: link.target.url,
              localPreference: link.target.transport === 'udp' ? 65535 : link.target.transport === 'tcp' ? 32767 : 16383,
            };
            // Kept for a restart that names the server again while the allocation lives (A -> B -> A).
            (this.relayCandidates ??= new Map()).set(link, init);
            // A server setConfiguration dropped while this allocation was under way: not announced.
            if (!this.retiredLinks?.has(link)) this.agent.addLocalCandidate(now, init);
            this.linkDone(link);
            break;
          }
          case 'failed':
            this.linkDone(link, e.reason);
            break;
          case 'channel':
            // A bound channel lets a relayed pair's media take the native route (docs/udp.md).
            if (e.ok && this.route?.base.kind === 'relay' && this.route.base.link === link) this.updateSrtpRoute();
            break;
          case 'data':
            if (isMedia(e.data)) this.stats.relayedMediaInJs.received++;
            if (link.relayed) {
              const relayBase = this.bases.get(addressKey(link.relayed));
              if (relayBase) this.receive(relayBase, e.data, remoteKey(e.peer.address, e.peer.port), e.peer.address, e.peer.port);
            }
            break;
          default:
            break;
        }
      }
      link.flush();
    }
  }

  /** A resolved destination for sends on a native socket (no per-packet address lookup). */
  private destinationOf(base: Base, remote: TransportAddress): { dest?: UdpDestination } {
    if (base.kind !== 'socket' || !(base.socket instanceof UdpSocket) || base.socket.closed) return {};
    try {
      return { dest: base.socket.destination(remote.port, remote.address) };
    } catch {
      return {};
    }
  }

  /**
   * The selected pair is on `localBase` towards `remote` (undefined: none any more): when that base is
   * an own native socket, its responder answers the peer's consent checks from `remote` (docs/ice.md
   * "Consent checks answered natively"); any earlier registration is released.
   */
  private selectOwnConsent(localBase: TransportAddress | undefined, remote: TransportAddress | undefined): void {
    const base = localBase && remote && !this.closed && this.options.nativeConsent !== false ? this.bases.get(addressKey(localBase)) : undefined;
    const socket = base?.kind === 'socket' && base.owned && base.socket instanceof UdpSocket && !base.socket.closed ? base.socket : undefined;
    if (this.ownConsent && this.ownConsent.socket !== socket) {
      this.ownConsent.responder.release(this);
      this.ownConsent = undefined;
    }
    if (!socket || !base || !remote) return;
    // One registration at a time: its counts need a one-entry array.
    this.ownConsent ??= { socket, responder: new UdpConsentResponder(socket, base.local, 1) };
    this.ownConsent.responder.select(this, { address: canonicalIp(remote.address), port: remote.port });
  }

  /**
   * The agent sent a Binding request on `base`: when a native registration sends the consent checks of
   * that pair, it learns the transaction id, so the answer counts as the agent's and not as a drop.
   */
  private noteAgentRequest(base: Base & { kind: 'socket' }, remote: TransportAddress, request: Uint8Array): void {
    if (this.ownConsent) {
      if (this.ownConsent.socket === base.socket) this.ownConsent.responder.noteAgentCheck(this, remote, request);
    } else if (this.mux && base.socket === this.mux.socket && base !== this.tcpBase) this.mux.noteAgentConsentCheck?.(this, remote, request);
  }

  /** The agent's due consent check goes out through the registration of its selected pair. */
  private sendConsentCheck(): void {
    const queued = this.ownConsent ? this.ownConsent.responder.queueCheck(this) : (this.mux?.queueConsentCheck?.(this) ?? false);
    if (queued) return;
    log('a consent check was due with no native registration to send it: sent from JavaScript');
    this.consentCheckUnsent();
  }

  private takeNativeConsent(): void {
    if (this.ownConsent) this.ownConsent.responder.takeBeforeDeadline();
    else this.mux?.takeConsent?.();
  }

  private setRoute(pair: IceSelectedPair): void {
    const base = this.bases.get(addressKey(pair.localBase));
    if (!base) return;
    this.route = { base, remote: pair.remoteAddress, ...this.destinationOf(base, pair.remoteAddress) };
    this.replyTo = undefined;
    this.trust(pair.remoteAddress);
    this.updateSrtpRoute();
  }

  private trust(remote: TransportAddress): void {
    const key = remoteKey(remote.address, remote.port);
    if (this.trusted.size < 1024 && !this.trusted.has(key)) this.trusted.set(key, { address: remote.address, port: remote.port });
  }

  private resolveMdns(name: string): void {
    const mdns = this.stats.mdns;
    mdns.queries++;
    const custom = this.options.resolveMdns;
    // Any resolver gets a deadline: the agent's own (MDNS_QUERY_TIMEOUT_MS, an `mdns-expired`
    // event), so no timer of ours outlives close(). An answer after it is not counted again. A
    // lookup an ICE restart dropped (`mdns-dropped`) is answered into nothing: counted as `stale`.
    // The agent asks for a name again only once its previous lookup ended or was dropped, so a
    // name has at most one live lookup; each answer settles its own.
    const asked: MdnsLookup = { stale: false, done: false };
    const lookups = (this.mdnsLookups ??= new Map());
    lookups.set(name, asked);
    const answer = (address: string | undefined): void => {
      if (this.closed || asked.done) return;
      asked.done = true;
      if (asked.stale) {
        mdns.stale++;
        return;
      }
      if (lookups.get(name) === asked) lookups.delete(name);
      const usable = address !== undefined && isIP(address) !== 0;
      if (usable) mdns.resolved++;
      else mdns.unresolved++;
      mdns.candidatesIgnored += this.agent.resolveMdns(this.clock.now(), name, usable ? address : undefined);
      this.flush();
    };
    if (custom === null) {
      answer(undefined);
      return;
    }
    let lookup: Promise<string | undefined>;
    try {
      lookup = custom === undefined ? resolveMdnsName(name, { drops: mdns.drops }) : custom(name);
    } catch {
      answer(undefined);
      return;
    }
    lookup.then(answer, () => answer(undefined));
  }

  private armTimer(): void {
    if (this.closed) return;
    let next = this.agent.pollTimeout();
    for (let li = 0; li < this.links.length; li++) {
      const l = this.links[li]!;
      const t = l.client.pollTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    if (next === undefined) {
      iceTimers.cancel(this.timer);
      this.timerAt = Infinity;
      return;
    }
    // Re-armed when the deadline moves either way. Kept at an earlier one, the timer woke for
    // nothing once per consent period: a check sent at t armed it at the previous response + 7.5 s
    // (the disconnected check, before t + 5 s), and the new response moved that past the next check.
    if (this.timer.index >= 0 && next === this.timerAt) return;
    this.timerAt = next;
    iceTimers.schedule(this.timer, next - this.clock.now());
  }

  /**
   * A deadline came: its work runs after the I/O of this event-loop turn (setImmediate runs after
   * the poll phase, which Node enters right after its timers) and of the next one. A check's response
   * or a peer's check that already waits in a socket buffer is read first, so a loop busy with many
   * connections does not retransmit checks whose answers have arrived (docs/ice.md "Driver"). The
   * second turn: an answer computed in this turn's I/O by a peer in this same process (a burst of
   * set-ups, a test) leaves with the sockets' end-of-turn flush, after the first hop's work, and is
   * readable only at the next poll; one hop retransmitted such checks.
   */
  private deferTimer(): void {
    if (this.timerDeferred || this.closed) return;
    this.timerDeferred = true;
    // One setImmediate per hop for every transport whose timer came due (the shared timer wakes many at once).
    timerWork.push(this.deferTimerAgain);
  }

  /**
   * Runs from setImmediate, outside any caller's try/catch: an exception from a handleTimeout or a
   * listener is reported (reportListenerError), never thrown into the loop, and the timer is re-armed.
   */
  private onTimer(): void {
    this.timerAt = Infinity;
    if (this.closed) return;
    try {
      // Answers to natively sent consent checks that arrived since the last tick count first, with the
      // time they arrived: a deadline of consent (disconnected, lost) is judged on them (docs/ice.md
      // "Consent checks sent natively").
      if (this.consentNative) this.takeNativeConsent();
      const now = this.clock.now();
      this.stats.timerWakes++;
      this.agent.handleTimeout(now);
      for (let li = 0; li < this.links.length; li++) this.links[li]!.client.handleTimeout(now);
    } catch (err) {
      reportListenerError(err);
    }
    try {
      this.flush();
    } catch (err) {
      reportListenerError(err);
    } finally {
      if (!this.closed) this.armTimer();
    }
  }

  private emitEvent<K extends keyof IceTransportEvents & string>(event: K, ...args: IceTransportEvents[K]): void {
    this.safeEmit(event, ...args);
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidStateError('ERR_ICE_CLOSED', 'the ICE transport is closed');
  }
}

/** RTP or RTCP by the first byte (128-191, RFC 7983). */
function isMedia(data: Uint8Array): boolean {
  const first = data[0];
  return first !== undefined && first >= 128 && first <= 191;
}

/** STUN (first byte 0-3) or TURN ChannelData (64-79) per RFC 7983; everything else is data. */
function isControl(data: Buffer): boolean {
  const first = data[0];
  return first !== undefined && (first < 4 || (first >= 64 && first <= 79));
}

/** A TURN/STUN server entry's identity: one URL with its credentials. */
function serverKey(url: string, username: string | undefined, credential: string | undefined): string {
  return `${url}\n${username ?? ''}\n${credential ?? ''}`;
}

/** Whether two server lists name the same URLs with the same credentials, in the same order. */
function sameServerList(a: readonly IceServer[], b: readonly IceServer[]): boolean {
  const keys = (list: readonly IceServer[]): string[] =>
    list.flatMap((s) => (typeof s.urls === 'string' ? [s.urls] : [...s.urls]).map((u) => serverKey(u, s.username, s.credential)));
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}
