// NTP timestamp helpers and RTT from LSR/DLSR (RFC 3550 §4, §6.4.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NTP_UNIX_OFFSET_SECONDS, ntpFromUnixMs, ntpMiddle32, ntpToUnixMs, roundTripTimeMs } from '../../../../lib/rtp/rtcp/ntp-time.js';

test('Unix epoch is NTP second 2208988800; half a second is fraction 2^31', () => {
  assert.equal(ntpFromUnixMs(0), BigInt(NTP_UNIX_OFFSET_SECONDS) << 32n);
  assert.equal(ntpFromUnixMs(500) & 0xffffffffn, 0x80000000n);
  assert.equal(ntpToUnixMs(ntpFromUnixMs(1_700_000_000_123)), 1_700_000_000_123);
  assert.equal(ntpMiddle32(0x0123456789abcdefn), 0x456789ab);
});

test('RTT example of RFC 3550 §6.4.1 (A=0xb710:8000 ... LSR 0xb705:2000, DLSR 0x0005:4000 -> 0x0006:2000 = 6.125 s)', () => {
  const now = 0xb7108000n << 16n;
  assert.equal(roundTripTimeMs(now, 0xb7052000, 0x00054000), 6125);
  assert.equal(roundTripTimeMs(now, 0, 0), null);
  assert.equal(roundTripTimeMs(now, 0xb7108001, 0), null);
});

test('property: ms -> NTP -> ms within a microsecond', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2_000_000_000_000 }), (ms) => {
    assert.ok(Math.abs(ntpToUnixMs(ntpFromUnixMs(ms)) - ms) < 0.001);
  }), { numRuns: 200 });
});
