// The ICE agent's hand-written Binding messages (lib/ice/binding-encoder.ts) against the general
// STUN codec: same bytes as StunMessage.encode, integrity and fingerprint verify, padding is zero
// (pool memory is not), XOR-MAPPED-ADDRESS per RFC 8489 §14.2 for IPv4 and IPv6; and
// decodeInPlace reads the same message as decode without copying.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { encodeBindingIndication, encodeBindingRequest, encodeBindingSuccess } from '../../../lib/ice/binding-encoder.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { ipv4Number } from '../../../lib/ice/transport-address.js';
import { isIPv4 } from 'node:net';

const KEY = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt');
const TIE = Buffer.from('0102030405060708', 'hex');

function decoded(data: Buffer): StunMessage {
  const r = StunMessage.decode(data);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.message;
}

test('a check is what StunMessage.encode makes of the same attributes, and verifies', () => {
  // Every USERNAME length modulo 4, with and without USE-CANDIDATE, each role attribute.
  for (const username of ['abcd:efgh', 'abcd:efghi', 'abcd:efghij', 'abcd:efghijk']) {
    for (const useCandidate of [false, true]) {
      for (const role of [StunAttr.IceControlling, StunAttr.IceControlled]) {
        // Dirty the pool first: padding must come out zero anyway.
        Buffer.allocUnsafe(256).fill(0xee);
        const data = encodeBindingRequest(new SeededRng(7), Buffer.from(username), 0x6e0001ff, role, TIE, useCandidate, KEY);
        const m = decoded(data);
        assert.equal(m.method, StunMethod.Binding);
        assert.equal(m.messageClass, StunClass.Request);
        assert.equal(m.getString(StunAttr.Username), username);
        assert.equal(m.getUint32(StunAttr.Priority), 0x6e0001ff);
        assert.equal(m.getUint64(role), 0x0102030405060708n);
        assert.equal(m.has(StunAttr.UseCandidate), useCandidate);
        assert.ok(m.hasFingerprint);
        assert.ok(m.verifyIntegrity(KEY));
        assert.ok(!m.verifyIntegrity(Buffer.from('wrong password')));
        const ref = new StunMessage(StunMethod.Binding, StunClass.Request, m.transactionId)
          .addString(StunAttr.Username, username)
          .addUint32(StunAttr.Priority, 0x6e0001ff)
          .addUint64(role, 0x0102030405060708n);
        if (useCandidate) ref.addFlag(StunAttr.UseCandidate);
        assert.deepEqual(data, ref.encode({ integrityKey: KEY, fingerprint: true }));
      }
    }
  }
});

test('checks get fresh random transaction ids from the rng', () => {
  const rng = new SeededRng(1);
  const a = encodeBindingRequest(rng, Buffer.from('ab:cd'), 1, StunAttr.IceControlling, TIE, false, KEY);
  const b = encodeBindingRequest(rng, Buffer.from('ab:cd'), 1, StunAttr.IceControlling, TIE, false, KEY);
  assert.notDeepEqual(a.subarray(8, 20), b.subarray(8, 20));
});

test('a success response carries the request id and the XOR-MAPPED-ADDRESS of the source (IPv4 and IPv6)', () => {
  const request = decoded(encodeBindingRequest(new SeededRng(3), Buffer.from('ab:cd'), 1, StunAttr.IceControlling, TIE, false, KEY));
  for (const mapped of [{ address: '192.0.2.1', port: 32853 }, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }, { address: '0.0.0.0', port: 0 }]) {
    const data = encodeBindingSuccess(request, mapped, KEY)!;
    const m = decoded(data);
    assert.equal(m.messageClass, StunClass.SuccessResponse);
    assert.deepEqual(m.transactionId, request.transactionId);
    assert.deepEqual(m.getAddress(StunAttr.XorMappedAddress), mapped);
    assert.ok(m.verifyIntegrity(KEY));
    const ref = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, request.transactionId).addAddress(StunAttr.XorMappedAddress, mapped);
    assert.deepEqual(data, ref.encode({ integrityKey: KEY, fingerprint: true }));
  }
  assert.equal(encodeBindingSuccess(request, { address: 'not-an-ip', port: 1 }, KEY), undefined);
});

test('an indication has a fingerprint and no integrity', () => {
  const m = decoded(encodeBindingIndication(new SeededRng(5)));
  assert.equal(m.messageClass, StunClass.Indication);
  assert.ok(m.hasFingerprint);
  assert.ok(!m.hasIntegrity);
  assert.equal(m.attributes.length, 0);
});

test('decodeInPlace reads the same message as decode, as views of the input', () => {
  const data = encodeBindingRequest(new SeededRng(9), Buffer.from('abcd:efgh'), 7, StunAttr.IceControlled, TIE, true, KEY);
  const copy = decoded(data);
  const r = StunMessage.decodeInPlace(data);
  assert.ok(r.ok);
  const view = r.message;
  assert.equal(view.getString(StunAttr.Username), 'abcd:efgh');
  assert.equal(view.getUint32(StunAttr.Priority), 7);
  assert.ok(view.verifyIntegrity(KEY));
  assert.equal(view.transactionIdWord(1), data.readUInt32BE(12));
  assert.deepEqual(view.attributes, copy.attributes);
  // A view: changing the input changes what it reads; the copy keeps its own bytes.
  data[8] ^= 0xff;
  assert.equal(view.transactionId[0], data[8]);
  assert.notEqual(copy.transactionId[0], data[8]);
});

test('ipv4Number accepts exactly what isIPv4 accepts', () => {
  const cases = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', 'a.b.c.d', '127.0.0.1', '10.0.0.10', '1.2.3.4 ', '::1', '::ffff:1.2.3.4', '1.2.3.04', '0.10.0.0', ''];
  for (const c of cases) {
    const n = ipv4Number(c);
    assert.equal(n >= 0, isIPv4(c), c);
    if (n >= 0) {
      const p = c.split('.').map(Number);
      assert.equal(n, ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0, c);
    }
  }
});
