// Hostile SCTP input through the public path (handleInput): garbage, valid-checksum junk,
// bogus TSNs, oversized and window-filling reassembly, forged cookies, bad DCEP. Nothing may
// throw or hang; memory stays bounded; drops are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SctpPair } from '../../sim/sctp-pair.js';
import { DcPair } from '../../sim/sctp-dc-pair.js';
import { encodePacket } from '../../../lib/sctp/packet.js';
import { sctpChecksum } from '../../../lib/sctp/crc32c.js';
import type { Chunk } from '../../../lib/sctp/chunks/chunk.js';
import { tsnAdd } from '../../../lib/sctp/tsn.js';
import { SctpAssociation } from '../../../lib/sctp/association.js';

/** An established pair plus a forger of packets that b accepts as coming from a. */
function established(opts = {}): { p: SctpPair; forge: (chunks: Chunk[]) => Buffer; firstTsn: number; tagToA: number } {
  const p = new SctpPair(77, { delayMs: 5 }, { interleaving: false, ...opts }, { interleaving: false, ...opts });
  assert.ok(p.connect());
  let vtag = 0;
  let firstTsn = 0;
  let tagToA = 0;
  p.tap = (from, pkt) => {
    if (from === 'b') tagToA = pkt.readUInt32BE(4);
    if (from === 'a' && pkt[12] === 0) {
      vtag = pkt.readUInt32BE(4);
      firstTsn = pkt.readUInt32BE(16);
    }
    return pkt;
  };
  p.a.send(p.now, 1, 53, Buffer.from('x'));
  assert.ok(p.runUntil(() => p.events.b.some((e) => e.type === 'message') && tagToA !== 0, { maxTimeMs: 5000, maxSteps: 1000 }));
  p.tap = undefined;
  const forge = (chunks: Chunk[]): Buffer => encodePacket({ sourcePort: 5000, destinationPort: 5000, verificationTag: vtag }, chunks);
  return { p, forge, firstTsn, tagToA };
}

function data(tsn: number, streamId: number, ssn: number, userData: Buffer, beginning = true, ending = true): Chunk {
  return { type: 0, tsn, streamId, ssn, ppid: 53, unordered: false, beginning, ending, immediate: false, userData };
}

test('random datagrams are dropped and counted, never thrown', () => {
  const { p } = established();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => {
      p.b.handleInput(p.now, Buffer.from(b));
    }),
    { numRuns: 500 },
  );
  const drops = p.b.stats.drops;
  assert.ok((drops['bad-checksum'] ?? 0) + (drops['too-short'] ?? 0) >= 490);
  assert.equal(p.b.state, 'established');
});

test('valid-checksum junk chunks with the right tag never throw and keep memory bounded', () => {
  const { p } = established();
  let tag = 0;
  p.tap = (from, pkt) => {
    if (from === 'a') tag = pkt.readUInt32BE(4);
    return pkt;
  };
  p.a.send(p.now, 1, 53, Buffer.from('y'));
  p.flush();
  p.tap = undefined;
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 64 })), { minLength: 1, maxLength: 6 }), (chunks) => {
      const parts = [Buffer.alloc(12)];
      parts[0]!.writeUInt16BE(5000, 0);
      parts[0]!.writeUInt16BE(5000, 2);
      parts[0]!.writeUInt32BE(tag, 4);
      for (const [type, flags, body] of chunks) {
        if (type === 6 || type === 14) continue; // ABORT / SHUTDOWN COMPLETE would legitimately end the test
        const h = Buffer.from([type, flags, 0, 0]);
        h.writeUInt16BE(4 + body.length, 2);
        parts.push(h, Buffer.from(body), Buffer.alloc((4 - (body.length % 4)) % 4));
      }
      const pkt = Buffer.concat(parts);
      pkt.writeUInt32LE(sctpChecksum(pkt), 8);
      p.b.handleInput(p.now, pkt);
      p.flush();
      while (p.b.pollEvent());
      assert.ok(p.b.receiveBuffered <= 1024 * 1024 + 256 * 1024);
    }),
    { numRuns: 400 },
  );
  // Junk may legitimately contain SHUTDOWN or stream resets; the point is that nothing threw.
  assert.ok(p.b.stats.packetsReceived >= 400);
});

test('bogus TSNs far beyond the window are dropped', () => {
  const { p, forge, firstTsn } = established();
  p.b.handleInput(p.now, forge([data(tsnAdd(firstTsn, 100_000), 1, 5, Buffer.from('far'))]));
  p.b.handleInput(p.now, forge([data(tsnAdd(firstTsn, 0x8000_0000), 1, 5, Buffer.from('half'))]));
  assert.equal(p.b.stats.drops['tsn-too-far'], 2);
  assert.equal(p.b.receiveBuffered, 0);
  assert.equal(p.b.state, 'established');
});

test('an endless message (fragments without an end) is refused at max-message-size: bounded, then ABORT', () => {
  const { p, forge, firstTsn } = established({ maxReceiveMessageSize: 64 * 1024 });
  const frag = Buffer.alloc(1000, 1);
  let tsn = tsnAdd(firstTsn, 1);
  for (let i = 0; i < 200 && p.b.state === 'established'; i++) {
    p.b.handleInput(p.now, forge([data(tsn, 2, 0, frag, i === 0, false)]));
    tsn = tsnAdd(tsn, 1);
    assert.ok(p.b.receiveBuffered <= 65 * 1024);
  }
  assert.equal(p.b.state, 'closed');
  assert.match(p.b.closeReason!.reason, /max-message-size/);
  assert.equal(p.b.closeReason!.error, true);
});

test('a run of tiny unordered fragments is capped (no quadratic walk) and aborts the association', () => {
  const { p, forge, firstTsn } = established({ maxReceiveMessageSize: 64 * 1024 });
  let tsn = tsnAdd(firstTsn, 1);
  let sent = 0;
  for (; sent < 5000 && p.b.state === 'established'; sent++) {
    p.b.handleInput(p.now, forge([{ type: 0, tsn, streamId: 3, ssn: 0, ppid: 53, unordered: true, beginning: false, ending: false, immediate: false, userData: Buffer.from([1]) }]));
    tsn = tsnAdd(tsn, 1);
  }
  assert.equal(p.b.state, 'closed');
  assert.ok(sent <= Math.ceil((64 * 1024) / 256) + 3, `aborted after ${sent} fragments`);
});

test('a SACK with thousands of overlapping gap blocks is cut at the first overlap', () => {
  const { p, firstTsn, tagToA } = established();
  for (let i = 0; i < 20; i++) p.a.send(p.now, 1, 53, Buffer.alloc(1000, i));
  while (p.a.pollTransmit());
  const gaps = Array.from({ length: 16_000 }, () => ({ start: 1, end: 60_000 }));
  const sack = encodePacket({ sourcePort: 5000, destinationPort: 5000, verificationTag: tagToA }, [{ type: 3, cumTsnAck: firstTsn, aRwnd: 100000, gaps, duplicates: [] }]);
  p.a.handleInput(p.now, sack);
  assert.equal(p.a.stats.drops['overlapping-gap-blocks'], 1);
  assert.equal(p.a.state, 'established');
});

test('many partial messages on many streams cannot grow past the receive window', () => {
  const { p, forge, firstTsn } = established({ receiveBufferSize: 128 * 1024, maxReceiveMessageSize: 64 * 1024 });
  const frag = Buffer.alloc(1000, 2);
  // Leave TSN firstTsn+1 missing so nothing completes or advances; every stream gets one B fragment.
  for (let i = 0; i < 1000; i++) p.b.handleInput(p.now, forge([data(tsnAdd(firstTsn, 2 + i), 10 + i, 0, frag, true, false)]));
  assert.ok(p.b.receiveBuffered <= 128 * 1024, `held ${p.b.receiveBuffered}`);
  assert.ok((p.b.stats.drops['rwnd-full'] ?? 0) > 800);
  assert.equal(p.b.state, 'established');
});

test('SACKs for unsent TSNs, FORWARD TSNs with huge jumps and bogus RE-CONFIGs are dropped without harm', () => {
  const { p, forge, firstTsn } = established();
  p.b.handleInput(p.now, forge([{ type: 3, cumTsnAck: 0x7fff_0000, aRwnd: 1, gaps: [], duplicates: [] }]));
  assert.equal(p.b.stats.drops['sack-beyond-sent'], 1);
  p.b.handleInput(p.now, forge([{ type: 130, params: [{ type: 13, value: Buffer.alloc(3) }] }]));
  assert.equal(p.b.stats.drops['malformed-reconfig'], 1);
  p.b.handleInput(p.now, forge([{ type: 130, params: [{ type: 16, value: Buffer.alloc(8) }] }]));
  assert.equal(p.b.stats.drops['unexpected-reconfig-response'], 1);
  // Still works afterwards.
  p.a.send(p.now, 1, 53, Buffer.from('ok'));
  const before = p.events.b.length;
  assert.ok(p.runUntil(() => p.events.b.length > before, { maxTimeMs: 10_000, maxSteps: 1000 }));
  // A forged FORWARD TSN with extreme SSNs is bounded work (no walk over 2^16 or 2^32 values).
  const now = tsnAdd(firstTsn, 2);
  p.b.handleInput(p.now, forge([{ type: 192, newCumTsn: tsnAdd(now, 5), streams: [{ streamId: 1, ssn: 0x7fff }, { streamId: 2, ssn: 0xffff }] }]));
  p.b.handleInput(p.now, forge([{ type: 192, newCumTsn: tsnAdd(firstTsn, 0x7000_0000), streams: [] }]));
  assert.equal(p.b.stats.drops['forward-tsn-too-far'], 1);
  assert.equal(p.b.receiveBuffered, 0);
  assert.equal(p.b.state, 'established');
});

test('forged or replayed-from-elsewhere COOKIE ECHO is refused', () => {
  const b = new SctpAssociation();
  b.handleInput(0, encodePacket({ sourcePort: 5000, destinationPort: 5000, verificationTag: 1 }, [{ type: 10, cookie: Buffer.alloc(65, 7) }]));
  b.handleInput(0, encodePacket({ sourcePort: 5000, destinationPort: 5000, verificationTag: 1 }, [{ type: 10, cookie: Buffer.alloc(3) }]));
  assert.equal(b.stats.drops['bad-cookie'], 2);
  assert.equal(b.state, 'new');
  assert.equal(b.pollTransmit(), undefined);
});

test('wrong verification tag and wrong ports are dropped', () => {
  const { p, forge, firstTsn } = established();
  const pkt = forge([data(tsnAdd(firstTsn, 1), 1, 1, Buffer.from('z'))]);
  const badTag = Buffer.from(pkt);
  badTag.writeUInt32BE(pkt.readUInt32BE(4) ^ 1, 4);
  badTag.writeUInt32LE(sctpChecksum(badTag), 8);
  p.b.handleInput(p.now, badTag);
  const badPort = Buffer.from(pkt);
  badPort.writeUInt16BE(5001, 2);
  badPort.writeUInt32LE(sctpChecksum(badPort), 8);
  p.b.handleInput(p.now, badPort);
  assert.equal(p.b.stats.drops['bad-vtag'], 1);
  assert.equal(p.b.stats.drops['bad-port'], 1);
});

test('bad DCEP and data on unknown streams are counted by the channel manager', () => {
  const p = new DcPair(78);
  assert.ok(p.connect());
  p.a.association.send(p.now, 4, 50, Buffer.from([3, 0]));
  p.a.association.send(p.now, 6, 51, Buffer.from('nobody'));
  p.a.association.send(p.now, 8, 50, Buffer.from([3, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  p.a.association.send(p.now, 3, 50, Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  assert.ok(p.runUntil(() => Object.values(p.b.stats.drops).reduce((x, y) => x + y, 0) === 4, { maxTimeMs: 5000, maxSteps: 1000 }));
  assert.deepEqual(p.b.stats.drops, { 'bad-dcep': 1, 'no-channel': 1, 'bad-channel-type': 1, 'open-wrong-parity': 1 });
  assert.equal(p.b.channels.size, 0);
});
