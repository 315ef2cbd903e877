// The W3C RTCDataChannel (webrtc-pc section 6.2) over an SCTP stream (RFC 8831 section 6):
// readyState, send with string/binary PPIDs, bufferedAmount and its low threshold, binaryType,
// and the open / message / bufferedamountlow / error / closing / close events.
import { InvalidArgumentError, InvalidStateError, type PwtError } from '../common/errors.js';
import { TypedEventEmitter, reportListenerError } from '../common/typed-emitter.js';
import { Ppid, type RTCPriorityType } from './dcep.js';

/** RTCDataChannelState. */
export type RTCDataChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/**
 * How binary messages are surfaced: 'arraybuffer' (W3C default in browsers), 'blob', or
 * 'nodebuffer' (a Buffer, no copy; the fastest in Node).
 */
export type BinaryType = 'arraybuffer' | 'blob' | 'nodebuffer';

/** RTCDataChannelInit (webrtc-pc section 6.2), plus `priority` from webrtc-priority. */
export interface RTCDataChannelInit {
  ordered?: boolean;
  maxPacketLifeTime?: number;
  maxRetransmits?: number;
  protocol?: string;
  negotiated?: boolean;
  id?: number;
  priority?: RTCPriorityType;
}

/** The payload of a 'message' event. */
export interface DataChannelMessageEvent {
  type: 'message';
  data: string | ArrayBuffer | Buffer | Blob;
}

/** The payload of an 'error' event (an RTCError-like object). */
export interface DataChannelErrorEvent {
  type: 'error';
  error: PwtError | Error;
}

/** A plain event with only its type. */
export interface DataChannelSimpleEvent {
  type: 'open' | 'closing' | 'close' | 'bufferedamountlow';
}

/** Events of an RTCDataChannel. */
export type RTCDataChannelEvents = {
  open: [DataChannelSimpleEvent];
  message: [DataChannelMessageEvent];
  bufferedamountlow: [DataChannelSimpleEvent];
  error: [DataChannelErrorEvent];
  closing: [DataChannelSimpleEvent];
  close: [DataChannelSimpleEvent];
};

/** What a channel needs from the manager that owns it (implemented by DataChannelManager). */
export interface DataChannelTransport {
  /** Sends one message; throws the association's typed errors. */
  sendMessage(channel: RTCDataChannel, ppid: number, data: Uint8Array): void;
  /** Starts the closing procedure (RFC 8831 section 6.7). */
  closeChannel(channel: RTCDataChannel): void;
  bufferedAmount(channel: RTCDataChannel): number;
  setBufferedAmountLowThreshold(channel: RTCDataChannel, bytes: number): void;
}

/** Settings a channel is created with (validated by the manager). */
export interface DataChannelConfig {
  label: string;
  ordered: boolean;
  maxPacketLifeTime: number | null;
  maxRetransmits: number | null;
  protocol: string;
  negotiated: boolean;
  id: number | null;
  priority: RTCPriorityType;
}

const EMPTY_PAYLOAD = new Uint8Array(1);

/** A data channel, shaped like the W3C RTCDataChannel. Created by DataChannelManager. */
export class RTCDataChannel extends TypedEventEmitter<RTCDataChannelEvents> {
  readonly label: string;
  readonly ordered: boolean;
  readonly maxPacketLifeTime: number | null;
  readonly maxRetransmits: number | null;
  readonly protocol: string;
  readonly negotiated: boolean;
  readonly priority: RTCPriorityType;
  /** How binary messages are delivered (default 'arraybuffer'). */
  binaryType: BinaryType = 'arraybuffer';
  /** Event handler properties (called after listeners added with `on`). */
  onopen: ((ev: DataChannelSimpleEvent) => void) | null = null;
  onmessage: ((ev: DataChannelMessageEvent) => void) | null = null;
  onbufferedamountlow: ((ev: DataChannelSimpleEvent) => void) | null = null;
  onerror: ((ev: DataChannelErrorEvent) => void) | null = null;
  onclosing: ((ev: DataChannelSimpleEvent) => void) | null = null;
  onclose: ((ev: DataChannelSimpleEvent) => void) | null = null;

  /** RTCDataChannelStats counters (webrtc-stats section 7.8). */
  readonly stats = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };

  private _id: number | null;
  private _readyState: RTCDataChannelState = 'connecting';
  private _threshold = 0;
  private readonly transport: DataChannelTransport;

  /** @internal Created by DataChannelManager; applications call createDataChannel. */
  constructor(config: DataChannelConfig, transport: DataChannelTransport) {
    super();
    this.label = config.label;
    this.ordered = config.ordered;
    this.maxPacketLifeTime = config.maxPacketLifeTime;
    this.maxRetransmits = config.maxRetransmits;
    this.protocol = config.protocol;
    this.negotiated = config.negotiated;
    this.priority = config.priority;
    this._id = config.id;
    this.transport = transport;
  }

  /** The SCTP stream id, null until assigned (after the DTLS role is known). */
  get id(): number | null {
    return this._id;
  }

  /** RTCDataChannelState. */
  get readyState(): RTCDataChannelState {
    return this._readyState;
  }

  /** Bytes queued by send() and not yet handed to the network. */
  get bufferedAmount(): number {
    return this._id === null || this._readyState === 'closed' ? 0 : this.transport.bufferedAmount(this);
  }

  /** 'bufferedamountlow' fires when bufferedAmount falls from above to at or below this. */
  get bufferedAmountLowThreshold(): number {
    return this._threshold;
  }

  set bufferedAmountLowThreshold(bytes: number) {
    if (!(Number.isInteger(bytes) && bytes >= 0 && bytes <= 0xffff_ffff)) {
      throw new InvalidArgumentError('ERR_DATACHANNEL_THRESHOLD', 'bufferedAmountLowThreshold must be an unsigned 32-bit integer');
    }
    this._threshold = bytes;
    if (this._id !== null) this.transport.setBufferedAmountLowThreshold(this, bytes);
  }

  /**
   * Sends a message (webrtc-pc section 6.2 send()). Strings go as UTF-8 with PPID 51, binary
   * with PPID 53; empty messages use PPIDs 56/57 with one placeholder byte (RFC 8831 section 6.6).
   * Throws InvalidStateError unless open, TypeError (ERR_SCTP_MESSAGE_TOO_LARGE) above the
   * peer's max-message-size, OperationError when the send buffer is full.
   */
  send(data: string | Buffer | ArrayBuffer | ArrayBufferView): void {
    if (this._readyState !== 'open') throw new InvalidStateError('ERR_DATACHANNEL_NOT_OPEN', `data channel "${this.label}" is ${this._readyState}`);
    if (typeof data === 'string') {
      const bytes = Buffer.from(data, 'utf8');
      if (bytes.length === 0) this.transport.sendMessage(this, Ppid.STRING_EMPTY, EMPTY_PAYLOAD);
      else this.transport.sendMessage(this, Ppid.STRING, bytes);
      this.countSent(bytes.length);
      return;
    }
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else throw new InvalidArgumentError('ERR_DATACHANNEL_DATA_TYPE', 'send() takes a string, Buffer, ArrayBuffer or ArrayBufferView');
    if (bytes.length === 0) this.transport.sendMessage(this, Ppid.BINARY_EMPTY, EMPTY_PAYLOAD);
    // The association keeps a reference until sent: copy so later edits by the caller do not leak in.
    else this.transport.sendMessage(this, Ppid.BINARY, Buffer.from(bytes));
    this.countSent(bytes.length);
  }

  private countSent(n: number): void {
    this.stats.messagesSent++;
    this.stats.bytesSent += n;
  }

  /** Closes the channel (RFC 8831 section 6.7: reset of the outgoing stream, then incoming). */
  close(): void {
    if (this._readyState === 'closing' || this._readyState === 'closed') return;
    this._readyState = 'closing';
    this.transport.closeChannel(this);
  }

  /** @internal Assigns the stream id (DataChannelManager, once the DTLS role is known). */
  assignId(id: number): void {
    this._id = id;
    if (this._threshold) this.transport.setBufferedAmountLowThreshold(this, this._threshold);
  }

  /** @internal Moves to 'open' and fires the event. */
  markOpen(): void {
    if (this._readyState !== 'connecting') return;
    this._readyState = 'open';
    this.fire('open', { type: 'open' });
  }

  /** @internal The remote side began closing: fire 'closing' (webrtc-pc section 6.2.4). */
  markClosing(): void {
    if (this._readyState === 'closed') return;
    const was = this._readyState;
    this._readyState = 'closing';
    if (was !== 'closing') this.fire('closing', { type: 'closing' });
  }

  /** @internal Final state; fires 'error' first when `error` is given. */
  markClosed(error?: Error): void {
    if (this._readyState === 'closed') return;
    this._readyState = 'closed';
    if (error) this.fire('error', { type: 'error', error });
    this.fire('close', { type: 'close' });
  }

  /** @internal Delivers a received message with the given PPID. */
  deliver(ppid: number, data: Buffer): void {
    if (this._readyState !== 'open' && this._readyState !== 'closing') return;
    const empty = ppid === Ppid.STRING_EMPTY || ppid === Ppid.BINARY_EMPTY;
    this.stats.messagesReceived++;
    this.stats.bytesReceived += empty ? 0 : data.length;
    let value: string | ArrayBuffer | Buffer | Blob;
    if (ppid === Ppid.STRING) value = data.toString('utf8');
    else if (ppid === Ppid.STRING_EMPTY) value = '';
    else {
      const bytes = ppid === Ppid.BINARY_EMPTY ? data.subarray(0, 0) : data;
      if (this.binaryType === 'nodebuffer') value = bytes;
      else if (this.binaryType === 'blob') value = new Blob([bytes]);
      else value = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }
    this.fire('message', { type: 'message', data: value });
  }

  /** @internal Fires 'bufferedamountlow'. */
  fireBufferedAmountLow(): void {
    this.fire('bufferedamountlow', { type: 'bufferedamountlow' });
  }

  private fire<K extends keyof RTCDataChannelEvents & string>(event: K, ...args: RTCDataChannelEvents[K]): void {
    // An 'error' with no listener is not an exception for a W3C-shaped object.
    if (event !== 'error' || this.listenerCount('error') > 0) this.safeEmit(event, ...args);
    const handler = this[`on${event}` as `on${K}`] as ((...a: RTCDataChannelEvents[K]) => void) | null;
    if (handler) {
      try {
        handler.apply(this, args);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }
}
