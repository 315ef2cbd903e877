// Interop with libwebrtc through @roamhq/wrtc (run in a child process, wrtc-peer.mjs) over loopback:
// wrtc as WHIP client of our echo server (its getStats on the echoed streams, the 100 test messages),
// and wrtc as the answerer behind a WHIP endpoint with our whip-client sending Opus/VP8 files.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { messagePlan } from '../../lib/echo/message-plan.js';
import { runWhipClient } from '../../lib/cli/whip-client.js';
import { captureSdp, recordResult } from './results.js';
import { renderMatrix } from './render-matrix.js';
import { runCli } from './cli-run.js';
import { startWhipEndpoint } from './whip-endpoint.js';

const PEER = '@roamhq/wrtc (libwebrtc)';
const SERVER_ROLE = 'our WHIP echo server ← wrtc client';
const CLIENT_ROLE = 'our whip-client → wrtc answerer';
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/media/${name}`, import.meta.url));

after(() => {
  renderMatrix();
});

interface WrtcChild {
  call<T>(msg: Record<string, unknown>, timeoutMs: number): Promise<T>;
  kill(): void;
}

/** Starts wrtc-peer.mjs; replies come back in the order of the calls. */
function startWrtc(): WrtcChild {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [fileURLToPath(new URL('./wrtc-peer.mjs', import.meta.url))], { stdio: 'pipe' });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  return {
    call<T>(msg: Record<string, unknown>, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`wrtc child: no reply to ${String(msg.cmd)} in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(JSON.parse(line) as T);
        });
        child.stdin.write(`${JSON.stringify(msg)}\n`);
      });
    },
    kill(): void {
      child.kill('SIGKILL');
    },
  };
}

interface Inbound {
  packetsReceived: number;
  framesDecoded?: number;
}
interface WrtcStats {
  version: string;
  audio?: Inbound;
  video?: Inbound;
  transport?: { srtpCipher?: string };
}

test('wrtc WHIP client ↔ our echo server: echoed audio and video in its getStats, data channel', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const wrtc = startWrtc();
  t.after(() => wrtc.kill());
  const r = await wrtc.call<{ ok: boolean; error?: string; offer?: string; version: string; first: WrtcStats; second: WrtcStats; messages: { sent: number; intact: number }; deleteStatus: number }>(
    { cmd: 'client', url: server.whipUrl, plan: messagePlan() }, 45_000);
  assert.ok(r.ok, r.error);
  if (r.offer) captureSdp('wrtc', 'offer', r.offer);
  const a1 = r.first.audio?.packetsReceived ?? 0;
  const a2 = r.second.audio?.packetsReceived ?? 0;
  const v1 = r.first.video?.packetsReceived ?? 0;
  const v2 = r.second.video?.packetsReceived ?? 0;
  const frames = r.second.video?.framesDecoded ?? 0;
  recordResult({ peer: PEER, version: r.version, role: SERVER_ROLE, media: 'audio', variant: '', pass: a2 > a1, detail: `echoed inbound-rtp packetsReceived ${a1} → ${a2}` });
  recordResult({ peer: PEER, version: r.version, role: SERVER_ROLE, media: 'video', variant: '', pass: v2 > v1 && frames > 0, detail: `echoed inbound-rtp packetsReceived ${v1} → ${v2}, framesDecoded ${frames}` });
  recordResult({ peer: PEER, version: r.version, role: SERVER_ROLE, media: 'data', variant: '', pass: r.messages.intact === 100, detail: `${r.messages.intact}/${r.messages.sent} test messages back intact` });
  assert.ok(a2 > a1, `audio packetsReceived grows ${a1} → ${a2}`);
  assert.ok(v2 > v1, `video packetsReceived grows ${v1} → ${v2}`);
  assert.ok(frames > 0, 'wrtc decoded echoed video');
  assert.equal(r.messages.intact, 100);
  assert.equal(r.deleteStatus, 200);
});

test('our whip-client ↔ wrtc answerer: Opus and VP8 looped back through libwebrtc, data channel', { timeout: 60_000 }, async (t) => {
  const wrtc = startWrtc();
  t.after(() => wrtc.kill());
  let version = 'unknown';
  const endpoint = await startWhipEndpoint(async (offer) => {
    const a = await wrtc.call<{ sdp: string; version: string }>({ cmd: 'answer', sdp: offer }, 15_000);
    version = a.version;
    captureSdp('wrtc', 'answer-to-whip-client', a.sdp);
    return a.sdp;
  });
  t.after(() => endpoint.close());
  const summary = await runWhipClient({
    url: endpoint.url, audio: true, video: true, datachannel: true, seconds: 5,
    audioFile: fixture('opus.ogg'), videoFile: fixture('vp8.ivf'), peer: { hostAddresses: ['127.0.0.1'] },
  });
  const stats = await wrtc.call<WrtcStats>({ cmd: 'stats' }, 10_000);
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'audio', variant: '', pass: summary.rtp.audio.received > 0,
    detail: `we sent ${summary.rtp.audio.sent} Opus packets, wrtc received ${stats.audio?.packetsReceived ?? 0}, ${summary.rtp.audio.received} came back` });
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'video', variant: '', pass: summary.rtp.video.received > 0 && (stats.video?.framesDecoded ?? 0) > 0,
    detail: `we sent ${summary.rtp.video.sent} VP8 packets, wrtc decoded ${stats.video?.framesDecoded ?? 0} frames, ${summary.rtp.video.received} packets came back` });
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'data', variant: '', pass: summary.messages.echoedIntact === 100,
    detail: `${summary.messages.echoedIntact}/${summary.messages.sent} test messages back intact` });
  assert.ok(summary.connected, summary.errors.join('; '));
  assert.ok((stats.video?.framesDecoded ?? 0) > 0, 'wrtc decoded our VP8');
  assert.ok(summary.rtp.video.received > 0, 'wrtc looped video back');
  assert.ok(summary.rtp.audio.received > 0, 'wrtc looped audio back');
  assert.equal(summary.messages.echoedIntact, 100);
});

test('whip-client --url alone (default clips) → wrtc answerer: libwebrtc decodes the VP8, media and data come back', { timeout: 90_000 }, async (t) => {
  const wrtc = startWrtc();
  t.after(() => wrtc.kill());
  let version = 'unknown';
  const endpoint = await startWhipEndpoint(async (offer) => {
    const a = await wrtc.call<{ sdp: string; version: string }>({ cmd: 'answer', sdp: offer }, 15_000);
    version = a.version;
    return a.sdp;
  });
  t.after(() => endpoint.close());
  const r = await runCli<{ ok: boolean; rtp: Record<'audio' | 'video', { sent: number; received: number }>; media: Record<string, { codec: string; origin: string }>; messages: { echoedIntact: number } }>(
    ['whip-client', '--url', endpoint.url, '--seconds', '4']);
  const stats = await wrtc.call<WrtcStats>({ cmd: 'stats' }, 10_000);
  const s = r.summary;
  const frames = stats.video?.framesDecoded ?? 0;
  const variant = 'default clips (no media flags)';
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'audio', variant, pass: r.code === 0 && (s?.rtp.audio.received ?? 0) > 0,
    detail: `exit ${r.code}; we sent ${s?.rtp.audio.sent ?? 0} Opus packets (shipped tone), wrtc received ${stats.audio?.packetsReceived ?? 0}, ${s?.rtp.audio.received ?? 0} came back` });
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'video', variant, pass: r.code === 0 && (s?.rtp.video.received ?? 0) > 0 && frames > 0,
    detail: `exit ${r.code}; we sent ${s?.rtp.video.sent ?? 0} VP8 packets (shipped clip), wrtc decoded ${frames} frames, ${s?.rtp.video.received ?? 0} packets came back` });
  recordResult({ peer: PEER, version, role: CLIENT_ROLE, media: 'data', variant, pass: r.code === 0 && s?.messages.echoedIntact === 100,
    detail: `exit ${r.code}; ${s?.messages.echoedIntact ?? 0}/100 test messages back intact` });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.deepEqual(s?.media.video, { codec: 'VP8', origin: 'default' });
  assert.ok(frames > 0, 'libwebrtc decoded the default VP8 clip');
  assert.ok((s?.rtp.video.received ?? 0) > 0 && (s?.rtp.audio.received ?? 0) > 0);
});
