// Per-packet results of the native SRTP engine (mirrors native/srtp/srtp_status.hpp) and the
// layout of the counters array (RFC 3711 section 3.3/3.4 failure points, counted by reason).

/** Result of one packet in a batch; values match the native SrtpStatus enum. */
export const SrtpStatus = {
  ok: 0,
  tooShort: 1,
  malformed: 2,
  authFailed: 3,
  replayed: 4,
  tooOld: 5,
  streamLimit: 6,
  notKeyed: 7,
  bufferTooSmall: 8,
  indexExhausted: 9,
  cryptoError: 10,
  invalidKey: 11,
  invalidProfile: 12,
  invalidArgument: 13,
} as const;

/** One of the SrtpStatus values. */
export type SrtpStatus = (typeof SrtpStatus)[keyof typeof SrtpStatus];

/** Name of each SrtpStatus value, indexed by the value. */
export const SRTP_STATUS_NAMES: readonly (keyof typeof SrtpStatus)[] = [
  'ok', 'tooShort', 'malformed', 'authFailed', 'replayed', 'tooOld', 'streamLimit', 'notKeyed',
  'bufferTooSmall', 'indexExhausted', 'cryptoError', 'invalidKey', 'invalidProfile', 'invalidArgument',
];

/**
 * Indices into the Float64Array that SrtpSession.readCounters() fills: four totals,
 * failed protects, received packets dropped per SrtpStatus (at `droppedBase + status`),
 * and the number of per-SSRC streams held.
 */
export const SrtpCounterIndex = {
  rtpProtected: 0,
  rtpUnprotected: 1,
  rtcpProtected: 2,
  rtcpUnprotected: 3,
  protectFailed: 4,
  droppedBase: 5,
  streams: 5 + SRTP_STATUS_NAMES.length,
} as const;

/** Length of the counters array. */
export const SRTP_COUNTER_SLOTS = SrtpCounterIndex.streams + 1;
