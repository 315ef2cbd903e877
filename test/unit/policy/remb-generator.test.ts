// REMB generation (lib/policy/remb-generator.ts): the receive-side estimate behind the network
// simulator with a sender that follows it, the REMB schedule, SSRC list, abs-send-time wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RembGenerator } from '../../../lib/policy/remb-generator.js';
import { NetworkSimulator } from '../../../lib/policy/network-simulator.js';
import { Pacer } from '../../../lib/policy/pacer.js';
import { absSendTimeFromMs } from '../../../lib/rtp/extensions/abs-send-time.js';
import { parseRtcp, serializeRtcp } from '../../../lib/rtp/rtcp/compound.js';
import type { PwtError } from '../../../lib/common/errors.js';

/** Sender that follows REMB, 1 Mbit/s bottleneck; returns (time, sender target) samples. */
function rembScenario(seed: number, durationMs: number, startMs = 0): { t: number; target: number; queue: number }[] {
  const sim = new NetworkSimulator({ seed, aToB: { rateBps: 1_000_000, queueBytes: 30_000, delayMs: 25, jitterMs: 5 }, bToA: { delayMs: 25 } });
  const remb = new RembGenerator({ senderSsrc: 2 });
  let target = 300_000;
  const pacer = new Pacer<number>({ initialTargetBitrate: target });
  const samples: { t: number; target: number; queue: number }[] = [];
  let maxQueue = 0;
  let nextFrame = startMs;
  for (let now = startMs; now <= startMs + durationMs; now += 1) {
    if (now >= nextFrame) {
      let bytes = Math.round(target / 8 / 30);
      while (bytes > 0) {
        const n = Math.min(1200, bytes);
        pacer.enqueue(now, n, n + 20);
        bytes -= n;
      }
      nextFrame += 1000 / 30;
    }
    for (let n = pacer.poll(now); n !== undefined; n = pacer.poll(now)) {
      const pkt = Buffer.alloc(n + 20);
      pkt.writeUIntBE(absSendTimeFromMs(now), 0, 3);
      sim.send(now, 'a', pkt);
    }
    for (let d = sim.poll(now); d; d = sim.poll(now)) {
      const buf = Buffer.from(d.packet.buffer, d.packet.byteOffset, d.packet.byteLength);
      if (d.to === 'b') {
        maxQueue = Math.max(maxQueue, d.queuedMs);
        remb.onPacket(now, 0x1234, buf.readUIntBE(0, 3), buf.length);
      } else {
        for (const p of parseRtcp(buf)) {
          if (p.kind !== 'remb') continue;
          assert.deepEqual(p.ssrcs, [0x1234]);
          target = p.bitrate;
          pacer.setTargetBitrate(now, target);
        }
      }
    }
    remb.handleTimeout(now);
    for (let p = remb.pollTransmit(); p; p = remb.pollTransmit()) sim.send(now, 'b', serializeRtcp([p]));
    if ((now - startMs) % 100 === 0) {
      samples.push({ t: now - startMs, target, queue: maxQueue });
      maxQueue = 0;
    }
  }
  return samples;
}

test('a sender following our REMB settles near a 1 Mbit/s bottleneck with bounded queueing delay', () => {
  const s = rembScenario(1, 25_000);
  const late = s.filter((x) => x.t >= 12_000);
  const mean = late.reduce((a, x) => a + x.target, 0) / late.length;
  assert.ok(Math.abs(mean - 1_000_000) < 200_000, `mean ${mean}`);
  assert.ok(Math.min(...late.map((x) => x.target)) > 650_000);
  assert.ok(Math.max(...late.map((x) => x.queue)) < 200, `queue ${Math.max(...late.map((x) => x.queue))} ms`);
});

test('the abs-send-time wrap at 64 s does not disturb the estimate; determinism', () => {
  // Start 50 s into the abs-send-time window, so it wraps 14 s into the run.
  const s = rembScenario(2, 25_000, 50_000);
  const late = s.filter((x) => x.t >= 12_000);
  const mean = late.reduce((a, x) => a + x.target, 0) / late.length;
  assert.ok(Math.abs(mean - 1_000_000) < 200_000, `mean ${mean}`);
  assert.deepEqual(rembScenario(3, 3000), rembScenario(3, 3000));
});

test('schedule: nothing before a packet; then every interval; a drop of 3 % or more at once; stale SSRCs leave', () => {
  const g = new RembGenerator({ senderSsrc: 9, intervalMs: 1000, startBitrate: 1_000_000 });
  assert.equal(g.nextTimeout(), undefined);
  g.onPacket(0, 1, absSendTimeFromMs(0), 1000);
  g.onPacket(0, 2, undefined, 1000);
  assert.equal(g.stats.packetsWithoutSendTime, 1);
  assert.equal(g.nextTimeout(), 1000);
  g.handleTimeout(999);
  assert.equal(g.pollTransmit(), undefined);
  g.handleTimeout(1000);
  const first = g.pollTransmit();
  assert.equal(first?.senderSsrc, 9);
  assert.deepEqual(first?.ssrcs, [1, 2]);
  assert.equal(first?.bitrate, 1_000_000);
  // Only SSRC 1 keeps sending, with delay growing 5 ms per 10 ms group: overuse → an immediate, lower REMB.
  let now = 1000;
  let sent = 0;
  let early: number | undefined;
  for (let i = 0; i < 300 && early === undefined; i++) {
    now += 15;
    sent += 10;
    g.onPacket(now, 1, absSendTimeFromMs(sent), 1200);
    const p = g.pollTransmit();
    if (p) early = p.bitrate;
  }
  assert.ok(early !== undefined && early < 0.97 * 1_000_000, `early REMB ${early}`);
  assert.ok(now < 2000 + 3000, 'sent before the regular interval would have');
  g.handleTimeout(now + 1000);
  assert.deepEqual(g.pollTransmit()?.ssrcs, [1], 'SSRC 2 timed out');
  assert.throws(() => new RembGenerator({ senderSsrc: -1 }), (e: PwtError) => e.name === 'RangeError' && e.code === 'ERR_REMB_OPTION');
});
