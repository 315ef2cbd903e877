// lib/sfu/auto-layers.ts (docs/sfu.md "Automatic layer selection"): a subscriber connection's REMB
// (draft-alvestrand-rmcat-remb-03) counts for REMB_EXPIRY_MS; after that its transport-cc feedback
// feeds the estimate again; overwritten send records are counted. Synthetic input on a virtual clock: REMB and feedback packets, and a send log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoLayerDriver, REMB_EXPIRY_MS, type LegSendLog } from '../../../lib/sfu/auto-layers.js';
import type { Consumer } from '../../../lib/sfu/consumer.js';
import { RtcpReceiverEstimatedMaxBitrate } from '../../../lib/rtp/rtcp/receiver-estimated-max-bitrate.js';
import { RtcpTransportCcFeedback } from '../../../lib/rtp/rtcp/transport-cc-feedback.js';

/** The engine's ring, as the driver sees it: records written by the test, ages against `clock`. */
class SyntheticSendLog implements LegSendLog {
  clock = 0;
  private pending: { seq: number; size: number; at: number }[] = [];
  enable(): boolean {
    return true;
  }
  disable(): void {
    this.pending = [];
  }
  send(seq: number, size: number, at: number): void {
    this.pending.push({ seq, size, at });
  }
  collect(_transport: number, seqs: Uint16Array, sizes: Uint32Array, agesUs: Float64Array): number {
    const n = Math.min(this.pending.length, seqs.length);
    for (let i = 0; i < n; i++) {
      const r = this.pending[i]!;
      seqs[i] = r.seq;
      sizes[i] = r.size;
      agesUs[i] = (this.clock - r.at) * 1000;
    }
    this.pending.splice(0, n);
    return n;
  }
  /** What the engine would count as overwritten before collected. */
  overwrittenCount = 0;
  overwritten(): number {
    return this.overwrittenCount;
  }
}

test('auto layers: a REMB counts for REMB_EXPIRY_MS, then transport-cc feedback feeds the estimate again', () => {
  const log = new SyntheticSendLog();
  const driver = new AutoLayerDriver(undefined, () => false, log);
  const consumer = { id: 1, producer: {} } as unknown as Consumer;
  const leg = {};
  let seq = 0;
  // 100 packets of 1200 bytes, 2 ms apart from `from`, all reported received 20 ms later.
  const burst = (from: number): RtcpTransportCcFeedback => {
    const base = seq;
    const arrivalsUs: number[] = [];
    for (let k = 0; k < 100; k++, seq++) {
      log.send(seq, 1200, from + k * 2);
      arrivalsUs.push((from + k * 2 + 20) * 1000);
    }
    log.clock = from + 230;
    return RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 2, mediaSsrc: 3, baseSequenceNumber: base, feedbackPacketCount: base / 100 }, arrivalsUs);
  };
  try {
    driver.add(consumer, leg, 7);
    driver.onRtcp(leg, consumer, new RtcpReceiverEstimatedMaxBitrate(2, 500_000), 0);
    assert.equal(driver.estimate(leg, 0), 500_000);
    // Fresh REMB: feedback is not used.
    driver.onRtcp(leg, consumer, burst(1000), 1230);
    assert.equal(driver.feedbackStats.transportCcIgnored, 1);
    assert.equal(driver.feedbackStats.transportCcFeedback, 0);
    assert.equal(driver.estimate(leg, REMB_EXPIRY_MS), 500_000, 'still fresh at REMB_EXPIRY_MS');

    // No REMB for longer than REMB_EXPIRY_MS: the feedback is fed and its estimate is the connection's.
    const later = REMB_EXPIRY_MS + 1000;
    log.overwrittenCount = 5;
    driver.onRtcp(leg, consumer, burst(later), later + 230);
    assert.equal(driver.feedbackStats.transportSendsOverwritten, 5, 'records the ring overwrote are counted once');
    assert.equal(driver.feedbackStats.transportCcFeedback, 1);
    assert.equal(driver.feedbackStats.transportCcUnknown, 0, 'every number it named was sent');
    const sendSide = driver.estimate(leg, later + 230);
    assert.ok(sendSide !== undefined && sendSide !== 500_000, `the send-side estimate, not the stale REMB: ${sendSide}`);

    // A new REMB takes over again.
    driver.onRtcp(leg, consumer, new RtcpReceiverEstimatedMaxBitrate(2, 300_000), later + 300);
    assert.equal(driver.estimate(leg, later + 300), 300_000);
    driver.onRtcp(leg, consumer, burst(later + 400), later + 630);
    assert.equal(driver.feedbackStats.transportCcIgnored, 2);
    assert.equal(driver.feedbackStats.transportSendsOverwritten, 5);
  } finally {
    driver.stop();
  }
});

test('auto layers: an expired REMB stays the estimate while the connection sends no transport-cc feedback', () => {
  const driver = new AutoLayerDriver(undefined, () => false, new SyntheticSendLog());
  const consumer = { id: 1, producer: {} } as unknown as Consumer;
  const leg = {};
  try {
    driver.add(consumer, leg, 7);
    driver.onRtcp(leg, consumer, new RtcpReceiverEstimatedMaxBitrate(2, 400_000), 0);
    assert.equal(driver.estimate(leg, 10 * REMB_EXPIRY_MS), 400_000);
  } finally {
    driver.stop();
  }
});

test('auto layers: what was sent while a REMB ruled is not fed later, and an older transport-cc estimate does not outlive a new REMB', () => {
  const log = new SyntheticSendLog();
  const driver = new AutoLayerDriver(undefined, () => false, log);
  const consumer = { id: 1, producer: {} } as unknown as Consumer;
  const leg = {};
  const seqs = new Uint16Array(8);
  const sizes = new Uint32Array(8);
  const ages = new Float64Array(8);
  try {
    driver.add(consumer, leg, 7);
    // A transport-cc estimate first (no REMB yet).
    for (let k = 0; k < 50; k++) log.send(k, 1200, k * 2);
    log.clock = 200;
    driver.onRtcp(leg, consumer, RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 2, mediaSsrc: 3, baseSequenceNumber: 0, feedbackPacketCount: 0 },
      Array.from({ length: 50 }, (_, k) => (k * 2 + 20) * 1000)), 200);
    assert.equal(driver.feedbackStats.transportCcFeedback, 1);
    // A REMB arrives; feedback during it is ignored, but its send records are taken out of the ring.
    driver.onRtcp(leg, consumer, new RtcpReceiverEstimatedMaxBitrate(2, 300_000), 300);
    for (let k = 50; k < 60; k++) log.send(k, 1200, 300 + k);
    log.clock = 400;
    driver.onRtcp(leg, consumer, RtcpTransportCcFeedback.fromArrivals({ senderSsrc: 2, mediaSsrc: 3, baseSequenceNumber: 50, feedbackPacketCount: 1 },
      Array.from({ length: 10 }, (_, k) => (350 + k + 20) * 1000)), 400);
    assert.equal(driver.feedbackStats.transportCcIgnored, 1);
    assert.equal(log.collect(7, seqs, sizes, ages), 0, 'the records sent while the REMB ruled were collected and dropped');
    // The REMB expires with no feedback since: the REMB, not the transport-cc estimate from before it.
    assert.equal(driver.estimate(leg, 300 + REMB_EXPIRY_MS + 1000), 300_000);
  } finally {
    driver.stop();
  }
});
