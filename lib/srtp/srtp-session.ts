// SrtpSession: SRTP/SRTCP protect and unprotect (RFC 3711, RFC 7714) over the native engine,
// in batches (one native call per batch) or per packet into a caller's buffer; no allocation
// per call. Keys come from setKeys() or, without crossing into JS, from the DTLS binding.
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError } from '../common/errors.js';
import { nativeExport } from '../native/addon.js';
import type { SrtpBatch } from './srtp-batch.js';
import { srtpProfileLengths, type SrtpProtectionProfile } from './srtp-profile.js';
import { SRTP_COUNTER_SLOTS, SRTP_STATUS_NAMES, SrtpCounterIndex, SrtpStatus } from './srtp-status.js';

/** The native class (binding/srtp_session_binding.cpp); arguments are validated here first. */
interface NativeSrtpSession {
  key(profile: number, localKey: Uint8Array, localSalt: Uint8Array, remoteKey: Uint8Array, remoteSalt: Uint8Array): void;
  protectBatch(kind: number, buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, capacities: Uint32Array,
    results: Uint8Array, count: number): number;
  unprotectBatch(kind: number, buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, results: Uint8Array,
    count: number): number;
  bind(out: Uint8Array): void;
  protectAt(kind: number, offset: number, length: number, capacity: number): number;
  unprotectAt(kind: number, offset: number, length: number): number;
  readCounters(out: Float64Array): void;
  overhead(kind: number): number;
  keyed(): boolean;
  close(): void;
}
type NativeSrtpSessionClass = new (replayWindow: number, maxStreams: number) => NativeSrtpSession;

/** Which packets a call handles: RTP, RTCP, or decided per packet by RFC 5761 section 4. */
export const SrtpPacketKind = { rtp: 0, rtcp: 1, auto: 2 } as const;
/** One of the SrtpPacketKind values. */
export type SrtpPacketKind = (typeof SrtpPacketKind)[keyof typeof SrtpPacketKind];

/** Session limits. */
export interface SrtpSessionOptions {
  /** Replay window in packets: a multiple of 64 in [64, 32768]. Default 1024 (video). */
  replayWindow?: number;
  /** Most SSRCs per direction and kind; packets of further SSRCs are dropped. Default 64. */
  maxStreams?: number;
}

/** Master keys of both directions (RFC 3711 section 8.2). */
export interface SrtpKeys {
  /** The negotiated protection profile; fixes the key and salt lengths. */
  profile: SrtpProtectionProfile;
  /** Master key that protects what we send. */
  localMasterKey: Uint8Array;
  /** Master salt that protects what we send. */
  localMasterSalt: Uint8Array;
  /** Master key that unprotects what we receive. */
  remoteMasterKey: Uint8Array;
  /** Master salt that unprotects what we receive. */
  remoteMasterSalt: Uint8Array;
}

/** Counters by name (an allocating convenience over readCounters()). */
export interface SrtpSessionStats {
  /** RTP packets protected. */
  rtpProtected: number;
  /** SRTP packets accepted. */
  rtpUnprotected: number;
  /** RTCP packets protected. */
  rtcpProtected: number;
  /** SRTCP packets accepted. */
  rtcpUnprotected: number;
  /** Protect calls that failed (in batches, or thrown per packet). */
  protectFailed: number;
  /** Per-SSRC stream states held. */
  streams: number;
  /** Received packets dropped, by reason (SrtpStatus names). */
  dropped: Record<string, number>;
}

let nativeClass: NativeSrtpSessionClass | undefined;

function checkBuffer(name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new InvalidArgumentError('ERR_SRTP_BUFFER', `${name} must be a Uint8Array`);
}

function checkKind(kind: number): void {
  if (kind !== 0 && kind !== 1 && kind !== 2) throw new InvalidArgumentError('ERR_SRTP_KIND', `unknown packet kind ${kind}`);
}

/** Throws the typed error for a failed protect of a packet the application built. */
function throwProtectFailure(status: number): never {
  switch (status) {
    case SrtpStatus.notKeyed:
      throw new InvalidStateError('ERR_SRTP_NOT_KEYED', 'the SRTP session has no keys yet');
    case SrtpStatus.bufferTooSmall:
      throw new OutOfRangeError('ERR_SRTP_BUFFER_TOO_SMALL', 'the output buffer cannot hold the protected packet');
    case SrtpStatus.tooShort:
    case SrtpStatus.malformed:
      throw new InvalidArgumentError('ERR_SRTP_MALFORMED_PACKET', 'not a valid RTP/RTCP packet to protect');
    case SrtpStatus.streamLimit:
      throw new OperationError('ERR_SRTP_STREAM_LIMIT', 'too many SSRCs for this SRTP session');
    case SrtpStatus.indexExhausted:
      throw new OperationError('ERR_SRTP_INDEX_EXHAUSTED', 'the SRTP/SRTCP index cannot advance: rekey the session');
    default:
      throw new OperationError('ERR_SRTP_CRYPTO', `protect failed (${SRTP_STATUS_NAMES[status] ?? status})`);
  }
}

/**
 * One SRTP session: both directions of RTP and RTCP for one DTLS association (or one set of
 * SDES keys). Received packets that fail (authentication, replay, malformed, no keys) never
 * throw: they are dropped, counted by reason and reported per packet; API misuse throws a
 * PwtError with a stable code. Keys are wiped on close() or garbage collection.
 */
export class SrtpSession {
  private readonly native: NativeSrtpSession;
  private readonly counters = new Float64Array(SRTP_COUNTER_SLOTS);
  private isClosed = false;
  /** The output buffer the native side holds for the per-packet calls. */
  private bound: Uint8Array | undefined;

  constructor(options: SrtpSessionOptions = {}) {
    const replayWindow = options.replayWindow ?? 1024;
    const maxStreams = options.maxStreams ?? 64;
    if (!Number.isInteger(replayWindow) || replayWindow < 64 || replayWindow > 32768 || replayWindow % 64 !== 0) {
      throw new OutOfRangeError('ERR_SRTP_OPTIONS', `replayWindow must be a multiple of 64 in [64, 32768], got ${replayWindow}`);
    }
    if (!Number.isInteger(maxStreams) || maxStreams < 1 || maxStreams > 65536) {
      throw new OutOfRangeError('ERR_SRTP_OPTIONS', `maxStreams must be an integer in [1, 65536], got ${maxStreams}`);
    }
    nativeClass ??= nativeExport<NativeSrtpSessionClass>('SrtpSession');
    this.native = new nativeClass(replayWindow, maxStreams);
  }

  /**
   * The native object, for lib/dtls only: the DTLS binding keys it with
   * KeySrtpSessionFromDtls so that keys never reach JavaScript.
   */
  get nativeHandle(): object {
    return this.native;
  }

  /** True once keyed (by setKeys or DTLS) and not closed. */
  get keyed(): boolean {
    return !this.isClosed && this.native.keyed();
  }

  /** True after close(). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes protectRtp adds under the current keys (0 before keying). */
  get rtpOverhead(): number {
    return this.native.overhead(SrtpPacketKind.rtp);
  }

  /** Bytes protectRtcp adds under the current keys (0 before keying). */
  get rtcpOverhead(): number {
    return this.native.overhead(SrtpPacketKind.rtcp);
  }

  /**
   * Keys or rekeys the session (RFC 3711 section 4.3 derivation happens natively); every
   * per-SSRC state restarts. The caller keeps ownership of (and should wipe) the inputs.
   */
  setKeys(keys: SrtpKeys): void {
    this.checkOpen();
    const lengths = srtpProfileLengths(keys.profile);
    if (!lengths) throw new PwtError('NotSupportedError', 'ERR_SRTP_PROFILE', `unsupported SRTP profile ${String(keys.profile)}`);
    const parts: [string, Uint8Array, number][] = [
      ['localMasterKey', keys.localMasterKey, lengths.keyLength],
      ['localMasterSalt', keys.localMasterSalt, lengths.saltLength],
      ['remoteMasterKey', keys.remoteMasterKey, lengths.keyLength],
      ['remoteMasterSalt', keys.remoteMasterSalt, lengths.saltLength],
    ];
    for (const [name, value, length] of parts) {
      checkBuffer(name, value);
      if (value.length !== length) {
        throw new OutOfRangeError('ERR_SRTP_KEY_LENGTH', `${name} must be ${length} bytes for profile ${keys.profile}, got ${value.length}`);
      }
    }
    try {
      this.native.key(keys.profile, keys.localMasterKey, keys.localMasterSalt, keys.remoteMasterKey, keys.remoteMasterSalt);
    } catch (err) {
      throw new OperationError('ERR_SRTP_CRYPTO', 'keying the SRTP session failed', { cause: err });
    }
  }

  /**
   * Protects the RTP packet `packet` into `out` at `outOffset` (the same memory is fine: in
   * place). Returns the protected length. Throws on misuse (no keys, output too small, not RTP).
   */
  protectRtp(packet: Uint8Array, out: Uint8Array, outOffset = 0): number {
    return this.protectInto(SrtpPacketKind.rtp, packet, out, outOffset);
  }

  /** Protects an RTCP compound packet like protectRtp (adds tag + SRTCP index). */
  protectRtcp(packet: Uint8Array, out: Uint8Array, outOffset = 0): number {
    return this.protectInto(SrtpPacketKind.rtcp, packet, out, outOffset);
  }

  /**
   * Unprotects an SRTP packet into `out` at `outOffset` (or in place). Returns the clear
   * length, or a negative number (minus the SrtpStatus) when the packet was dropped; the
   * drop is counted. `out` may hold garbage after a drop.
   */
  unprotectRtp(packet: Uint8Array, out: Uint8Array, outOffset = 0): number {
    return this.unprotectInto(SrtpPacketKind.rtp, packet, out, outOffset);
  }

  /** Unprotects an SRTCP packet like unprotectRtp. */
  unprotectRtcp(packet: Uint8Array, out: Uint8Array, outOffset = 0): number {
    return this.unprotectInto(SrtpPacketKind.rtcp, packet, out, outOffset);
  }

  /** Unprotects an SRTP or SRTCP packet, told apart by RFC 5761 section 4 (rtcp-mux). */
  unprotect(packet: Uint8Array, out: Uint8Array, outOffset = 0): number {
    return this.unprotectInto(SrtpPacketKind.auto, packet, out, outOffset);
  }

  /**
   * Protects packets 0..count-1 of `batch` in place with ONE native call. Returns how many
   * succeeded; `batch.results[i]` says which (SrtpStatus.ok) and `batch.lengths[i]` is updated.
   */
  protectBatch(batch: SrtpBatch, count: number, kind: SrtpPacketKind = SrtpPacketKind.auto): number {
    this.checkOpen();
    this.checkCount(batch, count);
    checkKind(kind);
    return this.native.protectBatch(kind, batch.buffer, batch.offsets, batch.lengths, batch.capacities, batch.results, count);
  }

  /**
   * Unprotects packets 0..count-1 of `batch` in place with ONE native call. Returns how many
   * were accepted; dropped packets have a non-ok `batch.results[i]` and are counted.
   */
  unprotectBatch(batch: SrtpBatch, count: number, kind: SrtpPacketKind = SrtpPacketKind.auto): number {
    this.checkOpen();
    this.checkCount(batch, count);
    checkKind(kind);
    return this.native.unprotectBatch(kind, batch.buffer, batch.offsets, batch.lengths, batch.results, count);
  }

  /**
   * Refreshes and returns the session's counters array (no allocation): index it with
   * SrtpCounterIndex; drops of reason r are at `SrtpCounterIndex.droppedBase + r`.
   */
  readCounters(): Float64Array {
    if (!this.isClosed) this.native.readCounters(this.counters);
    return this.counters;
  }

  /** Received packets dropped for `reason` so far (no allocation). */
  dropped(reason: SrtpStatus): number {
    return this.readCounters()[SrtpCounterIndex.droppedBase + reason] ?? 0;
  }

  /** The counters by name (allocates; for getStats-style reporting). */
  stats(): SrtpSessionStats {
    const c = this.readCounters();
    const dropped: Record<string, number> = {};
    for (let i = 1; i < SRTP_STATUS_NAMES.length; i++) dropped[SRTP_STATUS_NAMES[i]!] = c[SrtpCounterIndex.droppedBase + i]!;
    return {
      rtpProtected: c[SrtpCounterIndex.rtpProtected]!,
      rtpUnprotected: c[SrtpCounterIndex.rtpUnprotected]!,
      rtcpProtected: c[SrtpCounterIndex.rtcpProtected]!,
      rtcpUnprotected: c[SrtpCounterIndex.rtcpUnprotected]!,
      protectFailed: c[SrtpCounterIndex.protectFailed]!,
      streams: c[SrtpCounterIndex.streams]!,
      dropped,
    };
  }

  /** Wipes the keys and frees the native contexts now; later calls throw ERR_SRTP_CLOSED. */
  close(): void {
    if (this.isClosed) return;
    this.native.readCounters(this.counters);
    this.native.close();
    this.bound = undefined;
    this.isClosed = true;
  }

  private protectInto(kind: number, packet: Uint8Array, out: Uint8Array, outOffset: number): number {
    if (out !== this.bound || !this.fits(packet, out, outOffset)) this.stage(packet, out, outOffset);
    out.set(packet, outOffset);
    const n = this.native.protectAt(kind, outOffset, packet.length, out.length - outOffset);
    if (n < 0) throwProtectFailure(-n);
    return n;
  }

  private unprotectInto(kind: number, packet: Uint8Array, out: Uint8Array, outOffset: number): number {
    if (out !== this.bound || !this.fits(packet, out, outOffset)) this.stage(packet, out, outOffset);
    out.set(packet, outOffset);
    return this.native.unprotectAt(kind, outOffset, packet.length);
  }

  /**
   * The per-call fast check: `out` is the bound buffer (so open and a Uint8Array) and the
   * packet fits at an integer offset. A detached bound buffer has length 0 and fails here.
   * The packet is always copied to `out[outOffset]` by the caller: for a packet already in
   * place that is a cheap memmove, while telling the cases apart needs TypedArray#buffer,
   * which costs more than the copy.
   */
  private fits(packet: Uint8Array, out: Uint8Array, outOffset: number): boolean {
    return packet instanceof Uint8Array && outOffset >>> 0 === outOffset && outOffset + packet.length <= out.length;
  }

  /** The slow path: full checks (throwing typed errors), then binds `out` natively. */
  private stage(packet: Uint8Array, out: Uint8Array, outOffset: number): void {
    this.checkOpen();
    checkBuffer('packet', packet);
    checkBuffer('out', out);
    this.checkOffset(out, outOffset, packet.length);
    if (out !== this.bound) {
      this.native.bind(out);
      this.bound = out;
    }
  }

  private checkOffset(out: Uint8Array, offset: number, length: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
      throw new OutOfRangeError('ERR_SRTP_BUFFER_TOO_SMALL', `a ${length} B packet does not fit the output at offset ${offset}`);
    }
  }

  private checkCount(batch: SrtpBatch, count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > batch.size) {
      throw new OutOfRangeError('ERR_SRTP_BATCH', `count must be an integer in [0, ${batch.size}], got ${count}`);
    }
  }

  private checkOpen(): void {
    if (this.isClosed) throw new InvalidStateError('ERR_SRTP_CLOSED', 'the SRTP session is closed');
  }
}
