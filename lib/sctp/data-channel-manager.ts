// Maps SCTP streams to RTCDataChannels (RFC 8831 section 6, RFC 8832): stream ids even/odd by
// DTLS role, DCEP open/ack, pre-negotiated channels, closing by stream reset (section 6.7).
//
// Driving: the manager wraps an SctpAssociation and exposes the same sans-I/O surface
// (handleInput / handleTimeout / pollTransmit / pollTimeout); after each call it turns the
// association's events into channel events. API calls on channels (send, close) create output
// outside any input: the manager then emits 'wakeup', and the driver should schedule a drain of
// pollTransmit() and re-arm its timer (preferably deferred, e.g. with setImmediate).
import type { Clock } from '../common/clock.js';
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError } from '../common/errors.js';
import { TypedEventEmitter } from '../common/typed-emitter.js';
import type { SctpAssociation } from './association.js';
import { PRIORITY_VALUE, Ppid, encodeDcepAck, encodeDcepOpen, fromChannelType, parseDcep, priorityFromValue, toChannelType } from './dcep.js';
import { RTCDataChannel, type DataChannelConfig, type RTCDataChannelInit } from './data-channel.js';
import { loggedDropCounters } from '../common/log.js';

/** The DTLS role, which decides stream id parity (RFC 8832 section 6: client even, server odd). */
export type DtlsRole = 'client' | 'server';

/** Event payload of 'datachannel' (RTCDataChannelEvent). */
export interface RTCDataChannelEvent {
  channel: RTCDataChannel;
}

/** Events of the manager. */
export type DataChannelManagerEvents = {
  /** The association is established (RTCSctpTransport 'connected'). */
  established: [];
  /** The remote side opened a channel with DCEP. */
  datachannel: [RTCDataChannelEvent];
  /** Output is pending after an API call; drain pollTransmit() and re-check pollTimeout(). */
  wakeup: [];
  /** The association closed; `error` tells whether it failed or was aborted by the peer. */
  close: [{ reason: string; error: boolean }];
};

/** Counters of dropped data-channel input. */
export interface DataChannelManagerStats {
  /** Dropped messages by reason ('no-channel', 'bad-dcep', 'deprecated-ppid', ...). */
  drops: Record<string, number>;
}

/** Largest usable stream id (65535 is reserved by RFC 8831 section 6.5 in practice). */
const MAX_STREAM_ID = 65534;

interface ChannelState {
  channel: RTCDataChannel;
  /** Opener side: DCEP ACK received, so unordered delivery may be used (RFC 8832 section 6). */
  acked: boolean;
  incomingReset: boolean;
  outgoingReset: boolean;
  resetRequested: boolean;
}

/**
 * Owns the channels of one SCTP association. It is their DataChannelTransport (structurally:
 * those members are internal, so the published class does not name the interface).
 */
export class DataChannelManager extends TypedEventEmitter<DataChannelManagerEvents> {
  readonly association: SctpAssociation;
  readonly stats: DataChannelManagerStats = { drops: loggedDropCounters('datachannel', {}) };
  private readonly clock: Clock;
  private role: DtlsRole | undefined;
  private readonly byStream = new Map<number, ChannelState>();
  private readonly byChannel = new Map<RTCDataChannel, ChannelState>();
  /** Channels created before their id could be assigned. */
  private readonly unassigned: RTCDataChannel[] = [];
  private processing = false;

  /** `clock` stamps API calls (send, close); `role` may be given later with setDtlsRole. */
  constructor(association: SctpAssociation, options: { clock: Clock; role?: DtlsRole }) {
    super();
    this.association = association;
    this.clock = options.clock;
    this.role = options.role;
  }

  /** Sets the DTLS role once known; assigns pending stream ids. */
  setDtlsRole(role: DtlsRole): void {
    this.role = role;
    this.onTransportReady();
  }

  /** Open channels by stream id. */
  get channels(): ReadonlyMap<number, RTCDataChannel> {
    const m = new Map<number, RTCDataChannel>();
    for (const [id, s] of this.byStream) m.set(id, s.channel);
    return m;
  }

  /** webrtc-pc section 6.1 createDataChannel(): validates `init` and creates the channel. */
  createDataChannel(label: string, init: RTCDataChannelInit = {}): RTCDataChannel {
    const st = this.association.state;
    if (st === 'closed' || st.startsWith('shutdown')) throw new InvalidStateError('ERR_DATACHANNEL_TRANSPORT_CLOSED', 'the SCTP association is closed');
    if (Buffer.byteLength(label, 'utf8') > 65535) throw new InvalidArgumentError('ERR_DATACHANNEL_LABEL', 'label longer than 65535 bytes');
    const protocol = init.protocol ?? '';
    if (Buffer.byteLength(protocol, 'utf8') > 65535) throw new InvalidArgumentError('ERR_DATACHANNEL_PROTOCOL', 'protocol longer than 65535 bytes');
    if (init.maxPacketLifeTime !== undefined && init.maxRetransmits !== undefined) {
      throw new InvalidArgumentError('ERR_DATACHANNEL_RELIABILITY', 'maxPacketLifeTime and maxRetransmits are mutually exclusive');
    }
    for (const [k, v] of [['maxPacketLifeTime', init.maxPacketLifeTime], ['maxRetransmits', init.maxRetransmits]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 65535)) throw new InvalidArgumentError('ERR_DATACHANNEL_RELIABILITY', `${k} must be an integer in [0, 65535]`);
    }
    const negotiated = init.negotiated ?? false;
    let id: number | null = null;
    if (negotiated) {
      if (init.id === undefined) throw new InvalidArgumentError('ERR_DATACHANNEL_ID', 'a negotiated channel needs an id');
      if (!(Number.isInteger(init.id) && init.id >= 0 && init.id <= MAX_STREAM_ID)) throw new OutOfRangeError('ERR_DATACHANNEL_ID', `id must be in [0, ${MAX_STREAM_ID}]`);
      if (this.byStream.has(init.id)) throw new OperationError('ERR_DATACHANNEL_ID_IN_USE', `stream id ${init.id} is in use`);
      id = init.id;
    }
    const priority = init.priority ?? 'low';
    if (!(priority in PRIORITY_VALUE)) throw new InvalidArgumentError('ERR_DATACHANNEL_PRIORITY', `unknown priority ${String(priority)}`);
    const config: DataChannelConfig = {
      label,
      ordered: init.ordered ?? true,
      maxPacketLifeTime: init.maxPacketLifeTime ?? null,
      maxRetransmits: init.maxRetransmits ?? null,
      protocol,
      negotiated,
      id,
      priority,
    };
    const channel = new RTCDataChannel(config, this);
    if (id !== null) this.register(channel, id, true);
    else this.unassigned.push(channel);
    this.onTransportReady();
    return channel;
  }

  // ---------------------------------------------------------------- sans-I/O passthrough

  /** Feeds one SCTP packet (see SctpAssociation.handleInput), then dispatches channel events. */
  handleInput(now: number, packet: Uint8Array): void {
    this.association.handleInput(now, packet);
    this.process();
  }

  /** Fires association timers, then dispatches channel events. */
  handleTimeout(now: number): void {
    this.association.handleTimeout(now);
    this.process();
  }

  /**
   * The DTLS transport under the association closed or failed (see
   * SctpAssociation.transportEnded): the association ends and every channel closes.
   */
  transportEnded(now: number, reason: string, error: boolean): void {
    this.association.transportEnded(now, reason, error);
    this.process();
  }

  /** Next SCTP packet for DTLS, or undefined. */
  pollTransmit(): Buffer | undefined {
    const p = this.association.pollTransmit();
    // Sending may report buffered-amount-low; dispatch it.
    this.process();
    return p;
  }

  /** Next timer deadline of the association. */
  pollTimeout(): number | undefined {
    return this.association.pollTimeout();
  }

  /** Dispatches pending association events to channels. Re-entrant calls are folded into the running one. */
  process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let e = this.association.pollEvent(); e; e = this.association.pollEvent()) {
        switch (e.type) {
          case 'established':
            this.safeEmit('established');
            this.onTransportReady();
            break;
          case 'message':
            this.onMessage(e.streamId, e.ppid, e.data);
            break;
          case 'stream-reset':
            for (const id of e.streams) this.onStreamReset(id, e.direction, e.success);
            break;
          case 'buffered-amount-low':
            this.byStream.get(e.streamId)?.channel.fireBufferedAmountLow();
            break;
          case 'closed':
            this.onAssociationClosed(e.reason, e.error);
            break;
        }
      }
    } finally {
      this.processing = false;
    }
  }

  // ---------------------------------------------------------------- DataChannelTransport

  /** @internal */
  sendMessage(channel: RTCDataChannel, ppid: number, data: Uint8Array): void {
    const s = this.byChannel.get(channel);
    if (!s || channel.id === null) throw new InvalidStateError('ERR_DATACHANNEL_NOT_OPEN', 'channel has no stream');
    this.association.send(this.clock.now(), channel.id, ppid, data, this.sendOptions(s));
    this.wake();
  }

  /** @internal */
  closeChannel(channel: RTCDataChannel): void {
    const s = this.byChannel.get(channel);
    if (!s || channel.id === null || this.association.state !== 'established') {
      const i = this.unassigned.indexOf(channel);
      if (i >= 0) this.unassigned.splice(i, 1);
      if (s) this.unregister(s);
      channel.markClosed();
      return;
    }
    this.requestReset(s);
  }

  /** @internal */
  bufferedAmount(channel: RTCDataChannel): number {
    return channel.id === null ? 0 : this.association.bufferedAmount(channel.id);
  }

  /** @internal */
  setBufferedAmountLowThreshold(channel: RTCDataChannel, bytes: number): void {
    if (channel.id !== null) this.association.setBufferedAmountLowThreshold(channel.id, bytes);
  }

  // ---------------------------------------------------------------- internals

  private sendOptions(s: ChannelState): { unordered: boolean; maxRetransmits?: number; maxPacketLifeTime?: number } {
    const c = s.channel;
    // RFC 8832 section 6: until the ACK arrives, send ordered so the OPEN is delivered first.
    const o: { unordered: boolean; maxRetransmits?: number; maxPacketLifeTime?: number } = { unordered: !c.ordered && s.acked };
    if (c.maxRetransmits !== null) o.maxRetransmits = c.maxRetransmits;
    if (c.maxPacketLifeTime !== null) o.maxPacketLifeTime = c.maxPacketLifeTime;
    return o;
  }

  private register(channel: RTCDataChannel, id: number, acked: boolean): ChannelState {
    const s: ChannelState = { channel, acked, incomingReset: false, outgoingReset: false, resetRequested: false };
    this.byStream.set(id, s);
    this.byChannel.set(channel, s);
    return s;
  }

  private unregister(s: ChannelState): void {
    if (s.channel.id !== null && this.byStream.get(s.channel.id) === s) this.byStream.delete(s.channel.id);
    this.byChannel.delete(s.channel);
  }

  /** Assigns ids, sends DCEP OPENs and opens channels once the association and role allow. */
  private onTransportReady(): void {
    if (this.association.state !== 'established') return;
    if (this.role !== undefined) {
      while (this.unassigned.length) {
        const channel = this.unassigned.shift()!;
        const id = this.freeId();
        if (id === undefined) {
          channel.markClosed(new OperationError('ERR_DATACHANNEL_NO_STREAMS', 'no free SCTP stream id'));
          continue;
        }
        channel.assignId(id);
        this.register(channel, id, false);
        const { channelType, reliabilityParameter } = toChannelType(channel);
        const open = encodeDcepOpen({ channelType, priority: PRIORITY_VALUE[channel.priority], reliabilityParameter, label: channel.label, protocol: channel.protocol });
        this.association.send(this.clock.now(), id, Ppid.DCEP, open, { unordered: false });
      }
    }
    for (const s of this.byStream.values()) if (s.channel.readyState === 'connecting') s.channel.markOpen();
    this.wake();
  }

  private freeId(): number | undefined {
    for (let id = this.role === 'client' ? 0 : 1; id <= MAX_STREAM_ID; id += 2) if (!this.byStream.has(id)) return id;
    return undefined;
  }

  private onMessage(streamId: number, ppid: number, data: Buffer): void {
    if (ppid === Ppid.DCEP) return this.onDcep(streamId, data);
    const s = this.byStream.get(streamId);
    if (!s) return this.drop('no-channel');
    if (ppid !== Ppid.STRING && ppid !== Ppid.BINARY && ppid !== Ppid.STRING_EMPTY && ppid !== Ppid.BINARY_EMPTY) return this.drop('unknown-ppid');
    // RFC 8832 section 6: data before the ACK implies the peer has our OPEN.
    s.acked = true;
    s.channel.deliver(ppid, data);
  }

  private onDcep(streamId: number, data: Buffer): void {
    const m = parseDcep(data);
    if (!m) return this.drop('bad-dcep');
    const existing = this.byStream.get(streamId);
    if (m.type === 'ack') {
      if (!existing) return this.drop('ack-without-channel');
      existing.acked = true;
      return;
    }
    if (existing) return this.drop('open-on-used-stream');
    // RFC 8832 section 6: the peer opens on ids of its own parity.
    if (this.role !== undefined && (streamId % 2 === 0) === (this.role === 'client')) return this.drop('open-wrong-parity');
    const rel = fromChannelType(m.open.channelType, m.open.reliabilityParameter);
    if (!rel) return this.drop('bad-channel-type');
    const channel = new RTCDataChannel(
      {
        label: m.open.label,
        protocol: m.open.protocol,
        ordered: rel.ordered,
        maxRetransmits: rel.maxRetransmits,
        maxPacketLifeTime: rel.maxPacketLifeTime,
        negotiated: false,
        id: streamId,
        priority: priorityFromValue(m.open.priority),
      },
      this,
    );
    this.register(channel, streamId, true);
    this.association.send(this.clock.now(), streamId, Ppid.DCEP, encodeDcepAck(), { unordered: false });
    this.safeEmit('datachannel', { channel });
    channel.markOpen();
    this.wake();
  }

  private requestReset(s: ChannelState): void {
    if (s.resetRequested || s.channel.id === null) return;
    s.resetRequested = true;
    this.association.resetStreams(this.clock.now(), [s.channel.id]);
    this.wake();
  }

  /** RFC 8831 section 6.7: a channel is closed once both directions of its stream are reset. */
  private onStreamReset(id: number, direction: 'incoming' | 'outgoing', success: boolean): void {
    const s = this.byStream.get(id);
    if (!s) return;
    if (!success) {
      // The peer cannot reset streams (no RE-CONFIG) or refused: nothing more will come.
      this.unregister(s);
      s.channel.markClosed();
      return;
    }
    if (direction === 'incoming') {
      s.incomingReset = true;
      s.channel.markClosing();
      this.requestReset(s);
    } else {
      s.outgoingReset = true;
    }
    if (s.incomingReset && s.outgoingReset) {
      this.unregister(s);
      s.channel.markClosed();
    }
  }

  private onAssociationClosed(reason: string, error: boolean): void {
    const err = error ? new OperationError('ERR_SCTP_ASSOCIATION_CLOSED', reason) : undefined;
    for (const s of [...this.byStream.values()]) {
      this.unregister(s);
      s.channel.markClosed(err);
    }
    for (const c of this.unassigned.splice(0)) c.markClosed(err);
    this.safeEmit('close', { reason, error });
  }

  private wake(): void {
    if (!this.processing) this.process();
    this.safeEmit('wakeup');
  }

  private drop(reason: string): void {
    this.stats.drops[reason] = (this.stats.drops[reason] ?? 0) + 1;
  }
}
