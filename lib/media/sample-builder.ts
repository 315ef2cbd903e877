// Reassembles coded frames ("samples") from RTP packets: frames are runs of consecutive sequence
// numbers with one timestamp, ended by the marker bit (RFC 3550 §5.1) or the payload header.
// Not a jitter buffer: no playout timing, no clock; a frame comes out as soon as it is complete.
import { InvalidArgumentError, OutOfRangeError } from '../common/errors.js';
import type { RtpPacket } from '../rtp/rtp-packet.js';
import type { DepacketizedPayload, Depacketizer } from './payloader.js';

/** One reassembled frame. */
export interface Sample {
  /** The coded frame, as `Depacketizer.assemble` gives it. */
  data: Buffer;
  /** RTP timestamp of its packets. */
  timestamp: number;
  /** The first payload starts a keyframe (per the depacketizer's detection). */
  keyframe: boolean;
  /** Sequence number of its first packet. */
  firstSequenceNumber: number;
  /** Sequence number of its last packet. */
  lastSequenceNumber: number;
  /** Number of packets it was made of. */
  packetCount: number;
  /** Sequence numbers given up as lost since the previous sample (a decoder may want a keyframe). */
  packetsLostBefore: number;
  /** Frames dropped since the previous sample because a packet was lost or malformed. */
  framesDroppedBefore: number;
}

/** Counters of a sample builder (network input is counted, never thrown). */
export interface SampleBuilderStats {
  /** Samples returned. */
  samples: number;
  /** Sequence numbers never received before the window moved past them. */
  packetsLost: number;
  /** Frames thrown away: incomplete (a packet lost) or unassemblable (a payload malformed). */
  framesDropped: number;
  /** Packets that arrived after their frame was returned or given up. */
  latePackets: number;
  /** Packets whose sequence number was already buffered. */
  duplicatePackets: number;
  /** Packets the depacketizer refused (see its `drops` for why). */
  malformedPackets: number;
}

/** Options of the sample builder. */
export interface SampleBuilderOptions {
  /**
   * Reordering window in packets: a missing sequence number is given up as lost once a packet this
   * many sequence numbers later has arrived. Default 100.
   */
  maxLate?: number;
  /**
   * Largest frame in packets. A frame still open at this length (a sender that never sets the
   * marker nor changes the timestamp) is dropped, so the buffer stays bounded. Default 4096.
   */
  maxFramePackets?: number;
}

interface Entry {
  timestamp: number;
  marker: boolean;
  payload: Buffer;
  info: DepacketizedPayload | undefined;
}

/** What is known about the packet just before the head, when it was received. */
interface Previous {
  timestamp: number;
  marker: boolean;
}

/**
 * Builds samples from RTP packets of one stream (one SSRC and payload type). `push` every packet,
 * then `pop` until it returns `undefined`. Payloads are copied on `push`, so the receive buffer may
 * be reused. Packets may arrive out of order within `maxLate`; a frame with a lost or malformed
 * packet is dropped and counted, and the builder resynchronises at the next frame boundary. The
 * first sample comes out at once if it is a keyframe, else after `maxLate` packets (earlier
 * packets may still be on their way); later samples come out as soon as they are complete.
 */
export class SampleBuilder {
  /** Counters. */
  readonly stats: SampleBuilderStats = { samples: 0, packetsLost: 0, framesDropped: 0, latePackets: 0, duplicatePackets: 0, malformedPackets: 0 };
  private readonly maxLate: number;
  private readonly maxFramePackets: number;
  private readonly buffer = new Map<number, Entry>();
  // Extended (unwrapped) sequence numbers: `head` is the oldest not yet returned or given up.
  private head: number | undefined;
  private highest = 0;
  private started = false;
  private synced = true;
  private previous: Previous | undefined;
  private droppedTimestamp: number | undefined;
  private lostMark = 0;
  private droppedMark = 0;

  constructor(
    private readonly depacketizer: Depacketizer,
    options: SampleBuilderOptions = {},
  ) {
    const maxLate = options.maxLate ?? 100;
    if (!Number.isInteger(maxLate) || maxLate < 1 || maxLate > 0x4000) {
      throw new OutOfRangeError('ERR_MEDIA_MAX_LATE', `maxLate must be an integer in 1..16384, got ${maxLate}`);
    }
    this.maxLate = maxLate;
    const maxFramePackets = options.maxFramePackets ?? 4096;
    if (!Number.isInteger(maxFramePackets) || maxFramePackets < 1 || maxFramePackets > 0x8000) {
      throw new OutOfRangeError('ERR_MEDIA_MAX_FRAME', `maxFramePackets must be an integer in 1..32768, got ${maxFramePackets}`);
    }
    this.maxFramePackets = maxFramePackets;
  }

  /** Packets held, waiting for their frame to complete or for the reordering window to pass. */
  get bufferedPackets(): number {
    return this.buffer.size;
  }

  /** Adds one received packet; throws `ERR_MEDIA_PACKET` if its sequence number or timestamp is unset. */
  push(packet: RtpPacket): void {
    const seq = packet.sequenceNumber;
    const timestamp = packet.timestamp;
    if (seq === undefined || timestamp === undefined) {
      throw new InvalidArgumentError('ERR_MEDIA_PACKET', 'the sample builder needs packets with a sequence number and timestamp');
    }
    let ext: number;
    if (this.head === undefined) {
      // Start high enough that packets reordered before the first one keep positive numbers.
      ext = 0x10000 + seq;
      this.head = ext;
      this.highest = ext;
    } else {
      const diff = ((seq - (this.highest & 0xffff) + 0x18000) & 0xffff) - 0x8000;
      ext = this.highest + diff;
      if (ext < this.head) {
        // Before anything came out, an earlier packet just moves the start back (within the window).
        if (this.started || this.highest - ext >= this.maxLate) {
          this.stats.latePackets++;
          return;
        }
        this.head = ext;
      }
      if (ext > this.highest) this.highest = ext;
    }
    if (this.buffer.has(ext)) {
      this.stats.duplicatePackets++;
      return;
    }
    const payload = Buffer.from(packet.payload);
    const info = this.depacketizer.depacketize(payload);
    if (info === undefined) this.stats.malformedPackets++;
    this.buffer.set(ext, { timestamp, marker: packet.marker, payload, info });
  }

  /** The next complete sample, or `undefined` when none is ready yet. */
  pop(): Sample | undefined {
    return this.next(false);
  }

  /**
   * At the end of a stream: every sample still completable once the missing packets are given
   * up, in order; the rest is dropped and counted.
   */
  flush(): Sample[] {
    const out: Sample[] = [];
    for (let s = this.next(true); s !== undefined; s = this.next(true)) out.push(s);
    if (this.buffer.size > 0) {
      this.stats.framesDropped++;
      this.buffer.clear();
    }
    this.head = this.highest + 1;
    return out;
  }

  private next(force: boolean): Sample | undefined {
    for (;;) {
      const head = this.head;
      if (head === undefined) return undefined;
      const first = this.buffer.get(head);
      if (first === undefined) {
        if (!this.overdue(head, force)) return undefined;
        this.loseHead(head);
        continue;
      }
      if (!this.synced) {
        if (this.isBoundary(first)) {
          this.synced = true;
        } else {
          this.drop(head, head);
          continue;
        }
      }
      let end = head;
      let complete = false;
      for (;;) {
        const e = this.buffer.get(end);
        if (e === undefined) break;
        if (e.timestamp !== first.timestamp) {
          complete = true;
          end--;
          break;
        }
        if (e.marker || e.info?.frameEnd === true) {
          complete = true;
          break;
        }
        end++;
      }
      if (!complete && end - head >= this.maxFramePackets) {
        this.drop(head, end - 1);
        this.synced = false;
        continue;
      }
      if (!complete) {
        if (!this.overdue(end, force)) return undefined;
        // A packet of this frame is lost: drop the rest of it and resynchronise after the hole.
        this.drop(head, end - 1);
        this.synced = false;
        continue;
      }
      // Packets reordered ahead of the first one received can still arrive: unless the first frame
      // is a keyframe (where a decoder can start anyway), wait for the window before starting.
      if (!this.started && !force && !this.overdue(head, false) && !this.hasKeyframe(head, end)) return undefined;
      const sample = this.emit(head, end, first);
      if (sample !== undefined) return sample;
    }
  }

  private hasKeyframe(from: number, to: number): boolean {
    for (let s = from; s <= to; s++) if (this.buffer.get(s)!.info?.keyframe) return true;
    return false;
  }

  private overdue(seq: number, force: boolean): boolean {
    return force ? seq <= this.highest : this.highest - seq >= this.maxLate;
  }

  // Gives up the missing head and every missing sequence number after it, up to the next received one.
  private loseHead(head: number): void {
    let next = head + 1;
    while (next <= this.highest && !this.buffer.has(next)) next++;
    this.stats.packetsLost += next - head;
    this.head = next;
    this.previous = undefined;
    this.synced = false;
  }

  // A frame starts here if the payload says so, or the packet before it was received and ended a
  // frame (marker) or belonged to another one (timestamp), or the stream just began.
  private isBoundary(e: Entry): boolean {
    // One timestamp is one frame: the rest of a frame already dropped never starts a new one.
    if (e.timestamp === this.droppedTimestamp) return false;
    if (e.info?.frameStart === true) return true;
    if (e.info?.frameStart === false) return false;
    if (this.previous === undefined) return !this.started && this.stats.packetsLost === 0;
    return this.previous.marker || this.previous.timestamp !== e.timestamp;
  }

  // Throws away packets of a frame that cannot be completed, counting each frame once.
  private drop(from: number, to: number): void {
    const timestamp = this.buffer.get(from)!.timestamp;
    if (timestamp !== this.droppedTimestamp) {
      this.stats.framesDropped++;
      this.droppedTimestamp = timestamp;
    }
    this.discard(from, to);
  }

  private discard(from: number, to: number): void {
    for (let s = from; s <= to; s++) {
      const e = this.buffer.get(s)!;
      this.previous = { timestamp: e.timestamp, marker: e.marker };
      this.buffer.delete(s);
    }
    this.head = to + 1;
    this.started = true;
  }

  private emit(from: number, to: number, first: Entry): Sample | undefined {
    const payloads: Buffer[] = [];
    let keyframe = false;
    let malformed = false;
    for (let s = from; s <= to; s++) {
      const e = this.buffer.get(s)!;
      payloads.push(e.payload);
      if (e.info === undefined) malformed = true;
      else if (e.info.keyframe) keyframe = true;
    }
    this.discard(from, to);
    this.synced = true;
    const data = malformed ? undefined : this.depacketizer.assemble(payloads);
    if (data === undefined) {
      this.stats.framesDropped++;
      this.droppedTimestamp = first.timestamp;
      return undefined;
    }
    this.droppedTimestamp = undefined;
    this.stats.samples++;
    const sample: Sample = {
      data,
      timestamp: first.timestamp,
      keyframe,
      firstSequenceNumber: from & 0xffff,
      lastSequenceNumber: to & 0xffff,
      packetCount: to - from + 1,
      packetsLostBefore: this.stats.packetsLost - this.lostMark,
      framesDroppedBefore: this.stats.framesDropped - this.droppedMark,
    };
    this.lostMark = this.stats.packetsLost;
    this.droppedMark = this.stats.framesDropped;
    return sample;
  }
}
