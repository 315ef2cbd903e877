// Raw-RTP tracks: a remote MediaStreamTrack hands out received RtpPackets (recv() and async
// iteration), a LocalStreamTrack sends RtpPackets through the senders it is attached to. There is
// no codec, jitter buffer or NACK here (docs/policy.md: that is policy, served by swappable modules).
import { randomUUID } from 'node:crypto';
import { RtpPacket } from '../rtp/rtp-packet.js';
import type { RtcpPacket } from '../rtp/rtcp/compound.js';
import { PeerEventTarget, type PeerEvent } from './event-target.js';
import { PeerError } from './session-description.js';

/** `audio` or `video`. */
export type MediaKind = 'audio' | 'video';

/** Events of a track. */
export type MediaStreamTrackEvents = {
  /** The track ended (stopped locally, or its transceiver/connection went away). */
  ended: PeerEvent<'ended'>;
};

/** Most received packets a track keeps unread; older ones are dropped and counted. */
export const TRACK_QUEUE_LIMIT = 1024;

/**
 * A track. Remote tracks (from the `track` event) receive: `await track.recv()` or
 * `for await (const packet of track)`. The packets are views into memory the track owns.
 */
export class MediaStreamTrack extends PeerEventTarget<MediaStreamTrackEvents> implements AsyncIterable<RtpPacket> {
  /** The id given at construction, or the one made on the first read of {@link id}. */
  private idValue: string | undefined;
  readonly kind: MediaKind;
  private ridValue: string | undefined;
  /** True for tracks created by the peer connection for received media. */
  readonly remote: boolean;
  /** Packets dropped because nobody read them (queue above {@link TRACK_QUEUE_LIMIT}). */
  droppedPackets = 0;
  private state: 'live' | 'ended' = 'live';
  private readonly queue: RtpPacket[] = [];
  private head = 0;
  private readonly waiters: { resolve: (p: RtpPacket) => void; reject: (e: Error) => void }[] = [];

  constructor(init: { kind: MediaKind; id?: string; rid?: string; remote?: boolean }) {
    super();
    if (init?.kind !== 'audio' && init?.kind !== 'video') {
      throw new PeerError('TypeError', 'ERR_PEER_TRACK_KIND', `track kind must be 'audio' or 'video', got ${String(init?.kind)}`);
    }
    this.kind = init.kind;
    this.idValue = init.id;
    this.ridValue = init.rid;
    this.remote = init.remote ?? false;
  }

  /**
   * A unique id (the msid track id for remote tracks when announced). A random one is made on
   * the first read, not at construction: a connection makes two or three tracks that nobody may
   * ask the id of (docs/peer.md "Setup cost").
   */
  get id(): string {
    // Node's randomUUID() concatenates its hex pieces: a chain of a dozen string nodes (about
    // 0.4 KiB) held for the track's life. Copied once into one flat string of 36 bytes
    // (docs/architecture.md, memory).
    return (this.idValue ??= Buffer.from(randomUUID(), 'latin1').toString('latin1'));
  }

  /** For a simulcast layer: its rid (RFC 8851). */
  get rid(): string | undefined {
    return this.ridValue;
  }

  /** @internal The receiver's first track becomes the first simulcast layer. */
  setRid(rid: string): void {
    this.ridValue = rid;
  }

  /** W3C readyState. */
  get readyState(): 'live' | 'ended' {
    return this.state;
  }

  /** Handler of `ended`. */
  get onended(): ((event: PeerEvent<'ended'>) => void) | null {
    return this.getHandler('ended');
  }
  set onended(handler: ((event: PeerEvent<'ended'>) => void) | null) {
    this.setHandler('ended', handler);
  }

  /**
   * The next received packet. Rejects with InvalidStateError (ERR_PEER_TRACK_ENDED) once the
   * track has ended and no packet is left; throws on a local track.
   */
  recv(): Promise<RtpPacket> {
    if (!this.remote) throw new PeerError('InvalidStateError', 'ERR_PEER_TRACK_LOCAL', 'recv() is for remote tracks');
    if (this.head < this.queue.length) {
      const p = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as RtpPacket;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return Promise.resolve(p);
    }
    if (this.state === 'ended') return Promise.reject(endedError());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Async iteration over received packets; ends when the track ends. */
  async *[Symbol.asyncIterator](): AsyncIterator<RtpPacket> {
    for (;;) {
      let packet: RtpPacket;
      try {
        packet = await this.recv();
      } catch (err) {
        if (err instanceof PeerError && err.code === 'ERR_PEER_TRACK_ENDED') return;
        throw err;
      }
      yield packet;
    }
  }

  /** Ends the track (W3C stop()): pending recv() calls reject, iteration ends. Idempotent. */
  stop(): void {
    this.end();
  }

  /** @internal Delivers a received packet (the peer connection calls this). */
  push(packet: RtpPacket): void {
    if (this.state === 'ended') return;
    const w = this.waiters.shift();
    if (w) {
      w.resolve(packet);
      return;
    }
    if (this.queue.length - this.head >= TRACK_QUEUE_LIMIT) {
      this.queue[this.head++] = undefined as unknown as RtpPacket;
      this.droppedPackets++;
      if (this.head >= TRACK_QUEUE_LIMIT) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
    }
    this.queue.push(packet);
  }

  /** @internal Ends the track and fires `ended` once. */
  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.reject(endedError());
    this.dispatch({ type: 'ended' });
  }
}

function endedError(): PeerError {
  return new PeerError('InvalidStateError', 'ERR_PEER_TRACK_ENDED', 'the track has ended');
}

/** What a LocalStreamTrack sends through (an RTCRtpSender). */
export interface TrackSink {
  sendRtp(packet: RtpPacket, rid?: string): void;
  sendRtcp(packets: readonly RtcpPacket[] | Uint8Array): void;
}

/**
 * A track the application feeds with RTP packets: `track.send(new RtpPacket({ timestamp, payload }))`.
 * The sender fills SSRC, payload type, sequence number and negotiated header extensions when unset.
 * Packets sent before the connection is up are queued (bounded) and leave once it is connected.
 */
export class LocalStreamTrack extends MediaStreamTrack {
  private readonly sinks: TrackSink[] = [];

  constructor(init: { kind: MediaKind; id?: string }) {
    super({ ...init, remote: false });
  }

  /** Number of senders this track is attached to. */
  get senderCount(): number {
    return this.sinks.length;
  }

  /**
   * Sends one packet through every attached sender (it is modified in place: the sender fills
   * unset fields). For a simulcast sender `options.rid` names the layer. Throws
   * InvalidStateError when the track has ended.
   */
  send(packet: RtpPacket, options?: { rid?: string }): void {
    if (this.readyState === 'ended') throw new PeerError('InvalidStateError', 'ERR_PEER_TRACK_ENDED', 'send() on an ended track');
    if (!(packet instanceof RtpPacket)) throw new PeerError('TypeError', 'ERR_PEER_PACKET_TYPE', 'send() takes an RtpPacket (new RtpPacket({ timestamp, payload }))');
    const rid = options?.rid;
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.sendRtp(packet, rid);
  }

  /** Sends RTCP (packets, or one serialized compound packet) through every attached sender. */
  sendRtcp(packets: readonly RtcpPacket[] | Uint8Array): void {
    if (this.readyState === 'ended') throw new PeerError('InvalidStateError', 'ERR_PEER_TRACK_ENDED', 'sendRtcp() on an ended track');
    for (const s of this.sinks) s.sendRtcp(packets);
  }

  /** @internal */
  attach(sink: TrackSink): void {
    if (!this.sinks.includes(sink)) this.sinks.push(sink);
  }

  /** @internal */
  detach(sink: TrackSink): void {
    const i = this.sinks.indexOf(sink);
    if (i >= 0) this.sinks.splice(i, 1);
  }
}
