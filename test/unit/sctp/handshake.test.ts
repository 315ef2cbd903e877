// Handshake details (RFC 9260 section 5.1): DATA bundled with COOKIE ECHO is accepted, and the
// answer keeps COOKIE ACK first with the SACK after it (section 5.1 E).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpAssociation } from '../../../lib/sctp/association.js';
import { SeededRng } from '../../../lib/common/rng.js';
import { decodePacket, encodePacket } from '../../../lib/sctp/packet.js';
import type { Chunk } from '../../../lib/sctp/chunks/chunk.js';
import type { InitChunk } from '../../../lib/sctp/chunks/init.js';

test('COOKIE ECHO bundled with DATA: established, message delivered, reply is COOKIE ACK then SACK', () => {
  const a = new SctpAssociation({ rng: new SeededRng(1), interleaving: false });
  const b = new SctpAssociation({ rng: new SeededRng(2), interleaving: false });
  a.connect(0);
  const initPkt = a.pollTransmit()!;
  const init = decodePacket(initPkt).chunks[0] as InitChunk;
  b.handleInput(1, initPkt);
  a.handleInput(2, b.pollTransmit()!);
  const echoPkt = decodePacket(a.pollTransmit()!);
  assert.equal(echoPkt.chunks[0]!.type, 10);
  const data: Chunk = { type: 0, tsn: init.initialTsn, streamId: 0, ssn: 0, ppid: 51, unordered: false, beginning: true, ending: true, immediate: false, userData: Buffer.from('early') };
  const bundled = encodePacket(echoPkt, [...(echoPkt.chunks as Chunk[]), data]);
  b.handleInput(3, bundled);
  assert.equal(b.state, 'established');
  const events = [];
  for (let e = b.pollEvent(); e; e = b.pollEvent()) events.push(e);
  assert.deepEqual(events.map((e) => e.type), ['established', 'message']);
  b.handleTimeout(1000);
  const reply = decodePacket(b.pollTransmit()!);
  assert.deepEqual(reply.chunks.map((c) => c.type), [11, 3]);
});
