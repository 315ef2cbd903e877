// STUN codec: RFC 5769 test vectors (§2.1-2.4), round trips, typed attributes and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { StunMessage, isStunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { decodeChannelData, encodeChannelData } from '../../../lib/ice/channel-data.js';
import { StunStreamFramer } from '../../../lib/ice/stream-framer.js';
import { bytesToIp, canonicalIp, ipFamily, ipToBytes } from '../../../lib/ice/transport-address.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');

// RFC 5769 §2.1 Sample Request.
const REQUEST = hex(`00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff 80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// RFC 5769 §2.2 Sample IPv4 Response.
const RESPONSE_V4 = hex(`01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// RFC 5769 §2.3 Sample IPv6 Response.
const RESPONSE_V6 = hex(`01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
// RFC 5769 §2.4 Sample Request with Long-Term Authentication.
const REQUEST_LTC = hex(`00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);

function decodeOk(b: Uint8Array): StunMessage {
  const r = StunMessage.decode(b);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.message;
}

test('RFC 5769 §2.1 sample request: fields, integrity, fingerprint', () => {
  assert.ok(isStunMessage(REQUEST));
  const m = decodeOk(REQUEST);
  assert.equal(m.method, StunMethod.Binding);
  assert.equal(m.messageClass, StunClass.Request);
  assert.equal(m.transactionId.toString('hex'), 'b7e7a701bc34d686fa87dfae');
  assert.equal(m.getString(StunAttr.Software), 'STUN test client');
  assert.equal(m.getString(StunAttr.Username), 'evtj:h6vY');
  assert.equal(m.getUint32(StunAttr.Priority), 0x6e0001ff);
  assert.equal(m.getUint64(StunAttr.IceControlled), 0x932ff9b151263b36n);
  assert.ok(m.hasFingerprint);
  assert.ok(m.verifyIntegrity(PASSWORD));
  assert.ok(!m.verifyIntegrity(Buffer.from('wrong')));
});

test('RFC 5769 §2.1 re-encoded with our zero padding verifies and keeps every field', () => {
  const m = decodeOk(REQUEST);
  const again = decodeOk(m.encode({ integrityKey: PASSWORD, fingerprint: true }));
  assert.ok(again.verifyIntegrity(PASSWORD));
  assert.equal(again.getString(StunAttr.Username), 'evtj:h6vY');
  assert.equal(again.getUint64(StunAttr.IceControlled), 0x932ff9b151263b36n);
  // Only the padding differs (RFC 5769 pads with spaces, RFC 8489 with zeros); same length.
  assert.equal(again.encode({ integrityKey: PASSWORD, fingerprint: true }).length, REQUEST.length);
});

test('RFC 5769 §2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853, integrity, fingerprint', () => {
  const m = decodeOk(RESPONSE_V4);
  assert.equal(m.messageClass, StunClass.SuccessResponse);
  assert.equal(m.getString(StunAttr.Software), 'test vector');
  assert.deepEqual(m.getAddress(StunAttr.XorMappedAddress), { address: '192.0.2.1', port: 32853 });
  assert.ok(m.hasFingerprint);
  assert.ok(m.verifyIntegrity(PASSWORD));
  // The encoder produces the vector's XOR-MAPPED-ADDRESS bytes exactly (header at offset 36).
  const re = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, m.transactionId)
    .addAddress(StunAttr.XorMappedAddress, { address: '192.0.2.1', port: 32853 })
    .encode();
  assert.equal(re.subarray(20).toString('hex'), RESPONSE_V4.subarray(36, 48).toString('hex'));
});

test('RFC 5769 §2.3 IPv6 response: XOR-MAPPED-ADDRESS [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
  const m = decodeOk(RESPONSE_V6);
  const addr = { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 };
  assert.deepEqual(m.getAddress(StunAttr.XorMappedAddress), addr);
  assert.ok(m.hasFingerprint);
  assert.ok(m.verifyIntegrity(PASSWORD));
  const re = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, m.transactionId).addAddress(StunAttr.XorMappedAddress, addr).encode();
  assert.equal(re.subarray(20).toString('hex'), RESPONSE_V6.subarray(36, 60).toString('hex'));
});

test('RFC 5769 §2.1-2.3 with space padding replaced by zeros: our encoder signs the same bytes it verifies', () => {
  for (const v of [REQUEST, RESPONSE_V4, RESPONSE_V6]) {
    const m = decodeOk(v);
    const re = new StunMessage(m.method, m.messageClass, m.transactionId);
    for (const a of m.attributes) re.add(a.type, a.value);
    const bytes = re.encode({ integrityKey: PASSWORD, fingerprint: true });
    assert.equal(bytes.length, v.length);
    const d = decodeOk(bytes);
    assert.ok(d.verifyIntegrity(PASSWORD));
    // Same bytes as the vector except the padding of SOFTWARE/USERNAME and the two checksums.
    let differing = 0;
    for (let i = 0; i < v.length; i++) if (bytes[i] !== v[i]) differing++;
    assert.ok(differing > 0 && differing <= 4 + 1 + 3 + 20 + 4, `differing ${differing}`);
  }
});

test('RFC 5769 §2.4 long-term credentials: key MD5(user:realm:SASLprep(password))', () => {
  const m = decodeOk(REQUEST_LTC);
  assert.equal(m.getString(StunAttr.Username), '\u30de\u30c8\u30ea\u30c3\u30af\u30b9');
  assert.equal(m.getString(StunAttr.Nonce), 'f//499k954d6OL34oL9FSTvy64sA');
  assert.equal(m.getString(StunAttr.Realm), 'example.org');
  assert.ok(!m.hasFingerprint);
  const key = createHash('md5').update(`${m.getString(StunAttr.Username)}:example.org:TheMatrIX`).digest();
  assert.ok(m.verifyIntegrity(key));
  const re = new StunMessage(m.method, m.messageClass, m.transactionId);
  for (const a of m.attributes) re.add(a.type, a.value);
  assert.equal(re.encode({ integrityKey: key }).toString('hex'), REQUEST_LTC.toString('hex'));
});

test('FINGERPRINT mismatch and misplaced FINGERPRINT are rejected with a reason', () => {
  const bad = Buffer.from(REQUEST);
  bad[bad.length - 1]! ^= 1;
  assert.deepEqual(StunMessage.decode(bad), { ok: false, reason: 'bad-fingerprint' });
  const flipped = Buffer.from(REQUEST);
  flipped[30]! ^= 0x01;
  assert.deepEqual(StunMessage.decode(flipped), { ok: false, reason: 'bad-fingerprint' });
});

test('integrity fails when any covered byte changes', () => {
  const m = decodeOk(REQUEST);
  const raw = m.encode({ integrityKey: PASSWORD });
  for (const i of [0, 3, 9, 25, raw.length - 30]) {
    const copy = Buffer.from(raw);
    copy[i]! ^= 0x04;
    const r = StunMessage.decode(copy);
    if (r.ok) assert.ok(!r.message.verifyIntegrity(PASSWORD), `byte ${i}`);
  }
});

test('MESSAGE-INTEGRITY-SHA256 round trip; attributes after integrity are ignored', () => {
  const key = Buffer.from('secret');
  const m = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 7)).addString(StunAttr.Username, 'a:b');
  const enc = m.encode({ integrityKey: key, integritySha256Key: key, fingerprint: true });
  const d = decodeOk(enc);
  assert.ok(d.verifyIntegrity(key));
  assert.ok(d.verifyIntegritySha256(key));
  assert.ok(!d.verifyIntegritySha256(Buffer.from('other')));
  // Append a SOFTWARE after MESSAGE-INTEGRITY (no fingerprint): it must be ignored.
  const noFp = m.encode({ integrityKey: key });
  const extra = Buffer.concat([noFp, hex('80 22 00 04 61 62 63 64')]);
  extra.writeUInt16BE(extra.length - 20, 2);
  const d2 = decodeOk(extra);
  assert.equal(d2.get(StunAttr.Software), undefined);
  assert.ok(d2.verifyIntegrity(key));
});

test('TURN attributes round trip: LIFETIME, XOR-PEER/RELAYED-ADDRESS (v4+v6), DATA, REQUESTED-TRANSPORT, CHANNEL-NUMBER, ERROR-CODE, UNKNOWN-ATTRIBUTES', () => {
  const tid = Buffer.from('0102030405060708090a0b0c', 'hex');
  const m = new StunMessage(StunMethod.Allocate, StunClass.ErrorResponse, tid)
    .addUint32(StunAttr.Lifetime, 600)
    .addAddress(StunAttr.XorPeerAddress, { address: '10.1.2.3', port: 4000 })
    .addAddress(StunAttr.XorRelayedAddress, { address: 'fe80::1', port: 5000 })
    .addAddress(StunAttr.MappedAddress, { address: '::ffff:1.2.3.4', port: 1 })
    .add(StunAttr.Data, Buffer.from('hello'))
    .add(StunAttr.RequestedTransport, Buffer.from([17, 0, 0, 0]))
    .add(StunAttr.ChannelNumber, Buffer.from([0x40, 0x01, 0, 0]))
    .addErrorCode(438, 'Stale Nonce')
    .addUnknownAttributes([0x0031, 0x0032])
    .addString(StunAttr.Realm, 'r')
    .addString(StunAttr.Nonce, 'n');
  const d = decodeOk(m.encode({ fingerprint: true }));
  assert.equal(d.method, StunMethod.Allocate);
  assert.equal(d.messageClass, StunClass.ErrorResponse);
  assert.equal(d.getUint32(StunAttr.Lifetime), 600);
  assert.deepEqual(d.getAddress(StunAttr.XorPeerAddress), { address: '10.1.2.3', port: 4000 });
  assert.deepEqual(d.getAddress(StunAttr.XorRelayedAddress), { address: 'fe80::1', port: 5000 });
  assert.deepEqual(d.getAddress(StunAttr.MappedAddress), { address: '::ffff:102:304', port: 1 });
  assert.equal(d.get(StunAttr.Data)!.toString(), 'hello');
  assert.deepEqual(d.getErrorCode(), { code: 438, reason: 'Stale Nonce' });
  assert.deepEqual(d.getUnknownAttributes(), [0x31, 0x32]);
  assert.equal(d.getString(StunAttr.Realm), 'r');
  assert.deepEqual(d.unknownRequired, []);
});

test('unknown comprehension-optional attributes are skipped, unknown required ones reported', () => {
  const m = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12))
    .add(0xc001, Buffer.from([1, 2, 3]))
    .add(0x0031, Buffer.from([9]));
  const d = decodeOk(m.encode());
  assert.deepEqual(d.unknownRequired, [0x0031]);
  assert.equal(d.get(0xc001)!.length, 3);
});

test('method/class bits for every TURN method and class survive a round trip', () => {
  for (const method of Object.values(StunMethod)) {
    for (const cls of Object.values(StunClass)) {
      const d = decodeOk(new StunMessage(method, cls, Buffer.alloc(12, 1)).encode());
      assert.equal(d.method, method);
      assert.equal(d.messageClass, cls);
    }
  }
});

test('ChannelData framing over UDP and streams; the stream framer splits STUN and ChannelData', () => {
  const cd = encodeChannelData(0x4001, Buffer.from('abcde'));
  assert.equal(cd.length, 9);
  assert.deepEqual(decodeChannelData(cd), { channel: 0x4001, data: Buffer.from('abcde') });
  assert.equal(decodeChannelData(cd.subarray(0, 6)), undefined);
  const padded = encodeChannelData(0x4001, Buffer.from('abcde'), true);
  assert.equal(padded.length, 12);
  const stun = new StunMessage(StunMethod.Binding, StunClass.Indication, Buffer.alloc(12)).encode({ fingerprint: true });
  const stream = Buffer.concat([padded, stun, padded]);
  const f = new StunStreamFramer();
  const frames = [...f.push(stream.subarray(0, 7)), ...f.push(stream.subarray(7, 30)), ...f.push(stream.subarray(30))];
  assert.equal(frames.length, 3);
  assert.equal(frames[0]!.length, 9);
  assert.deepEqual(frames[1], stun);
  assert.equal(new StunStreamFramer().push(Buffer.from([0x80, 0, 0, 0])).length, 0);
});

test('IPv6 text/bytes conversions are canonical (RFC 5952)', () => {
  assert.equal(bytesToIp(ipToBytes('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
  assert.equal(bytesToIp(ipToBytes('::')!), '::');
  assert.equal(bytesToIp(ipToBytes('::1')!), '::1');
  assert.equal(bytesToIp(ipToBytes('1:0:0:2:0:0:0:3')!), '1:0:0:2::3');
  assert.equal(bytesToIp(ipToBytes('fe80::1%eth0')!), 'fe80::1');
  assert.equal(ipToBytes('example.local'), undefined);
});

test('ipFamily and canonicalIp: IPv4, IPv6 (zone, embedded IPv4) and names', () => {
  assert.equal(ipFamily('127.0.0.1'), 4);
  assert.equal(ipFamily('::'), 6);
  assert.equal(ipFamily('fe80::1%eth0'), 6);
  assert.equal(ipFamily('::ffff:1.2.3.4'), 6);
  assert.equal(ipFamily('example.local'), 0);
  assert.equal(ipFamily('1.2.3'), 0);
  assert.equal(ipFamily('1:2'), 0);
  assert.equal(canonicalIp('127.0.0.1'), '127.0.0.1');
  assert.equal(canonicalIp('::0001'), '::1');
  assert.equal(canonicalIp('2001:0db8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('example.local'), 'example.local');
});

test('property: arbitrary bytes never throw and never decode inconsistently', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), (bytes) => {
      const r = StunMessage.decode(bytes);
      if (r.ok) assert.equal(isStunMessage(bytes), true);
    }),
    { numRuns: 2000 },
  );
  // Valid header, random attribute area.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 25 }).map((a) => a.subarray(0, a.length & ~3)), (body) => {
      const b = Buffer.concat([hex('00 01 00 00 21 12 a4 42'), Buffer.alloc(12), body]);
      b.writeUInt16BE(body.length, 2);
      const r = StunMessage.decode(b);
      if (r.ok) for (const a of r.message.attributes) assert.ok(a.value.length <= body.length);
    }),
    { numRuns: 2000 },
  );
});

test('property: encode → decode preserves attributes and integrity', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ type: fc.integer({ min: 0x8030, max: 0xffff }).filter((t) => t !== 0x8028), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 6 }),
      fc.uint8Array({ minLength: 1, maxLength: 32 }),
      (attrs, key) => {
        const m = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 3));
        for (const a of attrs) m.add(a.type, a.value);
        const d = decodeOk(m.encode({ integrityKey: key, fingerprint: true }));
        assert.equal(d.attributes.length, attrs.length);
        d.attributes.forEach((a, i) => assert.deepEqual(Buffer.from(a.value), Buffer.from(attrs[i]!.value)));
        assert.ok(d.verifyIntegrity(key));
      },
    ),
    { numRuns: 300 },
  );
});

