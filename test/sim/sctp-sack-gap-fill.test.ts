// SACK timing when a retransmission fills a gap (RFC 9260 sections 6.2 and 6.7; the immediate
// acknowledgement of a gap-filling packet follows RFC 5681 section 4.2): on a virtual clock, one
// DATA packet is lost, the sender recovers it by T3, and the receiver acknowledges the packet that
// fills the gap at once instead of after the 200 ms delayed-ack timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpPair } from './sctp-pair.js';
import { decodePacket } from '../../lib/sctp/packet.js';
import { ChunkType } from '../../lib/sctp/chunks/chunk-type.js';

test('the packet that fills a gap is acknowledged at once, so the sender resumes without a delayed-ack stall', () => {
  const p = new SctpPair(21, { delayMs: 5 });
  assert.ok(p.connect());
  let dropTsn: number | undefined;
  const dataSeen: { tsn: number; at: number }[] = [];
  const sacks: { cum: number; at: number }[] = [];
  p.tap = (from, packet) => {
    for (const c of decodePacket(packet).chunks) {
      if (from === 'a' && (c.type === ChunkType.DATA || c.type === ChunkType.I_DATA)) {
        // Lose the second DATA packet once; its retransmission goes through.
        if (dataSeen.length === 1 && dropTsn === undefined) {
          dropTsn = c.tsn;
          return undefined;
        }
        dataSeen.push({ tsn: c.tsn, at: p.now });
      }
      if (from === 'b' && c.type === ChunkType.SACK) sacks.push({ cum: c.cumTsnAck, at: p.now });
    }
    return packet;
  };
  // Three messages of about one packet each: the middle one is lost.
  for (let i = 0; i < 3; i++) p.a.send(p.now, 1, 53, Buffer.alloc(1000, i));
  const got: Buffer[] = [];
  p.onEvent = (side, e) => {
    if (side === 'b' && e.type === 'message') got.push(e.data);
  };
  assert.ok(p.runUntil(() => got.length === 3 && p.a.windowState!.unackedChunks === 0, { maxTimeMs: 10_000, maxSteps: 10_000 }));
  assert.deepEqual(got.map((b) => b[0]), [0, 1, 2], 'delivered once each, in order');
  const retransmission = dataSeen.find((d) => d.tsn === dropTsn);
  assert.ok(retransmission, 'the lost DATA was retransmitted');
  // The retransmission reaches b 5 ms after it left; b's SACK covering it leaves right then.
  const ack = sacks.find((s) => ((s.cum - dropTsn!) >>> 0) < 0x8000_0000);
  assert.ok(ack, 'a SACK acknowledged the retransmitted TSN');
  assert.equal(ack.at, retransmission.at + 5, `SACK at ${ack.at} ms for a retransmission sent at ${retransmission.at} ms`);
  assert.ok(p.a.stats.t3Expirations >= 1 && p.a.stats.retransmissions >= 1);
});
