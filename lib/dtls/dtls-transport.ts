// DtlsTransport: the sans-I/O DTLS 1.2 layer of a peer connection (RFC 6347, RFC 5763 roles,
// RFC 5764 DTLS-SRTP, RFC 8122 fingerprints) over the native OpenSSL engine, with W3C
// RTCDtlsTransport state names (https://www.w3.org/TR/webrtc/#rtcdtlstransportstate-enum).
//
// Contract (docs/architecture.md, Principles: sans-I/O cores):
// - In: `handleInput(now, datagrams)`, `handleTimeout(now)`, API calls (`start`, `send`,
//   `setRemoteFingerprints`, `close`). `now` is monotonic ms; an older `now` is ignored.
// - Out: drain `pollTransmit()` (datagrams to send to the peer), `pollEvent()` (state changes,
//   batches of application-data records), then `pollTimeout()` (when to call handleTimeout).
// - No socket, timer or clock inside, except that OpenSSL's retransmission timer reads the real
//   monotonic clock: pollTimeout() is `now` plus what is left of that timer, and handleTimeout
//   retransmits only once it has really expired (docs/architecture.md, Principles).
// - Network input never throws: malformed, oversized or unexpected datagrams are dropped and
//   counted in stats(). API misuse throws PwtError subclasses with ERR_DTLS_* codes.
import { InvalidArgumentError, InvalidStateError, OutOfRangeError } from '../common/errors.js';
import { DtlsCertificate } from './dtls-certificate.js';
import { fingerprintAlgorithmId, fingerprintToBytes, type DtlsFingerprint } from './fingerprint.js';
import {
  callNative,
  FLAG_DATA,
  FLAG_STATE_CHANGED,
  FLAG_TRANSMIT,
  nativeDtlsEngineClass,
  type NativeDtlsEngine,
  type NativeDtlsPool,
} from './native-dtls.js';
import { DEFAULT_SRTP_PROFILES, srtpProfileId, srtpProfileName, type SrtpProfileName } from './srtp-profile.js';
import { createLogger } from '../common/log.js';
import { reportListenerError } from '../common/typed-emitter.js';
import { describeDtlsDatagram } from './dtls-record-names.js';

const log = createLogger('dtls');

/** W3C RTCDtlsTransportState. */
export type DtlsTransportState = 'new' | 'connecting' | 'connected' | 'closed' | 'failed';

/** DTLS role; from SDP a=setup (RFC 5763 section 5): `active` → client, `passive` → server. */
export type DtlsRole = 'client' | 'server';

/** Where a transport's handshake runs: the handshake thread, or the JavaScript thread (not asked for, chosen by the adaptive mode, or refused). */
export type DtlsHandshakeThreadUse = 'on' | 'off' | 'refused';

/** Options of a DtlsTransport. */
export interface DtlsTransportOptions {
  /** Our identity; its fingerprint must be in our SDP. */
  certificate: DtlsCertificate;
  role: DtlsRole;
  /** Fingerprints from the remote SDP; may also be set later with setRemoteFingerprints. */
  remoteFingerprints?: readonly DtlsFingerprint[];
  /** use_srtp profiles, most preferred first (default DEFAULT_SRTP_PROFILES); [] disables use_srtp. */
  srtpProfiles?: readonly SrtpProfileName[];
  /** Largest handshake datagram, 256..4096 (default 1200: fits any IPv6 path with headroom for TURN). */
  mtu?: number;
  /** First retransmission timeout in ms (default 1000, RFC 6347 section 4.2.4.1); doubles on each expiry. */
  initialRetransmitTimeoutMs?: number;
  /** Cap of the doubling retransmission timeout in ms (default 60000, RFC 6347 section 4.2.4.1). */
  maxRetransmitTimeoutMs?: number;
  /**
   * Keep OpenSSL's session for the whole connection instead of handing the records over to our
   * own record layer once the handshake is done (docs/dtls.md, "Handover"); for diagnosis only,
   * it costs about 45 KiB per connection. Default: the environment variable
   * `PWT_DTLS_KEEP_SSL=1` (read once, at the first connection), else false.
   */
  keepOpenSsl?: boolean;
  /**
   * Run the OpenSSL handshake on the native handshake thread instead of this thread
   * (docs/dtls.md, "Handshake thread"). Datagrams and timeouts given during the handshake are
   * then handled there, and what they produce (datagrams to send, state changes) arrives later:
   * `onAsyncOutput` is called, after which the caller drains `pollTransmit()`/`pollEvent()` and
   * reads `pollTimeout()` again, as after any input. Once the handshake is over everything runs
   * in place again. `'adaptive'`: the transport chooses when its handshake starts (the client's
   * `start()`, the server's first datagram): in place while fewer than two handshakes of this
   * thread are in flight (a lone connection skips the thread hops, about 1 ms), on the handshake
   * thread otherwise (a burst); `onAsyncOutput` is required as with `true`. Default false (fully
   * synchronous, as a sans-I/O core).
   */
  handshakeThread?: boolean | 'adaptive';
  /** Required with `handshakeThread`: called (on this thread) when results of the handshake thread arrive. */
  onAsyncOutput?: () => void;
}

/** Something the transport reports; drained with pollEvent(). */
export type DtlsEvent =
  | { readonly type: 'statechange'; readonly state: DtlsTransportState; readonly reason?: string }
  | { readonly type: 'data'; readonly records: readonly Buffer[] };

/**
 * What keySrtp needs from a lib/srtp SrtpSession (structural, so that lib/dtls does not import
 * its sibling): the native session object the DTLS binding keys directly.
 */
export interface SrtpSessionHandle {
  readonly nativeHandle: object;
}

/** Counters (drops by reason, traffic). */
export interface DtlsTransportStats {
  datagramsIn: number;
  droppedNotStarted: number;
  droppedAfterClose: number;
  droppedTooLarge: number;
  droppedMalformed: number;
  droppedOutQueueFull: number;
  droppedDataQueueFull: number;
  dataRecordsIn: number;
  dataRecordsOut: number;
  retransmitTimeouts: number;
  clientHellos: number;
  /**
   * After the handshake: datagrams with no record at the current epoch (plaintext epoch-0
   * records, including forged alerts and ClientHellos), discarded (RFC 6347 section 4.1.1).
   */
  droppedWrongEpoch: number;
  /** After the handshake: copies of current-epoch records that already delivered data (section 4.1.2.6). */
  droppedReplayed: number;
  /**
   * After the handshake: current-epoch records that failed authentication (bad MAC, empty) or
   * replays older than the 64-record window, discarded (section 4.1.2.7).
   */
  droppedUnauthenticated: number;
  /**
   * After the handover: times our last flight was sent again because the peer's retransmitted
   * Finished arrived (our CCS + Finished were lost; RFC 6347 section 4.2.4).
   */
  flightResends: number;
  /**
   * After the handover: authenticated handshake or change_cipher_spec records not answered
   * (the client keeps no flight; past the resend cap), discarded.
   */
  droppedLateHandshake: number;
  /**
   * With `handshakeThread`: received datagrams dropped because 64 datagrams or 256 KiB already
   * waited for the handshake thread (a flood while it is behind); always 0 otherwise.
   */
  droppedBacklog: number;
  /**
   * Our handshake flight sent again by OpenSSL while it read a received datagram, not by our
   * timer call (`retransmitTimeouts`): OpenSSL retransmits inside a read whenever its timer had
   * already expired and the read found no complete message to go on with: part of the peer's
   * answer, a late duplicate, or any datagram read after our timer fired late (docs/dtls.md
   * "Handshake thread"). A retransmission, not a drop: a peer connection's `transport` stats entry
   * shows it as `pwtDtlsRetransmitsOnRead`, outside `pwtDrops.dtls`.
   */
  retransmitsOnRead: number;
  /**
   * Handshake threads this process could not create so far (RLIMIT_NPROC, a pids cgroup): each
   * time, the transport that asked ran its handshake on the JavaScript thread instead
   * (docs/dtls.md "Handshake thread"). Process-wide: the same number in every transport's stats;
   * `handshakeThread` says whether this transport was one of them.
   */
  handshakeThreadRefusals: number;
  /**
   * Handshakes in flight on this thread's handshake threads (docs/dtls.md "Handshakes in flight"),
   * of this transport's role, for the whole thread (the same in every transport of that role): the
   * limit per role (`PWT_DTLS_HANDSHAKES_IN_FLIGHT`, 0 none), how many are in flight now and the most
   * at once so far, how many wait for a slot now, how many had to wait so far, and how many slots
   * stopped counting because their handshake held them past the stale time (5 s: a stalled peer).
   * All 0 before the thread's first handshake on a handshake thread.
   */
  handshakeSlotLimit: number;
  handshakesInFlight: number;
  handshakesInFlightPeak: number;
  handshakesWaitingForSlot: number;
  handshakeSlotWaits: number;
  handshakeSlotsReclaimed: number;
  /** Values handed to handleInput that were not Uint8Arrays (a driver bug, never thrown). */
  droppedNotBytes: number;
  datagramsOut: number;
}

/** The thread's handshake admission figures of `role` (DtlsTransportStats). */
function handshakeAdmission(role: DtlsRole): Pick<DtlsTransportStats, 'handshakeSlotLimit' | 'handshakesInFlight' | 'handshakesInFlightPeak' | 'handshakesWaitingForSlot' | 'handshakeSlotWaits' | 'handshakeSlotsReclaimed'> {
  const a = nativeDtlsEngineClass().handshakeAdmission?.() ?? null;
  const o = role === 'server' ? 5 : 0;
  return {
    handshakeSlotLimit: a ? a[0]! : 0,
    handshakesInFlight: a ? a[1 + o]! : 0,
    handshakesInFlightPeak: a ? a[2 + o]! : 0,
    handshakesWaitingForSlot: a ? a[3 + o]! : 0,
    handshakeSlotWaits: a ? a[4 + o]! : 0,
    handshakeSlotsReclaimed: a ? a[5 + o]! : 0,
  };
}

// Internal state: a discriminated union carrying what each state knows.
type State =
  | { readonly name: 'new' }
  | { readonly name: 'connecting' }
  | {
    readonly name: 'connected';
    readonly srtpProfile: SrtpProfileName | undefined;
    readonly cipherSuite: string;
    readonly cipherSuiteStandardName: string;
    readonly tlsVersion: number;
  }
  | { readonly name: 'closed' }
  | { readonly name: 'failed'; readonly reason: string };

/**
 * Cipher-suite names as one string per process: the engine returns a new copy per connection
 * (about 100 bytes each that an idle connection keeps, docs/peer.md); a handful of suites exist.
 */
const suiteNames = new Map<string, string>();
function sharedSuiteName(name: string): string {
  const known = suiteNames.get(name);
  if (known !== undefined) return known;
  if (suiteNames.size < 32) suiteNames.set(name, name);
  return name;
}

const NATIVE_STATES: readonly DtlsTransportState[] = ['new', 'connecting', 'connected', 'closed', 'failed'];
const MAX_RECORD = 16384;
const POOL_BYTES = 128 * 1024;
const POOL_SLOTS = 1024;

// One pool per thread (module instance): every native call fills or reads it synchronously,
// so all transports of a thread share it without interference.
let sharedPool: NativeDtlsPool | undefined;
function pool(): NativeDtlsPool {
  sharedPool ??= {
    buffer: new Uint8Array(POOL_BYTES),
    lengths: new Uint32Array(POOL_SLOTS),
    counters: new Float64Array(18),
  };
  return sharedPool;
}

/** The default profiles' ids, made once: the native engine only reads them (docs/peer.md "Setup cost"). */
let defaultIds: Uint16Array | undefined;
function defaultProfileIds(): Uint16Array {
  return (defaultIds ??= profileIds(DEFAULT_SRTP_PROFILES));
}

function profileIds(profiles: readonly SrtpProfileName[]): Uint16Array {
  if (!Array.isArray(profiles) || profiles.length > 4 || new Set(profiles).size !== profiles.length) {
    throw new InvalidArgumentError('ERR_DTLS_SRTP_PROFILE', 'srtpProfiles must list at most 4 distinct profiles');
  }
  return Uint16Array.from(profiles.map((p) => srtpProfileId(p)));
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OutOfRangeError('ERR_DTLS_OPTION', `${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

/** `PWT_DTLS_KEEP_SSL`, read once: a read of process.env costs about 1 µs, and this was one per connection. */
let keepOpenSslEnv: boolean | undefined;
function keepOpenSslFromEnv(): boolean {
  return (keepOpenSslEnv ??= process.env.PWT_DTLS_KEEP_SSL === '1');
}

/** The DTLS layer of one peer connection (see the contract at the top of this file). */
export class DtlsTransport {
  /** Our certificate (W3C RTCDtlsTransport: local identity). */
  readonly localCertificate: DtlsCertificate;
  readonly role: DtlsRole;
  private readonly engine: NativeDtlsEngine;
  private readonly threadUse: DtlsHandshakeThreadUse;
  /** `handshakeThread: 'adaptive'` with a thread available: where it ran is known once it started. */
  private readonly adaptive: boolean;
  private st: State = { name: 'new' };
  private lastNow = -Infinity;
  private transmitQueue: Buffer[] = [];
  private events: DtlsEvent[] = [];
  /**
   * The handshake's flights grow both queues to a dozen slots or more, which V8 keeps; once the
   * handshake is over and both are empty they are replaced by new ones (a connected connection
   * queues a record or two at a time), once: idle memory per connection (docs/peer.md).
   */
  private handshakeQueues = true;
  private datagramsOut = 0;
  private droppedOversize = 0;
  private droppedNotBytes = 0;

  constructor(options: DtlsTransportOptions) {
    if (!(options?.certificate instanceof DtlsCertificate)) {
      throw new InvalidArgumentError('ERR_DTLS_OPTION', 'certificate must be a DtlsCertificate');
    }
    if (options.role !== 'client' && options.role !== 'server') {
      throw new InvalidArgumentError('ERR_DTLS_OPTION', `role must be 'client' or 'server'`);
    }
    const ids = options.srtpProfiles === undefined ? defaultProfileIds() : profileIds(options.srtpProfiles);
    const mtu = checkInteger('mtu', options.mtu ?? 1200, 256, 4096);
    const initial = checkInteger('initialRetransmitTimeoutMs', options.initialRetransmitTimeoutMs ?? 1000, 1, 60_000);
    const max = checkInteger('maxRetransmitTimeoutMs', options.maxRetransmitTimeoutMs ?? 60_000, initial, 600_000);
    const remote = options.remoteFingerprints !== undefined ? this.encodeFingerprints(options.remoteFingerprints) : undefined;
    const mode = options.handshakeThread === 'adaptive' ? 2 : options.handshakeThread === true ? 1 : 0;
    const threaded = mode !== 0;
    const onAsyncOutput = options.onAsyncOutput;
    if (threaded && typeof onAsyncOutput !== 'function') {
      throw new InvalidArgumentError('ERR_DTLS_OPTION', 'handshakeThread needs an onAsyncOutput function');
    }
    this.localCertificate = options.certificate;
    this.role = options.role;
    const Engine = nativeDtlsEngineClass();
    const shared = pool();
    // Positional: the native constructor reads no property by name (docs/peer.md "Setup cost").
    this.engine = callNative(
      () =>
        new Engine(
          options.certificate.native,
          options.role === 'server' ? 1 : 0,
          mtu,
          initial,
          max,
          ids,
          options.keepOpenSsl ?? keepOpenSslFromEnv(),
          mode,
          threaded ? (flags: number) => this.onWake(flags, onAsyncOutput!) : undefined,
          shared.buffer,
          shared.lengths,
          shared.counters,
        ),
    );
    this.threadUse = !threaded ? 'off' : this.engine.onHandshakeThread() ? 'on' : 'refused';
    this.adaptive = mode === 2 && this.threadUse === 'on';
    if (remote) this.after(this.engine.setRemoteFingerprints(remote[0], remote[1]));
  }

  /** W3C state name. */
  get state(): DtlsTransportState {
    return this.st.name;
  }

  /** Why the transport failed (undefined unless state is 'failed'). */
  get failureReason(): string | undefined {
    return this.st.name === 'failed' ? this.st.reason : undefined;
  }

  /** The negotiated SRTP profile once connected (undefined when use_srtp was not negotiated). */
  get srtpProfile(): SrtpProfileName | undefined {
    return this.st.name === 'connected' ? this.st.srtpProfile : undefined;
  }

  /** The negotiated cipher suite (OpenSSL name) once connected. */
  get cipherSuite(): string | undefined {
    return this.st.name === 'connected' ? this.st.cipherSuite : undefined;
  }

  /** The negotiated cipher suite, IANA name (what W3C `dtlsCipher` reports), once connected. */
  get cipherSuiteStandardName(): string | undefined {
    return this.st.name === 'connected' && this.st.cipherSuiteStandardName !== '' ? this.st.cipherSuiteStandardName : undefined;
  }

  /**
   * The negotiated protocol version as W3C `tlsVersion` spells it (the wire version in upper-case
   * hex: `FEFD` for DTLS 1.2, RFC 6347 section 4.1), once connected.
   */
  get tlsVersion(): string | undefined {
    if (this.st.name !== 'connected' || this.st.tlsVersion === 0) return undefined;
    return this.st.tlsVersion.toString(16).toUpperCase().padStart(4, '0');
  }

  /**
   * Which record layer carries the connection: `'openssl'` during the handshake (and always with
   * `keepOpenSsl`), `'own'` once OpenSSL's session was freed after the handshake (docs/dtls.md).
   */
  get recordLayer(): 'openssl' | 'own' {
    return this.engine.handedOver() ? 'own' : 'openssl';
  }

  /**
   * Where this transport's handshake runs (docs/dtls.md "Handshake thread"): `'on'` the handshake
   * thread, `'off'` the JavaScript thread because `handshakeThread` was not asked for (or, with
   * `'adaptive'`, because the handshake chose it when it started), `'refused'` the JavaScript thread
   * because the system would not create the thread.
   */
  get handshakeThread(): DtlsHandshakeThreadUse {
    // Adaptive: 'on' until the handshake's start chose in place, then 'off'.
    if (this.adaptive && !this.engine.onHandshakeThread()) return 'off';
    return this.threadUse;
  }

  /**
   * Where this thread's adaptive transports (`handshakeThread: 'adaptive'`) ran their handshakes
   * so far (docs/dtls.md "Handshake thread"): in place (`inThread`, of which `inThreadNow` are not
   * over yet) or on the handshake threads (`onThreads`). All 0 before the first one.
   */
  static handshakePaths(): { inThreadNow: number; inThread: number; onThreads: number } {
    const a = nativeDtlsEngineClass().handshakeAdmission?.() ?? null;
    return a && a.length >= 14 ? { inThreadNow: a[11]!, inThread: a[12]!, onThreads: a[13]! } : { inThreadNow: 0, inThread: 0, onThreads: 0 };
  }

  /**
   * With `handshakeThread`: true while work posted to the thread has not come back; what it
   * produces (records to send, state) arrives with the next `onAsyncOutput` (docs/dtls.md).
   */
  get awaitingHandshakeThread(): boolean {
    return this.engine.awaitingThread();
  }

  /** Fingerprints of our certificate (for the local SDP). */
  getLocalFingerprints(): DtlsFingerprint[] {
    return this.localCertificate.getFingerprints();
  }

  /** W3C getRemoteCertificates(): the peer's certificate (DER) once the handshake completed. */
  getRemoteCertificates(): Buffer[] {
    const der = this.engine.remoteCertificate();
    return der ? [der] : [];
  }

  /** Starts the handshake (new → connecting); the client sends its ClientHello. */
  start(now: number): void {
    this.tick(now);
    if (this.st.name !== 'new') throw new InvalidStateError('ERR_DTLS_STATE', 'start: the transport was already started');
    this.after(callNative(() => this.engine.start()));
  }

  /**
   * Sets the fingerprints of the remote SDP (RFC 8122 section 5; any listed algorithm may
   * match). If the handshake already completed, the peer is verified now: connected or failed.
   */
  setRemoteFingerprints(fingerprints: readonly DtlsFingerprint[]): void {
    const [algos, digests] = this.encodeFingerprints(fingerprints);
    if (this.st.name === 'closed' || this.st.name === 'failed') {
      throw new InvalidStateError('ERR_DTLS_STATE', 'setRemoteFingerprints: the transport is closed');
    }
    this.after(callNative(() => this.engine.setRemoteFingerprints(algos, digests)));
  }

  /** Feeds one datagram or a batch received from the peer. Never throws for bad input. */
  handleInput(now: number, input: Uint8Array | readonly Uint8Array[]): void {
    this.tick(now);
    const list: readonly unknown[] = input instanceof Uint8Array ? [input] : Array.isArray(input) ? input : [];
    const p = pool();
    let off = 0;
    let n = 0;
    for (const d of list) {
      if (!(d instanceof Uint8Array)) {
        this.droppedNotBytes++;
        continue;
      }
      if (d.length > p.buffer.length) {
        this.droppedOversize++;
        continue;
      }
      if (off + d.length > p.buffer.length || n === p.lengths.length) {
        this.after(this.engine.handleInput(n));
        off = 0;
        n = 0;
      }
      if (log.enabled && d[0] !== 23) log('%s in: %s', this.role, describeDtlsDatagram(d));
      p.buffer.set(d, off);
      p.lengths[n++] = d.length;
      off += d.length;
    }
    if (n > 0) this.after(this.engine.handleInput(n));
  }

  /** Lets the engine retransmit if its timer expired. */
  handleTimeout(now: number): void {
    this.tick(now);
    this.after(this.engine.handleTimeout());
  }

  /**
   * Sends application-data records (one record per datagram; SCTP packets ride on them).
   * Each must hold 1..16384 bytes. Throws InvalidStateError unless connected.
   */
  send(records: Uint8Array | readonly Uint8Array[]): void {
    if (this.st.name !== 'connected') throw new InvalidStateError('ERR_DTLS_STATE', 'send: the transport is not connected');
    const list: readonly Uint8Array[] = records instanceof Uint8Array ? [records] : records;
    for (const r of list) {
      if (!(r instanceof Uint8Array) || r.length === 0 || r.length > MAX_RECORD) {
        throw new OutOfRangeError('ERR_DTLS_RECORD_SIZE', 'send: each record must be a Uint8Array of 1..16384 bytes');
      }
    }
    const p = pool();
    let off = 0;
    let n = 0;
    for (const r of list) {
      if (off + r.length > p.buffer.length || n === p.lengths.length) {
        this.after(callNative(() => this.engine.send(n)));
        off = 0;
        n = 0;
      }
      p.buffer.set(r, off);
      p.lengths[n++] = r.length;
      off += r.length;
    }
    if (n > 0) this.after(callNative(() => this.engine.send(n)));
  }

  /** Sends close_notify (if a session exists) and moves to closed. Idempotent. */
  close(): void {
    if (this.st.name === 'closed' || this.st.name === 'failed') return;
    this.after(this.engine.close());
  }

  /** Next datagram to send to the peer, or undefined. */
  pollTransmit(): Buffer | undefined {
    return this.transmitQueue.shift();
  }

  /** Next event, or undefined. */
  pollEvent(): DtlsEvent | undefined {
    const e = this.events.shift();
    if (e === undefined && this.handshakeQueues && this.transmitQueue.length === 0 && this.st.name !== 'new' && this.st.name !== 'connecting') {
      this.handshakeQueues = false;
      this.transmitQueue = [];
      this.events = [];
    }
    return e;
  }

  /** When handleTimeout should next be called (same clock as `now`), or undefined. */
  pollTimeout(): number | undefined {
    const us = this.engine.timeoutUs();
    if (us < 0) return undefined;
    return (Number.isFinite(this.lastNow) ? this.lastNow : 0) + us / 1000;
  }

  /**
   * Keys a native SRTP session (lib/srtp SrtpSession) with this handshake's RFC 5764 keying
   * material; the keys never enter JavaScript. Needs state 'connected' and a negotiated profile.
   * Returns false when the session refuses the material (closed, or another SRTP profile).
   */
  keySrtp(session: SrtpSessionHandle): boolean {
    if (this.st.name !== 'connected' || this.st.srtpProfile === undefined) {
      throw new InvalidStateError('ERR_DTLS_STATE', 'keySrtp: needs a connected transport with a negotiated SRTP profile');
    }
    const handle: unknown = (session as Partial<SrtpSessionHandle> | undefined)?.nativeHandle;
    if (typeof handle !== 'object' || handle === null) {
      throw new InvalidArgumentError('ERR_DTLS_ARGUMENT', 'keySrtp: session must be an SrtpSession');
    }
    return callNative(() => this.engine.keySrtp(handle));
  }

  /**
   * FOR TESTS ONLY (comparison with other implementations, e.g. `openssl -keymatexport`):
   * the raw RFC 5705 exporter output. The product path keys SRTP natively with keySrtp().
   */
  exportKeyingMaterialForTest(label: string, length: number): Buffer {
    return callNative(() => this.engine.exportKeyingMaterialForTest(label, length));
  }

  /** Counters by reason. */
  stats(): DtlsTransportStats {
    this.engine.counters();
    const c = pool().counters;
    return {
      datagramsIn: c[0]!,
      droppedNotStarted: c[1]!,
      droppedAfterClose: c[2]!,
      droppedTooLarge: c[3]! + this.droppedOversize,
      droppedMalformed: c[4]!,
      droppedOutQueueFull: c[5]!,
      droppedDataQueueFull: c[6]!,
      dataRecordsIn: c[7]!,
      dataRecordsOut: c[8]!,
      retransmitTimeouts: c[9]!,
      clientHellos: c[10]!,
      droppedWrongEpoch: c[11]!,
      droppedReplayed: c[12]!,
      droppedUnauthenticated: c[13]!,
      flightResends: c[14]!,
      droppedLateHandshake: c[15]!,
      droppedBacklog: c[16]!,
      retransmitsOnRead: c[17]!,
      handshakeThreadRefusals: nativeDtlsEngineClass().handshakeThreadRefusals(),
      ...handshakeAdmission(this.role),
      droppedNotBytes: this.droppedNotBytes,
      datagramsOut: this.datagramsOut,
    };
  }

  // Results of the handshake thread (called from the native wake, never inside another call of ours).
  private onWake(flags: number, onAsyncOutput: () => void): void {
    try {
      this.after(flags);
      onAsyncOutput();
    } catch (err) {
      // Nothing may throw into the native callback: reported as a listener error, state kept.
      reportListenerError(err);
    }
  }

  private tick(now: number): void {
    if (typeof now !== 'number' || Number.isNaN(now)) throw new InvalidArgumentError('ERR_DTLS_TIME', '`now` must be a number');
    if (now > this.lastNow) this.lastNow = now;
  }

  private encodeFingerprints(list: readonly DtlsFingerprint[]): [Uint8Array, Uint8Array] {
    if (!Array.isArray(list) || list.length === 0 || list.length > 16) {
      throw new InvalidArgumentError('ERR_DTLS_FINGERPRINT', 'remote fingerprints: 1..16 entries expected');
    }
    const digests = list.map((fp) => fingerprintToBytes(fp));
    const algos = Uint8Array.from(list.map((fp) => fingerprintAlgorithmId(fp.algorithm.toLowerCase() as DtlsFingerprint['algorithm'])));
    return [algos, Buffer.concat(digests)];
  }

  // Drains what a native call produced: state first (so 'connected' precedes its data),
  // then application data, then datagrams to send. The records the peer sent before its
  // close_notify come before 'closed' (RFC 5246 section 7.2.1): an SCTP ABORT rides there.
  private after(flags: number): void {
    const data = (flags & FLAG_DATA) !== 0;
    if (flags & FLAG_STATE_CHANGED) this.syncState(data);
    else if (data) this.drainData();
    if (flags & FLAG_TRANSMIT) this.drainTransmit();
  }

  private syncState(data: boolean): void {
    const name = NATIVE_STATES[this.engine.state()] ?? 'failed';
    // closed and failed are final (a close given while the handshake thread still worked is final too).
    if (name === this.st.name || this.st.name === 'closed' || this.st.name === 'failed') {
      if (data) this.drainData();
      return;
    }
    // One batch can carry the peer's last flight and its close_notify (or an alert): report
    // the 'connected' it passed through so that the W3C sequence is never skipped.
    if ((name === 'closed' || name === 'failed') && this.st.name === 'connecting' && this.engine.wasConnected()) {
      this.enter('connected');
    }
    if (data && name === 'closed') {
      this.drainData();
      this.enter(name);
      return;
    }
    this.enter(name);
    if (data) this.drainData();
  }

  private enter(name: DtlsTransportState): void {
    let next: State;
    switch (name) {
      case 'connected':
        next = {
          name,
          srtpProfile: srtpProfileName(this.engine.srtpProfile()),
          cipherSuite: sharedSuiteName(this.engine.cipherSuite()),
          cipherSuiteStandardName: sharedSuiteName(this.engine.cipherSuiteStandardName()),
          tlsVersion: this.engine.tlsVersion(),
        };
        break;
      case 'failed':
        next = { name, reason: this.engine.failureReason() || 'DTLS failure' };
        break;
      default:
        next = { name };
    }
    this.st = next;
    if (log.enabled) {
      if (next.name === 'connected') log('%s connected: %s %s, SRTP %s', this.role, this.tlsVersion, next.cipherSuiteStandardName, next.srtpProfile ?? 'none');
      else log('%s %s%s', this.role, next.name, next.name === 'failed' ? `: ${next.reason}` : '');
    }
    this.events.push(next.name === 'failed' ? { type: 'statechange', state: 'failed', reason: next.reason } : { type: 'statechange', state: next.name });
  }

  private drainData(): void {
    const p = pool();
    for (;;) {
      const n = this.engine.pollData();
      // Not a count (undefined) when the native call could not run: the process is exiting.
      if (!(n > 0)) return;
      const records = this.splitPool(p, n);
      this.events.push({ type: 'data', records });
    }
  }

  private drainTransmit(): void {
    const p = pool();
    for (;;) {
      const n = this.engine.pollTransmit();
      if (!(n > 0)) return;
      for (const d of this.splitPool(p, n)) {
        if (log.enabled && d[0] !== 23) log('%s out: %s', this.role, describeDtlsDatagram(d));
        this.transmitQueue.push(d);
      }
      this.datagramsOut += n;
    }
  }

  // One copy of the batch out of the shared pool, then views per datagram.
  private splitPool(p: NativeDtlsPool, n: number): Buffer[] {
    let total = 0;
    for (let i = 0; i < n; i++) total += p.lengths[i]!;
    const copy = Buffer.from(p.buffer.subarray(0, total));
    const out: Buffer[] = new Array<Buffer>(n);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = p.lengths[i]!;
      out[i] = copy.subarray(off, off + len);
      off += len;
    }
    return out;
  }
}
