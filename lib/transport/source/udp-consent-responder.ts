// Native answers to the consent checks of connections on a shared UdpMux port (RFC 7675 §5.1,
// RFC 8445 §7.3.1; docs/ice.md "Consent checks answered natively"): each selected pair's remote is
// registered with its agent's credentials and role (again when they change), and one native call per
// tick collects the counts.
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

/** The port's registrations: one per transport whose selected pair sends from the port. */
export class UdpConsentResponder {
  private readonly socket: UdpSocket;
  private readonly byTransport = new Map<IceTransport, Registration>();
  private readonly byId = new Map<number, IceTransport>();
  private readonly taken = new Uint32Array(3 * 256);
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(socket: UdpSocket) {
    this.socket = socket;
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
    this.timer ??= setInterval(() => this.take(), CONSENT_TICK_MS);
    this.timer.unref?.();
  }

  // One native call for every registration of the port; only agents with answers are called.
  private take(): void {
    const out = this.taken;
    for (;;) {
      const entries = this.socket.takeConsentAnswers(out);
      for (let i = 0; i < entries; i++) {
        const transport = this.byId.get(out[3 * i]!);
        const registration = transport && this.byTransport.get(transport);
        if (!transport || !registration) continue;
        try {
          transport.consentAnswered(out[3 * i + 1]!, out[3 * i + 2]!, registration.remote);
        } catch (err) {
          reportListenerError(err);
        }
      }
      if (entries < out.length / 3) return;
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function signatureOf(c: { localUfrag: string; remoteUfrag: string; password: string; controlling: boolean }): string {
  return `${c.localUfrag}:${c.remoteUfrag}:${c.password}:${c.controlling ? 1 : 0}`;
}
