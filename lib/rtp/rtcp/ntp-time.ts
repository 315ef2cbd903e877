// NTP timestamps as RTCP carries them (RFC 3550 §4: 64-bit, seconds since 1900 + fraction) and the
// round-trip time from a report block's LSR/DLSR (RFC 3550 §6.4.1).

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;

/** The 64-bit NTP timestamp of a Unix time in milliseconds (wraps in 2036 like NTP era 0 does). */
export function ntpFromUnixMs(ms: number): bigint {
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.round(((ms - seconds * 1000) / 1000) * 2 ** 32);
  const sec = BigInt(seconds + NTP_UNIX_OFFSET_SECONDS) & 0xffffffffn;
  return ((sec << 32n) + BigInt(fraction)) & 0xffffffffffffffffn;
}

/** Unix time in milliseconds of a 64-bit NTP timestamp (era 0). */
export function ntpToUnixMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - NTP_UNIX_OFFSET_SECONDS;
  const fraction = Number(ntp & 0xffffffffn) / 2 ** 32;
  return (seconds + fraction) * 1000;
}

/** The middle 32 bits of an NTP timestamp: the LSR of a report block (RFC 3550 §6.4.1). */
export function ntpMiddle32(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffffffffn);
}

/**
 * The middle 32 bits of the NTP timestamp of a Unix time in milliseconds, equal to
 * `ntpMiddle32(ntpFromUnixMs(ms))` without the BigInts: what a report block's LSR/DLSR are compared
 * with (RFC 3550 §6.4.1) each time a report arrives, so computed with plain numbers.
 */
export function ntpMiddle32FromUnixMs(ms: number): number {
  let seconds = Math.floor(ms / 1000);
  let fraction = Math.round(((ms - seconds * 1000) / 1000) * 2 ** 32);
  // As the 64-bit sum does: a fraction rounded up to 2^32 carries into the seconds.
  if (fraction >= 2 ** 32) {
    seconds += 1;
    fraction -= 2 ** 32;
  }
  const sec = (seconds + NTP_UNIX_OFFSET_SECONDS) % 2 ** 32;
  return (((sec & 0xffff) << 16) | Math.floor(fraction / 65536)) >>> 0;
}

/**
 * Round-trip time in milliseconds from a report block received when the local NTP clock read
 * `nowNtp`: now - LSR - DLSR in 1/65536 s units (RFC 3550 §6.4.1). Null when the block has no LSR
 * (no SR received yet) or the result is negative (clock skew or a bogus report). Public API for
 * callers holding a 64-bit NTP timestamp; the reporters use {@link roundTripTimeMsAt}.
 */
export function roundTripTimeMs(nowNtp: bigint, lastSr: number, delaySinceLastSr: number): number | null {
  return roundTripTimeMsAt(ntpMiddle32(nowNtp), lastSr, delaySinceLastSr);
}

/** {@link roundTripTimeMs} with the local clock's middle 32 bits (`ntpMiddle32FromUnixMs`): no BigInt per report. */
export function roundTripTimeMsAt(nowMiddle32: number, lastSr: number, delaySinceLastSr: number): number | null {
  if (lastSr === 0) return null;
  const rtt = (nowMiddle32 - lastSr - delaySinceLastSr) >>> 0;
  // A "negative" difference wraps to a huge unsigned value; more than half the range is negative.
  if (rtt >= 0x80000000) return null;
  return (rtt * 1000) / 65536;
}
