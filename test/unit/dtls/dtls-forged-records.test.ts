// Forged and replayed DTLS records after the handshake (RFC 6347 sections 4.1.2.6, 4.1.2.7):
// no single unauthenticated datagram may fail a connected transport or make it send anything
// (no fatal alert to the real peer), and each discarded datagram is counted under one reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import type { DtlsTransport } from '../../../lib/dtls/dtls-transport.js';
import { makePair, pumpLossless, type DtlsPair } from './dtls-pair.js';

function record(type: number, epoch: number, seq: number, body: Uint8Array): Buffer {
  const d = Buffer.alloc(13 + body.length);
  d[0] = type;
  d.writeUInt16BE(0xfefd, 1);
  d.writeUInt16BE(epoch, 3);
  d.writeUIntBE(seq, 5, 6);
  d.writeUInt16BE(body.length, 11);
  Buffer.from(body).copy(d, 13);
  return d;
}

function connected(): DtlsPair {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  return p;
}

function assertUntouched(t: DtlsTransport, what: string): void {
  assert.equal(t.state, 'connected', what);
  assert.equal(t.pollTransmit(), undefined, `${what}: the transport sent something (an alert?)`);
}

test('the reported reproducer: one 15-byte epoch-1 alert no longer fails the session', () => {
  const p = connected();
  p.client.handleInput(100, Buffer.from('15fefd00010000006acfc000020100', 'hex'));
  assertUntouched(p.client, 'reproducer');
  assert.equal(p.client.stats().droppedMalformed, 1);
  p.client.send(Buffer.from('still'));
  pumpLossless(p, 100);
  assert.deepEqual(p.serverEvents.flatMap((e) => (e.type === 'data' ? e.records.map(String) : [])), ['still']);
});

test('epoch-1 records with a 1-23 byte body (shorter than AES-GCM nonce + tag) are dropped as malformed', () => {
  const p = connected();
  const rng = new SeededRng(11);
  for (const t of [p.client, p.server]) {
    let n = 0;
    for (const type of [20, 21, 22, 23]) {
      for (let len = 1; len < 24; len++) {
        t.handleInput(1, record(type, 1, 7_000_000 + n++, rng.bytes(len)));
        assertUntouched(t, `type ${type} length ${len}`);
      }
    }
    assert.equal(t.stats().droppedMalformed, n);
  }
});

test('wrong-epoch plaintext, forged and replayed records are discarded and counted by reason', () => {
  const p = connected();
  const rng = new SeededRng(12);
  const before = p.server.stats();
  // Epoch 0 after the handshake: plaintext data, close_notify, fatal alert.
  p.server.handleInput(2, record(23, 0, 50, Buffer.from('plaintext')));
  p.server.handleInput(2, record(21, 0, 51, Buffer.from([1, 0])));
  p.server.handleInput(2, record(21, 0, 52, Buffer.from([2, 40])));
  assertUntouched(p.server, 'epoch 0');
  // Epoch 1 without a valid tag (long enough to reach OpenSSL), and an empty record.
  for (let i = 0; i < 5; i++) p.server.handleInput(2, record(23, 1, 5_000_000 + i, rng.bytes(40 + i)));
  p.server.handleInput(2, record(21, 1, 6_000_000, rng.bytes(26)));
  p.server.handleInput(2, record(23, 1, 8_000_000, new Uint8Array(0)));
  assertUntouched(p.server, 'epoch 1 forgeries');
  // A genuine record, then three copies of it.
  p.client.send(Buffer.from('once'));
  const genuine = p.client.pollTransmit()!;
  p.server.handleInput(3, genuine);
  for (let i = 0; i < 3; i++) p.server.handleInput(3, Buffer.from(genuine));
  assertUntouched(p.server, 'replays');
  const data: string[] = [];
  for (let e = p.server.pollEvent(); e; e = p.server.pollEvent()) if (e.type === 'data') data.push(...e.records.map(String));
  assert.deepEqual(data, ['once']);
  const s = p.server.stats();
  assert.equal(s.droppedWrongEpoch - before.droppedWrongEpoch, 3);
  assert.equal(s.droppedUnauthenticated - before.droppedUnauthenticated, 7);
  assert.equal(s.droppedReplayed - before.droppedReplayed, 3);
  assert.equal(s.droppedMalformed - before.droppedMalformed, 0);
  assert.equal(s.datagramsIn - before.datagramsIn, 14);
});

test('an authenticated close_notify still closes the session normally', () => {
  const p = connected();
  p.server.close();
  pumpLossless(p, 5);
  assert.equal(p.client.state, 'closed');
});
