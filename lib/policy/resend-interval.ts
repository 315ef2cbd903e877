// How long after resending a packet a repeated NACK for it (RFC 4585 §6.2.1) is not answered again:
// the one rule of the NACK responder and the native forwarding engine (docs/policy.md "Resend interval").

/**
 * The resend interval's constants, in ms. The native engine has the same ones
 * (native/forward/forward_resend_guard.hpp); test/unit/sfu/router-resend-interval.test.ts checks
 * that both give the same interval.
 */
export const RESEND_INTERVAL = {
  /** Before any RTT is measured (libwebrtc's start-up RTT, mediasoup's default RTT). */
  unknownRttMs: 100,
  /** Added to a measured RTT for report delay and jitter (libwebrtc's packet history adds the same). */
  marginMs: 5,
  /** Floor: an RTT measured on loopback or a LAN is below a report's resolution and a receiver's timer. */
  minMs: 20,
  /** Ceiling: a packet lost again after a second is resent, whatever the RTT claims. */
  maxMs: 1000,
} as const;

/**
 * The resend interval for a round-trip time of `rttMs` (undefined: not measured yet): a NACK that
 * arrives sooner after our resend was sent before the receiver could have seen it (docs/policy.md
 * "Resend interval").
 */
export function resendIntervalMs(rttMs: number | undefined): number {
  if (rttMs === undefined || !Number.isFinite(rttMs) || rttMs < 0) return RESEND_INTERVAL.unknownRttMs;
  return Math.min(RESEND_INTERVAL.maxMs, Math.max(RESEND_INTERVAL.minMs, rttMs + RESEND_INTERVAL.marginMs));
}
