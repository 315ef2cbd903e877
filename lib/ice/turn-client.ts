// TURN client for one UDP allocation (RFC 8656 §7-§12): long-term credentials with realm/nonce
// (401/438 retries, RFC 8489 §9.2), refresh, permissions, channel bindings, Send/Data
// indications and ChannelData; over UDP, or over a TCP/TLS stream framed by the driver.
//
// Contract (sans-I/O): the driver owns the socket or stream to the server.
// - `allocate(now)` starts; `send(now, peer, data)` relays a datagram to a peer.
// - `handleInput(now, frame)` with one datagram (UDP) or one frame from StunStreamFramer (TCP/TLS);
//   `handleTimeout(now)` when `pollTimeout()` is reached.
// - Drain `pollTransmit()` (bytes for the server; ChannelData already padded on streams),
//   `pollEvent()`, then read `pollTimeout()`. `now` is monotonic ms; older values are ignored.
// - Malformed or unauthenticated input is dropped and counted in `stats.drops`; never throws.
import type { Rng } from '../common/rng.js';
import { InvalidStateError } from '../common/errors.js';
import { CHANNEL_NUMBER_MAX, CHANNEL_NUMBER_MIN, decodeChannelData, encodeChannelData, isChannelData } from './channel-data.js';
import { longTermKey } from './ice-credentials.js';
import { StunAttr, StunClass, StunErrorCode, StunMethod } from './stun-constants.js';
import { StunMessage } from './stun-message.js';
import { addressKey, canonicalIp, type TransportAddress } from './transport-address.js';

/** Options of {@link TurnClient}. */
export interface TurnClientOptions {
  /** How the driver reaches the server; streams get padded ChannelData and no retransmissions. */
  transport: 'udp' | 'tcp' | 'tls';
  username: string;
  password: string;
  rng: Rng;
  /** Requested allocation lifetime in seconds (RFC 8656 §7.2); default 600. */
  lifetimeSec?: number;
  /** SOFTWARE attribute value; omitted when undefined. */
  software?: string;
  /** Initial retransmission timeout over UDP (RFC 8489 §6.2.1); default 500. */
  rtoMs?: number;
  /** Transmissions over UDP before a request fails (Rc); default 7. */
  maxTransmits?: number;
  /** Whether to bind a channel to each peer after its permission is installed; default true. */
  useChannels?: boolean;
  /** Datagrams held per peer while its permission is being installed; default 32. */
  maxQueuedPerPeer?: number;
}

/** Allocation states. */
export type TurnClientState = 'idle' | 'allocating' | 'allocated' | 'failed' | 'closed';

/** Events drained with {@link TurnClient.pollEvent}. */
export type TurnClientEvent =
  | { type: 'allocated'; relayed: TransportAddress; mapped: TransportAddress | undefined; lifetimeSec: number }
  | { type: 'failed'; reason: string; code?: number }
  | { type: 'permission'; address: string; ok: boolean }
  | { type: 'channel'; peer: TransportAddress; channel: number; ok: boolean }
  | { type: 'data'; peer: TransportAddress; data: Buffer };

/** Why an input frame was dropped. */
export type TurnDropReason =
  | 'malformed'
  | 'unmatched-response'
  | 'response-bad-integrity'
  | 'unknown-channel'
  | 'unexpected-message'
  | 'queue-full'
  | 'not-allocated';

/** Counters of a TURN client. */
export interface TurnClientStats {
  requestsSent: number;
  retransmissions: number;
  dataSent: number;
  dataReceived: number;
  channelDataSent: number;
  drops: Record<TurnDropReason, number>;
}

type Purpose =
  | { kind: 'allocate' }
  | { kind: 'refresh'; lifetime: number }
  | { kind: 'permission'; address: string }
  | { kind: 'channel'; peer: TransportAddress; channel: number };

interface Request {
  id: string;
  method: number;
  purpose: Purpose;
  build: (m: StunMessage) => void;
  data: Buffer;
  transmits: number;
  rto: number;
  nextAt: number;
  deadline: number;
  /** 401/438 retries left for this request. */
  authRetries: number;
  /** Whether the last transmission carried MESSAGE-INTEGRITY. */
  signed: boolean;
}

interface Permission {
  installed: boolean;
  pending: boolean;
  refreshAt: number;
  queue: { peer: TransportAddress; data: Buffer }[];
}

interface Channel {
  channel: number;
  peer: TransportAddress;
  bound: boolean;
  refreshAt: number;
}

const PERMISSION_REFRESH_MS = 240_000;
const CHANNEL_REFRESH_MS = 540_000;
const STREAM_TIMEOUT_MS = 39_500;

/** A sans-I/O TURN client managing one allocation. */
export class TurnClient {
  /** Counters and drops by reason. */
  readonly stats: TurnClientStats;
  private readonly opts: Required<Omit<TurnClientOptions, 'software'>> & { software: string | undefined };
  private stateValue: TurnClientState = 'idle';
  private realm: string | undefined;
  private nonce: string | undefined;
  private key: Buffer | undefined;
  private relayedAddress: TransportAddress | undefined;
  private refreshAt: number | undefined;
  private readonly requests = new Map<string, Request>();
  private readonly permissions = new Map<string, Permission>();
  private readonly channelsByPeer = new Map<string, Channel>();
  private readonly channelsByNumber = new Map<number, Channel>();
  private nextChannel = CHANNEL_NUMBER_MIN;
  private readonly transmits: Buffer[] = [];
  private readonly events: TurnClientEvent[] = [];
  private lastNow = 0;

  constructor(options: TurnClientOptions) {
    this.opts = {
      transport: options.transport,
      username: options.username,
      password: options.password,
      rng: options.rng,
      lifetimeSec: options.lifetimeSec ?? 600,
      software: options.software,
      rtoMs: options.rtoMs ?? 500,
      maxTransmits: options.maxTransmits ?? 7,
      useChannels: options.useChannels ?? true,
      maxQueuedPerPeer: options.maxQueuedPerPeer ?? 32,
    };
    this.stats = {
      requestsSent: 0,
      retransmissions: 0,
      dataSent: 0,
      dataReceived: 0,
      channelDataSent: 0,
      drops: {
        malformed: 0,
        'unmatched-response': 0,
        'response-bad-integrity': 0,
        'unknown-channel': 0,
        'unexpected-message': 0,
        'queue-full': 0,
        'not-allocated': 0,
      },
    };
  }

  /** Current state. */
  get state(): TurnClientState {
    return this.stateValue;
  }

  /** The relayed transport address, once allocated. */
  get relayed(): TransportAddress | undefined {
    return this.relayedAddress;
  }

  /** Next bytes to send to the server. */
  pollTransmit(): Buffer | undefined {
    return this.transmits.shift();
  }

  /** Next event. */
  pollEvent(): TurnClientEvent | undefined {
    return this.events.shift();
  }

  /** Absolute time of the next timer, or undefined. */
  pollTimeout(): number | undefined {
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return undefined;
    let t: number | undefined;
    const at = (x: number | undefined): void => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    for (const r of this.requests.values()) at(r.transmits > 0 ? Math.min(r.nextAt, r.deadline) : r.deadline);
    at(this.refreshAt);
    for (const p of this.permissions.values()) if (p.installed && !p.pending) at(p.refreshAt);
    for (const c of this.channelsByPeer.values()) if (c.bound) at(c.refreshAt);
    return t;
  }

  /** Starts the allocation (RFC 8656 §7.1). */
  allocate(now: number): void {
    now = this.tick(now);
    if (this.stateValue !== 'idle') throw new InvalidStateError('ERR_TURN_STATE', `allocate() in state ${this.stateValue}`);
    this.stateValue = 'allocating';
    this.request(now, StunMethod.Allocate, { kind: 'allocate' }, (m) => {
      m.add(StunAttr.RequestedTransport, Buffer.from([17, 0, 0, 0]));
      m.addUint32(StunAttr.Lifetime, this.opts.lifetimeSec);
    });
  }

  /** Installs (or refreshes) a permission for `address` (RFC 8656 §9). */
  createPermission(now: number, address: string): void {
    now = this.tick(now);
    this.assertAllocated();
    const ip = canonicalIp(address);
    let p = this.permissions.get(ip);
    if (!p) {
      p = { installed: false, pending: false, refreshAt: 0, queue: [] };
      this.permissions.set(ip, p);
    }
    if (p.pending) return;
    p.pending = true;
    this.request(now, StunMethod.CreatePermission, { kind: 'permission', address: ip }, (m) =>
      m.addAddress(StunAttr.XorPeerAddress, { address: ip, port: 0 }),
    );
  }

  /** Binds a channel to `peer` (RFC 8656 §11), which also installs its permission. */
  bindChannel(now: number, peer: TransportAddress): number {
    now = this.tick(now);
    this.assertAllocated();
    const key = addressKey(peer);
    const existing = this.channelsByPeer.get(key);
    if (existing) return existing.channel;
    if (this.nextChannel > CHANNEL_NUMBER_MAX) throw new InvalidStateError('ERR_TURN_CHANNELS', 'no channel numbers left');
    const ch: Channel = { channel: this.nextChannel++, peer: { address: canonicalIp(peer.address), port: peer.port }, bound: false, refreshAt: 0 };
    this.channelsByPeer.set(key, ch);
    this.channelsByNumber.set(ch.channel, ch);
    this.sendChannelBind(now, ch);
    return ch.channel;
  }

  /**
   * The channel bound to `peer` (its ChannelBind succeeded, RFC 8656 §11), or undefined. The driver
   * may then frame and unframe that peer's ChannelData itself (RFC 8656 §12.4), natively.
   */
  boundChannel(peer: TransportAddress): number | undefined {
    const ch = this.channelsByPeer.get(addressKey(peer));
    return ch?.bound && this.stateValue === 'allocated' ? ch.channel : undefined;
  }

  /**
   * Relays `data` to `peer`: ChannelData when a channel is bound, a Send indication otherwise
   * (RFC 8656 §10-§12). Data for a peer without permission waits for it (bounded queue).
   */
  send(now: number, peer: TransportAddress, data: Uint8Array): void {
    now = this.tick(now);
    if (this.stateValue !== 'allocated') {
      this.stats.drops['not-allocated']++;
      return;
    }
    const ch = this.channelsByPeer.get(addressKey(peer));
    if (ch?.bound) {
      this.stats.channelDataSent++;
      this.transmits.push(encodeChannelData(ch.channel, data, this.opts.transport !== 'udp'));
      return;
    }
    const ip = canonicalIp(peer.address);
    const perm = this.permissions.get(ip);
    if (!perm?.installed) {
      if (!perm?.pending) this.createPermission(now, ip);
      const q = this.permissions.get(ip)!.queue;
      if (q.length >= this.opts.maxQueuedPerPeer) this.stats.drops['queue-full']++;
      else q.push({ peer, data: Buffer.from(data) });
      return;
    }
    this.sendIndication(peer, data);
    if (this.opts.useChannels && !ch) this.bindChannel(now, peer);
  }

  /** Releases the allocation (Refresh with lifetime 0, RFC 8656 §8) and stops. */
  close(now: number): void {
    now = this.tick(now);
    if (this.stateValue === 'allocated') {
      this.requests.clear();
      const m = new StunMessage(StunMethod.Refresh, StunClass.Request, this.opts.rng.bytes(12)).addUint32(StunAttr.Lifetime, 0);
      this.transmits.push(this.sign(m));
    }
    this.requests.clear();
    this.stateValue = 'closed';
  }

  /** Processes one datagram or stream frame from the server. */
  handleInput(now: number, frame: Uint8Array): void {
    now = this.tick(now);
    if (this.stateValue === 'closed') return;
    if (isChannelData(frame)) {
      const cd = decodeChannelData(frame);
      const ch = cd ? this.channelsByNumber.get(cd.channel) : undefined;
      if (!cd) this.stats.drops.malformed++;
      else if (!ch) this.stats.drops['unknown-channel']++;
      else {
        this.stats.dataReceived++;
        this.events.push({ type: 'data', peer: ch.peer, data: Buffer.from(cd.data) });
      }
      return;
    }
    const r = StunMessage.decode(frame);
    if (!r.ok) {
      this.stats.drops.malformed++;
      return;
    }
    const msg = r.message;
    if (msg.messageClass === StunClass.Indication && msg.method === StunMethod.Data) {
      const peer = msg.getAddress(StunAttr.XorPeerAddress);
      const data = msg.get(StunAttr.Data);
      if (!peer || !data) this.stats.drops.malformed++;
      else {
        this.stats.dataReceived++;
        this.events.push({ type: 'data', peer, data });
      }
      return;
    }
    if (msg.messageClass !== StunClass.SuccessResponse && msg.messageClass !== StunClass.ErrorResponse) {
      this.stats.drops['unexpected-message']++;
      return;
    }
    const id = msg.transactionId.toString('hex');
    const req = this.requests.get(id);
    if (!req) {
      this.stats.drops['unmatched-response']++;
      return;
    }
    const error = msg.messageClass === StunClass.ErrorResponse ? msg.getErrorCode() : undefined;
    // 401 and 438 are not integrity-protected; everything else must be when we hold a key.
    const authChallenge = error && (error.code === StunErrorCode.Unauthorized || error.code === StunErrorCode.StaleNonce);
    if (!authChallenge && this.key && !msg.verifyIntegrity(this.key)) {
      this.stats.drops['response-bad-integrity']++;
      return;
    }
    this.requests.delete(id);
    if (authChallenge) {
      const realm = msg.getString(StunAttr.Realm) ?? this.realm;
      const nonce = msg.getString(StunAttr.Nonce);
      if (!nonce || realm === undefined || req.authRetries <= 0) return this.requestFailed(req, error.code, 'authentication failed');
      // A 401 to a request signed for the same realm means wrong credentials (RFC 8489 §9.2.5).
      if (error.code === StunErrorCode.Unauthorized && req.signed && realm === this.realm) {
        return this.requestFailed(req, error.code, 'wrong credentials');
      }
      this.realm = realm;
      this.nonce = nonce;
      this.key = longTermKey(this.opts.username, this.realm!, this.opts.password);
      this.resend(now, req);
      return;
    }
    if (error) return this.requestFailed(req, error.code, error.reason || `error ${error.code}`);
    this.onSuccess(now, req, msg);
  }

  /** Runs retransmissions and refreshes. */
  handleTimeout(now: number): void {
    now = this.tick(now);
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
    for (const req of [...this.requests.values()]) {
      if (now >= req.deadline) {
        this.requests.delete(req.id);
        this.requestFailed(req, undefined, 'timeout');
      } else if (req.transmits > 0 && now >= req.nextAt) {
        req.transmits++;
        req.rto *= 2;
        req.nextAt = now + req.rto;
        if (req.transmits >= this.opts.maxTransmits) req.transmits = 0;
        this.stats.retransmissions++;
        this.transmits.push(req.data);
      }
    }
    if (this.stateValue !== 'allocated') return;
    if (this.refreshAt !== undefined && now >= this.refreshAt) {
      this.refreshAt = undefined;
      this.request(now, StunMethod.Refresh, { kind: 'refresh', lifetime: this.opts.lifetimeSec }, (m) =>
        m.addUint32(StunAttr.Lifetime, this.opts.lifetimeSec),
      );
    }
    for (const [ip, p] of this.permissions) {
      if (p.installed && !p.pending && now >= p.refreshAt) this.createPermission(now, ip);
    }
    for (const c of this.channelsByPeer.values()) {
      if (c.bound && now >= c.refreshAt) {
        c.refreshAt = now + CHANNEL_REFRESH_MS;
        this.sendChannelBind(now, c);
      }
    }
  }

  // ---- internals ----------------------------------------------------------------------

  private onSuccess(now: number, req: Request, msg: StunMessage): void {
    const p = req.purpose;
    switch (p.kind) {
      case 'allocate': {
        const relayed = msg.getAddress(StunAttr.XorRelayedAddress);
        if (!relayed) return this.requestFailed(req, undefined, 'no XOR-RELAYED-ADDRESS');
        const lifetime = msg.getUint32(StunAttr.Lifetime) ?? this.opts.lifetimeSec;
        this.relayedAddress = relayed;
        this.stateValue = 'allocated';
        this.scheduleRefresh(now, lifetime);
        this.events.push({ type: 'allocated', relayed, mapped: msg.getAddress(StunAttr.XorMappedAddress), lifetimeSec: lifetime });
        return;
      }
      case 'refresh':
        this.scheduleRefresh(now, msg.getUint32(StunAttr.Lifetime) ?? p.lifetime);
        return;
      case 'permission': {
        const perm = this.permissions.get(p.address);
        if (!perm) return;
        const first = !perm.installed;
        perm.installed = true;
        perm.pending = false;
        perm.refreshAt = now + PERMISSION_REFRESH_MS;
        if (first) this.events.push({ type: 'permission', address: p.address, ok: true });
        const queued = perm.queue;
        perm.queue = [];
        for (const q of queued) this.send(now, q.peer, q.data);
        return;
      }
      case 'channel': {
        const ch = this.channelsByNumber.get(p.channel);
        if (!ch) return;
        const first = !ch.bound;
        ch.bound = true;
        ch.refreshAt = now + CHANNEL_REFRESH_MS;
        // A channel binding installs the permission too (RFC 8656 §11.2).
        const perm = this.permissions.get(ch.peer.address);
        if (perm) {
          perm.installed = true;
          perm.refreshAt = Math.max(perm.refreshAt, now + PERMISSION_REFRESH_MS);
        }
        if (first) this.events.push({ type: 'channel', peer: ch.peer, channel: ch.channel, ok: true });
        return;
      }
    }
  }

  private requestFailed(req: Request, code: number | undefined, reason: string): void {
    const p = req.purpose;
    if (p.kind === 'allocate' || (p.kind === 'refresh' && this.stateValue === 'allocated')) {
      if (this.stateValue === 'closed') return;
      this.stateValue = 'failed';
      this.requests.clear();
      this.events.push(code === undefined ? { type: 'failed', reason } : { type: 'failed', reason, code });
    } else if (p.kind === 'permission') {
      const perm = this.permissions.get(p.address);
      if (perm) {
        this.permissions.delete(p.address);
        this.stats.drops['queue-full'] += perm.queue.length;
      }
      this.events.push({ type: 'permission', address: p.address, ok: false });
    } else if (p.kind === 'channel') {
      const ch = this.channelsByNumber.get(p.channel);
      if (ch && !ch.bound) {
        this.channelsByNumber.delete(p.channel);
        this.channelsByPeer.delete(addressKey(ch.peer));
      }
      this.events.push({ type: 'channel', peer: p.peer, channel: p.channel, ok: false });
    }
  }

  private scheduleRefresh(now: number, lifetimeSec: number): void {
    // Refresh a minute before expiry, or at half-life for short lifetimes (RFC 8656 §8).
    const ms = lifetimeSec * 1000;
    this.refreshAt = now + Math.max(ms / 2, ms - 60_000);
  }

  private sendChannelBind(now: number, ch: Channel): void {
    this.request(now, StunMethod.ChannelBind, { kind: 'channel', peer: ch.peer, channel: ch.channel }, (m) => {
      m.add(StunAttr.ChannelNumber, Buffer.from([ch.channel >> 8, ch.channel & 0xff, 0, 0]));
      m.addAddress(StunAttr.XorPeerAddress, ch.peer);
    });
  }

  private sendIndication(peer: TransportAddress, data: Uint8Array): void {
    const m = new StunMessage(StunMethod.Send, StunClass.Indication, this.opts.rng.bytes(12))
      .addAddress(StunAttr.XorPeerAddress, peer)
      .add(StunAttr.Data, data);
    this.stats.dataSent++;
    this.transmits.push(m.encode());
  }

  private request(now: number, method: number, purpose: Purpose, build: (m: StunMessage) => void): void {
    const req: Request = {
      id: '',
      method,
      purpose,
      build,
      data: Buffer.alloc(0),
      transmits: 0,
      rto: this.opts.rtoMs,
      nextAt: 0,
      deadline: 0,
      authRetries: 3,
      signed: false,
    };
    this.resend(now, req);
  }

  /** (Re)builds the request with a new transaction id and the current credentials, then sends it. */
  private resend(now: number, req: Request): void {
    req.authRetries--;
    const m = new StunMessage(req.method, StunClass.Request, this.opts.rng.bytes(12));
    req.build(m);
    req.id = m.transactionId.toString('hex');
    req.data = this.sign(m);
    req.signed = this.key !== undefined;
    const stream = this.opts.transport !== 'udp';
    req.rto = this.opts.rtoMs;
    req.transmits = stream ? 0 : 1;
    req.nextAt = now + req.rto;
    let total = 0;
    for (let i = 0, rto = this.opts.rtoMs; i < this.opts.maxTransmits; i++, rto *= 2) total += i === this.opts.maxTransmits - 1 ? this.opts.rtoMs * 16 : rto;
    req.deadline = now + (stream ? STREAM_TIMEOUT_MS : total);
    this.requests.set(req.id, req);
    this.stats.requestsSent++;
    this.transmits.push(req.data);
  }

  private sign(m: StunMessage): Buffer {
    if (this.opts.software !== undefined) m.addString(StunAttr.Software, this.opts.software);
    if (!this.key || this.realm === undefined || this.nonce === undefined) return m.encode({ fingerprint: true });
    m.addString(StunAttr.Username, this.opts.username).addString(StunAttr.Realm, this.realm).addString(StunAttr.Nonce, this.nonce);
    return m.encode({ integrityKey: this.key, fingerprint: true });
  }

  private assertAllocated(): void {
    if (this.stateValue !== 'allocated') throw new InvalidStateError('ERR_TURN_STATE', `no allocation (state ${this.stateValue})`);
  }

  private tick(now: number): number {
    if (now > this.lastNow) this.lastNow = now;
    return this.lastNow;
  }
}
