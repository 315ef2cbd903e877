// Loss recovery by fast retransmit rather than T3-rtx (RFC 9260 sections 7.2.4 and 6.3.3; I-DATA of
// RFC 8260 section 2.1 uses the same TSN-based SACK logic): a fixed pattern of lost packets on a
// virtual clock, once with plain DATA and once with I-DATA, counting T3 expiries, not time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpPair } from './sctp-pair.js';
import { decodePacket } from '../../lib/sctp/packet.js';
import { ChunkType } from '../../lib/sctp/chunks/chunk-type.js';

const MESSAGES = 600;

interface Outcome {
  t3Expirations: number;
  fastRetransmits: number;
  retransmissions: number;
  delivered: number;
}

/**
 * Sends MESSAGES messages of 1,000 bytes from a to b while the tap drops every 33rd packet a sends
 * that carries data (about 3 %), and also the first retransmission of every fourth lost TSN, so a
 * retransmission itself is lost too. Returns a's counters; asserts every message arrived once, intact.
 */
function run(interleaving: boolean): Outcome {
  const p = new SctpPair(31, { delayMs: 20 }, { interleaving }, { interleaving });
  assert.ok(p.connect());
  assert.equal(p.a.interleaving, interleaving);
  p.recordEvents = false;
  let dataPackets = 0;
  const lost = new Set<number>();
  const lostAgain = new Set<number>();
  p.tap = (from, packet) => {
    if (from !== 'a') return packet;
    const data = decodePacket(packet).chunks.filter((c) => c.type === ChunkType.DATA || c.type === ChunkType.I_DATA);
    if (data.length === 0) return packet;
    dataPackets++;
    const tsns = data.map((c) => (c as { tsn: number }).tsn);
    const retransmitOfLost = tsns.find((t) => lost.has(t) && !lostAgain.has(t));
    if (retransmitOfLost !== undefined) {
      lostAgain.add(retransmitOfLost);
      if (lostAgain.size % 4 === 1) return undefined;
      return packet;
    }
    if (dataPackets % 33 === 0) {
      for (const t of tsns) lost.add(t);
      return undefined;
    }
    return packet;
  };
  const got = new Map<number, number>();
  let bad = 0;
  p.onEvent = (side, e) => {
    if (side !== 'b' || e.type !== 'message') return;
    const i = e.data.readUInt32BE(0);
    if (e.data.length !== 1000 || e.data.subarray(4).some((b) => b !== (i & 0xff))) bad++;
    got.set(i, (got.get(i) ?? 0) + 1);
  };
  for (let i = 0; i < MESSAGES; i++) {
    const m = Buffer.alloc(1000, i & 0xff);
    m.writeUInt32BE(i, 0);
    p.a.send(p.now, i % 3, 51, m);
  }
  assert.ok(p.runUntil(() => got.size === MESSAGES && p.a.windowState!.unackedChunks === 0, { maxTimeMs: 600_000, maxSteps: 200_000 }), `delivered ${got.size} of ${MESSAGES}`);
  assert.equal(bad, 0, 'every message intact');
  assert.ok([...got.values()].every((n) => n === 1), 'every message delivered once');
  assert.ok(lost.size > 0 && lostAgain.size > 0, 'the pattern lost packets and retransmissions');
  const s = p.a.stats;
  return { t3Expirations: s.t3Expirations, fastRetransmits: s.fastRetransmits, retransmissions: s.retransmissions, delivered: got.size };
}

test('a fixed loss pattern is repaired by fast retransmit, with few T3 expiries, for DATA and I-DATA alike', () => {
  const data = run(false);
  const idata = run(true);
  console.log(`DATA   ${JSON.stringify(data)}\nI-DATA ${JSON.stringify(idata)}`);
  assert.ok(data.fastRetransmits > 0 && idata.fastRetransmits > 0);
  assert.ok(data.t3Expirations <= 2, `DATA: ${data.t3Expirations} T3 expiries`);
  assert.ok(idata.t3Expirations <= 2, `I-DATA: ${idata.t3Expirations} T3 expiries`);
});
