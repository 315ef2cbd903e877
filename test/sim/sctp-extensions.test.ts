// Extension behaviour in simulation: I-DATA interleaving (RFC 8260), zero checksum (RFC 9653),
// unknown INIT parameters and chunk types handled by their high bits (RFC 9260 sections 3.2, 3.2.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SctpPair } from './sctp-pair.js';
import { SctpAssociation } from '../../lib/sctp/association.js';
import { SeededRng } from '../../lib/common/rng.js';
import { decodePacket, encodePacket, packetChecksum } from '../../lib/sctp/packet.js';
import { sctpChecksum } from '../../lib/sctp/crc32c.js';
import type { InitChunk } from '../../lib/sctp/chunks/init.js';
import { ParamType, parseParameters } from '../../lib/sctp/parameters/tlv.js';

for (const interleaving of [true, false]) {
  test(`a large message ${interleaving ? 'does not block' : 'blocks'} a small one on another stream when I-DATA is ${interleaving ? 'on' : 'off'}`, () => {
    const p = new SctpPair(20, { delayMs: 10 }, { interleaving, remoteMaxMessageSize: 256 * 1024 }, { interleaving });
    assert.ok(p.connect());
    assert.equal(p.a.interleaving, interleaving);
    p.a.send(p.now, 1, 53, Buffer.alloc(256 * 1024, 1));
    p.a.send(p.now, 3, 51, Buffer.from('small'));
    const order = () => p.events.b.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.streamId : -1));
    assert.ok(p.runUntil(() => order().length === 2, { maxTimeMs: 60_000, maxSteps: 10_000 }));
    assert.deepEqual(order(), interleaving ? [3, 1] : [1, 3]);
  });
}

test('zero checksum (RFC 9653) is used only when both sides announce it', () => {
  for (const [za, zb, expected] of [[true, true, true], [true, false, false], [false, true, false]] as const) {
    const p = new SctpPair(21, {}, { zeroChecksum: za }, { zeroChecksum: zb });
    const checksums: number[] = [];
    p.tap = (_from, pkt) => {
      checksums.push(packetChecksum(pkt));
      return pkt;
    };
    assert.ok(p.connect());
    checksums.length = 0;
    for (let i = 0; i < 5; i++) p.a.send(p.now, 1, 53, Buffer.alloc(3000, i));
    assert.ok(p.runUntil(() => p.events.b.filter((e) => e.type === 'message').length === 5, { maxTimeMs: 10_000, maxSteps: 1000 }));
    assert.equal(p.a.zeroChecksumInUse, expected);
    assert.ok(checksums.length > 3);
    if (expected) assert.ok(checksums.every((c) => c === 0));
    else assert.ok(checksums.every((c) => c !== 0));
  }
});

test('a peer that accepts zero checksums still rejects a corrupted packet whose checksum is non-zero', () => {
  const p = new SctpPair(22, {}, { zeroChecksum: true }, { zeroChecksum: true });
  assert.ok(p.connect());
  let corrupted = false;
  p.tap = (from, pkt) => {
    if (from === 'a' && !corrupted && pkt.length > 100) {
      corrupted = true;
      const bad = Buffer.from(pkt);
      bad.writeUInt32LE(0xdeadbeef, 8);
      return bad;
    }
    return pkt;
  };
  p.a.send(p.now, 1, 53, Buffer.alloc(500, 1));
  assert.ok(p.runUntil(() => p.events.b.some((e) => e.type === 'message'), { maxTimeMs: 10_000, maxSteps: 1000 }));
  assert.equal(p.b.stats.drops['bad-checksum'], 1);
});

function foreignInit(params: { type: number; value: Uint8Array }[]): Buffer {
  const init: InitChunk = { type: 1, initiateTag: 0x11223344, aRwnd: 131072, outboundStreams: 1024, inboundStreams: 1024, initialTsn: 1000, params };
  return encodePacket({ sourcePort: 5000, destinationPort: 5000, verificationTag: 0 }, [init]);
}

test('unknown INIT parameters follow their high bits; zero-checksum with another EDMID is ignored, never an abort', () => {
  const b = new SctpAssociation({ rng: new SeededRng(1) });
  const other = Buffer.from([0, 0, 0, 2]); // EDMID 2: not DTLS, so not applicable here.
  b.handleInput(0, foreignInit([
    { type: ParamType.ZERO_CHECKSUM_ACCEPTABLE, value: other },
    { type: 0x8123, value: Buffer.from('skip') }, // 10: skip silently
    { type: 0xc123, value: Buffer.from('report') }, // 11: skip and report
    { type: 0x4123, value: Buffer.from('stop!') }, // 01: stop and report
    { type: 0xc124, value: Buffer.from('never read') },
  ]));
  const out = b.pollTransmit();
  assert.ok(out);
  const pkt = decodePacket(out);
  assert.equal(pkt.verificationTag, 0x11223344);
  const ack = pkt.chunks[0]!;
  assert.equal(ack.type, 2);
  const unrecognized = (ack as InitChunk).params.filter((x) => x.type === ParamType.UNRECOGNIZED_PARAMETER);
  const reported = unrecognized.map((u) => parseParameters(u.value)![0]!.type);
  assert.deepEqual(reported, [0xc123, 0x4123]);
  assert.equal(b.state, 'new', 'the server side stays stateless until COOKIE ECHO');
});

test('our INIT ACK carries Zero Checksum Acceptable only when the INIT did (pion/sctp < 1.8.13 refuses it)', () => {
  for (const announce of [false, true]) {
    const b = new SctpAssociation({ rng: new SeededRng(2), zeroChecksum: true });
    const edmidDtls = Buffer.from([0, 0, 0, 1]);
    b.handleInput(0, foreignInit(announce ? [{ type: ParamType.ZERO_CHECKSUM_ACCEPTABLE, value: edmidDtls }] : []));
    const out = b.pollTransmit();
    assert.ok(out);
    const ack = decodePacket(out).chunks[0] as InitChunk;
    assert.equal(ack.type, 2);
    assert.equal(ack.params.some((x) => x.type === ParamType.ZERO_CHECKSUM_ACCEPTABLE), announce);
  }
});

test('unknown chunk types: 00 stops, 01 stops and reports, 10 skips, 11 skips and reports (RFC 9260 section 3.2)', () => {
  for (const [type, processed, reported] of [[0x3f, false, false], [0x7f, false, true], [0xbf, true, false], [0xff, true, true]] as const) {
    const p = new SctpPair(23, { delayMs: 5 });
    assert.ok(p.connect());
    let dataPacket: Buffer | undefined;
    p.tap = (from, pkt) => {
      if (from === 'a' && !dataPacket && decodePacket(pkt).chunks.some((c) => c.type === 0 || c.type === 64)) {
        dataPacket = pkt;
        return undefined;
      }
      return pkt;
    };
    p.a.send(p.now, 1, 53, Buffer.from('payload'));
    p.flush();
    assert.ok(dataPacket);
    p.tap = undefined;
    // Rebuild the packet as [unknown chunk][original chunks] with a fresh checksum.
    const unknown = Buffer.from([type, 0, 0, 8, 1, 2, 3, 4]);
    const forged = Buffer.concat([dataPacket.subarray(0, 12), unknown, dataPacket.subarray(12)]);
    forged.writeUInt32LE(sctpChecksum(forged), 8);
    let errorSent = false;
    p.tap = (from, pkt) => {
      if (from === 'b' && decodePacket(pkt).chunks.some((c) => c.type === 9)) errorSent = true;
      return pkt;
    };
    p.b.handleInput(p.now, forged);
    p.flush();
    const gotData = p.events.b.some((e) => e.type === 'message');
    assert.equal(gotData, processed, `type 0x${type.toString(16)} processed`);
    assert.equal(errorSent, reported, `type 0x${type.toString(16)} reported`);
    assert.equal(p.b.state, 'established');
    // Whatever happened, retransmission completes the delivery.
    assert.ok(p.runUntil(() => p.events.b.some((e) => e.type === 'message'), { maxTimeMs: 10_000, maxSteps: 1000 }));
  }
});
