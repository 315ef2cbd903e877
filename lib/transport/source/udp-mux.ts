// One UDP port for many ICE transports (the SFU server mode, like mediasoup's WebRtcServer):
// Binding requests from unknown senders are routed by the local ufrag in USERNAME (RFC 8445
// §7.2.2), every other datagram by its source address once that address has authenticated
// (or been sent checks by the transport). Unknown senders are dropped and counted.
import { InvalidArgumentError, InvalidStateError } from '../../common/errors.js';
import { reportListenerError } from '../../common/typed-emitter.js';
import { peekBindingRequestUfrag } from '../../ice/stun-peek.js';
import { canonicalIp, type TransportAddress } from '../../ice/transport-address.js';
import { IceTransport, type IceMuxPort, type IceTransportOptions } from '../ice-transport.js';
import { countStranger, createPortDrops, type PortDrops } from './port-drops.js';
import type { ReuseportHandoff } from './udp-reuseport-handoff.js';
import { UdpConsentResponder } from './udp-consent-responder.js';
import { UdpSocket, UdpSrtpStatus } from './udp-socket.js';
import { nativeUdpSocketFactory, remoteKey, type IceUdpBatch, type IceUdpSocket, type IceUdpSocketFactory } from './datagram-socket.js';

/** Options of {@link UdpMux.bind}. */
export interface UdpMuxOptions {
  /** Local address to bind; must be a concrete address unless `announcedAddress` is set. */
  address: string;
  /** Port (0: ephemeral). */
  port?: number;
  /** SO_REUSEPORT, for one mux per worker on the same port. */
  reusePort?: boolean;
  /** Address announced in host candidates (public IP of a server behind 1:1 NAT). */
  announcedAddress?: string;
  /** Socket buffers; large receive buffers keep bursts of checks from being lost. Default 4 MiB. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Receive with UDP_GRO where the kernel offers it (default true; docs/udp.md "GRO"). */
  gro?: boolean;
  /** Socket factory (default: the native batch UdpSocket). */
  socketFactory?: IceUdpSocketFactory;
  /**
   * With `reusePort`, the kernel picks the socket by hashing the remote 5-tuple, so a peer's
   * datagrams may reach a worker that does not own its transport. This hook receives every
   * datagram this mux cannot route (a copy, with the ufrag when it is a Binding request) so
   * that the application can pass it to the owning worker's {@link UdpMux.deliver}.
   */
  onUnroutable?: (data: Buffer, remote: TransportAddress, ufrag: string | undefined) => void;
  /**
   * Answer the consent checks of connections whose selected pair is on this port natively, inside
   * the receive batch, and send their full agents' own checks from here (default true with the native
   * socket; docs/ice.md "Consent checks answered natively", "Consent checks sent natively").
   */
  nativeConsent?: boolean;
  /**
   * @internal With `reusePort`: this worker's part in the native hand-off of a port shared by several workers
   * (docs/scaling.md "One port across workers"). The mux claims its transports' ufrags and remote
   * addresses, and datagrams of flows other workers own are passed to them natively, before
   * JavaScript runs. Needs the native socket.
   */
  handoff?: ReuseportHandoff;
}

/** Counters of the mux. */
export interface UdpMuxStats {
  datagramsReceived: number;
  routedByAddress: number;
  routedByUfrag: number;
  transports: number;
  routes: number;
  /** Datagrams handed to `onUnroutable`. */
  forwarded: number;
  /** Received SRTP/SRTCP unprotected in place by the port's session table (native socket only). */
  srtpUnprotected: number;
  /** Sent SRTP/SRTCP protected at flush by the port's session table (native socket only). */
  srtpProtected: number;
  /** Routed SRTP/SRTCP the session table refused (forged, replayed, ...; reasons in each connection's SRTP stats). */
  srtpRejected: number;
  drops: { 'unknown-sender': number; 'unknown-ufrag': number };
  /** The same unclaimed datagrams by the reason a connection would have given (see lib/transport/source/port-drops.ts). */
  dropsByReason: PortDrops;
}

interface Route {
  transport: IceTransport;
  remote: TransportAddress;
}

/** A UDP socket shared by any number of {@link IceTransport}s. */
export class UdpMux {
  /** The bound local address. */
  readonly local: TransportAddress;
  private readonly socket: IceUdpSocket;
  private readonly routes = new Map<number | string, Route>();
  private readonly byUfrag = new Map<string, IceTransport>();
  private readonly ufrags = new Map<IceTransport, Set<string>>();
  private readonly routeKeys = new Map<IceTransport, Set<number | string>>();
  private readonly touched = new Set<IceTransport>();
  /** The remote each transport's connected flow socket serves (shared port only; docs/scaling.md). */
  private readonly connectedFlows = new Map<IceTransport, TransportAddress>();
  private readonly port: IceMuxPort;
  private closed = false;
  /** Native answers to consent checks on selected pairs (undefined: off, or not the native socket). */
  private readonly consent: UdpConsentResponder | undefined;
  private readonly counters = { datagramsReceived: 0, routedByAddress: 0, routedByUfrag: 0, unknownSender: 0, unknownUfrag: 0, forwarded: 0 };
  private readonly onUnroutable: UdpMuxOptions['onUnroutable'];
  private readonly portDrops = createPortDrops();
  private readonly handoff: ReuseportHandoff | undefined;

  private constructor(socket: IceUdpSocket, announced: string | undefined, onUnroutable: UdpMuxOptions['onUnroutable'], handoff: ReuseportHandoff | undefined, nativeConsent: boolean) {
    this.socket = socket;
    this.onUnroutable = onUnroutable;
    this.handoff = handoff;
    const a = socket.address();
    this.local = { address: canonicalIp(a.address), port: a.port };
    this.consent = nativeConsent && socket instanceof UdpSocket ? new UdpConsentResponder(socket, this.local) : undefined;
    socket.onBatch((batch) => this.onBatch(batch));
    this.port = {
      socket,
      local: this.local,
      announced,
      drops: this.portDrops,
      register: (t, ufrag) => this.register(t, ufrag),
      learn: (t, remote) => this.learn(t, remote),
      release: (t) => this.release(t),
      select: (t, remote) => this.select(t, remote),
      refreshConsent: (t) => this.consent?.refresh(t),
      queueConsentCheck: (t) => this.consent?.queueCheck(t) ?? false,
      noteAgentConsentCheck: (t, remote, request) => this.consent?.noteAgentCheck(t, remote, request),
      takeConsent: () => this.consent?.takeBeforeDeadline(),
    };
  }

  /** Binds the shared socket. */
  static async bind(options: UdpMuxOptions): Promise<UdpMux> {
    if (typeof options !== 'object' || options === null || typeof options.address !== 'string') {
      throw new InvalidArgumentError('ERR_MUX_ADDRESS', "UdpMux.bind needs { address, port? } (address: an IP, e.g. '0.0.0.0' with announcedAddress)");
    }
    const wildcard = options.address === '0.0.0.0' || options.address === '::';
    if (wildcard && !options.announcedAddress) {
      throw new InvalidArgumentError('ERR_MUX_ADDRESS', 'a wildcard bind needs announcedAddress for the host candidate');
    }
    const factory = options.socketFactory ?? nativeUdpSocketFactory;
    const socket = await factory({
      type: options.address.includes(':') ? 'udp6' : 'udp4',
      address: options.address,
      port: options.port ?? 0,
      reusePort: options.reusePort ?? false,
      recvBufferSize: options.recvBufferSize ?? 4 * 1024 * 1024,
      sendBufferSize: options.sendBufferSize ?? 4 * 1024 * 1024,
      gro: options.gro ?? true,
    });
    if (options.handoff) {
      if (!(socket instanceof UdpSocket) || !options.reusePort) {
        socket.close();
        throw new InvalidArgumentError('ERR_MUX_HANDOFF', 'the hand-off needs the native socket and reusePort');
      }
      try {
        options.handoff.join(socket);
      } catch (err) {
        socket.close();
        throw err;
      }
    }
    return new UdpMux(socket, options.announcedAddress, options.onUnroutable, options.handoff, options.nativeConsent ?? true);
  }

  /** Creates an ICE transport served by this port (its only host candidate is the mux address). */
  createTransport(options: Omit<IceTransportOptions, 'gather' | 'socketFactory'> = {}): IceTransport {
    if (this.closed) throw new InvalidStateError('ERR_MUX_CLOSED', 'the UdpMux is closed');
    return new IceTransport(options, this.port);
  }

  /** Counters (a snapshot). */
  get stats(): UdpMuxStats {
    const c = this.counters;
    const native = this.socket instanceof UdpSocket && !this.socket.closed ? this.socket.stats : undefined;
    return {
      srtpUnprotected: native?.srtpUnprotected ?? 0,
      srtpProtected: native?.srtpProtected ?? 0,
      srtpRejected: native?.drops.srtpReceive ?? 0,
      datagramsReceived: c.datagramsReceived,
      routedByAddress: c.routedByAddress,
      routedByUfrag: c.routedByUfrag,
      forwarded: c.forwarded,
      transports: this.ufrags.size,
      routes: this.routes.size,
      drops: { 'unknown-sender': c.unknownSender, 'unknown-ufrag': c.unknownUfrag },
      dropsByReason: { transport: { ...this.portDrops.transport }, ice: { ...this.portDrops.ice } },
    };
  }

  /** @internal The native batch socket under the port (lib/sfu attaches its engine here), if any. */
  get nativeSocket(): UdpSocket | undefined {
    return this.socket instanceof UdpSocket && !this.socket.closed ? this.socket : undefined;
  }

  /** Closes every transport and the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.consent?.close();
    for (const t of [...this.ufrags.keys()]) t.close();
    this.socket.close();
  }

  /**
   * Routes a datagram that another worker's mux received for a transport of this one (see
   * `onUnroutable`). Replies leave through this mux's socket, which shares the port.
   */
  deliver(data: Uint8Array, remote: TransportAddress): void {
    if (this.closed) return;
    const b = Buffer.from(data);
    const address = canonicalIp(remote.address);
    this.route(
      { count: 1, data: () => b, address: () => address, port: () => remote.port, family: () => (address.includes(':') ? 6 : 4), addressKey: () => remoteKey(address, remote.port) },
      false,
    );
  }

  private onBatch(batch: IceUdpBatch): void {
    this.route(batch, true);
  }

  private route(batch: IceUdpBatch, forward: boolean): void {
    const c = this.counters;
    for (let i = 0; i < batch.count; i++) {
      c.datagramsReceived++;
      // Forwarded natively by lib/sfu's engine (docs/sfu.md), or passed to the worker that owns the
      // flow (docs/scaling.md "One port across workers"): nothing left for a connection here.
      const status = batch.srtpStatus?.(i);
      if (status === UdpSrtpStatus.forwarded || status === UdpSrtpStatus.handedOff || status === UdpSrtpStatus.consentAnswered) continue;
      const key = batch.addressKey(i);
      const route = this.routes.get(key);
      if (route) {
        c.routedByAddress++;
        // The socket's session table already unprotected routed SRTP/SRTCP in place (docs/udp.md).
        route.transport.receiveFromMux(batch.data(i), key, route.remote, batch.srtpStatus?.(i) ?? 0);
        this.touched.add(route.transport);
        continue;
      }
      const data = batch.data(i);
      const ufrag = peekBindingRequestUfrag(data);
      const transport = ufrag === undefined ? undefined : this.byUfrag.get(ufrag);
      if (!transport) {
        if (forward && this.onUnroutable) {
          c.forwarded++;
          try {
            this.onUnroutable(Buffer.from(data), { address: batch.address(i), port: batch.port(i) }, ufrag);
          } catch (err) {
            reportListenerError(err);
          }
        } else {
          if (ufrag === undefined) c.unknownSender++;
          else c.unknownUfrag++;
          countStranger(this.portDrops, data);
        }
        continue;
      }
      c.routedByUfrag++;
      // The agent checks MESSAGE-INTEGRITY; only then does the address become a route.
      transport.receiveFromMux(data, key, { address: batch.address(i), port: batch.port(i) }, 0);
      this.touched.add(transport);
    }
    for (const t of this.touched) t.flushFromMux();
    this.touched.clear();
  }

  private register(transport: IceTransport, ufrag: string): void {
    let set = this.ufrags.get(transport);
    if (!set) {
      set = new Set();
      this.ufrags.set(transport, set);
    }
    // After a restart both the old and the new ufrag route here until the transport closes.
    set.add(ufrag);
    this.byUfrag.set(ufrag, transport);
    this.handoff?.steerUfrag(true, ufrag);
  }

  private learn(transport: IceTransport, remote: TransportAddress): void {
    const key = remoteKey(remote.address, remote.port);
    const existing = this.routes.get(key);
    if (existing?.transport === transport) return;
    if (existing) this.routeKeys.get(existing.transport)?.delete(key);
    this.routes.set(key, { transport, remote: { address: remote.address, port: remote.port } });
    let keys = this.routeKeys.get(transport);
    if (!keys) {
      keys = new Set();
      this.routeKeys.set(transport, keys);
    }
    keys.add(key);
    this.handoff?.steerAddress(true, remote);
  }

  // docs/scaling.md "Connected flow sockets": the established flow (the selected pair's remote) moves
  // from the hand-off to a socket connect()ed to it; a new pair (ICE restart, a better pair, failure)
  // closes the old one first. A refused socket leaves the flow on the hand-off (counted natively).
  private select(transport: IceTransport, remote: TransportAddress | undefined): void {
    if (!this.closed) this.consent?.select(transport, remote && { address: canonicalIp(remote.address), port: remote.port });
    if (!this.handoff) return;
    const current = this.connectedFlows.get(transport);
    if (current && remote && current.address === remote.address && current.port === remote.port) return;
    if (current) {
      this.connectedFlows.delete(transport);
      this.handoff.connectFlow(false, current);
    }
    if (!remote || this.closed) return;
    const r = { address: canonicalIp(remote.address), port: remote.port };
    if (this.handoff.connectFlow(true, r)) this.connectedFlows.set(transport, r);
  }

  private release(transport: IceTransport): void {
    this.consent?.release(transport);
    this.select(transport, undefined);
    for (const u of this.ufrags.get(transport) ?? []) {
      if (this.byUfrag.get(u) !== transport) continue;
      this.byUfrag.delete(u);
      this.handoff?.steerUfrag(false, u);
    }
    this.ufrags.delete(transport);
    for (const k of this.routeKeys.get(transport) ?? []) {
      const route = this.routes.get(k);
      if (route?.transport !== transport) continue;
      this.routes.delete(k);
      this.handoff?.steerAddress(false, route.remote);
    }
    this.routeKeys.delete(transport);
  }
}
