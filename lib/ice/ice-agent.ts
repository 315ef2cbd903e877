// ICE agent, full and lite (RFC 8445 §6-§11), with trickle (RFC 8838), consent freshness
// (RFC 7675) and W3C RTCIceTransportState / RTCIceGatheringState names, as a sans-I/O core.
//
// Contract (sans-I/O, see docs/architecture.md, Principles):
// - The driver owns sockets and timers. It adds local candidates (host, relay) and tells the
//   agent which local base each belongs to; the agent gathers server-reflexive candidates
//   itself by sending Binding requests to the configured STUN servers from each host base.
// - Input: `handleInput(now, { local, remote, data })` with a STUN datagram that arrived on
//   local base `local` from `remote`; `handleTimeout(now)` when `pollTimeout()` is reached.
// - Output: drain `pollTransmit()` (datagrams to send from a local base), `pollEvent()` and
//   then read `pollTimeout()` (absolute ms, undefined when idle) after every input or API call.
// - `now` is monotonic milliseconds; a `now` older than the last one seen is treated as the
//   last one. No clock, timer, socket or Math.random() is used inside: randomness comes from
//   the injected Rng.
// - Network input never throws: every rejected datagram is counted in `stats.drops` by reason.
//   Requests without valid MESSAGE-INTEGRITY for our credentials are never answered.
import type { Rng } from '../common/rng.js';
import { InvalidArgumentError, InvalidStateError } from '../common/errors.js';
import {
  candidatePriority,
  isMdnsCandidate,
  parseCandidate,
  type IceCandidate,
  type IceCandidateType,
} from './candidate.js';
import { comparePairPriority, setPairPriority, type PairPriority } from './pair-priority.js';
import { generateIceCredentials, isIceString, type IceCredentials } from './ice-credentials.js';
import { StunAttr, StunClass, StunErrorCode, StunMethod } from './stun-constants.js';
import { StunMessage } from './stun-message.js';
import { encodeBindingIndication, encodeBindingRequest, encodeBindingSuccess } from './binding-encoder.js';
import { PasswordKeys } from './password-keys.js';
import { IdList } from './id-list.js';
import { addressKey, canonicalIp, ipFamily, sameAddress, type TransportAddress } from './transport-address.js';
import { createLogger, loggedDropCounters } from '../common/log.js';

const log = createLogger('ice');

/**
 * How long the agent waits for the answer to an `mdns-query` event before it ignores the name's
 * candidates itself (an `mdns-expired` event): a driver that never answers cannot keep the agent
 * from failing (docs/ice.md "mDNS").
 */
export const MDNS_QUERY_TIMEOUT_MS = 5000;

/**
 * A connectivity check's whole life with these options (the agent's defaults where absent): its
 * transmissions at RTO, 2·RTO, … capped at `checkMaxRtoMs`, and the wait after the last one
 * (RFC 8489 §6.2.1). 9,500 ms with the defaults 500/1600/7.
 */
export function checkLifeMs(opts: { checkRtoMs?: number; checkMaxRtoMs?: number; checkMaxTransmits?: number } = {}): number {
  const max = opts.checkMaxRtoMs ?? 1600;
  const n = opts.checkMaxTransmits ?? 7;
  let t = 0;
  let rto = opts.checkRtoMs ?? 500;
  for (let i = 0; i < n; i++) {
    t += rto;
    rto = Math.min(rto * 2, max);
  }
  return t;
}

/** ICE roles (RFC 8445 §6.1.1). */
export type IceRole = 'controlling' | 'controlled';
/** W3C RTCIceTransportState. */
export type IceConnectionState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';
/** W3C RTCIceGatheringState. */
export type IceGatheringState = 'new' | 'gathering' | 'complete';
/** Candidate-pair states (RFC 8445 §6.1.2.6). */
export type IcePairState = 'frozen' | 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/** Why an input datagram was dropped; each reason has a counter in {@link IceAgentStats.drops}. */
export type IceDropReason =
  | 'malformed'
  | 'bad-fingerprint'
  | 'unexpected-method'
  | 'no-integrity'
  | 'unknown-ufrag'
  | 'bad-integrity'
  | 'unmatched-response'
  | 'response-bad-integrity'
  | 'response-wrong-address'
  | 'no-remote-credentials'
  | 'consent-response-stale-pair'
  | 'closed';

/** Agent configuration. Times are in milliseconds. */
export interface IceAgentOptions {
  /** Full (default) or lite implementation (RFC 8445 §2.5). A lite agent is always controlled. */
  mode?: 'full' | 'lite';
  /** Initial role; the offerer is usually controlling (RFC 8445 §6.1.1). Default controlling for full. */
  role?: IceRole;
  /** Randomness for credentials, tie-breaker, transaction ids and consent jitter. */
  rng: Rng;
  /** Local credentials; generated when absent. */
  credentials?: IceCredentials;
  /** STUN servers queried from every host base of the same family for server-reflexive candidates. */
  stunServers?: readonly TransportAddress[];
  /**
   * Pacing interval Ta between new checks (RFC 8445 §14.2, which suggests 50 ms but lets the
   * agent choose, not below 5 ms). Default 20: WebRTC bundles everything into one check list, so
   * the load is one check every 20 ms per agent, and setup is not held back by the pacer.
   */
  taMs?: number;
  /** Initial retransmission timeout of a check; default 500 (RFC 8445 §14.3). */
  checkRtoMs?: number;
  /** Upper bound of the doubling retransmission timeout; default 1600. */
  checkMaxRtoMs?: number;
  /** Transmissions of a check before the pair fails (Rc, RFC 8489 §6.2.1); default 7. */
  checkMaxTransmits?: number;
  /** Wait after the first valid pair for better pairs before nominating; default 500. */
  nominationDelayMs?: number;
  /** Mean consent check interval, randomised ±20 % (RFC 7675 §5.1); default 5000. */
  consentIntervalMs?: number;
  /** Silence on the selected pair after which the state is `disconnected`; default 7500. */
  disconnectedTimeoutMs?: number;
  /** Silence after which consent is lost and the state is `failed` (RFC 7675 §5.1); default 30000. */
  consentTimeoutMs?: number;
  /** Binding-indication keepalive interval when nothing else was sent (RFC 8445 §11); default 15000. */
  keepaliveIntervalMs?: number;
  /** Time without any candidate pair after end-of-candidates before failing; default 10000. */
  noPairTimeoutMs?: number;
  /** Check-list size limit (RFC 8445 §6.1.2.5); default 100. */
  maxPairs?: number;
  /** Remote candidates kept at most (also bounds peer-reflexive learning); default 100. */
  maxRemoteCandidates?: number;
}

/** A local candidate as the driver announces it. */
export interface LocalCandidateInit {
  type: Exclude<IceCandidateType, 'prflx' | 'srflx'>;
  /** The address announced to the peer (for a host candidate behind 1:1 NAT: the public IP). */
  address: string;
  port: number;
  /** Where datagrams of this candidate are really sent from; defaults to address/port. */
  base?: TransportAddress;
  /** Local preference 0-65535 (RFC 8445 §5.1.2.1); default 65535. */
  localPreference?: number;
  /** Related address (relay: the server-reflexive mapping). */
  related?: TransportAddress;
  /** Server identity (TURN server) that makes the foundation distinct (RFC 8445 §5.1.1.3). */
  server?: string;
  /**
   * `tcp` for a passive ICE-TCP host candidate (RFC 6544 §4.1: `tcptype passive`) on a listening
   * port; default `udp`. A passive candidate never sends ordinary checks: it pairs only with the
   * peer-reflexive remotes its incoming connections' checks reveal (RFC 6544 §6.2).
   */
  protocol?: 'udp' | 'tcp';
  /**
   * For `tcp`: `passive` (default; a listening port) or `active` (announced with port 9; the
   * driver opens a connection per remote passive candidate it sends checks to, RFC 6544 §5.1).
   */
  tcpType?: 'active' | 'passive';
}

/** A datagram the driver must send from local base `local` to `remote`. */
export interface IceTransmit {
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  readonly data: Buffer;
}

/** A STUN datagram received on local base `local` from `remote`. */
export interface IceInput {
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  readonly data: Uint8Array;
}

/** The pair that carries data (RFC 8445 §8.1.1). */
export interface IceSelectedPair {
  readonly local: IceCandidate;
  readonly remote: IceCandidate;
  /** Base of the local candidate: the address to send data from. */
  readonly localBase: TransportAddress;
  readonly remoteAddress: TransportAddress;
}

/** Events drained with {@link IceAgent.pollEvent}. */
export type IceAgentEvent =
  | { type: 'local-candidate'; candidate: IceCandidate | null }
  | { type: 'gathering-state'; state: IceGatheringState }
  | { type: 'connection-state'; state: IceConnectionState; reason?: string }
  | { type: 'selected-pair'; pair: IceSelectedPair }
  | { type: 'role'; role: IceRole }
  /**
   * An inbound Binding request with valid MESSAGE-INTEGRITY arrived from `remote` (once per
   * local/remote pair). NOT a trust signal: anyone who can read one of the peer's requests can
   * replay it from its own address, and it is answered (RFC 8445 §7.3). Use it for demultiplexing
   * (which connection an address belongs to), never to accept DTLS or media from `remote`.
   */
  | { type: 'remote-authenticated'; local: TransportAddress; remote: TransportAddress }
  /**
   * `remote` is proven to be the peer, seen from local base `local` (once per pair of addresses
   * until an ICE restart): a connectivity check WE sent to it got a success response with valid
   * MESSAGE-INTEGRITY from exactly that address (RFC 8445 §7.2.5.2, §7.2.5.3), which only a
   * holder of the remote password can produce; or the pair was selected (an ICE-lite agent,
   * which sends no checks, has only the nomination). This is the event to trust DTLS and media
   * sources by (see docs/ice.md).
   */
  | { type: 'remote-validated'; local: TransportAddress; remote: TransportAddress }
  /**
   * The first valid pair of this ICE session (a check WE sent on it succeeded, RFC 8445 §7.2.5.3.2,
   * and we answered the peer's check on the same path, so its side validates it with our answer)
   * while no pair is selected. RFC 8445 §12.1: "An ICE agent MAY send data on any valid pair before
   * selected pairs have been produced for the data stream" (libwebrtc sends on a writable pair the
   * same way); once a pair is selected, data goes there only (`selected-pair`). The driver may route
   * data to this pair until then, so a DTLS client starts its handshake here instead of waiting for
   * the controlling agent's nomination (docs/ice.md "Data before the nomination"). Once per ICE
   * session (again after a restart that left no pair selected).
   */
  | { type: 'valid-pair'; pair: IceSelectedPair }
  /**
   * The driver is asked to resolve the mDNS name of remote candidates and to call
   * {@link IceAgent.resolveMdns} with the answer (within {@link MDNS_QUERY_TIMEOUT_MS}).
   */
  | { type: 'mdns-query'; name: string }
  /** An `mdns-query` was not answered in time: its `candidatesIgnored` remote candidates are ignored. */
  | { type: 'mdns-expired'; name: string; candidatesIgnored: number }
  /**
   * An ICE restart dropped every remote candidate still waiting for this name (RFC 8445 §9: they
   * belong to the previous generation): the lookup is no longer wanted, and its answer, when it
   * comes, adds nothing ({@link IceAgent.resolveMdns} returns 0). A candidate of the new generation
   * with the same name asks again (a new `mdns-query`).
   */
  | { type: 'mdns-dropped'; name: string; candidatesDropped: number };

/** Counters; `drops` is keyed by {@link IceDropReason}. */
export interface IceAgentStats {
  requestsReceived: number;
  responsesSent: number;
  checksSent: number;
  retransmissions: number;
  responsesReceived: number;
  consentChecksSent: number;
  /** Pairs of an active ICE-TCP candidate checked again over a new connection after theirs closed (RFC 6544 §7.2). */
  tcpReconnects: number;
  /**
   * Losses of that pair's connection not reconnected: its budget (3 within `consentTimeoutMs` of the
   * first loss; docs/ice.md "ICE-TCP") was spent, the pair failed as any other.
   */
  tcpReconnectsRefused: number;
  indicationsReceived: number;
  roleConflicts: number;
  drops: Record<IceDropReason, number>;
}

interface LocalEntry {
  candidate: IceCandidate;
  base: TransportAddress;
  localPreference: number;
}

/** A candidate pair; its priority (RFC 8445 §6.1.2.3) is the two halves of {@link PairPriority}. */
interface Pair extends PairPriority {
  id: number;
  local: LocalEntry;
  remote: IceCandidate;
  /** `remote`'s address and port: the destination of this pair's checks (made once, not per check). */
  remoteAddress: TransportAddress;
  foundation: string;
  state: IcePairState;
  valid: boolean;
  /** We answered an authenticated check of the peer on this pair (a success response went out). */
  answered: boolean;
  nominated: boolean;
  /** Controlled: USE-CANDIDATE arrived before our own check of this pair succeeded (§7.3.1.5). */
  nominateOnSuccess: boolean;
  /** The valid pair this pair's successful check produced (RFC 8445 §7.2.5.3.2). */
  validPair: Pair | undefined;
  /** Last authenticated traffic from the peer on this pair (responses, or requests for lite). */
  lastHeardAt: number;
  /** Our active ICE-TCP connection under this selected pair closed: checked again over a new one (see connectionClosed). */
  reconnect?: boolean;
  /**
   * The transaction id (three words) of the last request that queued a triggered check of this pair:
   * a retransmission of it is answered again but queues no second check (see onRequest).
   */
  triggeredBy0: number;
  triggeredBy1: number;
  triggeredBy2: number;
}

type TransactionKind = 'check' | 'consent' | 'srflx';

interface Transaction {
  /** Key in IceAgent.transactions: see {@link transactionKey}. */
  id: number;
  kind: TransactionKind;
  local: TransportAddress;
  remote: TransportAddress;
  data: Buffer;
  pair?: Pair;
  useCandidate: boolean;
  sentAsControlling: boolean;
  transmits: number;
  rto: number;
  nextAt: number;
  /** Expiry: when the transaction is given up. */
  deadline: number;
}

/**
 * The transactions list's key of a transaction id: its first 30 bits (a small integer, no string
 * per message: docs/architecture.md, idle allocation). Ids are random; a response matches only
 * when all 96 bits equal the request's (see {@link sameTransactionId}), and a new id whose key is
 * in use is drawn again.
 */
function transactionKey(b0: number, b1: number, b2: number, b3: number): number {
  return ((b0 & 0x3f) << 24) | (b1 << 16) | (b2 << 8) | b3;
}

/** The key of the transaction id at bytes 8-11 of an encoded message. */
function keyOfEncoded(data: Buffer): number {
  return transactionKey(data[8]!, data[9]!, data[10]!, data[11]!);
}

/** The key of a message's transaction id: {@link transactionKey} of its first word, read in one step. */
function keyOfMessage(msg: StunMessage): number {
  return msg.transactionIdWord(0) & 0x3fffffff;
}

/** A pair still waiting for, or in, its check (RFC 8445 §6.1.2.6). */
function isPendingPair(p: Pair): boolean {
  return p.state === 'waiting' || p.state === 'in-progress' || p.state === 'frozen';
}

interface TriggeredCheck {
  pair: Pair;
  useCandidate: boolean;
}

/**
 * Reconnects of our active ICE-TCP side per connection (local base, remote) within `consentTimeoutMs`
 * of the first loss (docs/ice.md "ICE-TCP"): past them the pair fails as any other, so that a peer or
 * middlebox that accepts, answers a check and closes cannot make us reconnect forever.
 */
const TCP_RECONNECT_BUDGET = 3;
/** A reconnected pair gives the budget back only once it carried authenticated traffic this long after it was selected. */
const TCP_RECONNECT_STABLE_MS = 10_000;

/** IceAgent.remoteMarks: a check from this "local|remote" passed integrity. */
const REMOTE_AUTHENTICATED = 1;
/** IceAgent.remoteMarks: this "local|remote", or this remote, is proven to be the peer. */
const REMOTE_VALIDATED = 2;

const DROP_REASONS: readonly IceDropReason[] = [
  'malformed',
  'bad-fingerprint',
  'unexpected-method',
  'no-integrity',
  'unknown-ufrag',
  'bad-integrity',
  'unmatched-response',
  'response-bad-integrity',
  'response-wrong-address',
  'no-remote-credentials',
  'consent-response-stale-pair',
  'closed',
];

/** Foundation per RFC 8445 §5.1.1.3: same type, base IP, server and transport → same foundation. */
function foundationOf(type: IceCandidateType, baseIp: string, server: string, protocol: 'udp' | 'tcp' = 'udp'): string {
  let h = 0x811c9dc5;
  for (const ch of `${type}|${baseIp}|${server}|${protocol}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return String(h);
}

/** What the driver gathers anew on an ICE restart ({@link IceAgent.restart}). */
export interface IceRestartGathering {
  /** Which of the previous host/srflx/relay candidates the new generation keeps (default: all). */
  keepLocal?: (candidate: IceCandidate) => boolean;
  /** The driver will add more candidates and call endOfLocalCandidates again. */
  moreCandidates?: boolean;
  /**
   * A new gathering phase queries the STUN servers again (the driver calls gatherServerReflexive):
   * the previous generation's server-reflexive candidates are not kept and its queries still under
   * way are abandoned (a late answer is dropped as an unknown transaction), so the new generation's
   * come only from the servers of the new list.
   */
  serverReflexiveAgain?: boolean;
}

/** A sans-I/O ICE agent for one component (WebRTC bundles everything onto component 1). */
export class IceAgent {
  /** Counters, including drops by reason. */
  readonly stats: IceAgentStats;
  /** Full or lite. */
  readonly mode: 'full' | 'lite';
  private roleValue: IceRole;
  private readonly tieBreaker: bigint;
  /** The tie-breaker as the 8 bytes our checks carry. */
  private readonly tieBreakerBytes: Buffer;
  private readonly rng: Rng;
  private local: IceCredentials;
  private previousLocal: IceCredentials | undefined;
  private readonly keys = new PasswordKeys();
  private usernameCache: { remote: string; local: string; bytes: Buffer } | undefined;
  private remote: IceCredentials | undefined;
  private remoteLite = false;
  private readonly opts: Required<Omit<IceAgentOptions, 'credentials' | 'role' | 'rng' | 'mode'>>;

  private localEntries: LocalEntry[] = [];
  private remoteCandidates: IceCandidate[] = [];
  // Made by the first remote .local candidate (most peers send none).
  /** Pending mDNS lookups by name: the candidates carrying it and when the lookup expires. */
  private pendingMdns: Map<string, { candidates: IceCandidate[]; expiresAt: number }> | undefined;
  /** Earliest `expiresAt` of `pendingMdns` (Infinity when none). */
  private mdnsExpiresAt = Infinity;
  private pairs: Pair[] = [];
  private nextPairId = 1;
  private triggered: TriggeredCheck[] = [];
  private readonly transactions = new IdList<Transaction>();
  private srflxPending = 0;
  private hostGatheringDone = false;
  private remoteEndOfCandidates = false;

  private selected: Pair | undefined;
  private nominating: Pair | undefined;
  private firstValidAt: number | undefined;
  /** The `valid-pair` event went out in this ICE session (RFC 8445 §12.1, see announceValid). */
  private validAnnounced = false;
  /** When a full agent without any candidate pair gives up (see noPairTimeoutMs). */
  private noPairDeadline: number | undefined;
  /** Set while the controlling agent waits for better pairs before nominating. */
  private nominationTimerAt: number | undefined;
  private nextCheckAt = 0;
  private nextConsentAt: number | undefined;
  private lastSentOnSelectedAt = 0;
  private lastConsentSentAt: number | undefined;
  /** The driver sends the selected pair's consent checks natively (see {@link delegateConsentChecks}). */
  private consentDelegated = false;
  /** Consent checks due since the driver last took them (delegated mode). */
  private consentChecksDue = 0;
  /**
   * When the TCP connection under the selected pair closed and no other valid pair could take
   * over (see {@link connectionClosed}); undefined once a pair is selected again.
   */
  private selectedLostAt: number | undefined;
  /** When the selected pair was selected (for the reconnect budget's "carried traffic" test). */
  private selectedSince = 0;
  /** Our active ICE-TCP reconnects by connection (`base|remote`), see TCP_RECONNECT_BUDGET; at most one per TCP pair. */
  // Made at the first TCP reconnect: a UDP-only connection never needs one (idle memory, docs/peer.md).
  private tcpReconnectBudgets: Map<string, { firstLossAt: number; count: number }> | undefined;

  private connectionState: IceConnectionState = 'new';
  private stateReasonValue: string | undefined;
  private gatheringState: IceGatheringState = 'new';
  private lastNow = 0;
  private readonly transmits: IceTransmit[] = [];
  private readonly events: IceAgentEvent[] = [];
  /**
   * What is known of remote addresses, as REMOTE_* bits: "local|remote" keys are authenticated
   * (a check from there passed integrity) and/or validated (proven, see the `remote-validated`
   * event); remote keys alone are validated. One table, not three sets (docs/architecture.md,
   * memory); the two kinds of mark are bounded separately.
   */
  private readonly remoteMarks = new Map<string, number>();
  private authenticatedCount = 0;
  /** The last "local|remote" marked authenticated (see markAuthenticated); forgotten with the marks. */
  private lastAuthenticated: { local: TransportAddress; remote: TransportAddress } | undefined;
  private validatedCount = 0;

  constructor(options: IceAgentOptions) {
    this.rng = options.rng;
    this.mode = options.mode ?? 'full';
    this.roleValue = this.mode === 'lite' ? 'controlled' : options.role ?? 'controlling';
    this.tieBreakerBytes = options.rng.bytes(8);
    this.tieBreaker = this.tieBreakerBytes.readBigUInt64BE(0);
    this.local = options.credentials ?? generateIceCredentials(options.rng);
    if (!isIceString(this.local.ufrag, 4) || !isIceString(this.local.password, 22)) {
      throw new InvalidArgumentError('ERR_ICE_CREDENTIALS', 'ufrag needs >= 4 and password >= 22 ice-chars');
    }
    this.opts = {
      stunServers: options.stunServers ?? [],
      taMs: options.taMs ?? 20,
      checkRtoMs: options.checkRtoMs ?? 500,
      checkMaxRtoMs: options.checkMaxRtoMs ?? 1600,
      checkMaxTransmits: options.checkMaxTransmits ?? 7,
      nominationDelayMs: options.nominationDelayMs ?? 500,
      consentIntervalMs: options.consentIntervalMs ?? 5000,
      // A lite agent only hears the peer's consent checks (every 4-6 s): give it two intervals.
      disconnectedTimeoutMs: options.disconnectedTimeoutMs ?? (this.mode === 'lite' ? 15000 : 7500),
      consentTimeoutMs: options.consentTimeoutMs ?? 30000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 15000,
      noPairTimeoutMs: options.noPairTimeoutMs ?? 10000,
      maxPairs: options.maxPairs ?? 100,
      maxRemoteCandidates: options.maxRemoteCandidates ?? 100,
    };
    const drops = {} as Record<IceDropReason, number>;
    for (let i = 0; i < DROP_REASONS.length; i++) drops[DROP_REASONS[i]!] = 0;
    this.stats = {
      requestsReceived: 0,
      responsesSent: 0,
      checksSent: 0,
      retransmissions: 0,
      responsesReceived: 0,
      consentChecksSent: 0,
      tcpReconnects: 0,
      tcpReconnectsRefused: 0,
      indicationsReceived: 0,
      roleConflicts: 0,
      drops: loggedDropCounters('ice', drops),
    };
  }

  // ---- public state -------------------------------------------------------------------

  /** Current role. */
  get role(): IceRole {
    return this.roleValue;
  }

  /** Local credentials (for the SDP `ice-ufrag` / `ice-pwd`). */
  get localCredentials(): IceCredentials {
    return this.local;
  }

  /** Remote credentials, once known. */
  get remoteCredentials(): IceCredentials | undefined {
    return this.remote;
  }

  /** W3C RTCIceTransportState. */
  get state(): IceConnectionState {
    return this.connectionState;
  }

  /**
   * Why the agent entered its current state, as the `connection-state` event said
   * (`consent-lost`, `no-valid-pair`, `no-candidate-pair`, `tcp-connection-closed`), if it said.
   */
  get stateReason(): string | undefined {
    return this.stateReasonValue;
  }

  /** W3C RTCIceGatheringState. */
  get gathering(): IceGatheringState {
    return this.gatheringState;
  }

  /** The selected pair, once nominated. */
  get selectedPair(): IceSelectedPair | undefined {
    return this.selected ? this.describe(this.selected) : undefined;
  }

  /** Local candidates announced so far (host, srflx, relay; prflx are not announced). */
  get localCandidates(): IceCandidate[] {
    return this.localEntries.filter((e) => e.candidate.type !== 'prflx').map((e) => e.candidate);
  }

  /** Remote candidates known so far, including learned peer-reflexive ones. */
  get remoteCandidateList(): readonly IceCandidate[] {
    return this.remoteCandidates;
  }

  /**
   * True when `remote` is proven to be the peer (see the `remote-validated` event): the remote of
   * a pair whose check we sent succeeded with valid integrity, or of the selected pair. With
   * `local`, only as seen from that local base.
   */
  isValidatedRemote(remote: TransportAddress, local?: TransportAddress): boolean {
    const sel = this.selected;
    if (sel && sameAddress({ address: sel.remote.address, port: sel.remote.port }, remote) && (!local || sameAddress(sel.local.base, local))) {
      return true;
    }
    const key = local ? `${addressKey(local)}|${addressKey(remote)}` : addressKey(remote);
    return ((this.remoteMarks.get(key) ?? 0) & REMOTE_VALIDATED) !== 0;
  }

  /** A snapshot of the check list for diagnostics and tests. */
  get checkList(): { local: IceCandidate; remote: IceCandidate; state: IcePairState; nominated: boolean; valid: boolean }[] {
    return this.pairs.map((p) => ({ local: p.local.candidate, remote: p.remote, state: p.state, nominated: p.nominated, valid: p.valid }));
  }

  // ---- sans-I/O outputs ---------------------------------------------------------------

  /** Next datagram to send, or undefined. */
  pollTransmit(): IceTransmit | undefined {
    // Most polls find the queue empty: no shift on an empty array (whose element kind may differ).
    if (this.transmits.length === 0) return undefined;
    const t = this.transmits.shift();
    // A drained queue gives its backing store back (17 slots after the first push): an idle,
    // connected agent keeps no spare capacity (docs/architecture.md, memory).
    if (t !== undefined && this.transmits.length === 0) this.transmits.length = 0;
    return t;
  }

  /** Next event, or undefined. */
  pollEvent(): IceAgentEvent | undefined {
    if (this.events.length === 0) return undefined;
    const e = this.events.shift();
    if (e !== undefined && this.events.length === 0) this.events.length = 0;
    return e;
  }

  /** Absolute time of the next timer, or undefined when nothing is scheduled. */
  pollTimeout(): number | undefined {
    if (this.connectionState === 'closed') return undefined;
    // No closure or array per call: this runs after every input of every idle PC (docs/architecture.md).
    // The comparisons are written out, not a helper per deadline: this ran a dozen small calls per
    // poll, hundreds per pair while the setup code is still interpreted (docs/peer.md "Setup cost").
    let t = Infinity;
    const transactions = this.transactions;
    for (let i = 0, n = transactions.size; i < n; i++) {
      const tx = transactions.at(i);
      const at = tx.transmits > 0 ? tx.nextAt : tx.deadline;
      if (at < t) t = at;
    }
    if (this.nextCheckAt < t && this.hasCheckWork()) t = this.nextCheckAt;
    const nominationAt = this.nominationTimerAt;
    if (nominationAt !== undefined && nominationAt < t) t = nominationAt;
    const selected = this.selected;
    if (!selected) {
      const noPairAt = this.noPairDeadline;
      if (noPairAt !== undefined && noPairAt < t) t = noPairAt;
    }
    if (this.mdnsExpiresAt < t) t = this.mdnsExpiresAt;
    if (!selected && this.connectionState === 'disconnected' && this.selectedLostAt !== undefined) t = earlier(t, this.lostFailAt());
    if (selected && this.connectionState !== 'failed') {
      const consentAt = this.nextConsentAt;
      if (consentAt !== undefined && consentAt < t) t = consentAt;
      const keepaliveAt = this.lastSentOnSelectedAt + this.opts.keepaliveIntervalMs;
      if (keepaliveAt < t) t = keepaliveAt;
      if (this.connectionState !== 'disconnected') {
        const disconnectAt = selected.lastHeardAt + this.opts.disconnectedTimeoutMs;
        if (disconnectAt < t) t = disconnectAt;
      }
      const consentLostAt = selected.lastHeardAt + this.opts.consentTimeoutMs;
      if (consentLostAt < t) t = consentLostAt;
    }
    return t === Infinity ? undefined : t;
  }

  // ---- API ----------------------------------------------------------------------------

  /**
   * Sets (or, on an ICE restart by the peer, replaces) the remote ufrag/password (RFC 8445
   * §5.3). A new ufrag discards remote candidates and the check list (RFC 8445 §9); the
   * selected pair keeps carrying data until a new one is selected.
   */
  setRemoteCredentials(now: number, credentials: IceCredentials, options: { lite?: boolean } = {}): void {
    this.assertOpen();
    now = this.tick(now);
    if (!isIceString(credentials.ufrag, 1) || !isIceString(credentials.password, 1)) {
      throw new InvalidArgumentError('ERR_ICE_CREDENTIALS', 'remote ufrag/password must be ice-chars');
    }
    const restart = this.remote !== undefined && this.remote.ufrag !== credentials.ufrag;
    this.remote = { ufrag: credentials.ufrag, password: credentials.password };
    this.remoteLite = options.lite ?? false;
    // A full agent facing a lite one takes the controlling role (RFC 8445 §6.1.1).
    if (this.remoteLite && this.mode === 'full' && this.roleValue !== 'controlling') this.setRole('controlling');
    // After our own restart every remote candidate we hold arrived after it, so unlabelled
    // ones belong to the new generation too.
    const keepUnlabelled = this.previousLocal !== undefined;
    this.previousLocal = undefined;
    if (restart) {
      this.resetChecks();
      // Candidates trickled with the new ufrag before the description are kept (RFC 8838 §11).
      const current = (c: IceCandidate): boolean => c.ufrag === credentials.ufrag || (keepUnlabelled && c.ufrag === undefined);
      this.remoteCandidates = this.remoteCandidates.filter(current);
      // So are the names still being looked up: an answer must not add the old generation's candidates.
      this.keepPendingMdns(current);
      for (const c of this.remoteCandidates) this.pairRemote(c);
    } else {
      const current = (c: IceCandidate): boolean => c.ufrag === undefined || c.ufrag === credentials.ufrag;
      this.remoteCandidates = this.remoteCandidates.filter(current);
      this.keepPendingMdns(current);
      this.pairs = this.pairs.filter((p) => this.remoteCandidates.includes(p.remote));
    }
    this.updateConnectionState(now);
  }

  /**
   * Adds a remote candidate: an SDP `candidate:` line, a parsed candidate, or null for
   * end-of-candidates (RFC 8838 §13). Allowed before the remote credentials are known.
   * Throws IceCandidateSyntaxError for a malformed line.
   */
  addRemoteCandidate(now: number, candidate: string | IceCandidate | null): void {
    this.assertOpen();
    now = this.tick(now);
    if (candidate === null) {
      this.remoteEndOfCandidates = true;
      this.updateConnectionState(now);
      return;
    }
    const c = typeof candidate === 'string' ? parseCandidate(candidate) : candidate;
    // TCP: only passive candidates can be connected to (RFC 6544 §6.2); active (port 9) and
    // simultaneous-open ones are ignored.
    if (c.component !== 1 || (c.protocol !== 'udp' && c.tcpType !== 'passive')) return;
    if (this.remote && c.ufrag !== undefined && c.ufrag !== this.remote.ufrag) return;
    if (isMdnsCandidate(c)) {
      const pending = (this.pendingMdns ??= new Map());
      const entry = pending.get(c.address);
      if (entry) entry.candidates.push(c);
      else {
        if (pending.size >= this.opts.maxRemoteCandidates) return;
        const expiresAt = now + MDNS_QUERY_TIMEOUT_MS;
        pending.set(c.address, { candidates: [c], expiresAt });
        if (expiresAt < this.mdnsExpiresAt) this.mdnsExpiresAt = expiresAt;
        this.events.push({ type: 'mdns-query', name: c.address });
      }
      return;
    }
    this.addRemote(now, c);
  }

  /**
   * Completes an mDNS lookup requested by an `mdns-query` event. With no address (or one that is
   * not an IP) the candidates are ignored: peer-reflexive candidates learned from checks take over.
   * Returns how many remote candidates were ignored. While a lookup is pending the agent does not
   * fail for want of pairs (every pair failed, or none within `noPairTimeoutMs`): the name's
   * candidate may still work. A lookup not answered within {@link MDNS_QUERY_TIMEOUT_MS} expires
   * in the agent itself (an `mdns-expired` event, as if answered with no address), so a driver
   * that never answers still gets an agent that fails on time; a later answer for it returns 0.
   */
  resolveMdns(now: number, name: string, address: string | undefined): number {
    this.assertOpen();
    now = this.tick(now);
    const entry = this.pendingMdns?.get(name);
    if (!entry) return 0;
    const list = entry.candidates;
    this.pendingMdns!.delete(name);
    this.mdnsExpiresAt = this.earliestMdnsExpiry();
    if (!address || ipFamily(address) === 0) {
      this.updateConnectionState(now);
      return list.length;
    }
    for (const c of list) this.addRemote(now, { ...c, address: canonicalIp(address) });
    this.updateConnectionState(now);
    return 0;
  }

  /**
   * Keeps only the pending lookups' candidates that `keep` accepts; a name left with none is
   * forgotten (an `mdns-dropped` event; its answer, when it comes, returns 0 and adds nothing). Used when an ICE restart
   * discards the remote candidates of the previous generation (RFC 8445 §9): those waiting for
   * their name's address go with them.
   */
  private keepPendingMdns(keep: (c: IceCandidate) => boolean): void {
    if (!this.pendingMdns) return;
    for (const [name, e] of this.pendingMdns) {
      const before = e.candidates.length;
      e.candidates = e.candidates.filter(keep);
      if (e.candidates.length === 0) {
        this.pendingMdns.delete(name);
        // The driver may still be looking it up: its answer is stale (docs/ice.md "mDNS").
        this.events.push({ type: 'mdns-dropped', name, candidatesDropped: before });
      }
    }
    this.mdnsExpiresAt = this.earliestMdnsExpiry();
  }

  /** True while an mDNS lookup the agent asked for has not been answered nor expired (see {@link resolveMdns}). */
  get mdnsPending(): boolean {
    return this.pendingMdns !== undefined && this.pendingMdns.size > 0;
  }

  private earliestMdnsExpiry(): number {
    let t = Infinity;
    if (this.pendingMdns) for (const e of this.pendingMdns.values()) if (e.expiresAt < t) t = e.expiresAt;
    return t;
  }

  /** Expires the lookups whose time ran out: their candidates are ignored (see {@link resolveMdns}). */
  private expireMdns(now: number): void {
    if (now < this.mdnsExpiresAt || !this.pendingMdns) return;
    for (const [name, e] of this.pendingMdns) {
      if (now < e.expiresAt) continue;
      this.pendingMdns.delete(name);
      this.events.push({ type: 'mdns-expired', name, candidatesIgnored: e.candidates.length });
    }
    this.mdnsExpiresAt = this.earliestMdnsExpiry();
  }

  /** Adds a host or relay candidate gathered by the driver and returns it. */
  addLocalCandidate(now: number, init: LocalCandidateInit): IceCandidate {
    this.assertOpen();
    now = this.tick(now);
    if (ipFamily(init.address) === 0) throw new InvalidArgumentError('ERR_ICE_ADDRESS', `not an IP address: ${init.address}`);
    const base = init.base ?? { address: init.address, port: init.port };
    const protocol = init.protocol ?? 'udp';
    const tcpType = protocol === 'tcp' ? init.tcpType ?? 'passive' : undefined;
    // RFC 6544 §4.2: a TCP host candidate's local preference is 2^13 * direction (active 6,
    // passive 4) + other.
    const localPreference = init.localPreference ?? (tcpType ? ((tcpType === 'active' ? 6 : 4) << 13) + 8191 : 65535);
    const candidate: IceCandidate = {
      foundation: foundationOf(init.type, base.address, init.server ?? '', protocol),
      component: 1,
      protocol,
      priority: candidatePriority(init.type, localPreference),
      address: canonicalIp(init.address),
      port: init.port,
      type: init.type,
      ...(init.related ? { relatedAddress: init.related.address, relatedPort: init.related.port } : {}),
      ...(tcpType ? { tcpType } : {}),
    };
    if (this.localEntries.some((e) => e.candidate.address === candidate.address && e.candidate.port === candidate.port && e.candidate.protocol === protocol)) {
      return candidate;
    }
    const entry: LocalEntry = { candidate, base: { address: canonicalIp(base.address), port: base.port }, localPreference };
    this.localEntries = append(this.localEntries, entry);
    this.setGathering('gathering');
    this.events.push({ type: 'local-candidate', candidate });
    for (const r of this.remoteCandidates) this.addPair(entry, r);
    if (init.type === 'host' && this.mode === 'full' && protocol === 'udp') {
      for (const server of this.opts.stunServers) {
        if (ipFamily(server.address) === ipFamily(entry.base.address)) this.startSrflx(now, entry, server);
      }
    }
    this.scheduleChecks(now);
    this.updateConnectionState(now);
    return candidate;
  }

  /**
   * Queries a STUN server (resolved by the driver) from every host base of its family for a
   * server-reflexive candidate (RFC 8445 §5.1.1.1). Gathering completes after the answers.
   */
  gatherServerReflexive(now: number, server: TransportAddress): void {
    this.assertOpen();
    now = this.tick(now);
    if (this.mode !== 'full') return;
    for (const e of this.localEntries) {
      if (e.candidate.type === 'host' && ipFamily(server.address) === ipFamily(e.base.address)) this.startSrflx(now, e, server);
    }
  }

  /** The driver has added every host/relay candidate it will add (server-reflexive may follow). */
  endOfLocalCandidates(now: number): void {
    this.assertOpen();
    now = this.tick(now);
    this.hostGatheringDone = true;
    this.maybeGatheringComplete();
    this.updateConnectionState(now);
  }

  /**
   * Local ICE restart (RFC 8445 §9): new credentials; the check list is rebuilt once the
   * peer's new credentials arrive. The previous credentials stay valid until then so that
   * consent on the selected pair survives. Local candidates are announced again, those
   * `gathering.keepLocal` accepts (all by default); with `gathering.moreCandidates` the driver
   * adds more (new servers) and gathering completes at its next {@link endOfLocalCandidates}.
   */
  restart(now: number, credentials?: IceCredentials, gathering?: IceRestartGathering): IceCredentials {
    this.assertOpen();
    now = this.tick(now);
    this.previousLocal = this.local;
    this.local = credentials ?? generateIceCredentials(this.rng);
    this.remoteEndOfCandidates = false;
    this.resetChecks();
    this.remoteCandidates = [];
    // Every remote candidate came before the restart, those still waiting for their mDNS name too.
    this.keepPendingMdns(() => false);
    this.gatheringState = 'new';
    this.setGathering('gathering');
    // The new generation's candidates: the previous ones the driver still wants (a new ICE
    // transport policy or server list applies from this gathering phase, RFC 8829 §4.1.18).
    const keep = gathering?.keepLocal;
    const srflxAgain = gathering?.serverReflexiveAgain === true;
    if (srflxAgain) {
      for (let i = 0; i < this.transactions.size; ) {
        const tx = this.transactions.at(i);
        if (tx.kind === 'srflx') this.transactions.delete(tx.id);
        else i++;
      }
      this.srflxPending = 0;
    }
    this.localEntries = this.localEntries.filter((e) => e.candidate.type !== 'prflx' && !(srflxAgain && e.candidate.type === 'srflx') && (keep === undefined || keep(e.candidate)));
    for (const e of this.localEntries) this.events.push({ type: 'local-candidate', candidate: e.candidate });
    // More candidates follow (new servers): gathering completes at the next endOfLocalCandidates.
    if (gathering?.moreCandidates === true) this.hostGatheringDone = false;
    this.maybeGatheringComplete();
    if (this.connectionState === 'failed' || this.connectionState === 'new') this.setConnectionState('checking');
    return this.local;
  }

  /** Stops everything; the state becomes `closed` and no more datagrams are produced. */
  close(): void {
    if (this.connectionState === 'closed') return;
    this.transactions.clear();
    this.triggered = [];
    this.transmits.length = 0;
    this.setConnectionState('closed');
  }

  /**
   * Records that the driver sent application data on the selected pair, which postpones
   * the keepalive (RFC 8445 §11: keepalives only when no other packet was sent).
   */
  noteDataSent(now: number): void {
    this.lastSentOnSelectedAt = Math.max(this.lastSentOnSelectedAt, now);
  }

  /**
   * While on, the consent checks of the selected pair are not built here: each one due (same timing,
   * RFC 7675 §5.1) is counted for the driver to take ({@link takeConsentChecksDue}) and send natively,
   * and their verified answers come back through {@link noteConsentResponses} (docs/ice.md "Consent
   * checks sent natively"). The driver turns it on once its native socket is registered for the
   * selected pair with {@link nativeConsentCheck}'s values, and off when that registration goes.
   */
  delegateConsentChecks(on: boolean): void {
    this.consentDelegated = on;
    if (!on) this.consentChecksDue = 0;
  }

  /** The consent checks due since the last call (delegated mode); the driver sends that many now. */
  takeConsentChecksDue(): number {
    const n = this.consentChecksDue;
    this.consentChecksDue = 0;
    return n;
  }

  /**
   * What a natively sent consent check on the selected pair carries besides the credentials: PRIORITY
   * (a peer-reflexive candidate's on the pair's base, as {@link sendCheck}), the tie-breaker, and how
   * long a check is answered for (the consent timeout). Undefined for a lite agent (no checks, RFC
   * 7675 §4) or with no selected pair.
   */
  nativeConsentCheck(): { priority: number; tieBreaker: Uint8Array; timeoutMs: number } | undefined {
    if (this.mode !== 'full' || !this.selected) return undefined;
    return { priority: candidatePriority('prflx', this.selected.local.localPreference), tieBreaker: this.tieBreakerBytes, timeoutMs: this.opts.consentTimeoutMs };
  }

  /**
   * `count` verified success responses to the natively sent consent checks of the pair from `local`
   * to `remote` arrived since the last call, the last of them at `heardAt` (RFC 7675 §5.1: consent is
   * fresh from then): counted as received and the pair's last-heard time moved there. Consent is per
   * 5-tuple: answers for a pair that is no longer the selected one refresh nothing and are counted
   * as a `consent-response-stale-pair` drop. Returns true when that may have changed state or the
   * next timeout.
   */
  noteConsentResponses(now: number, count: number, heardAt: number, local: TransportAddress, remote: TransportAddress): boolean {
    now = this.tick(now);
    const sel = this.selected;
    if (count <= 0 || !sel || this.connectionState === 'closed') return false;
    if (!sameAddress(sel.local.base, local) || !sameAddress(sel.remoteAddress, remote)) {
      this.stats.drops['consent-response-stale-pair'] += count;
      return false;
    }
    this.stats.responsesReceived += count;
    const at = Math.min(now, heardAt);
    if (at > sel.lastHeardAt) sel.lastHeardAt = at;
    this.updateConnectionState(now);
    return true;
  }

  /**
   * The consent check last counted as due (delegated mode) was not sent by the driver (no native
   * registration, or the native side could not build it): it is not counted as sent, and it leaves
   * from here now, as without delegation (RFC 7675 §5.1: a check that never left would let consent
   * expire on a working path). The driver turns delegation off first.
   */
  sendUnsentConsentCheck(now: number): void {
    now = this.tick(now);
    if (this.stats.consentChecksSent > 0) this.stats.consentChecksSent--;
    const sel = this.selected;
    if (!sel || this.mode !== 'full' || !this.remote || this.connectionState === 'closed' || this.connectionState === 'failed') return;
    this.sendCheck(now, sel, false, 'consent');
  }

  /**
   * `count` Binding requests from `remote` to the local base `local` that the shared port answered
   * natively since the last call (the peer's consent checks on the selected pair, RFC 7675 §5.1;
   * docs/ice.md "Consent checks answered natively"): counted as received and answered, as
   * {@link handleInput} would have. `nominations` of them carried USE-CANDIDATE from a controlling
   * peer: when the pair is still the selected one they nominate it as a request would (RFC 8445
   * §7.3.1.5); otherwise (the peer switched pairs since) they are only counted. A lite agent
   * hears its peer only through these requests, so they refresh its selected pair.
   * Returns true when that may have changed state, events or the next timeout (drain them then).
   */
  noteRequestsAnswered(now: number, count: number, nominations = 0, local?: TransportAddress, remote?: TransportAddress): boolean {
    now = this.tick(now);
    if (count <= 0 || this.connectionState === 'closed') return false;
    this.stats.requestsReceived += count;
    this.stats.responsesSent += count;
    let changed = false;
    if (nominations > 0 && this.roleValue === 'controlled' && local && remote) {
      // As onRequest: the host (or relay) entry on that base, the remote candidate, their pair.
      const entry = this.requestBase(local);
      const rc = entry && this.remoteCandidateAt(remote, entry.candidate.protocol);
      const pair = rc && this.pairOf(entry, rc);
      const target = pair && (this.mode === 'lite' ? pair : pair.state === 'succeeded' ? (pair.validPair ?? pair) : undefined);
      // Only the selected pair: the counts arrive up to a tick late, and by then the peer may have
      // nominated another pair (handled as a request); its old nominations must not select the old pair again.
      if (target && target === this.selected) {
        this.nominate(now, target);
        changed = true;
      }
    }
    if (this.mode === 'lite' && this.selected) {
      this.selected.lastHeardAt = now;
      this.updateConnectionState(now);
      changed = true;
    }
    return changed;
  }

  /**
   * The TCP connection (RFC 6544) between local base `local` and `remote` closed or was reset.
   * Every pair on it fails at once (RFC 6544 §7.2: a pair whose connection is gone is failed; RFC
   * 7675 consent no longer applies to it) and its checks stop. If it carried the selected pair,
   * the best other valid pair is selected (as the controlling agent we also nominate it, RFC 8445
   * §8.1.1; as the controlled one it is a stopgap until the peer nominates, docs/ice.md "ICE-TCP"); with none the state is `disconnected` at once, and `failed` once nothing is left to
   * try after a grace of `disconnectedTimeoutMs` for the peer to reconnect, or after
   * `consentTimeoutMs` while the peer may still trickle candidates (docs/ice.md "ICE-TCP").
   * When that selected pair is our active candidate's (RFC 6544 §5.1: we open its connections) and
   * nothing took over, it is checked again at once, which opens a new connection, within that same
   * grace (`disconnectedTimeoutMs`); as the controlling agent that check nominates it, as the
   * controlled one it is selected again on success (docs/ice.md "ICE-TCP": "Our active side reconnects"),
   * at most TCP_RECONNECT_BUDGET times within `consentTimeoutMs` of the first loss (counted in
   * `stats.tcpReconnectsRefused` past that; the pair then fails as any other).
   * Connections under no pair are ignored.
   */
  connectionClosed(now: number, local: TransportAddress, remote: TransportAddress): void {
    now = this.tick(now);
    if (this.connectionState === 'closed') return;
    let lostSelected = false;
    let hit = false;
    const selectedBefore = this.selected;
    let reconnect: Pair | undefined;
    for (const p of this.pairs) {
      if (p.local.candidate.protocol !== 'tcp' || !sameAddress(p.local.base, local) || !sameAddress(p.remoteAddress, remote)) continue;
      hit = true;
      if (p === selectedBefore && p.local.candidate.tcpType === 'active' && this.mode === 'full' && this.remote) reconnect = p;
      p.state = 'failed';
      p.valid = false;
      if (this.nominating === p) this.nominating = undefined;
      if (this.selected === p) lostSelected = true;
    }
    if (!hit) return;
    for (let i = 0; i < this.transactions.size; ) {
      const tx = this.transactions.at(i);
      if (tx.pair && tx.pair.state === 'failed' && tx.kind !== 'srflx') this.transactions.delete(tx.id);
      else i++;
    }
    this.triggered = this.triggered.filter((t) => t.pair.state !== 'failed');
    if (log.enabled) log('tcp connection %s:%d -> %s:%d closed%s', local.address, local.port, remote.address, remote.port, lostSelected ? ' under the selected pair' : '');
    if (lostSelected) {
      this.selected = undefined;
      let next: Pair | undefined;
      for (let i = 0; i < this.pairs.length && !next; i++) if (this.pairs[i]!.valid && this.pairs[i]!.state !== 'failed') next = this.pairs[i];
      if (next) {
        this.select(now, next);
        if (this.mode === 'full' && this.roleValue === 'controlling' && this.remote) {
          // Tell the peer too: it follows nominations (RFC 8445 §8.1.1).
          this.nominating = next;
          this.sendCheck(now, next, true, 'check');
        }
      } else {
        this.selectedLostAt = now;
      }
    }
    // Our active side opens a new connection (RFC 6544 §7.2 fails the pair; libwebrtc's active side
    // reconnects the same way): a check now, bounded by the grace the passive side gives.
    // Only the pair that carried the media and that nothing took over (another valid pair keeps it flowing).
    let again = this.selected === undefined ? reconnect : undefined;
    if (again && !this.takeReconnect(now, again)) {
      again = undefined;
      this.stats.tcpReconnectsRefused++;
      if (log.enabled) log('tcp reconnect budget of %s:%d -> %s:%d spent: the pair stays failed', local.address, local.port, remote.address, remote.port);
    }
    if (again) {
      again.state = 'waiting';
      again.reconnect = true;
      this.stats.tcpReconnects++;
      this.triggered = append(this.triggered, { pair: again, useCandidate: this.roleValue === 'controlling' });
      this.scheduleChecks(now);
    }
    this.updateConnectionState(now);
  }

  /**
   * Whether our active side may reconnect `pair` after its connection closed (see connectionClosed):
   * at most TCP_RECONNECT_BUDGET times within `consentTimeoutMs` of the first loss; the count starts
   * over after that window, or when the lost pair (the selected one) had carried authenticated
   * traffic for TCP_RECONNECT_STABLE_MS since it was selected.
   */
  private takeReconnect(now: number, pair: Pair): boolean {
    const key = `${addressKey(pair.local.base)}|${addressKey(pair.remoteAddress)}`;
    let budget = this.tcpReconnectBudgets?.get(key);
    const stable = pair.lastHeardAt - this.selectedSince >= TCP_RECONNECT_STABLE_MS;
    if (budget && (stable || now - budget.firstLossAt >= this.opts.consentTimeoutMs)) budget = undefined;
    if (!budget) {
      budget = { firstLossAt: now, count: 0 };
      (this.tcpReconnectBudgets ??= new Map()).set(key, budget);
    }
    if (budget.count >= TCP_RECONNECT_BUDGET) return false;
    budget.count++;
    return true;
  }

  // ---- inputs -------------------------------------------------------------------------

  /** Processes one STUN datagram. Never throws for bad input; drops are counted. */
  handleInput(now: number, input: IceInput): void {
    now = this.tick(now);
    if (this.connectionState === 'closed') {
      this.drop('closed');
      return;
    }
    // In place: the message is handled now and nothing of it is kept (docs/architecture.md, idle allocation).
    const decoded = StunMessage.decodeInPlace(input.data);
    if (!decoded.ok) {
      this.drop(decoded.reason === 'bad-fingerprint' ? 'bad-fingerprint' : 'malformed');
      return;
    }
    const msg = decoded.message;
    if (msg.method !== StunMethod.Binding) {
      this.drop('unexpected-method');
      return;
    }
    switch (msg.messageClass) {
      case StunClass.Request:
        this.onRequest(now, input, msg);
        break;
      case StunClass.SuccessResponse:
      case StunClass.ErrorResponse:
        this.onResponse(now, input, msg);
        break;
      default:
        // Binding indications are keepalives (RFC 8445 §11); nothing to answer.
        this.stats.indicationsReceived++;
    }
    this.updateConnectionState(now);
  }

  /** Runs timers: retransmissions, paced checks, nomination, consent and keepalives. */
  handleTimeout(now: number): void {
    now = this.tick(now);
    if (this.connectionState === 'closed') return;
    // By index: expire() removes the transaction at i (or, consent lost, all of them).
    for (let i = 0; i < this.transactions.size; ) {
      const tx = this.transactions.at(i);
      // A retransmitted transaction is given up only after its last transmission and the wait
      // after it (RFC 8489 §6.2.1), not at a wall-clock time fixed when it began: when the process
      // could not run (a busy event loop, a burst of joins on one port) the transmissions were late,
      // and the answers to them are still queued unread, so the wait moves with them (docs/ice.md
      // "Checks under a busy event loop"). On time, the deadline is the same as before.
      if (tx.transmits === 0 && now >= tx.deadline) this.expire(now, tx);
      else if (tx.transmits > 0 && now >= tx.nextAt) {
        tx.transmits++;
        tx.rto = Math.min(tx.rto * 2, this.opts.checkMaxRtoMs);
        tx.nextAt = now + tx.rto;
        // The last transmission waits one more RTO for its response (RFC 8489 §6.2.1).
        if (tx.transmits >= this.opts.checkMaxTransmits) {
          tx.transmits = 0;
          tx.deadline = Math.max(tx.deadline, tx.nextAt);
        }
        this.stats.retransmissions++;
        this.transmits.push({ local: tx.local, remote: tx.remote, data: tx.data });
        if (this.selected && tx.pair === this.selected) this.lastSentOnSelectedAt = now;
      }
      if (i < this.transactions.size && this.transactions.at(i) === tx) i++;
    }
    if (now >= this.nextCheckAt && this.hasCheckWork()) this.sendNextCheck(now);
    this.maybeNominate(now);
    this.runConsent(now);
    this.updateConnectionState(now);
  }

  // ---- request handling (RFC 8445 §7.3) -----------------------------------------------

  private onRequest(now: number, input: IceInput, msg: StunMessage): void {
    const username = msg.getString(StunAttr.Username);
    if (username === undefined || !msg.hasIntegrity) {
      this.drop('no-integrity');
      return;
    }
    const colon = username.indexOf(':');
    const ufrag = colon < 0 ? username : username.slice(0, colon);
    let creds: IceCredentials | undefined;
    if (ufrag === this.local.ufrag) creds = this.local;
    else if (this.previousLocal && ufrag === this.previousLocal.ufrag) creds = this.previousLocal;
    if (!creds) {
      this.drop('unknown-ufrag');
      return;
    }
    const key = this.keys.of(creds.password);
    if (!msg.verifyIntegrity(key)) {
      this.drop('bad-integrity');
      return;
    }
    this.stats.requestsReceived++;
    this.markAuthenticated(input);
    if (msg.hasUnknownRequired) {
      const err = new StunMessage(StunMethod.Binding, StunClass.ErrorResponse, msg.transactionId)
        .addErrorCode(StunErrorCode.UnknownAttribute, 'Unknown Attribute')
        .addUnknownAttributes(msg.unknownRequired);
      this.send(input.local, input.remote, err.encode({ integrityKey: key, fingerprint: true }));
      return;
    }
    // Role conflict (RFC 8445 §7.3.1.1).
    // Read only when they conflict: a BigInt per check otherwise.
    const theirControlling = this.roleValue === 'controlling' && msg.has(StunAttr.IceControlling) ? msg.getUint64(StunAttr.IceControlling) : undefined;
    const theirControlled = this.roleValue === 'controlled' && msg.has(StunAttr.IceControlled) ? msg.getUint64(StunAttr.IceControlled) : undefined;
    if (this.roleValue === 'controlling' && theirControlling !== undefined) {
      this.stats.roleConflicts++;
      if (this.tieBreaker >= theirControlling) return this.sendRoleConflict(input, msg, key);
      this.setRole('controlled');
    } else if (this.roleValue === 'controlled' && theirControlled !== undefined) {
      this.stats.roleConflicts++;
      if (this.mode === 'lite' || this.tieBreaker < theirControlled) return this.sendRoleConflict(input, msg, key);
      this.setRole('controlling');
    }
    const response = encodeBindingSuccess(msg, input.remote, key);
    if (!response) return;
    this.send(input.local, input.remote, response);
    this.stats.responsesSent++;

    const local = this.requestBase(input.local);
    if (!local) return;
    // Learn a peer-reflexive remote candidate (RFC 8445 §7.3.1.3).
    let remote = this.remoteCandidateAt(input.remote, local.candidate.protocol);
    if (!remote) {
      const priority = msg.getUint32(StunAttr.Priority) ?? candidatePriority('prflx', 65535);
      remote = {
        foundation: String(this.rng.uint32()),
        component: 1,
        // Learned on a passive TCP candidate's connection: a TCP remote (RFC 6544 §7.2).
        protocol: local.candidate.protocol,
        priority,
        address: input.remote.address,
        port: input.remote.port,
        type: 'prflx',
      };
      if (!this.addRemote(now, remote)) return;
    }
    const pair = this.pairOf(local, remote) ?? this.addPair(local, remote);
    if (!pair) return;
    pair.answered = true;
    // Our check of this path succeeded before the peer's: the path may carry data now (see announceValid).
    if (!this.validAnnounced && !this.selected && this.mode === 'full') {
      const valid = pair.state === 'succeeded' ? (pair.validPair ?? pair) : undefined;
      if (valid?.valid) this.announceValid(valid);
    }
    const useCandidate = msg.has(StunAttr.UseCandidate) && this.roleValue === 'controlled';
    if (this.mode === 'lite') {
      // A lite agent does no checks: the authenticated request proves the path (RFC 8445 §7.3.1.5 for lite).
      pair.state = 'succeeded';
      pair.valid = true;
      pair.lastHeardAt = now;
      if (useCandidate) this.nominate(now, pair);
      return;
    }
    // Triggered check (RFC 8445 §7.3.1.4).
    if (pair.state === 'succeeded') {
      if (useCandidate) this.nominate(now, pair.validPair ?? pair);
      return;
    }
    if (useCandidate) pair.nominateOnSuccess = true;
    // A retransmission of the request whose triggered check is in flight (the same transaction, RFC
    // 8489 §6.3.1: the peer did not have our answer yet) is the request §7.3.1.4 already acted on; a
    // second triggered check would cancel the first and its answer would come back to nothing.
    const w0 = msg.transactionIdWord(0);
    const w1 = msg.transactionIdWord(1);
    const w2 = msg.transactionIdWord(2);
    if (pair.state === 'in-progress' && pair.triggeredBy0 === w0 && pair.triggeredBy1 === w1 && pair.triggeredBy2 === w2) return;
    pair.triggeredBy0 = w0;
    pair.triggeredBy1 = w1;
    pair.triggeredBy2 = w2;
    const inProgress = pair.state === 'in-progress';
    if (!inProgress) pair.state = 'waiting';
    let queued = false;
    for (let i = 0; i < this.triggered.length; i++) queued ||= this.triggered[i]!.pair === pair;
    if (!queued) this.triggered = append(this.triggered, { pair, useCandidate: false });
    this.scheduleChecks(now);
    // Our own check of the pair is in flight: its new check leaves at the next Ta tick (§6.1.4.2),
    // not at once. When the answer to ours is already on its way (both agents checked at once; in a
    // burst of set-ups, every pair) it arrives first, the pair is Succeeded and the queued check is
    // skipped; sent at once, that check's own answer came back to no transaction
    // (`unmatched-response`): a wasted round trip per pair (docs/ice.md "Agent behaviour"). A tick
    // already due later is that next tick: moving it would let a stream of such requests hold back
    // every check of the agent.
    if (inProgress && this.nextCheckAt <= now) this.nextCheckAt = now + this.opts.taMs;
  }

  // The pair a request names (RFC 8445 §7.3.1.3-7.3.1.4), found for onRequest and for the
  // requests the port answered natively (noteRequestsAnswered). Index loops: no closure or
  // iterator per request (docs/architecture.md, idle allocation).

  /** The host (or relay) entry whose base a request arrived on. */
  private requestBase(base: TransportAddress): LocalEntry | undefined {
    for (let i = 0; i < this.localEntries.length; i++) {
      const e = this.localEntries[i]!;
      if (sameAddress(e.base, base) && (e.candidate.type === 'host' || e.candidate.type === 'relay')) return e;
    }
    return undefined;
  }

  /** The remote candidate at a request's source address on that transport protocol. */
  private remoteCandidateAt(source: TransportAddress, protocol: IceCandidate['protocol']): IceCandidate | undefined {
    for (let i = 0; i < this.remoteCandidates.length; i++) {
      const c = this.remoteCandidates[i]!;
      if (c.address === source.address && c.port === source.port && c.protocol === protocol) return c;
    }
    return undefined;
  }

  /** The pair of a local entry and a remote candidate, if formed. */
  private pairOf(local: LocalEntry, remote: IceCandidate): Pair | undefined {
    for (let i = 0; i < this.pairs.length; i++) {
      const p = this.pairs[i]!;
      if (p.local === local && p.remote === remote) return p;
    }
    return undefined;
  }

  /**
   * Marks a check's "local|remote" as authenticated and emits `remote-authenticated` the first
   * time (bounded). The last one marked is remembered, so the peer's consent checks on the
   * selected pair make no key string.
   */
  private markAuthenticated(input: IceInput): void {
    const last = this.lastAuthenticated;
    if (last && last.local === input.local && sameAddress(last.remote, input.remote)) return;
    const rkey = `${addressKey(input.local)}|${addressKey(input.remote)}`;
    const marks = this.remoteMarks.get(rkey) ?? 0;
    if ((marks & REMOTE_AUTHENTICATED) === 0) {
      if (this.authenticatedCount < 4 * this.opts.maxRemoteCandidates) {
        this.remoteMarks.set(rkey, marks | REMOTE_AUTHENTICATED);
        this.authenticatedCount++;
      }
      this.events.push({ type: 'remote-authenticated', local: input.local, remote: input.remote });
    }
    if (((this.remoteMarks.get(rkey) ?? 0) & REMOTE_AUTHENTICATED) !== 0) this.lastAuthenticated = { local: input.local, remote: input.remote };
  }

  private sendRoleConflict(input: IceInput, msg: StunMessage, key: Buffer): void {
    const err = new StunMessage(StunMethod.Binding, StunClass.ErrorResponse, msg.transactionId).addErrorCode(
      StunErrorCode.RoleConflict,
      'Role Conflict',
    );
    this.send(input.local, input.remote, err.encode({ integrityKey: key, fingerprint: true }));
    this.stats.responsesSent++;
  }

  // ---- response handling (RFC 8445 §7.2.5) --------------------------------------------

  private onResponse(now: number, input: IceInput, msg: StunMessage): void {
    const id = keyOfMessage(msg);
    const tx = this.transactions.get(id);
    if (!tx || !msg.hasTransactionId(tx.data, 8)) {
      this.drop('unmatched-response');
      return;
    }
    if (tx.kind === 'srflx') {
      if (!sameAddress(input.remote, tx.remote) || !sameAddress(input.local, tx.local)) {
        this.drop('response-wrong-address');
        return;
      }
      this.transactions.delete(id);
      this.onSrflxResponse(now, tx, msg);
      return;
    }
    if (!this.remote || !msg.verifyIntegrity(this.keys.of(this.remote.password))) {
      this.drop('response-bad-integrity');
      return;
    }
    this.transactions.delete(id);
    this.stats.responsesReceived++;
    const pair = tx.pair!;
    // Non-symmetric transport addresses fail the check (RFC 8445 §7.2.5.2.1).
    if (!sameAddress(input.remote, tx.remote) || !sameAddress(input.local, tx.local)) {
      this.drop('response-wrong-address');
      if (tx.kind === 'check') this.failPair(now, pair);
      return;
    }
    if (msg.messageClass === StunClass.ErrorResponse) {
      const code = msg.getErrorCode()?.code;
      if (code === StunErrorCode.RoleConflict) {
        // RFC 8445 §7.2.5.1: take the other role than the one the request claimed, then retry.
        this.setRole(tx.sentAsControlling ? 'controlled' : 'controlling');
        if (tx.kind === 'check') {
          pair.state = 'waiting';
          this.triggered = append(this.triggered, { pair, useCandidate: false });
          this.scheduleChecks(now);
        }
      } else if (tx.kind === 'check') this.failPair(now, pair);
      return;
    }
    if (tx.kind === 'consent') {
      pair.lastHeardAt = now;
      return;
    }
    const mapped = msg.getAddress(StunAttr.XorMappedAddress);
    pair.lastHeardAt = now;
    // The valid pair's local candidate is the one matching the mapped address, or a new
    // peer-reflexive candidate on the same base (RFC 8445 §7.2.5.3.1).
    let validPair = pair;
    // Over TCP the mapped address is one connection's ephemeral port: no candidate of its own.
    if (mapped && pair.local.candidate.protocol === 'udp' && !(mapped.address === pair.local.candidate.address && mapped.port === pair.local.candidate.port)) {
      let localEntry = this.localEntries.find((e) => e.candidate.address === mapped.address && e.candidate.port === mapped.port);
      if (!localEntry) {
        const prio = msg.getUint32(StunAttr.Priority) ?? candidatePriority('prflx', pair.local.localPreference);
        localEntry = {
          candidate: {
            foundation: foundationOf('prflx', pair.local.base.address, ''),
            component: 1,
            protocol: 'udp',
            priority: prio,
            address: mapped.address,
            port: mapped.port,
            type: 'prflx',
          },
          base: pair.local.base,
          localPreference: pair.local.localPreference,
        };
        this.localEntries = append(this.localEntries, localEntry);
      }
      if (sameAddress(localEntry.base, pair.local.base)) {
        const existing = this.pairs.find((p) => p.local === localEntry && p.remote === pair.remote);
        validPair = existing ?? this.makePair(localEntry, pair.remote);
        if (!existing) this.insertPair(validPair);
        validPair.lastHeardAt = now;
      }
    }
    pair.state = 'succeeded';
    validPair.state = 'succeeded';
    if (log.enabled) log('pair %s:%d -> %s:%d succeeded', validPair.local.base.address, validPair.local.base.port, validPair.remote.address, validPair.remote.port);
    // Retransmissions of other ordinary checks of this pair are no longer needed.
    for (let i = 0; i < this.transactions.size; ) {
      const other = this.transactions.at(i);
      if (other.pair === pair && other.kind === 'check' && !other.useCandidate) this.transactions.delete(other.id);
      else i++;
    }
    validPair.valid = true;
    pair.validPair = validPair;
    // Reconnected (see connectionClosed): the controlled agent takes back the pair the peer had nominated.
    const reconnected = pair.reconnect;
    pair.reconnect = false;
    if (reconnected && !this.selected && this.roleValue === 'controlled') this.select(now, validPair);
    // Our check, answered with valid integrity from the address we sent it to: proven.
    this.markValidated(validPair);
    if (this.firstValidAt === undefined) this.firstValidAt = now;
    if (!this.validAnnounced && !this.selected && this.answeredOn(validPair)) this.announceValid(validPair);
    // Unfreeze pairs of the same foundation (RFC 8445 §7.2.5.3.3).
    for (const p of this.pairs) if (p.state === 'frozen' && p.foundation === pair.foundation) p.state = 'waiting';
    if (tx.useCandidate && this.roleValue === 'controlling') {
      this.nominating = undefined;
      this.nominate(now, validPair);
    } else if (pair.nominateOnSuccess && this.roleValue === 'controlled') {
      this.nominate(now, validPair);
    }
    this.scheduleChecks(now);
    this.maybeNominate(now);
  }

  private onSrflxResponse(now: number, tx: Transaction, msg: StunMessage): void {
    this.srflxPending--;
    const mapped = msg.messageClass === StunClass.SuccessResponse ? msg.getAddress(StunAttr.XorMappedAddress) ?? msg.getAddress(StunAttr.MappedAddress) : undefined;
    const base = this.localEntries.find((e) => e.candidate.type === 'host' && sameAddress(e.base, tx.local));
    if (mapped && base && !this.localEntries.some((e) => e.candidate.address === mapped.address && e.candidate.port === mapped.port)) {
      const candidate: IceCandidate = {
        foundation: foundationOf('srflx', base.base.address, addressKey(tx.remote)),
        component: 1,
        protocol: 'udp',
        priority: candidatePriority('srflx', base.localPreference),
        address: mapped.address,
        port: mapped.port,
        type: 'srflx',
        relatedAddress: base.base.address,
        relatedPort: base.base.port,
      };
      // Server-reflexive candidates are announced but not paired: their base is already paired
      // (RFC 8445 §6.1.2.4 prunes them).
      this.localEntries = append(this.localEntries, { candidate, base: base.base, localPreference: base.localPreference });
      this.events.push({ type: 'local-candidate', candidate });
    }
    this.maybeGatheringComplete();
    this.updateConnectionState(now);
  }

  // ---- checks ---------------------------------------------------------------------------

  private hasCheckWork(): boolean {
    if (this.mode === 'lite' || !this.remote) return false;
    if (this.triggered.length > 0) return true;
    for (let i = 0; i < this.pairs.length; i++) if (this.pairs[i]!.state === 'waiting' || this.pairs[i]!.state === 'frozen') return true;
    return false;
  }

  private scheduleChecks(now: number): void {
    if (this.hasCheckWork() && this.nextCheckAt < now) this.nextCheckAt = now;
  }

  /** Sends one new check: triggered queue first, then the best waiting pair (RFC 8445 §6.1.4.2). */
  private sendNextCheck(now: number): void {
    let next: TriggeredCheck | undefined;
    while (!next && this.triggered.length > 0) {
      const t = this.triggered.shift()!;
      if (this.pairs.includes(t.pair) && (t.useCandidate || t.pair.state !== 'succeeded')) next = t;
    }
    if (!next) {
      let pair = this.pairs.find((p) => p.state === 'waiting');
      if (!pair) {
        pair = this.pairs.find((p) => p.state === 'frozen');
        if (pair) for (const p of this.pairs) if (p.state === 'frozen' && p.foundation === pair.foundation) p.state = 'waiting';
      }
      if (pair) next = { pair, useCandidate: false };
    }
    if (!next) return;
    this.sendCheck(now, next.pair, next.useCandidate, 'check');
    this.nextCheckAt = now + this.opts.taMs;
  }

  private sendCheck(now: number, pair: Pair, useCandidate: boolean, kind: 'check' | 'consent'): void {
    const remote = this.remote!;
    const username = this.checkUsername(remote.ufrag);
    const priority = candidatePriority('prflx', pair.local.localPreference);
    const roleAttribute = this.roleValue === 'controlling' ? StunAttr.IceControlling : StunAttr.IceControlled;
    const key = this.keys.of(remote.password);
    let data: Buffer;
    do data = encodeBindingRequest(this.rng, username, priority, roleAttribute, this.tieBreakerBytes, useCandidate, key);
    while (this.transactions.has(keyOfEncoded(data)));
    const remoteAddr = pair.remoteAddress;
    const consent = kind === 'consent';
    const tx: Transaction = {
      id: keyOfEncoded(data),
      kind,
      local: pair.local.base,
      remote: remoteAddr,
      data,
      pair,
      useCandidate,
      sentAsControlling: this.roleValue === 'controlling',
      // Consent checks are not retransmitted; a new one follows every interval (RFC 7675 §5.1).
      transmits: consent || this.opts.checkMaxTransmits <= 1 ? 0 : 1,
      rto: this.opts.checkRtoMs,
      nextAt: now + this.opts.checkRtoMs,
      deadline: consent ? now + this.opts.consentTimeoutMs : now + this.totalCheckTime(),
    };
    this.transactions.set(tx);
    if (!consent) {
      if (pair.state !== 'succeeded') pair.state = 'in-progress';
      this.stats.checksSent++;
    } else this.stats.consentChecksSent++;
    this.send(pair.local.base, remoteAddr, data);
    if (pair === this.selected) this.lastSentOnSelectedAt = now;
  }

  /** The USERNAME of our checks, `remote:local` (RFC 8445 §7.2.2), made again only when a ufrag changes. */
  private checkUsername(remoteUfrag: string): Buffer {
    const u = this.usernameCache;
    if (u && u.remote === remoteUfrag && u.local === this.local.ufrag) return u.bytes;
    const bytes = Buffer.from(`${remoteUfrag}:${this.local.ufrag}`, 'utf8');
    this.usernameCache = { remote: remoteUfrag, local: this.local.ufrag, bytes };
    return bytes;
  }

  private totalCheckTime(): number {
    return checkLifeMs(this.opts);
  }

  private expire(now: number, tx: Transaction): void {
    this.transactions.delete(tx.id);
    if (tx.kind === 'srflx') {
      this.srflxPending--;
      this.maybeGatheringComplete();
      return;
    }
    if (tx.kind !== 'check' || !tx.pair) return;
    if (tx.useCandidate) {
      // The nominating check got no answer: the pair no longer works (RFC 8445 §8.1.1).
      tx.pair.valid = false;
      tx.pair.state = 'failed';
      if (this.nominating === tx.pair) this.nominating = undefined;
      this.updateConnectionState(now);
      return;
    }
    // Another transaction for the same pair may still be running (a triggered re-check).
    for (let i = 0; i < this.transactions.size; i++) {
      const other = this.transactions.at(i);
      if (other.pair === tx.pair && other.kind === 'check') return;
    }
    if (tx.pair.state === 'in-progress') this.failPair(now, tx.pair);
    if (this.nominating === tx.pair) this.nominating = undefined;
  }

  private failPair(now: number, pair: Pair): void {
    if (pair.state !== 'succeeded') pair.state = 'failed';
    pair.reconnect = false;
    if (log.enabled) log('pair %s:%d -> %s:%d %s', pair.local.base.address, pair.local.base.port, pair.remote.address, pair.remote.port, pair.state);
    if (this.nominating === pair) this.nominating = undefined;
    this.updateConnectionState(now);
  }

  private startSrflx(now: number, entry: LocalEntry, server: TransportAddress): void {
    let id = this.rng.bytes(12);
    while (this.transactions.has(transactionKey(id[0]!, id[1]!, id[2]!, id[3]!))) id = this.rng.bytes(12);
    const data = new StunMessage(StunMethod.Binding, StunClass.Request, id).encode({ fingerprint: true });
    const remote = { address: canonicalIp(server.address), port: server.port };
    this.transactions.set({
      id: transactionKey(id[0]!, id[1]!, id[2]!, id[3]!),
      kind: 'srflx',
      local: entry.base,
      remote,
      data,
      useCandidate: false,
      sentAsControlling: false,
      transmits: this.opts.checkMaxTransmits <= 1 ? 0 : 1,
      rto: this.opts.checkRtoMs,
      nextAt: now + this.opts.checkRtoMs,
      deadline: now + this.totalCheckTime(),
    });
    this.srflxPending++;
    this.send(entry.base, remote, data);
  }

  // ---- nomination and selection (RFC 8445 §8) -----------------------------------------

  private maybeNominate(now: number): void {
    this.nominationTimerAt = undefined;
    if (this.mode !== 'full' || this.roleValue !== 'controlling' || this.nominating || !this.remote) return;
    // Runs on every timeout of every connection: no closure (docs/architecture.md, idle allocation).
    let best: Pair | undefined;
    for (let i = 0; i < this.pairs.length && !best; i++) if (this.pairs[i]!.valid) best = this.pairs[i];
    if (!best || best === this.selected) return;
    // A pair selected before an ICE restart is replaced by whatever the new checks find.
    if (this.selected && this.pairs.includes(this.selected) && comparePairPriority(this.selected, best) >= 0) return;
    // Nominate once nothing better can still succeed, or after the nomination delay (§8.1.1).
    const betterPending = this.pairs.some(
      (p) => comparePairPriority(p, best) > 0 && (p.state === 'waiting' || p.state === 'in-progress' || p.state === 'frozen'),
    );
    const deadline = (this.firstValidAt ?? now) + this.opts.nominationDelayMs;
    if (betterPending && now < deadline) {
      this.nominationTimerAt = deadline;
      return;
    }
    this.nominating = best;
    // The nominating check leaves at once instead of after the pacer: it repeats a check that just
    // succeeded on the same pair, and both peers' setup (the controlled agent's selection, then
    // DTLS) waits for it. The next new check is paced from now, so over any Ta window the agent
    // sends at most one check more than Ta allows, once per nomination (docs/ice.md "Pacing").
    this.sendCheck(now, best, true, 'check');
    this.nextCheckAt = Math.max(this.nextCheckAt, now + this.opts.taMs);
  }

  private nominate(now: number, pair: Pair): void {
    pair.nominated = true;
    if (log.enabled) log('pair %s:%d -> %s:%d nominated', pair.local.base.address, pair.local.base.port, pair.remote.address, pair.remote.port);
    // The nominated pair with the highest priority is selected (RFC 8445 §8.1.1). As the controlled
    // agent we also follow a later nomination of a lower-priority pair: libwebrtc's controlling
    // agent switches pairs by its own measurements, nominates the new one and sends media there
    // (docs/ice.md "Nomination"); staying on the old pair would leave its media off the native
    // SRTP route of the shared port.
    const followed = this.roleValue === 'controlled';
    if (!this.selected || this.selected === pair || comparePairPriority(pair, this.selected) > 0 || !this.pairs.includes(this.selected) || followed) {
      this.select(now, pair);
    }
    this.updateConnectionState(now);
  }

  /** Makes `pair` the selected pair (RFC 8445 §8.1.1): consent starts on it, the driver routes to it. */
  private select(now: number, pair: Pair): void {
    const changed = this.selected !== pair;
    this.selected = pair;
    this.selectedLostAt = undefined;
    pair.lastHeardAt = now;
    if (changed) {
      this.selectedSince = now;
      this.lastSentOnSelectedAt = now;
      // Lite agents send no checks, hence no consent checks either (RFC 7675 §4).
      if (this.mode === 'full') this.nextConsentAt = now + this.consentInterval();
      this.events.push({ type: 'selected-pair', pair: this.describe(pair) });
      this.markValidated(pair);
    }
  }

  private consentInterval(): number {
    return this.opts.consentIntervalMs * (0.8 + 0.4 * this.rng.float());
  }

  private runConsent(now: number): void {
    const sel = this.selected;
    if (!sel || this.connectionState === 'failed') return;
    if (this.mode === 'full' && this.remote && this.nextConsentAt !== undefined && now >= this.nextConsentAt) {
      // After an unanswered check, probe every second so that one lost datagram does not make
      // the transport look disconnected; consent still expires only after 30 s of silence.
      const previousUnanswered = this.lastConsentSentAt !== undefined && sel.lastHeardAt < this.lastConsentSentAt;
      if (this.consentDelegated) {
        this.consentChecksDue++;
        this.stats.consentChecksSent++;
        this.lastSentOnSelectedAt = now;
      } else this.sendCheck(now, sel, false, 'consent');
      this.lastConsentSentAt = now;
      this.nextConsentAt = now + (previousUnanswered ? 1000 : this.consentInterval());
    }
    if (now >= this.lastSentOnSelectedAt + this.opts.keepaliveIntervalMs) {
      this.send(sel.local.base, sel.remoteAddress, encodeBindingIndication(this.rng));
      this.lastSentOnSelectedAt = now;
    }
  }

  // ---- states ---------------------------------------------------------------------------

  private updateConnectionState(now: number): void {
    if (this.connectionState === 'closed') return;
    if (now >= this.mdnsExpiresAt) this.expireMdns(now);
    const sel = this.selected;
    if (sel) {
      const silent = now - sel.lastHeardAt;
      if (silent >= this.opts.consentTimeoutMs) {
        // Consent lost (RFC 7675 §5.1): stop sending on the pair; the transport has failed.
        if (this.connectionState !== 'failed') {
          this.transactions.clear();
          this.triggered = [];
          this.setConnectionState('failed', 'consent-lost');
        }
        return;
      }
      if (this.connectionState === 'failed') return;
      if (silent >= this.opts.disconnectedTimeoutMs) {
        this.setConnectionState('disconnected');
        return;
      }
      const done =
        this.remoteEndOfCandidates &&
        this.gatheringState === 'complete' &&
        !this.pairs.some(isPendingPair);
      // W3C: completed is always preceded by connected.
      if (this.connectionState !== 'completed' && this.connectionState !== 'connected') this.setConnectionState('connected');
      if (done) this.setConnectionState('completed');
      return;
    }
    if (this.connectionState === 'failed') return;
    const allFailed = this.pairs.length > 0 && this.pairs.every((p) => p.state === 'failed');
    // A pending mDNS lookup may still add a candidate: the peer's candidates have not ended.
    const ended = this.mode === 'full' && this.remoteEndOfCandidates && this.gatheringState === 'complete' && this.remote !== undefined && !this.mdnsPending;
    const failAt = this.selectedLostAt === undefined ? undefined : this.lostFailAt();
    if (failAt !== undefined) {
      // The selected pair's TCP connection closed and nothing took over (see connectionClosed).
      if (now >= failAt) {
        this.transactions.clear();
        this.triggered = [];
        for (const p of this.pairs) {
          if (!p.reconnect) continue;
          p.state = 'failed';
          p.reconnect = false;
        }
        this.setConnectionState('failed', 'tcp-connection-closed');
      } else this.setConnectionState('disconnected', 'tcp-connection-closed');
      return;
    }
    if (ended && allFailed && this.triggered.length === 0) {
      this.setConnectionState('failed', 'no-valid-pair');
      return;
    }
    // Without any pair, checks from the peer may still teach us a peer-reflexive candidate
    // (e.g. its only candidate was an unresolvable mDNS name): give them a grace period.
    if (ended && this.pairs.length === 0) {
      this.noPairDeadline ??= now + this.opts.noPairTimeoutMs;
      if (now >= this.noPairDeadline) {
        this.setConnectionState('failed', 'no-candidate-pair');
        return;
      }
    } else this.noPairDeadline = undefined;
    if (this.remoteCandidates.length > 0 || this.pairs.length > 0) this.setConnectionState('checking');
  }

  /**
   * When an agent that lost its selected pair's TCP connection (and has no other) fails: once
   * nothing is left to try (every pair failed, the peer's candidates ended), after a grace of
   * `disconnectedTimeoutMs` in which the peer may reconnect (libwebrtc reconnects an outgoing
   * ICE-TCP connection); otherwise when consent would have expired. Undefined when not in that case.
   */
  private lostFailAt(): number | undefined {
    const lostAt = this.selectedLostAt;
    if (lostAt === undefined || this.selected) return undefined;
    const ended = this.mode === 'full' && this.remoteEndOfCandidates && this.gatheringState === 'complete' && this.remote !== undefined && !this.mdnsPending;
    // A pair our active side reconnects has the same grace as the peer's reconnection (see connectionClosed).
    const nothingLeft = ended && this.triggered.every((t) => t.pair.reconnect) && this.pairs.every((p) => p.state === 'failed' || p.reconnect);
    return lostAt + (nothingLeft ? this.opts.disconnectedTimeoutMs : this.opts.consentTimeoutMs);
  }

  private setConnectionState(state: IceConnectionState, reason?: string): void {
    if (this.connectionState === state) return;
    if (log.enabled) log('connection state %s -> %s%s', this.connectionState, state, reason ? ` (${reason})` : '');
    this.connectionState = state;
    this.stateReasonValue = reason;
    this.events.push(reason ? { type: 'connection-state', state, reason } : { type: 'connection-state', state });
    if (state === 'connected' || state === 'completed') this.trimLists();
  }

  /**
   * Copies the candidate and pair lists to arrays of their exact length: each grew to 17 slots
   * at its first push, and an idle connected agent holds one or two entries in each. Nothing
   * outside the agent keeps these arrays (the getters copy or are read at once).
   */
  private trimLists(): void {
    this.pairs = this.pairs.slice();
    this.localEntries = this.localEntries.slice();
    this.remoteCandidates = this.remoteCandidates.slice();
    if (this.triggered.length === 0) this.triggered = [];
  }

  private setGathering(state: IceGatheringState): void {
    if (this.gatheringState === state) return;
    this.gatheringState = state;
    this.events.push({ type: 'gathering-state', state });
  }

  private maybeGatheringComplete(): void {
    if (!this.hostGatheringDone || this.srflxPending > 0 || this.gatheringState === 'complete') return;
    if (this.gatheringState === 'new') this.setGathering('gathering');
    this.events.push({ type: 'local-candidate', candidate: null });
    this.setGathering('complete');
    this.localEntries = this.localEntries.slice();
  }

  /**
   * Sets the role of an agent made before its connection knew it (a pre-gathered candidate pool,
   * webrtc-pc §4.4.1.1: the offer/answer exchange decides it, RFC 8445 §6.1.1). Only before the
   * remote credentials; afterwards the role changes only by conflict repair (RFC 8445 §7.3.1.1).
   */
  assignRole(role: IceRole): void {
    this.assertOpen();
    if (this.remote) throw new InvalidStateError('ERR_ICE_ROLE', 'the role is fixed once the remote credentials are known');
    this.setRole(role);
  }

  private setRole(role: IceRole): void {
    if (this.roleValue === role) return;
    this.roleValue = role;
    for (const p of this.pairs) this.writePairPriority(p, p.local.candidate, p.remote);
    this.sortPairs();
    this.events.push({ type: 'role', role });
  }

  // ---- candidates and pairs -------------------------------------------------------------

  private addRemote(now: number, c: IceCandidate): boolean {
    if (this.remoteCandidates.some((r) => r.address === c.address && r.port === c.port)) return false;
    if (this.remoteCandidates.length >= this.opts.maxRemoteCandidates) return false;
    this.remoteCandidates = append(this.remoteCandidates, c);
    this.pairRemote(c);
    this.scheduleChecks(now);
    this.updateConnectionState(now);
    return true;
  }

  private pairRemote(c: IceCandidate): void {
    for (const e of this.localEntries) if (e.candidate.type === 'host' || e.candidate.type === 'relay') this.addPair(e, c);
  }

  /** Writes the pair's priority for our current role (G is the controlling agent's candidate, §6.1.2.3). */
  private writePairPriority(pair: PairPriority, local: IceCandidate, remote: IceCandidate): void {
    if (this.roleValue === 'controlling') setPairPriority(pair, local.priority, remote.priority);
    else setPairPriority(pair, remote.priority, local.priority);
  }

  private makePair(local: LocalEntry, remote: IceCandidate): Pair {
    const pair: Pair = {
      id: this.nextPairId++,
      local,
      remote,
      remoteAddress: { address: remote.address, port: remote.port },
      foundation: `${local.candidate.foundation}:${remote.foundation}`,
      priorityHigh: 0,
      priorityLow: 0,
      state: 'frozen',
      valid: false,
      answered: false,
      nominated: false,
      nominateOnSuccess: false,
      validPair: undefined,
      lastHeardAt: 0,
      triggeredBy0: -1,
      triggeredBy1: -1,
      triggeredBy2: -1,
    };
    this.writePairPriority(pair, local.candidate, remote);
    return pair;
  }

  /** Forms a pair when families match and it is new (RFC 8445 §6.1.2.2, §6.1.2.4). */
  private addPair(local: LocalEntry, remote: IceCandidate): Pair | undefined {
    if (local.candidate.type !== 'host' && local.candidate.type !== 'relay') return undefined;
    if (local.candidate.protocol !== remote.protocol) return undefined;
    // RFC 6544 §6.2: an active candidate pairs with remote passive ones; a passive candidate cannot
    // open connections, so only the peer-reflexive remotes of connections opened to it pair with it.
    if (local.candidate.protocol === 'tcp') {
      const ok = local.candidate.tcpType === 'active' ? remote.tcpType === 'passive' : remote.type === 'prflx';
      if (!ok) return undefined;
    }
    if (ipFamily(local.base.address) !== ipFamily(remote.address)) return undefined;
    // Link-local IPv6 only pairs with link-local (RFC 8445 §6.1.2.2).
    if (isLinkLocal(local.base.address) !== isLinkLocal(remote.address)) return undefined;
    const dup = this.pairs.find((p) => sameAddress(p.local.base, local.base) && p.remote.address === remote.address && p.remote.port === remote.port);
    if (dup) return dup;
    const pair = this.makePair(local, remote);
    // The first pair of a foundation starts Waiting, the others Frozen (RFC 8445 §6.1.2.6, RFC 8838 §8).
    const active = this.pairs.some((p) => p.foundation === pair.foundation && (p.state === 'waiting' || p.state === 'in-progress' || p.state === 'succeeded'));
    pair.state = active ? 'frozen' : 'waiting';
    if (this.pairs.some((p) => p.foundation === pair.foundation && p.state === 'succeeded')) pair.state = 'waiting';
    this.insertPair(pair);
    if (this.pairs.length > this.opts.maxPairs) {
      const victim = [...this.pairs].reverse().find((p) => p !== this.selected && (p.state === 'frozen' || p.state === 'waiting' || p.state === 'failed'));
      if (victim) this.pairs = this.pairs.filter((p) => p !== victim);
      if (victim === pair) return undefined;
    }
    return pair;
  }

  private insertPair(pair: Pair): void {
    this.pairs = append(this.pairs, pair);
    this.sortPairs();
  }

  private sortPairs(): void {
    this.pairs.sort((a, b) => comparePairPriority(b, a) || a.id - b.id);
  }

  private resetChecks(): void {
    for (let i = 0; i < this.transactions.size; ) {
      const tx = this.transactions.at(i);
      if (tx.kind !== 'srflx' && tx.pair !== this.selected) this.transactions.delete(tx.id);
      else i++;
    }
    this.pairs = [];
    this.triggered = [];
    this.nominating = undefined;
    // An ICE restart starts over: a connection lost before it no longer decides the state.
    this.selectedLostAt = undefined;
    this.tcpReconnectBudgets?.clear();
    this.firstValidAt = undefined;
    this.validAnnounced = false;
    this.nominationTimerAt = undefined;
    this.remoteMarks.clear();
    this.lastAuthenticated = undefined;
    this.authenticatedCount = 0;
    this.validatedCount = 0;
  }

  /** Whether we answered a check of the peer from `p`'s remote to `p`'s local base (any pair of that path). */
  private answeredOn(p: Pair): boolean {
    for (const q of this.pairs) {
      if (q.answered && sameAddress(q.local.base, p.local.base) && sameAddress(q.remoteAddress, p.remoteAddress)) return true;
    }
    return false;
  }

  /**
   * RFC 8445 §12.1: "An ICE agent MAY send data on any valid pair before selected pairs have been
   * produced for the data stream." Announced once per ICE session (the `valid-pair` event), for the
   * first pair that is valid (our check succeeded, §7.2.5.3.2) AND on which we answered the peer's
   * check: that answer, which leaves before any data we send there, validates the path on the peer's
   * side too (§7.2.5.3), so it accepts our data (a DTLS ClientHello) instead of dropping it as from
   * an unproven source and making us wait for a retransmission (docs/ice.md "Data before the nomination").
   */
  private announceValid(p: Pair): void {
    this.validAnnounced = true;
    this.events.push({ type: 'valid-pair', pair: this.describe(p) });
  }

  /** Records that `p`'s remote is proven and emits `remote-validated` the first time (bounded). */
  private markValidated(p: Pair): void {
    const remote = { address: p.remote.address, port: p.remote.port };
    const key = `${addressKey(p.local.base)}|${addressKey(remote)}`;
    const marks = this.remoteMarks.get(key) ?? 0;
    if ((marks & REMOTE_VALIDATED) !== 0) return;
    // Bounded like the authenticated marks: the selected pair is answered by the query regardless.
    if (this.validatedCount < 4 * this.opts.maxRemoteCandidates) {
      this.remoteMarks.set(key, marks | REMOTE_VALIDATED);
      const rkey = addressKey(remote);
      this.remoteMarks.set(rkey, (this.remoteMarks.get(rkey) ?? 0) | REMOTE_VALIDATED);
      this.validatedCount++;
    }
    this.events.push({ type: 'remote-validated', local: p.local.base, remote });
  }

  private describe(p: Pair): IceSelectedPair {
    return {
      local: p.local.candidate,
      remote: p.remote,
      localBase: p.local.base,
      remoteAddress: { address: p.remote.address, port: p.remote.port },
    };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private send(local: TransportAddress, remote: TransportAddress, data: Buffer): void {
    this.transmits.push({ local, remote, data });
  }

  private drop(reason: IceDropReason): void {
    this.stats.drops[reason]++;
  }

  private tick(now: number): number {
    if (now > this.lastNow) this.lastNow = now;
    return this.lastNow;
  }

  private assertOpen(): void {
    if (this.connectionState === 'closed') throw new InvalidStateError('ERR_ICE_CLOSED', 'the ICE agent is closed');
  }
}

/**
 * `list` with `item` appended: pushed, or a one-element array in place of an empty list. An empty
 * `[]` (a field initialiser, a reset, a `filter` or `slice` that kept nothing) may have V8's
 * small-integer element kind, and optimised code that pushes an object onto such an array is
 * thrown away ("not a Smi") and compiled again; a list built here only ever has object elements
 * (docs/peer.md "Setup cost").
 */
function append<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  list.push(item);
  return list;
}

/** The earlier of a deadline so far and a candidate deadline (undefined: none). */
function earlier(t: number, x: number | undefined): number {
  return x !== undefined && x < t ? x : t;
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}
