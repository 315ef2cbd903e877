// The SRTP binding is safe in several worker_threads at once (docs/architecture.md, Principles 4): each
// worker loads the addon, runs its own sessions and tears down cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
const profile = workerData.profile;
const kl = profile === 8 ? 32 : 16, sl = profile >= 7 ? 12 : 14;
const tx = new addon.SrtpSession(1024, 64), rx = new addon.SrtpSession(1024, 64);
const a = Buffer.alloc(kl, 1), as = Buffer.alloc(sl, 2), b = Buffer.alloc(kl, 3), bs = Buffer.alloc(sl, 4);
tx.key(profile, a, as, b, bs);
rx.key(profile, b, bs, a, as);
const buf = Buffer.alloc(2048);
tx.bind(buf);
rx.bind(buf);
let ok = 0;
for (let i = 0; i < 2000; i++) {
  buf.fill(i & 0xff, 0, 1212);
  buf[0] = 0x80; buf[1] = 96; buf.writeUInt16BE(i, 2); buf.writeUInt32BE(7, 8);
  const n = tx.protectAt(0, 0, 1212, 2048);
  if (rx.unprotectAt(0, 0, n) === 1212 && buf[500] === (i & 0xff)) ok++;
}
tx.close();
rx.close();
parentPort.postMessage(ok);
`;

test('four workers run SRTP sessions concurrently', async () => {
  // The main thread holds the addon too, so instances live in five threads at once.
  const { loadAddon } = await import('../../../lib/native/addon.js');
  loadAddon();
  const addonPath = (await import('../../../lib/native/addon.js')).addonPath();
  const results = await Promise.all([1, 2, 7, 8].map((profile) => new Promise<number>((resolve, reject) => {
    const w = new Worker(workerSource, { eval: true, workerData: { addonPath, profile } });
    w.once('message', (n: number) => resolve(n));
    w.once('error', reject);
  })));
  assert.deepEqual(results, [2000, 2000, 2000, 2000]);
});
