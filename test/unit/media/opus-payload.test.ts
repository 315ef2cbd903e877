// Opus RTP payloads (RFC 7587 §4.2) and packet durations from the TOC byte (RFC 6716 §3.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OpusDepacketizer, OpusPacketizer, opusPacketSamples } from '../../../lib/media/opus-payload.js';
import { opusPackets, TEST_MTUS } from './media-fixtures.js';

test('TOC durations follow RFC 6716 §3.1 Table 2 and the frame count codes of §3.2', () => {
  // config 1 = SILK NB 20 ms, code 0: one frame.
  assert.equal(opusPacketSamples(Buffer.from([1 << 3, 0])), 960);
  // config 3 = SILK NB 60 ms.
  assert.equal(opusPacketSamples(Buffer.from([3 << 3])), 2880);
  // config 13 = hybrid SWB 20 ms; config 14 = hybrid FB 10 ms.
  assert.equal(opusPacketSamples(Buffer.from([13 << 3])), 960);
  assert.equal(opusPacketSamples(Buffer.from([14 << 3])), 480);
  // config 16 = CELT NB 2.5 ms; config 31 = CELT FB 20 ms.
  assert.equal(opusPacketSamples(Buffer.from([16 << 3])), 120);
  assert.equal(opusPacketSamples(Buffer.from([31 << 3])), 960);
  // code 1 and 2: two frames.
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 1, 0])), 1920);
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 2, 0])), 1920);
  // code 3: M frames from the second byte; 6 × 20 ms = 120 ms is the limit.
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 3, 6])), 5760);
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 3, 7])), undefined);
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 3, 0])), undefined);
  assert.equal(opusPacketSamples(Buffer.from([(31 << 3) | 3])), undefined);
  assert.equal(opusPacketSamples(Buffer.alloc(0)), undefined);
});

test('every fixture packet is a 20 ms packet', () => {
  const packets = opusPackets();
  assert.equal(packets.length, 51);
  for (const p of packets) assert.equal(opusPacketSamples(p), 960);
});

test('packetize → depacketize round trip of the fixture packets at every MTU they fit', () => {
  const pz = new OpusPacketizer();
  const dz = new OpusDepacketizer();
  const packets = opusPackets();
  for (const mtu of TEST_MTUS) {
    for (const packet of packets) {
      if (packet.length > mtu) {
        assert.throws(() => pz.packetize(packet, mtu), { code: 'ERR_MEDIA_FRAME' });
        continue;
      }
      const payloads = pz.packetize(packet, mtu);
      assert.equal(payloads.length, 1);
      const d = dz.depacketize(payloads[0]!);
      assert.ok(d);
      assert.equal(d.keyframe, true);
      assert.equal(d.frameStart, true);
      assert.equal(d.frameEnd, true);
      assert.deepEqual(dz.assemble(payloads), packet);
    }
  }
  assert.equal(pz.markerOnLastPayload, false);
});

test('empty payloads and multi-payload frames are dropped and counted', () => {
  const dz = new OpusDepacketizer();
  assert.equal(dz.depacketize(Buffer.alloc(0)), undefined);
  assert.equal(dz.drops.truncated, 1);
  assert.equal(dz.assemble([Buffer.from([8]), Buffer.from([8])]), undefined);
  assert.equal(dz.drops.malformed, 1);
  assert.throws(() => new OpusPacketizer().packetize(Buffer.alloc(0), 1200), { code: 'ERR_MEDIA_FRAME' });
  assert.throws(() => new OpusPacketizer().packetize(Buffer.from([8]), 4), { code: 'ERR_MEDIA_MTU' });
});
