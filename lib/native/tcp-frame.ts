// Typed view of the addon's TCP framing (binding/tcp_frame_binding.cpp; docs/udp.md "TCP framing"):
// RFC 4571 / RFC 8656 §12.5 stream framing and SRTP of one read in one native call, and the
// thread's shared batch arrays that call writes into.
import { nativeExport } from './addon.js';

/** How a stream is framed (native TcpFraming). */
export const enum TcpFraming {
  /** ICE-TCP: a 16-bit length before every packet (RFC 4571 §2, RFC 6544 §3). */
  rfc4571 = 0,
  /** A stream to a TURN server: STUN messages and ChannelData padded to 4 (RFC 8656 §12.5). */
  turnStream = 1,
}

/** Why a reader gave up its stream (native TcpFrameError). */
export const enum TcpFrameError {
  none = 0,
  frameTooBig = 1,
  garbage = 2,
}

/** Counter indexes of the shared counter array (native TcpCounter). */
export const enum TcpCounter {
  framesIn = 0,
  bytesIn,
  reads,
  srtpUnprotected,
  srtpRecvDropped,
  channelDataReceived,
  channelDataMalformed,
  framesOut,
  bytesOut,
  srtpProtected,
  srtpProtectFailed,
  emptyFrames,
  streamsBroken,
  forwarded,
}

/** One connection's native framing state and SRTP route. */
export interface NativeTcpFrameReader {
  /** The SRTP session that unprotects this connection's frames (null: none); `channel` for a TURN stream. */
  setSrtpSession(session: object | null, channel?: number): boolean;
  /** Runs a native ForwardEngine inside this connection's read batches (null: off); false when not an engine. */
  setForwardEngine(engine: object | null): boolean;
  /** Writes [pending bytes, pending since (ms), announced length of the pending frame, TcpFrameError]. */
  state(out: Float64Array): void;
}

/** The thread's batch: frames of one read, and the protect output. */
export interface NativeTcpFrameBatch {
  /** Frames of `chunk[offset..]` written into the batch (-1: misuse); info[0] consumed, info[1] error, info[2] bytes pending, info[3] 1 when that frame began in this read. */
  read(reader: NativeTcpFrameReader, chunk: Uint8Array, offset: number, nowMs: number): number;
  /** Bytes of `out` holding the protected frames (-1: misuse or no session); info[0] packets taken. */
  protect(reader: NativeTcpFrameReader, pool: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
}

/** Largest frame a reader may be bounded to (native TcpFrameReader::kMaxFrameBound). */
export const TCP_MAX_FRAME_BOUND = 65535 + 20;
/** Frames one read may write at most (the forwarding engine's batch, UdpSocket::kMaxBatch). */
export const TCP_BATCH_FRAMES = 64;
/** The batch's byte area: the largest frame always fits an empty batch. */
const TCP_BATCH_BYTES = 128 * 1024;
/** The protect output (the largest frame and its overhead fit). */
const TCP_OUT_BYTES = 128 * 1024;

/** The arrays of the thread's batch, read by JavaScript after each call. */
export interface TcpFrameBatchArrays {
  readonly buffer: Buffer;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  /** Per frame: 0 not routed (STUN, DTLS, no session), 1 unprotected in place, 2 + SrtpStatus refused, 252 malformed ChannelData. */
  readonly status: Uint8Array;
  /** Per frame: 1 when a routed TURN channel's header was stripped. */
  readonly relayed: Uint8Array;
  readonly info: Uint32Array;
  /** TcpCounter indexes, for every connection of the thread. */
  readonly counters: Float64Array;
  readonly out: Buffer;
  readonly results: Uint8Array;
}

/** The SFU engine's sink for a leg over TCP: framed datagrams handed over once per event-loop turn. */
export interface NativeTcpForwardSink {
  /** [frames framed, datagrams dropped past the pending bound, bytes pending]. */
  stats(): [number, number, number];
  close(): void;
}

interface NativeTcpForwardSinkConstructor {
  new (onBytes: (bytes: Buffer) => void, maxPendingBytes: number): NativeTcpForwardSink;
}

/**
 * A sink the forwarding engine frames a TCP leg's datagrams into (RFC 4571); `onBytes` gets all of
 * them once per event-loop turn, to write to the connection (docs/sfu.md "Legs over TCP").
 */
export function createTcpForwardSink(onBytes: (bytes: Buffer) => void, maxPendingBytes: number): NativeTcpForwardSink {
  const Sink = nativeExport<NativeTcpForwardSinkConstructor>('TcpForwardSink');
  return new Sink(onBytes, maxPendingBytes);
}

interface NativeTcpFrameBatchConstructor {
  new (arrays: TcpFrameBatchArrays): NativeTcpFrameBatch;
}
interface NativeTcpFrameReaderConstructor {
  new (framing: TcpFraming, maxFrame: number): NativeTcpFrameReader;
}

let shared: { batch: NativeTcpFrameBatch; arrays: TcpFrameBatchArrays } | undefined;

/**
 * The thread's TCP frame batch (one per thread: each call uses it synchronously), created on first
 * use; its counters sum every connection of the thread.
 */
export function tcpFrameBatch(): { batch: NativeTcpFrameBatch; arrays: TcpFrameBatchArrays } {
  if (!shared) {
    const count = nativeExport<number>('tcpCounterCount');
    const arrays: TcpFrameBatchArrays = {
      buffer: Buffer.alloc(TCP_BATCH_BYTES),
      offsets: new Uint32Array(TCP_BATCH_FRAMES),
      lengths: new Uint32Array(TCP_BATCH_FRAMES),
      status: new Uint8Array(TCP_BATCH_FRAMES),
      relayed: new Uint8Array(TCP_BATCH_FRAMES),
      info: new Uint32Array(4),
      counters: new Float64Array(count),
      out: Buffer.alloc(TCP_OUT_BYTES),
      results: new Uint8Array(1024),
    };
    const Batch = nativeExport<NativeTcpFrameBatchConstructor>('TcpFrameBatch');
    shared = { batch: new Batch(arrays), arrays };
  }
  return shared;
}

/** A connection's reader: `maxFrame` bounds one frame (1..TCP_MAX_FRAME_BOUND). */
export function createTcpFrameReader(framing: TcpFraming, maxFrame: number): NativeTcpFrameReader {
  const Reader = nativeExport<NativeTcpFrameReaderConstructor>('TcpFrameReader');
  return new Reader(framing, maxFrame);
}
