// Hostile input through the public path: garbage, truncated and oversize datagrams, forged
// record headers and non-byte values are dropped and counted; nothing throws or crashes, and
// a real handshake still completes afterwards (RFC 6347 section 4.1.2.7: invalid records are
// silently discarded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRng } from '../../../lib/common/rng.js';
import { makePair, pumpLossless } from './dtls-pair.js';

test('garbage and truncated records before and during the handshake are dropped and counted', () => {
  const p = makePair();
  p.server.handleInput(0, Buffer.from('before start'));
  assert.equal(p.server.stats().droppedNotStarted, 1);
  p.client.start(0);
  p.server.start(0);
  const hello = p.client.pollTransmit()!;
  const rng = new SeededRng(7);
  const junk: Buffer[] = [];
  for (let i = 0; i < 300; i++) junk.push(rng.bytes(rng.uint32() % 1500));
  for (let cut = 0; cut < hello.length; cut++) junk.push(hello.subarray(0, cut));
  junk.push(Buffer.alloc(70_000, 22));
  // @ts-expect-error non-bytes from a confused driver are dropped, not thrown
  p.server.handleInput(0, [...junk, 'not bytes', null]);
  const s = p.server.stats();
  assert.ok(s.droppedMalformed >= hello.length + 250, `malformed ${s.droppedMalformed}`);
  assert.equal(s.droppedTooLarge, 1);
  assert.equal(s.droppedNotBytes, 2);
  assert.equal(p.server.state, 'connecting');
  p.server.handleInput(0, hello);
  pumpLossless(p);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  assert.equal(p.server.stats().clientHellos, 1);
});

test('property: record-shaped random datagrams after the handshake never break the session', () => {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  pumpLossless(p);
  fc.assert(
    fc.property(
      fc.integer({ min: 20, max: 23 }),
      fc.constantFrom(0xfeff, 0xfefd),
      fc.integer({ min: 0, max: 3 }),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      (type, version, epoch, body) => {
        const d = Buffer.alloc(13 + body.length);
        d[0] = type;
        d.writeUInt16BE(version, 1);
        d.writeUInt16BE(epoch, 3);
        d.writeUInt16BE(body.length, 11);
        Buffer.from(body).copy(d, 13);
        p.server.handleInput(1, d);
        assert.equal(p.server.state, 'connected');
      },
    ),
    { numRuns: 300 },
  );
  // The session still carries data both ways.
  p.server.send(Buffer.from('still alive'));
  p.client.send(Buffer.from('me too'));
  pumpLossless(p);
  const got = p.clientEvents.flatMap((e) => (e.type === 'data' ? e.records.map(String) : []));
  assert.deepEqual(got, ['still alive']);
  assert.deepEqual(p.serverEvents.flatMap((e) => (e.type === 'data' ? e.records.map(String) : [])), ['me too']);
});

test('duplicated and replayed handshake flights are harmless', () => {
  const p = makePair();
  p.client.start(0);
  p.server.start(0);
  const seen: Buffer[] = [];
  for (let round = 0; round < 10; round++) {
    for (const [from, to] of [[p.client, p.server], [p.server, p.client]] as const) {
      for (let d = from.pollTransmit(); d; d = from.pollTransmit()) {
        seen.push(d);
        to.handleInput(0, [d, d]);
      }
    }
  }
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  // Replay every handshake datagram to both ends once more.
  for (const d of seen) {
    p.client.handleInput(1, d);
    p.server.handleInput(1, d);
  }
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
});
