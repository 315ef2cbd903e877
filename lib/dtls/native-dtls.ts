// Types of the native DTLS classes (binding/dtls_*_binding.cpp) and the mapping of their
// coded errors onto lib/common/errors.ts; nothing else in lib/dtls sees the addon directly.
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError } from '../common/errors.js';
import { nativeExport } from '../native/addon.js';

/** Native DtlsCertificate: `new (0, keyType, validitySeconds)` or `new (1, certPem, keyPem)`. */
export interface NativeDtlsCertificate {
  fingerprint(algorithm: number): Buffer;
  certificatePem(): string;
  privateKeyPem(): string;
  expires(): number;
  keyType(): string;
}

/** Constructor of the native DtlsCertificate. */
export type NativeDtlsCertificateClass = new (mode: number, a: number | string, b: number | string) => NativeDtlsCertificate;

/** JS-owned arrays the engine reads batches from and writes batches into. */
export interface NativeDtlsPool {
  buffer: Uint8Array;
  lengths: Uint32Array;
  counters: Float64Array;
}

/** Flags returned by every driving call. */
export const FLAG_TRANSMIT = 1;
/** Application data waits in pollData. */
export const FLAG_DATA = 2;
/** state() changed. */
export const FLAG_STATE_CHANGED = 4;

/** Native DtlsEngine (see binding/dtls_engine_binding.cpp for the contract of each call). */
export interface NativeDtlsEngine {
  start(): number;
  handleInput(count: number): number;
  handleTimeout(): number;
  timeoutUs(): number;
  pollTransmit(): number;
  pollData(): number;
  send(count: number): number;
  close(): number;
  setRemoteFingerprints(algorithms: Uint8Array, digests: Uint8Array): number;
  state(): number;
  failureReason(): string;
  wasConnected(): boolean;
  srtpProfile(): number;
  cipherSuite(): string;
  cipherSuiteStandardName(): string;
  tlsVersion(): number;
  handedOver(): boolean;
  /** True while work posted to the handshake thread is not yet applied. */
  awaitingThread(): boolean;
  /** True when this engine's handshake runs on the environment's handshake thread (adaptive: until it chose in place). */
  onHandshakeThread(): boolean;
  remoteCertificate(): Buffer | null;
  counters(): void;
  keySrtp(session: object): boolean;
  exportKeyingMaterialForTest(label: string, length: number): Buffer;
}

/** Constructor of the native DtlsEngine, and its process-wide count of refused handshake threads. */
export interface NativeDtlsEngineClass {
  /**
   * Positional, so that the binding reads no property by name (docs/peer.md "Setup cost"). `role`
   * 1 is the server; `keepSsl` keeps OpenSSL's SSL for the whole connection instead of the handover
   * (docs/dtls.md); `handshakeThread` 1 runs the handshake on the native handshake thread (docs/dtls.md,
   * "Handshake thread"), 2 lets the engine choose when its handshake starts (adaptive), 0 in place;
   * with 1 or 2 `onWake` is called on this thread with the flags when results of the thread arrive;
   * `buffer`, `lengths` and `counters` are the thread's NativeDtlsPool.
   */
  new (
    certificate: NativeDtlsCertificate, role: 0 | 1, mtu: number, initialTimeoutMs: number, maxTimeoutMs: number,
    profiles: Uint16Array, keepSsl: boolean, handshakeThread: 0 | 1 | 2, onWake: ((flags: number) => void) | undefined,
    buffer: Uint8Array, lengths: Uint32Array, counters: Float64Array,
  ): NativeDtlsEngine;
  /** Times this process could not create a handshake thread (each time one engine ran its handshake in-thread). */
  handshakeThreadRefusals(): number;
  /**
   * This thread's handshake admission (docs/dtls.md "Handshakes in flight"): [limit, then per role,
   * client then server: in flight, most at once, waiting now, waited so far, reclaimed as stale], or null before its
   * first handshake on a handshake thread; then (14 values) the adaptive engines: in-thread by choice
   * now, in-thread so far, on the threads so far. Absent in an addon older than this file.
   */
  handshakeAdmission?(): Float64Array | null;
  /**
   * The process's ECDHE key pools (docs/dtls.md "Library context"), per group (X25519, then
   * P-256): [keys pooled now, capacity, taken by handshakes, asked for while empty, made in idle
   * time, CPU ms those took]. Absent in an addon older than this file.
   */
  keyPools?(): Float64Array;
}

/** The native DtlsCertificate class (loads the addon on first use). */
export function nativeDtlsCertificateClass(): NativeDtlsCertificateClass {
  return nativeExport<NativeDtlsCertificateClass>('DtlsCertificate');
}

/** The native DtlsEngine class (loads the addon on first use). */
export function nativeDtlsEngineClass(): NativeDtlsEngineClass {
  return nativeExport<NativeDtlsEngineClass>('DtlsEngine');
}

/** Runs a native call and rethrows its coded error as the matching PwtError subclass. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapNativeError(err);
  }
}

function mapNativeError(err: unknown): unknown {
  if (err instanceof PwtError || !(err instanceof Error)) return err;
  const code = (err as Error & { code?: unknown }).code;
  if (typeof code !== 'string') return err;
  if (code === 'ERR_DTLS_STATE') return new InvalidStateError(code, err.message, { cause: err });
  if (err instanceof RangeError) return new OutOfRangeError(code, err.message, { cause: err });
  if (err instanceof TypeError) return new InvalidArgumentError(code, err.message, { cause: err });
  return new OperationError(code, err.message, { cause: err });
}
