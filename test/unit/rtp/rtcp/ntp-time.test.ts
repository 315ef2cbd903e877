// NTP timestamp helpers and RTT from LSR/DLSR (RFC 3550 §4, §6.4.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NTP_UNIX_OFFSET_SECONDS, ntpFromUnixMs, ntpMiddle32, ntpMiddle32FromUnixMs, ntpToUnixMs, roundTripTimeMs, roundTripTimeMsAt } from '../../../../lib/rtp/rtcp/ntp-time.js';

test('Unix epoch is NTP second 2208988800; half a second is fraction 2^31', () => {
  assert.equal(ntpFromUnixMs(0), BigInt(NTP_UNIX_OFFSET_SECONDS) << 32n);
  assert.equal(ntpFromUnixMs(500) & 0xffffffffn, 0x80000000n);
  assert.equal(ntpToUnixMs(ntpFromUnixMs(1_700_000_000_123)), 1_700_000_000_123);
  assert.equal(ntpMiddle32(0x0123456789abcdefn), 0x456789ab);
});

test('RTT example of RFC 3550 §6.4.1 (A=0xb710:8000 ... LSR 0xb705:2000, DLSR 0x0005:4000 -> 0x0006:2000 = 6.125 s)', () => {
  // roundTripTimeMsAt is what the reporters use (lib/policy/rtcp-reporter.ts, round-trip-time.ts).
  assert.equal(roundTripTimeMsAt(0xb7108000, 0xb7052000, 0x00054000), 6125);
  assert.equal(roundTripTimeMsAt(0xb7108000, 0, 0), null);
  assert.equal(roundTripTimeMsAt(0xb7108000, 0xb7108001, 0), null);
  // Across the 32-bit wrap of the middle bits: now 0x0000:1000, LSR 0xffff:f000, no delay -> 0x2000 = 125 ms.
  assert.equal(roundTripTimeMsAt(0x00001000, 0xfffff000, 0), 125);
  // The public roundTripTimeMs (a 64-bit NTP timestamp) is the same computation on its middle bits.
  assert.equal(roundTripTimeMs(0xb7108000n << 16n, 0xb7052000, 0x00054000), 6125);
});

test('property: roundTripTimeMs on a 64-bit timestamp equals roundTripTimeMsAt on the BigInt-free middle bits', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2_000_000_000_000 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (ms, lsr, dlsr) => {
    assert.equal(roundTripTimeMs(ntpFromUnixMs(ms), lsr, dlsr), roundTripTimeMsAt(ntpMiddle32FromUnixMs(ms), lsr, dlsr));
  }), { numRuns: 300 });
});

test('the middle 32 bits without BigInts equal those of the 64-bit timestamp (whole, fractional, carrying ms)', () => {
  // A fraction that rounds up to 2^32 carries into the seconds in both; 16-bit second wraps.
  for (const ms of [0, 500, 999.9999999999, 1_700_000_000_999.9999, 65_535_999.99999999, 1_764_950_400_000, 2_085_978_495_999.99999]) {
    assert.equal(ntpMiddle32FromUnixMs(ms), ntpMiddle32(ntpFromUnixMs(ms)), String(ms));
  }
  fc.assert(fc.property(fc.double({ min: 0, max: 2_000_000_000_000, noNaN: true }), (ms) => {
    assert.equal(ntpMiddle32FromUnixMs(ms), ntpMiddle32(ntpFromUnixMs(ms)));
  }), { numRuns: 500 });
});

test('property: ms -> NTP -> ms within a microsecond', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2_000_000_000_000 }), (ms) => {
    assert.ok(Math.abs(ntpToUnixMs(ntpFromUnixMs(ms)) - ms) < 0.001);
  }), { numRuns: 200 });
});
