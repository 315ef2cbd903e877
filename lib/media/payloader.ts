// The codec-neutral contract of the RTP payload formats in lib/media: a packetizer turns one coded
// frame into payloads, a depacketizer reads a payload's flags and joins a frame's payloads again.

/** Why a depacketizer refused a payload. Stable strings, used as counter keys. */
export type MediaDropReason = 'truncated' | 'malformed' | 'unsupported';

/** Per-reason counts of payloads a depacketizer refused (network input is counted, never thrown). */
export type DropCounters = Record<MediaDropReason, number>;

/** Returns zeroed drop counters. */
export function createDropCounters(): DropCounters {
  return { truncated: 0, malformed: 0, unsupported: 0 };
}

/** Splits coded frames into RTP payloads that each fit in `mtu` bytes. */
export interface Packetizer {
  /** RTP clock rate of the format (90000 for video, 48000 for Opus). */
  readonly clockRate: number;
  /**
   * Payloads for one frame, in sending order, each at most `mtu` bytes. Video senders set the RTP
   * marker bit on the last one (RFC 7741 §4.1, RFC 9628 §4.1, RFC 6184 §5.1, AV1 RTP §4.1).
   * Throws `ERR_MEDIA_MTU` for an unusable budget and `ERR_MEDIA_FRAME` for a frame the format
   * cannot carry (an Opus packet larger than `mtu`, an empty frame).
   */
  packetize(frame: Uint8Array, mtu: number): Buffer[];
  /** Whether the last payload of a frame carries the marker bit (video: yes; Opus: no). */
  readonly markerOnLastPayload: boolean;
}

/** What one payload says about the frame it belongs to. */
export interface DepacketizedPayload {
  /**
   * This payload's share of the coded frame with the payload header removed. For Opus, VP8, VP9 and
   * H.264 (which comes out in Annex B form) a frame is the concatenation of its payloads' `data`;
   * AV1 OBU fragments need `assemble`, which rebuilds the OBU size fields.
   */
  data: Buffer;
  /**
   * `true` when the payload says it starts a frame, `false` when it says it does not, `undefined`
   * when it cannot tell (some H.264 and AV1 payloads: then only the previous packet's marker bit or
   * a timestamp change can). The sample builder uses it to resynchronise after a loss.
   */
  frameStart: boolean | undefined;
  /** `true` when the payload header says it ends the frame (Opus always; VP9 E bit, single layer). */
  frameEnd: boolean;
  /** The payload starts (or carries the start of) a keyframe: what an SFU waits for to switch layers. */
  keyframe: boolean;
}

/** Reads RTP payloads of one format. Malformed payloads return `undefined` and are counted in `drops`. */
export interface Depacketizer {
  /** Payloads refused, by reason. */
  readonly drops: DropCounters;
  /** Parses one payload; `undefined` (and a count in `drops`) when it is malformed. */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined;
  /**
   * The coded frame carried by `payloads` (all payloads of one RTP timestamp, in sequence order),
   * in the form the containers store: IVF frames for VP8/VP9/AV1, an Annex B access unit for
   * H.264, an Opus packet. `undefined` (counted) when a payload is malformed or a fragment is missing.
   */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined;
}

/** Wraps a Uint8Array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Sizes of `count` chunks that split `total` bytes as evenly as possible (larger chunks first). */
export function evenChunks(total: number, maxChunk: number): number[] {
  const count = Math.max(1, Math.ceil(total / maxChunk));
  const base = Math.floor(total / count);
  const extra = total - base * count;
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) sizes.push(base + (i < extra ? 1 : 0));
  return sizes;
}
