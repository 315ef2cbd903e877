// Native answers to the consent checks of connections on a native UdpSocket, a shared UdpMux port or a
// connection's own socket (RFC 7675 §5.1, RFC 8445 §7.3.1; docs/ice.md "Consent checks answered
// natively"): each selected pair's remote is registered with its agent's credentials and role (again
// when they change), and one process-wide tick makes one native call per socket to collect the counts.
// A full agent's registration also sends its own consent checks, which the agent times (RFC 7675 §5.1;
// docs/ice.md "Consent checks sent natively"): the checks due in one turn leave in one native call.
import { reportListenerError } from '../../common/typed-emitter.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import type { IceTransport } from '../ice-transport.js';
import type { UdpSocket } from './udp-socket.js';
import type { NativeConsentCheckSetup } from '../../native/udp.js';

/** How often the answered counts reach the agents (ms); well inside every consent or lite timeout. */
export const CONSENT_TICK_MS = 1000;

/** One entry of takeConsentAnswers (native/stun/stun_consent_responder.hpp kStunConsentTakeStride). */
const TAKE_STRIDE = 5;
/** Age reported when no verified answer arrived since the last take. */
const NO_RESPONSE = 0xffffffff;

interface Registration {
  id: number;
  /** The agent's consent checks are sent by this registration. */
  sendsChecks: boolean;
  remote: TransportAddress;
  /**
   * The credentials and role registered, to notice when the agent reports a change. The object as
   * the transport gave it (its strings are the agent's own): a signature string built from them
   * was a rope of a dozen parts, about 400 bytes per idle connection (docs/peer.md).
   */
  creds: ConsentCredentials;
}

/** What IceTransport.consentCredentials() gives. */
type ConsentCredentials = { localUfrag: string; remoteUfrag: string; password: string; controlling: boolean; checks?: NativeConsentCheckSetup };

/**
 * The responders with registrations: one interval for all of them (an own-socket connection has its
 * own responder; a timer each would wake once per connection per tick).
 */
const ticking: UdpConsentResponder[] = [];
let ticker: ReturnType<typeof setInterval> | undefined;

// By index (code that runs once a second is not optimized: an iterator would allocate per entry). A
// take may release responders (a listener closing connections): swap-removal moves the last one into
// the freed slot, which is then taken on the next tick instead.
/**
 * Own-socket responders (one registration each, `sendsAtOnce`) share one take array and one check-id
 * array instead of two small typed arrays each (about 370 bytes of JS heap per idle own-socket
 * connection, docs/peer.md): a take reads its one entry before it calls the agent, and a check is
 * sent by a native call within queueCheck. A take that runs while the shared take array is in use
 * (a listener reached from one) gets an array of its own.
 */
let sharedTaken: Uint32Array | undefined;
let sharedTakenInUse = false;
let sharedCheckIds: Uint32Array | undefined;

function tickAll(): void {
  for (let i = 0; i < ticking.length; i++) ticking[i]!.take();
}

/** The socket's registrations: one per transport whose selected pair sends from the socket. */
export class UdpConsentResponder {
  private readonly socket: UdpSocket;
  /** The socket's local address, as the agents know their base on it (nominations are matched on it). */
  private readonly local: TransportAddress;
  /**
   * The registrations: in two fields while there is at most one (an own socket's responder never
   * has more), in two Maps from the second on (a shared port's); 0.3 KiB of Map tables per own
   * socket otherwise (docs/peer.md "Memory per idle connection"). Read through registrationOf,
   * transportOf, setRegistration, deleteRegistration.
   */
  private soleTransport: IceTransport | undefined;
  private sole: Registration | undefined;
  private byTransport: Map<IceTransport, Registration> | undefined;
  private byId: Map<number, IceTransport> | undefined;
  private registrations = 0;
  /** The take array (undefined: an own socket's responder, which uses the shared one). */
  private readonly taken: Uint32Array | undefined;
  /** Registrations with a consent check due this turn, sent by one native call at its end. */
  private checkIds: Uint32Array;
  private checksQueued = 0;
  private readonly sendQueued = (): void => this.sendChecks();
  /** Position in `ticking` (-1: not ticking). */
  private tickIndex = -1;
  /** Send each due check at once (an own socket: one registration) rather than at the end of the turn. */
  private readonly sendsAtOnce: boolean;
  /** take() calls in progress: a listener reached from one may release a registration, which takes again. */
  private taking = 0;

  /**
   * `batchEntries`: registrations' counts collected per native call; 1 for an own socket, whose one
   * registration also sends each check at once (nothing to batch it with).
   */
  constructor(socket: UdpSocket, local: TransportAddress, batchEntries = 256) {
    this.socket = socket;
    this.local = local;
    this.sendsAtOnce = batchEntries === 1;
    if (this.sendsAtOnce) {
      this.taken = undefined;
      this.checkIds = sharedCheckIds ??= new Uint32Array(1);
    } else {
      this.taken = new Uint32Array(TAKE_STRIDE * batchEntries);
      this.checkIds = new Uint32Array(batchEntries);
    }
  }

  /** The transport's selected pair now sends from the port to `remote` (undefined: not any more). */
  select(transport: IceTransport, remote: TransportAddress | undefined): void {
    const current = this.registrationOf(transport);
    if (current && remote && current.remote.address === remote.address && current.remote.port === remote.port) {
      this.refresh(transport);
      return;
    }
    this.release(transport);
    if (remote) this.register(transport, { address: remote.address, port: remote.port });
  }

  /** The transport's credentials or role may have changed: register them again if so. */
  refresh(transport: IceTransport): void {
    const current = this.registrationOf(transport);
    if (!current) return;
    const creds = transport.consentCredentials();
    if (creds && sameCredentials(creds, current.creds)) return;
    this.release(transport);
    this.register(transport, current.remote);
  }

  /** Stops answering for the transport (its requests reach its agent again); counts not taken are delivered. */
  release(transport: IceTransport): void {
    const current = this.registrationOf(transport);
    if (!current) return;
    this.take();
    this.deleteRegistration(transport, current.id);
    this.socket.removeConsentResponder(current.id);
    if (current.sendsChecks) transport.consentChecksNative(false);
    if (this.registrations === 0) this.stopTimer();
  }

  /** Drops every registration (the port is closing). */
  close(): void {
    const all = this.byTransport !== undefined ? [...this.byTransport.keys()] : this.soleTransport !== undefined ? [this.soleTransport] : [];
    for (const t of all) this.release(t);
    this.stopTimer();
  }

  /** Registrations now. */
  get size(): number {
    return this.registrations;
  }

  private registrationOf(transport: IceTransport): Registration | undefined {
    if (this.byTransport !== undefined) return this.byTransport.get(transport);
    return transport === this.soleTransport ? this.sole : undefined;
  }

  private transportOf(id: number): IceTransport | undefined {
    if (this.byId !== undefined) return this.byId.get(id);
    return this.sole !== undefined && this.sole.id === id ? this.soleTransport : undefined;
  }

  private setRegistration(transport: IceTransport, registration: Registration): void {
    if (this.byTransport === undefined && (this.soleTransport === undefined || this.soleTransport === transport)) {
      if (this.soleTransport === undefined) this.registrations++;
      this.soleTransport = transport;
      this.sole = registration;
      return;
    }
    if (this.byTransport === undefined) {
      this.byTransport = new Map([[this.soleTransport!, this.sole!]]);
      this.byId = new Map([[this.sole!.id, this.soleTransport!]]);
      this.soleTransport = undefined;
      this.sole = undefined;
    }
    const previous = this.byTransport.get(transport);
    if (previous !== undefined) this.byId!.delete(previous.id);
    else this.registrations++;
    this.byTransport.set(transport, registration);
    this.byId!.set(registration.id, transport);
  }

  private deleteRegistration(transport: IceTransport, id: number): void {
    if (this.byTransport !== undefined) {
      if (this.byTransport.delete(transport)) this.registrations--;
      this.byId!.delete(id);
      return;
    }
    if (transport !== this.soleTransport) return;
    this.soleTransport = undefined;
    this.sole = undefined;
    this.registrations--;
  }

  /**
   * A consent check of the transport's is due: it leaves with the others due this turn in one native
   * call (a microtask at the end of the turn). False when the transport has no registration sending checks.
   */
  queueCheck(transport: IceTransport): boolean {
    const r = this.registrationOf(transport);
    if (!r || !r.sendsChecks) return false;
    if (this.checksQueued === this.checkIds.length) {
      const grown = new Uint32Array(this.checkIds.length * 2);
      grown.set(this.checkIds);
      this.checkIds = grown;
    }
    this.checkIds[this.checksQueued++] = r.id;
    if (this.sendsAtOnce) this.sendChecks();
    else if (this.checksQueued === 1) queueMicrotask(this.sendQueued);
    return true;
  }

  /**
   * The transport's agent sent the Binding request `request` to `remote` itself (a check the native side
   * did not send, a triggered or nominating check): when that is the transport's registered remote
   * and the registration sends checks, the native side remembers its transaction id, so that the
   * answer is counted as the agent's (`consentStats.responsesToAgent`), not as an unknown transaction.
   */
  noteAgentCheck(transport: IceTransport, remote: TransportAddress, request: Uint8Array): void {
    const r = this.registrationOf(transport);
    if (!r || !r.sendsChecks || r.remote.port !== remote.port || r.remote.address !== canonicalIp(remote.address)) return;
    this.socket.noteAgentConsentCheck(r.id, request);
  }

  private sendChecks(): void {
    const n = this.checksQueued;
    this.checksQueued = 0;
    if (n === 0) return;
    const sent = this.socket.sendConsentChecks(this.checkIds, n);
    if (sent >= n) return;
    // The ids none was sent for are at the front (all of them when the socket closed): those agents
    // send the check themselves (docs/ice.md "Consent checks sent natively"). Ids released since name
    // no transport any more. Copied first: a transport's flush may queue checks again.
    const unsent = this.checkIds.slice(0, n - sent);
    for (let i = 0; i < unsent.length; i++) {
      const transport = this.transportOf(unsent[i]!);
      if (!transport) continue;
      try {
        transport.consentCheckUnsent();
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  private register(transport: IceTransport, remote: TransportAddress): void {
    const creds = transport.consentCredentials();
    if (!creds || this.socket.closed) return;
    const destination = this.socket.destination(remote.port, remote.address);
    const id = this.socket.addConsentResponder(destination, creds.localUfrag, creds.remoteUfrag, creds.password, creds.controlling, creds.checks);
    if (id === 0) return;
    const sendsChecks = creds.checks !== undefined;
    this.setRegistration(transport, { id, remote, sendsChecks, creds });
    if (sendsChecks) transport.consentChecksNative(true);
    if (this.tickIndex < 0) {
      this.tickIndex = ticking.push(this) - 1;
      if (!ticker) {
        ticker = setInterval(tickAll, CONSENT_TICK_MS);
        ticker.unref?.();
      }
    }
  }

  /**
   * @internal One native call for every registration of the socket; only agents with answers are
   * called. A nested call (a listener closed a connection, whose release takes again) gets its own
   * array, so the entries of the outer call not yet delivered are not overwritten.
   */
  take(): void {
    if (this.taken === undefined) {
      const useShared = !sharedTakenInUse;
      const out = useShared ? (sharedTaken ??= new Uint32Array(TAKE_STRIDE)) : new Uint32Array(TAKE_STRIDE);
      if (useShared) sharedTakenInUse = true;
      this.taking++;
      try {
        this.takeInto(out);
      } finally {
        this.taking--;
        if (useShared) sharedTakenInUse = false;
      }
      return;
    }
    const out = this.taking === 0 ? this.taken : new Uint32Array(this.taken.length);
    this.taking++;
    try {
      this.takeInto(out);
    } finally {
      this.taking--;
    }
  }

  /**
   * @internal take() for an agent about to handle a deadline (its answers must be in first), unless a
   * take is delivering now: that one is the agent's caller, and nothing can have arrived since it asked
   * (receive batches do not run inside it), so a nested native call would only come back empty.
   */
  takeBeforeDeadline(): void {
    if (this.taking === 0) this.take();
  }

  private takeInto(out: Uint32Array): void {
    for (;;) {
      const entries = this.socket.takeConsentAnswers(out);
      for (let i = 0; i < entries; i++) {
        const o = TAKE_STRIDE * i;
        const transport = this.transportOf(out[o]!);
        const registration = transport && this.registrationOf(transport);
        if (!transport || !registration) continue;
        const age = out[o + 4]!;
        try {
          transport.consentAnswered(out[o + 1]!, out[o + 2]!, this.local, registration.remote, out[o + 3]!, age === NO_RESPONSE ? 0 : age);
        } catch (err) {
          reportListenerError(err);
        }
      }
      // Another call only when the array was full and more registrations may have counts (an own
      // socket's one registration never needs a second, empty call).
      if (entries < out.length / TAKE_STRIDE || entries >= this.registrations) return;
    }
  }

  private stopTimer(): void {
    const i = this.tickIndex;
    if (i >= 0) {
      const last = ticking.pop()!;
      if (last !== this) {
        ticking[i] = last;
        last.tickIndex = i;
      }
      this.tickIndex = -1;
    }
    if (ticking.length === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }
}

/** Whether two registrations would be the same (the fields the old signature string compared). */
function sameCredentials(a: ConsentCredentials, b: ConsentCredentials): boolean {
  if (a.localUfrag !== b.localUfrag || a.remoteUfrag !== b.remoteUfrag || a.password !== b.password || a.controlling !== b.controlling) return false;
  const x = a.checks;
  const y = b.checks;
  if (x === undefined || y === undefined) return x === y;
  return x.remotePassword === y.remotePassword && x.priority === y.priority && x.timeoutMs === y.timeoutMs;
}
