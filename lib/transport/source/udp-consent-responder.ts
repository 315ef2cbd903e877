// Native answers to the consent checks of connections on a native UdpSocket, a shared UdpMux port or a
// connection's own socket (RFC 7675 §5.1, RFC 8445 §7.3.1; docs/ice.md "Consent checks answered
// natively"): each selected pair's remote is registered with its agent's credentials and role (again
// when they change), and one process-wide tick makes one native call per socket to collect the counts.
import { reportListenerError } from '../../common/typed-emitter.js';
import type { TransportAddress } from '../../ice/transport-address.js';
import type { IceTransport } from '../ice-transport.js';
import type { UdpSocket } from './udp-socket.js';

/** How often the answered counts reach the agents (ms); well inside every consent or lite timeout. */
export const CONSENT_TICK_MS = 1000;

interface Registration {
  id: number;
  remote: TransportAddress;
  /** The credentials and role registered, to notice when the agent reports a change. */
  signature: string;
}

/**
 * The responders with registrations: one interval for all of them (an own-socket connection has its
 * own responder; a timer each would wake once per connection per tick).
 */
const ticking = new Set<UdpConsentResponder>();
let ticker: ReturnType<typeof setInterval> | undefined;

function tickAll(): void {
  for (const r of ticking) r.take();
}

/** The socket's registrations: one per transport whose selected pair sends from the socket. */
export class UdpConsentResponder {
  private readonly socket: UdpSocket;
  /** The socket's local address, as the agents know their base on it (nominations are matched on it). */
  private readonly local: TransportAddress;
  private readonly byTransport = new Map<IceTransport, Registration>();
  private readonly byId = new Map<number, IceTransport>();
  private readonly taken: Uint32Array;
  /** take() calls in progress: a listener reached from one may release a registration, which takes again. */
  private taking = 0;

  /** `batchEntries`: registrations' counts collected per native call (one is enough for an own socket). */
  constructor(socket: UdpSocket, local: TransportAddress, batchEntries = 256) {
    this.socket = socket;
    this.local = local;
    this.taken = new Uint32Array(3 * batchEntries);
  }

  /** The transport's selected pair now sends from the port to `remote` (undefined: not any more). */
  select(transport: IceTransport, remote: TransportAddress | undefined): void {
    const current = this.byTransport.get(transport);
    if (current && remote && current.remote.address === remote.address && current.remote.port === remote.port) {
      this.refresh(transport);
      return;
    }
    this.release(transport);
    if (remote) this.register(transport, { address: remote.address, port: remote.port });
  }

  /** The transport's credentials or role may have changed: register them again if so. */
  refresh(transport: IceTransport): void {
    const current = this.byTransport.get(transport);
    if (!current) return;
    const creds = transport.consentCredentials();
    if (creds && signatureOf(creds) === current.signature) return;
    this.release(transport);
    this.register(transport, current.remote);
  }

  /** Stops answering for the transport (its requests reach its agent again); counts not taken are delivered. */
  release(transport: IceTransport): void {
    const current = this.byTransport.get(transport);
    if (!current) return;
    this.take();
    this.byTransport.delete(transport);
    this.byId.delete(current.id);
    this.socket.removeConsentResponder(current.id);
    if (this.byTransport.size === 0) this.stopTimer();
  }

  /** Drops every registration (the port is closing). */
  close(): void {
    for (const t of [...this.byTransport.keys()]) this.release(t);
    this.stopTimer();
  }

  /** Registrations now. */
  get size(): number {
    return this.byTransport.size;
  }

  private register(transport: IceTransport, remote: TransportAddress): void {
    const creds = transport.consentCredentials();
    if (!creds || this.socket.closed) return;
    const id = this.socket.addConsentResponder(this.socket.destination(remote.port, remote.address), creds.localUfrag, creds.remoteUfrag, creds.password, creds.controlling);
    if (id === 0) return;
    this.byTransport.set(transport, { id, remote, signature: signatureOf(creds) });
    this.byId.set(id, transport);
    if (!ticking.has(this)) {
      ticking.add(this);
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
    const out = this.taking === 0 ? this.taken : new Uint32Array(this.taken.length);
    this.taking++;
    try {
      this.takeInto(out);
    } finally {
      this.taking--;
    }
  }

  private takeInto(out: Uint32Array): void {
    for (;;) {
      const entries = this.socket.takeConsentAnswers(out);
      for (let i = 0; i < entries; i++) {
        const transport = this.byId.get(out[3 * i]!);
        const registration = transport && this.byTransport.get(transport);
        if (!transport || !registration) continue;
        try {
          transport.consentAnswered(out[3 * i + 1]!, out[3 * i + 2]!, this.local, registration.remote);
        } catch (err) {
          reportListenerError(err);
        }
      }
      if (entries < out.length / 3) return;
    }
  }

  private stopTimer(): void {
    ticking.delete(this);
    if (ticking.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }
}

function signatureOf(c: { localUfrag: string; remoteUfrag: string; password: string; controlling: boolean }): string {
  return `${c.localUfrag}:${c.remoteUfrag}:${c.password}:${c.controlling ? 1 : 0}`;
}
