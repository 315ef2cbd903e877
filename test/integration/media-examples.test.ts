// The media examples end to end over loopback: examples/send-file.ts publishing VP8 + Opus files to
// examples/record.ts by WHIP (RFC 9725), and Chromium publishing its fake camera and microphone to
// the recorder; ffprobe then decodes the recorded IVF and Ogg Opus files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startRecorder, type Recording } from '../../examples/record.js';
import { sendFile } from '../../examples/send-file.js';
import { launchChromium, SKIP_CHROMIUM } from '../interop/chromium.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/media/${name}`, import.meta.url));

function hasFfprobe(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const FFPROBE = hasFfprobe();
const NO_FFPROBE = FFPROBE ? false : 'ffprobe is not installed (Debian ffmpeg)';

interface Probe {
  codec: string;
  /** Frames ffprobe decoded (-count_frames), so a file it cannot decode fails here. */
  frames: number;
  /** Container duration in seconds. */
  duration: number;
}

function ffprobe(path: string): Probe {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames:format=duration', '-of', 'json', path], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  const json = JSON.parse(out) as { streams: { codec_name: string; nb_read_frames: string }[]; format: { duration: string } };
  assert.equal(json.streams.length, 1, `${path}: one stream`);
  return { codec: json.streams[0]!.codec_name, frames: Number(json.streams[0]!.nb_read_frames), duration: Number(json.format.duration) };
}

function find(recordings: readonly Recording[], mimeType: string): Recording {
  const r = recordings.find((x) => x.mimeType === mimeType);
  assert.ok(r, `a ${mimeType} recording among ${recordings.map((x) => x.mimeType).join(', ') || 'none'}`);
  return r;
}

test('send-file → record over loopback: 2 s of VP8 + Opus decode with ffprobe to the frames sent', { timeout: 60_000, skip: NO_FFPROBE }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const recorder = await startRecorder({ outDir: dir, port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => recorder.close());

  const sent = await sendFile({ url: recorder.whipUrl, video: fixture('vp8.ivf'), audio: fixture('opus.ogg'), seconds: 2, hostAddresses: ['127.0.0.1'] });
  const recordings = await recorder.close();

  // 30 fps for 2 s; Opus 20 ms packets for 2 s (the files loop: 20 frames, 50 packets per pass).
  const video = sent.streams.find((s) => s.mimeType === 'video/VP8')!;
  const audio = sent.streams.find((s) => s.mimeType === 'audio/opus')!;
  assert.ok(Math.abs(video.frames - 60) <= 1, `VP8 frames sent: ${video.frames}`);
  assert.ok(Math.abs(audio.frames - 100) <= 1, `Opus packets sent: ${audio.frames}`);

  // Loopback may still drop a packet under load: allow 3 frames lost, and require ffprobe to
  // decode every frame that was written.
  const ivf = find(recordings, 'video/VP8');
  const v = ffprobe(ivf.path);
  assert.equal(v.codec, 'vp8');
  assert.equal(v.frames, ivf.frames, 'ffprobe decodes every recorded VP8 frame');
  assert.ok(v.frames >= video.frames - 3 && v.frames <= video.frames, `VP8 frames decoded ${v.frames} of ${video.frames} sent`);
  assert.ok(Math.abs(v.duration - v.frames / 30) <= 0.1, `IVF duration ${v.duration} s for ${v.frames} frames at 30 fps`);

  const ogg = find(recordings, 'audio/opus');
  const a = ffprobe(ogg.path);
  assert.equal(a.codec, 'opus');
  assert.equal(a.frames, ogg.frames, 'ffprobe decodes every recorded Opus packet');
  assert.ok(a.frames >= audio.frames - 3 && a.frames <= audio.frames, `Opus packets decoded ${a.frames} of ${audio.frames} sent`);
  // Granules count 20 ms per packet; the 312-sample pre-skip (6.5 ms) may or may not be subtracted.
  assert.ok(Math.abs(a.duration - a.frames * 0.02) <= 0.05, `Ogg duration ${a.duration} s for ${a.frames} packets`);
});

const NO_CHROMIUM = SKIP_CHROMIUM || NO_FFPROBE;

test('Chromium publishes its fake camera and microphone by WHIP; the recording decodes with ffprobe', { timeout: 60_000, skip: NO_CHROMIUM }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const recorder = await startRecorder({ outDir: dir, port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => recorder.close());
  const browser = await launchChromium();
  t.after(() => browser.close());

  const page = await browser.context.newPage();
  // Same origin as the WHIP endpoint, so the page's fetch needs no CORS.
  await page.goto(new URL('/', recorder.whipUrl).toString());
  const state = await page.evaluate(`(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 320, height: 240, frameRate: 30 } });
    const pc = new RTCPeerConnection();
    window.pwtPc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      setTimeout(resolve, 3000);
    });
    const res = await fetch('/whip', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription.sdp });
    if (res.status !== 201) throw new Error('WHIP answered ' + res.status + ': ' + await res.text());
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        if (pc.connectionState === 'failed') reject(new Error('connection failed'));
      };
      pc.addEventListener('connectionstatechange', check);
      check();
      setTimeout(() => reject(new Error('not connected in 15 s: ' + pc.connectionState)), 15000);
    });
    return pc.connectionState;
  })()`);
  assert.equal(state, 'connected');
  const recordSeconds = 3;
  await sleep(recordSeconds * 1000);
  const recordings = await recorder.close();

  const ivf = find(recordings, 'video/VP8');
  const v = ffprobe(ivf.path);
  t.diagnostic(`Chromium VP8: ${ivf.packets} RTP packets, ${ivf.frames} frames written, ffprobe decoded ${v.frames} frames, ${v.duration} s`);
  assert.equal(v.codec, 'vp8');
  assert.ok(v.frames > 0, 'ffprobe decodes frames');
  assert.equal(v.frames, ivf.frames, 'ffprobe decodes every recorded VP8 frame');
  // The recording starts at Chromium's first key frame, shortly after connecting, and ends when
  // the recorder closes; the IVF duration comes from the RTP timestamps (90 kHz).
  assert.ok(v.duration > recordSeconds - 1.5 && v.duration < recordSeconds + 0.5, `IVF duration ${v.duration} s for a ${recordSeconds} s recording`);

  const ogg = find(recordings, 'audio/opus');
  const a = ffprobe(ogg.path);
  t.diagnostic(`Chromium Opus: ${ogg.packets} RTP packets, ${ogg.frames} written, ffprobe decoded ${a.frames} packets, ${a.duration} s`);
  assert.equal(a.codec, 'opus');
  assert.equal(a.frames, ogg.frames, 'ffprobe decodes every recorded Opus packet');
  assert.ok(a.duration > recordSeconds - 1.5 && a.duration < recordSeconds + 0.5, `Ogg duration ${a.duration} s for a ${recordSeconds} s recording`);
});
