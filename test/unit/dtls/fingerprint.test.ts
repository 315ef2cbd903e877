// SDP a=fingerprint parsing/formatting (RFC 8122 section 5) and digest validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FINGERPRINT_ALGORITHMS,
  fingerprintFromBytes,
  fingerprintToBytes,
  formatSdpFingerprint,
  isUsableFingerprint,
  parseSdpFingerprint,
} from '../../../lib/dtls/fingerprint.js';
import { PwtError } from '../../../lib/common/errors.js';

const LENGTHS = { 'sha-1': 20, 'sha-224': 28, 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 } as const;

test('RFC 8122 section 5 example form parses and formats back (uppercase hex in SDP)', () => {
  // The attribute from RFC 8122 section 5's example, a SHA-1 fingerprint.
  const attr = 'SHA-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB';
  const fp = parseSdpFingerprint(attr);
  assert.deepEqual(fp, { algorithm: 'sha-1', value: '4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab' });
  assert.equal(formatSdpFingerprint(fp), 'sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB');
  assert.equal(fingerprintToBytes(fp).toString('hex'), '4aadb9b13f82183b540212df3e5d496b19e57cab');
});

/** An algorithm we know and a digest of its length. */
function algorithmAndDigest(): fc.Arbitrary<[(typeof FINGERPRINT_ALGORITHMS)[number], Uint8Array]> {
  return fc.constantFrom(...FINGERPRINT_ALGORITHMS).chain((algorithm) =>
    fc.tuple(fc.constant(algorithm), fc.uint8Array({ minLength: LENGTHS[algorithm], maxLength: LENGTHS[algorithm] })),
  );
}

test('property: bytes → fingerprint → SDP → parse → bytes is the identity for every algorithm', () => {
  fc.assert(
    fc.property(
      algorithmAndDigest(),
      ([algorithm, digest]) => {
        const fp = fingerprintFromBytes(algorithm, digest);
        const back = parseSdpFingerprint(formatSdpFingerprint(fp));
        assert.deepEqual(back, fp);
        assert.deepEqual(new Uint8Array(fingerprintToBytes(back)), digest);
      },
    ),
    { numRuns: 200 },
  );
});

test('property: arbitrary strings never parse into a wrong-length digest (they throw typed errors)', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      try {
        const fp = parseSdpFingerprint(s);
        assert.equal(fingerprintToBytes(fp).length, LENGTHS[fp.algorithm]);
      } catch (e) {
        assert.ok(e instanceof PwtError && e.code === 'ERR_DTLS_FINGERPRINT');
      }
    }),
    { numRuns: 500 },
  );
});

test('hostile values are refused: md5, wrong length, bad hex, missing parts', () => {
  for (const bad of [
    'md5 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B',
    'sha-256 4A:AD',
    'sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AG',
    'sha-1 4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB',
    'sha-256',
    '',
    // One character off a valid sha-1 value: a trailing or doubled colon, another separator, a
    // three-digit group, a group of one digit.
    'sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:',
    'sha-1 4A::AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB',
    'sha-1 4A;AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB',
    'sha-1 4AA:D:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB',
    'sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:A',
  ]) {
    assert.throws(() => parseSdpFingerprint(bad), (e: PwtError) => e.code === 'ERR_DTLS_FINGERPRINT', bad);
  }
});

test('isUsableFingerprint accepts exactly what fingerprintToBytes decodes', () => {
  const accepts = (algorithm: string, value: string): boolean => {
    try {
      fingerprintToBytes({ algorithm: algorithm as (typeof FINGERPRINT_ALGORITHMS)[number], value });
      return true;
    } catch {
      return false;
    }
  };
  const valid = '4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab';
  // A valid sha-1 value, its uppercase form and values one character off it (the list above).
  for (const [algorithm, value] of [
    ['sha-1', valid], ['sha-1', valid.toUpperCase()], ['sha-256', valid], ['md5', valid], ['', ''],
    ['sha-1', `${valid}:`], ['sha-1', `${valid.slice(0, 3)}:${valid.slice(3)}`], ['sha-1', valid.replace(':', ';')],
    ['sha-1', valid.replace('4a:a', '4aa:')], ['sha-1', valid.slice(0, -1)], ['sha-1', valid.replace(/b$/, 'g')],
  ] as const) {
    assert.equal(isUsableFingerprint(algorithm, value), accepts(algorithm, value), `${algorithm} ${value}`);
  }
  fc.assert(
    fc.property(fc.constantFrom(...FINGERPRINT_ALGORITHMS, 'md5'), fc.stringMatching(/^[0-9a-gA-G:;]{0,192}$/), (algorithm, value) => {
      assert.equal(isUsableFingerprint(algorithm, value), accepts(algorithm, value));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      algorithmAndDigest(),
      ([algorithm, digest]) => {
        const fp = fingerprintFromBytes(algorithm, digest);
        assert.ok(isUsableFingerprint(fp.algorithm, fp.value));
        assert.ok(isUsableFingerprint(fp.algorithm, fp.value.toUpperCase()));
      },
    ),
    { numRuns: 200 },
  );
});
