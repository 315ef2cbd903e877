// Chromium publishes VP8 + Opus to examples/record.ts through 5 % random loss and 50 ms delay each
// way (ImpairmentRelay): with the default policy modules the recorded VP8 decodes with ffprobe with
// at most 1 % of the frames Chromium sent missing; the same run without the NACK modules loses
// visibly more. Short form (npm test): 8 s each; long form (npm run test:net): 20 s each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRecorder } from '../../examples/record.js';
import type { RtpPolicyFactory } from '../../lib/peer/rtp-policy.js';
import { defaultPolicyFactories } from '../../lib/policy/default-policies.js';
import { launchChromium, type ChromiumHandle } from '../interop/chromium.js';
import { connectChromium, find, LONG, NO_CHROMIUM } from './chromium-session.js';

const SECONDS = LONG ? 20 : 8;
const IMPAIRMENT = { loss: 0.05, delayMs: 50 };

function ffprobeFrames(path: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', path], { encoding: 'utf8', timeout: 30_000 });
  const json = JSON.parse(out) as { streams: { codec_name: string; nb_read_frames: string }[] };
  assert.equal(json.streams[0]?.codec_name, 'vp8');
  return Number(json.streams[0]!.nb_read_frames);
}

function hasFfprobe(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SKIP = NO_CHROMIUM || (hasFfprobe() ? false : 'ffprobe is not installed (Debian ffmpeg)');

let browser: ChromiumHandle;
before(async () => {
  if (!SKIP) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

interface RunResult {
  framesSent: number;
  framesDecoded: number;
  missing: number;
  nackCount: number;
  retransmitted: number;
  dropped: number;
}

async function run(t: { diagnostic(m: string): void; after(fn: () => unknown): void }, label: string, rtpPolicies: RtpPolicyFactory[]): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-net-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const recorder = await startRecorder({ outDir: dir, port: 0, hostAddresses: ['127.0.0.1'], iceLite: true, rtpPolicies });
  t.after(() => recorder.close());
  const session = await connectChromium(browser, {
    whipUrl: recorder.whipUrl, direction: 'sendonly', video: { width: 640, height: 480 }, audio: true,
    relay: { toServer: IMPAIRMENT, toClient: IMPAIRMENT, seed: 5 },
  });
  t.after(() => session.close());
  await sleep(SECONDS * 1000);
  // Stop the camera, let the last frames and their repairs arrive, then compare.
  await session.stopSending();
  await sleep(1000);
  const stats = await session.stats();
  const out = find(stats, 'outbound-rtp', 'video');
  const recordings = await recorder.close();
  const ivf = recordings.find((r) => r.mimeType === 'video/VP8');
  // No file at all: not one keyframe arrived whole (possible without NACK): nothing decoded.
  const framesDecoded = ivf && ivf.frames > 0 ? ffprobeFrames(ivf.path) : 0;
  if (ivf && ivf.frames > 0) assert.equal(framesDecoded, ivf.frames, 'ffprobe decodes every recorded frame');
  await session.close();
  const framesSent = Number(out?.framesSent ?? out?.framesEncoded ?? 0);
  if (framesSent === 0) t.diagnostic(`${label}: Chromium video outbound-rtp: ${JSON.stringify(out)}; candidate-pair ${JSON.stringify(find(stats, 'candidate-pair'))}`);
  const r: RunResult = {
    framesSent,
    framesDecoded,
    missing: Math.max(0, 1 - framesDecoded / framesSent),
    nackCount: Number(out?.nackCount ?? 0),
    retransmitted: Number(out?.retransmittedPacketsSent ?? 0),
    dropped: session.relay!.toServer.dropped,
  };
  t.diagnostic(`${label}: Chromium sent ${r.framesSent} VP8 frames in ${SECONDS} s, recorded and decoded ${r.framesDecoded} ` +
    `(${(r.missing * 100).toFixed(2)} % missing); relay dropped ${r.dropped} datagrams to us; Chromium got ${r.nackCount} NACKs and retransmitted ${r.retransmitted} packets`);
  return r;
}

test(`Chromium → record.ts through 5 % loss + 50 ms: ≤ 1 % VP8 frames missing with NACK, visibly more without (${SECONDS} s each)`, { timeout: 180_000, skip: SKIP }, async (t) => {
  const withNack = await run(t, 'default modules', defaultPolicyFactories());
  const without = await run(t, 'without nack-generator/nack-responder', defaultPolicyFactories().filter((f) => !f.name.startsWith('nack-')));
  assert.ok(withNack.nackCount > 0 && withNack.retransmitted > 0, 'our NACKs were answered');
  assert.ok(withNack.missing <= 0.01, `with NACK at most 1 % missing (${(withNack.missing * 100).toFixed(2)} %)`);
  assert.equal(without.nackCount, 0, 'no NACK without the modules');
  assert.ok(without.missing > withNack.missing * 3 && without.missing > 0.03, `without NACK visibly more missing (${(without.missing * 100).toFixed(2)} %)`);
});
