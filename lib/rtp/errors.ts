// Typed parse errors and drop counters for RTP/RTCP bytes (RFC 3550 §5.1, §6.4; RFC 8285 §4).
// Network input is never thrown at the user's loop: tryParse returns null and counts the reason.
import { PwtError } from '../common/errors.js';

/** Why a datagram was not accepted as RTP or RTCP. Stable strings, used as counter keys. */
export type RtpParseFailureReason =
  | 'truncated'
  | 'bad-version'
  | 'bad-padding'
  | 'bad-extension'
  | 'bad-length'
  | 'bad-field';

/** Every failure reason, in a fixed order (for stats tables). */
export const RTP_PARSE_FAILURE_REASONS: readonly RtpParseFailureReason[] = Object.freeze([
  'truncated',
  'bad-version',
  'bad-padding',
  'bad-extension',
  'bad-length',
  'bad-field',
]);

/** Per-reason drop counters; pass one to `tryParse` to count what was dropped and why. */
export type RtpDropCounters = Record<RtpParseFailureReason, number>;

/** Returns a zeroed set of drop counters. */
export function createRtpDropCounters(): RtpDropCounters {
  return { truncated: 0, 'bad-version': 0, 'bad-padding': 0, 'bad-extension': 0, 'bad-length': 0, 'bad-field': 0 };
}

/**
 * Thrown only by the explicit `parse` calls (`RtpPacket.parse`, `parseRtcp`) when the bytes are not a
 * valid packet. `code` is `ERR_RTP_PARSE` or `ERR_RTCP_PARSE`; `reason` says what was wrong.
 */
export class RtpParseError extends PwtError {
  /** Which check failed. */
  readonly reason: RtpParseFailureReason;

  constructor(code: 'ERR_RTP_PARSE' | 'ERR_RTCP_PARSE', reason: RtpParseFailureReason, message: string) {
    super('SyntaxError', code, message);
    this.reason = reason;
  }
}
