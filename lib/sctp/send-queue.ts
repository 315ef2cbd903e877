// Outbound message queue (RFC 9260 section 6.9 fragmentation; RFC 8260 section 3 for
// interleaving): per-stream FIFOs served round-robin, sequence numbers assigned on the first
// fragment, buffered amounts per stream with low-threshold notifications.

/** A user message waiting to be (fully) fragmented. */
export interface OutMessage {
  streamId: number;
  ppid: number;
  data: Uint8Array;
  unordered: boolean;
  /** PR-SCTP limit on retransmissions (RFC 3758 "rtx" policy). */
  maxRetransmits: number | undefined;
  /** PR-SCTP lifetime deadline in `now` milliseconds ("ttl" policy). */
  expiresAt: number | undefined;
  /** Bytes already handed out as fragments. */
  offset: number;
  /** SSN (DATA) or MID (I-DATA), assigned on the first fragment; -1 before. */
  sequence: number;
  nextFsn: number;
  abandoned: boolean;
}

/** One fragment taken from the queue. */
export interface OutFragment {
  msg: OutMessage;
  data: Uint8Array;
  fsn: number;
  beginning: boolean;
  ending: boolean;
}

interface OutStream {
  queue: OutMessage[];
  head: number;
  nextSsn: number;
  nextOrderedMid: number;
  nextUnorderedMid: number;
  buffered: number;
  lowThreshold: number;
}

/** Per-stream outbound FIFOs with a round-robin scheduler. */
export class SendQueue {
  /** Bytes queued over all streams. */
  totalBuffered = 0;
  /** Messages dropped because their lifetime ran out before any fragment was sent. */
  expiredUnsent = 0;
  private readonly streams = new Map<number, OutStream>();
  /** Streams with queued messages, in service order. */
  private ready: number[] = [];
  /** DATA mode: the message being fragmented; its fragments need consecutive TSNs. */
  private current: OutMessage | undefined;
  private interleaving = false;
  private readonly lowEvents: number[] = [];

  /** Selects I-DATA semantics (MIDs and fragment interleaving) once negotiated. */
  setInterleaving(on: boolean): void {
    this.interleaving = on;
  }

  /** Appends a message to its stream. */
  enqueue(msg: OutMessage): void {
    const s = this.stream(msg.streamId);
    if (s.head === s.queue.length) {
      s.queue = [];
      s.head = 0;
      if (this.current?.streamId !== msg.streamId) this.ready.push(msg.streamId);
    }
    s.queue.push(msg);
    s.buffered += msg.data.length;
    this.totalBuffered += msg.data.length;
  }

  /** Bytes queued on `streamId` and not yet handed to the network. */
  bufferedAmount(streamId: number): number {
    return this.streams.get(streamId)?.buffered ?? 0;
  }

  /** Sets the threshold under which a stream's drain is reported by takeLowEvents. */
  setLowThreshold(streamId: number, bytes: number): void {
    this.stream(streamId).lowThreshold = bytes;
  }

  /** Streams whose buffered amount fell to or below their threshold since the last call. */
  takeLowEvents(): number[] {
    return this.lowEvents.length ? this.lowEvents.splice(0) : this.lowEvents;
  }

  /** True when any message waits. */
  get hasData(): boolean {
    return this.current !== undefined || this.ready.length > 0;
  }

  /** True when `streamId` has a message not fully fragmented yet. */
  hasQueued(streamId: number): boolean {
    const s = this.streams.get(streamId);
    return s !== undefined && s.head < s.queue.length;
  }

  /**
   * Takes the next fragment of at most `maxPayload` bytes. Messages whose lifetime ended
   * before their first fragment are dropped here (they used no sequence number).
   */
  next(maxPayload: number, now: number): OutFragment | undefined {
    for (;;) {
      const msg = this.current ?? this.pickMessage();
      if (!msg) return undefined;
      if (msg.offset === 0 && msg.expiresAt !== undefined && now > msg.expiresAt) {
        this.expiredUnsent++;
        this.finishMessage(msg, msg.data.length);
        continue;
      }
      const s = this.stream(msg.streamId);
      if (msg.sequence < 0) {
        if (!this.interleaving) msg.sequence = msg.unordered ? 0 : s.nextSsn++ & 0xffff;
        else if (msg.unordered) msg.sequence = s.nextUnorderedMid++ >>> 0;
        else msg.sequence = s.nextOrderedMid++ >>> 0;
        s.nextSsn &= 0xffff;
        s.nextOrderedMid >>>= 0;
        s.nextUnorderedMid >>>= 0;
      }
      const len = Math.min(maxPayload, msg.data.length - msg.offset);
      const frag: OutFragment = {
        msg,
        data: msg.data.subarray(msg.offset, msg.offset + len),
        fsn: msg.nextFsn++,
        beginning: msg.offset === 0,
        ending: msg.offset + len === msg.data.length,
      };
      msg.offset += len;
      this.consume(s, msg.streamId, len);
      if (frag.ending) this.finishMessage(msg, 0);
      else if (this.interleaving) {
        // Interleave: the stream goes to the back; its head message continues next turn.
        this.current = undefined;
        this.ready.push(msg.streamId);
      } else this.current = msg;
      return frag;
    }
  }

  /** Drops the unsent rest of an abandoned message (RFC 3758 section 3.5 A3). */
  abandon(msg: OutMessage): void {
    if (msg.offset >= msg.data.length) return;
    const s = this.stream(msg.streamId);
    const q = s.queue;
    if (q[s.head] !== msg) return;
    this.consume(s, msg.streamId, msg.data.length - msg.offset);
    msg.offset = msg.data.length;
    if (this.current === msg) this.current = undefined;
    else this.ready = this.ready.filter((id) => id !== msg.streamId);
    s.head++;
    if (s.head < q.length) this.ready.push(msg.streamId);
  }

  /** Outgoing stream reset performed (RFC 6525 section 5.1.2): sequences restart at 0. */
  resetStream(streamId: number): void {
    const s = this.streams.get(streamId);
    if (!s) return;
    s.nextSsn = 0;
    s.nextOrderedMid = 0;
    s.nextUnorderedMid = 0;
  }

  private pickMessage(): OutMessage | undefined {
    while (this.ready.length) {
      const id = this.ready[0]!;
      const s = this.streams.get(id)!;
      if (s.head < s.queue.length) {
        this.ready.shift();
        const msg = s.queue[s.head]!;
        // Re-queue the stream only after this message is done (finishMessage) or interleaved.
        return msg;
      }
      this.ready.shift();
    }
    return undefined;
  }

  private finishMessage(msg: OutMessage, unsentBytes: number): void {
    const s = this.stream(msg.streamId);
    if (unsentBytes) this.consume(s, msg.streamId, unsentBytes);
    if (this.current === msg) this.current = undefined;
    s.head++;
    if (s.head < s.queue.length) this.ready.push(msg.streamId);
    else {
      s.queue = [];
      s.head = 0;
    }
  }

  private consume(s: OutStream, streamId: number, n: number): void {
    const before = s.buffered;
    s.buffered -= n;
    this.totalBuffered -= n;
    if (before > s.lowThreshold && s.buffered <= s.lowThreshold) this.lowEvents.push(streamId);
  }

  private stream(id: number): OutStream {
    let s = this.streams.get(id);
    if (!s) {
      s = { queue: [], head: 0, nextSsn: 0, nextOrderedMid: 0, nextUnorderedMid: 0, buffered: 0, lowThreshold: 0 };
      this.streams.set(id, s);
    }
    return s;
  }
}
