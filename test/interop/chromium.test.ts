// Interop with Chromium (Debian, driven by playwright-core, fake camera/microphone) over loopback:
// our WHIP echo server with the echo page as client (full ICE, ICE-lite, each SRTP profile), and
// Chromium as the answerer behind a WHIP endpoint with our whip-client. Checks use Chromium's getStats.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startEchoServer, type EchoServerOptions } from '../../lib/echo/echo-server.js';
import { runWhipClient } from '../../lib/cli/whip-client.js';
import { createWhipHandler } from '../../lib/signaling/whip-server.js';
import type { SrtpProfileName } from '../../lib/dtls/srtp-profile.js';
import { launchChromium, type ChromiumHandle } from './chromium.js';
import { captureSdp, recordResult } from './results.js';
import { renderMatrix } from './render-matrix.js';
import { runCli } from './cli-run.js';
import { closeServerPath, serverPath } from './server-path.js';

const PEER = 'Chromium';
const SERVER_ROLE = 'our WHIP echo server ← Chromium (echo page)';
const CLIENT_ROLE = 'our whip-client → Chromium answerer';
const BROWSER_HELPERS = readFileSync(fileURLToPath(new URL('./browser-helpers.js', import.meta.url)), 'utf8');
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/media/${name}`, import.meta.url));

let browser: ChromiumHandle;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await closeServerPath();
  renderMatrix();
});

interface RtpSample {
  kind: string;
  packetsReceived: number;
  framesDecoded?: number;
  totalSamplesReceived?: number;
}

interface PageStats {
  inbound: RtpSample[];
  srtpCipher: string | undefined;
  dtlsCipher: string | undefined;
}

/** Chromium's inbound-rtp entries and transport ciphers, for the page's peer connection `pcExpr`. */
async function pageStats(page: Page, pcExpr: string): Promise<PageStats> {
  return (await page.evaluate(`window.pwtInbound(${pcExpr})`)) as PageStats;
}

function byKind(stats: PageStats, kind: string): RtpSample {
  const s = stats.inbound.find((x) => x.kind === kind);
  assert.ok(s, `Chromium has no inbound-rtp ${kind} stream`);
  return s;
}

interface EchoRun {
  srtpCipher: string | undefined;
  audio: { first: number; second: number; samples: number };
  video: { first: number; second: number; framesDecoded: number };
  messages: { sent: number; received: number; intact: number; errors: string[] };
}

/** Opens the echo page against a fresh server; returns what Chromium measured. */
async function runEchoPage(t: { after(fn: () => Promise<void> | void): void }, options: EchoServerOptions, capture?: string): Promise<EchoRun> {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], ...(await serverPath()), ...options });
  t.after(() => server.close());
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(server.url);
  await page.addScriptTag({ content: BROWSER_HELPERS });
  await page.waitForFunction("['connected', 'failed', 'rejected', 'error'].includes(window.pwtEcho && window.pwtEcho.state)", undefined, { timeout: 20_000 });
  const state = (await page.evaluate('({ state: pwtEcho.state, log: pwtEcho.log })')) as { state: string; log: string[] };
  assert.equal(state.state, 'connected', `echo page: ${state.log.join(' | ')}`);
  if (capture) captureSdp(PEER, capture, String(await page.evaluate('pwtEcho.pc.localDescription.sdp')));
  // Let the first keyframe through and the jitter buffers fill, then sample twice.
  await page.waitForTimeout(2500);
  const first = await pageStats(page, 'pwtEcho.pc');
  await page.waitForTimeout(1500);
  const second = await pageStats(page, 'pwtEcho.pc');
  const messages = (await page.evaluate('pwtEcho.runMessageTest()')) as EchoRun['messages'];
  return {
    srtpCipher: second.srtpCipher,
    audio: { first: byKind(first, 'audio').packetsReceived, second: byKind(second, 'audio').packetsReceived, samples: byKind(second, 'audio').totalSamplesReceived ?? 0 },
    video: { first: byKind(first, 'video').packetsReceived, second: byKind(second, 'video').packetsReceived, framesDecoded: byKind(second, 'video').framesDecoded ?? 0 },
    messages,
  };
}

function recordEcho(variant: string, r: EchoRun): void {
  const cipher = r.srtpCipher ? ` (${r.srtpCipher})` : '';
  recordResult({ peer: PEER, version: browser.version, role: SERVER_ROLE, media: 'audio', variant, pass: r.audio.second > r.audio.first && r.audio.samples > 0,
    detail: `echoed inbound-rtp packetsReceived ${r.audio.first} → ${r.audio.second}, totalSamplesReceived ${r.audio.samples}${cipher}` });
  recordResult({ peer: PEER, version: browser.version, role: SERVER_ROLE, media: 'video', variant, pass: r.video.second > r.video.first && r.video.framesDecoded > 0,
    detail: `echoed inbound-rtp packetsReceived ${r.video.first} → ${r.video.second}, framesDecoded ${r.video.framesDecoded}${cipher}` });
  recordResult({ peer: PEER, version: browser.version, role: SERVER_ROLE, media: 'data', variant, pass: r.messages.intact === 100,
    detail: `${r.messages.intact}/${r.messages.sent} test messages back intact` });
}

/** Records a failed run as failed cells (the matrix must show what did not work too). */
function recordFailure(role: string, variant: string, error: unknown): void {
  for (const media of ['audio', 'video', 'data'] as const) {
    recordResult({ peer: PEER, version: browser.version, role, media, variant, pass: false, detail: `failed: ${(error as Error).message.split('\n')[0]}` });
  }
}

/** Runs the echo page, records the cells (failed ones too) and asserts them. */
async function echoCase(t: { after(fn: () => Promise<void> | void): void }, variant: string, options: EchoServerOptions): Promise<void> {
  let r: EchoRun;
  try {
    r = await runEchoPage(t, options, variant === '' ? 'echo-page-offer' : undefined);
  } catch (error) {
    recordFailure(SERVER_ROLE, variant, error);
    throw error;
  }
  recordEcho(variant, r);
  assertEcho(r);
}

function assertEcho(r: EchoRun): void {
  assert.ok(r.audio.second > r.audio.first, `audio packetsReceived grows: ${r.audio.first} → ${r.audio.second}`);
  assert.ok(r.audio.samples > 0, 'Chromium played echoed audio samples');
  assert.ok(r.video.second > r.video.first, `video packetsReceived grows: ${r.video.first} → ${r.video.second}`);
  assert.ok(r.video.framesDecoded > 0, 'Chromium decoded echoed video frames');
  assert.deepEqual(r.messages, { sent: 100, intact: 100, received: 100, errors: [] });
}

test('Chromium echo page ↔ our WHIP echo server (full ICE): audio, video, data channel', { timeout: 60_000 }, async (t) => {
  await echoCase(t, '', {});
});

test('Chromium echo page ↔ our WHIP echo server in ICE-lite mode', { timeout: 60_000 }, async (t) => {
  await echoCase(t, 'ICE-lite', { iceLite: true });
});

const PROFILES: SrtpProfileName[] = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES128_CM_HMAC_SHA1_80'];
for (const profile of PROFILES) {
  test(`Chromium ↔ our echo server with only ${profile}`, { timeout: 60_000 }, async (t) => {
    await echoCase(t, `SRTP ${profile} only`, { srtpProfiles: [profile] });
  });
}

test('Chromium does not accept AES128_CM_HMAC_SHA1_32: no SRTP keys and no media either way', { timeout: 60_000 }, async (t) => {
  const variant = 'SRTP AES128_CM_HMAC_SHA1_32 only';
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], ...(await serverPath()), srtpProfiles: ['AES128_CM_HMAC_SHA1_32'] });
  t.after(() => server.close());
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(server.url);
  await page.addScriptTag({ content: BROWSER_HELPERS });
  await page.waitForFunction("['connected', 'failed', 'rejected', 'error'].includes(window.pwtEcho && window.pwtEcho.state)", undefined, { timeout: 20_000 });
  await page.waitForTimeout(2500);
  const stats = await pageStats(page, 'pwtEcho.pc');
  const sessions = [...server.sessions.values()].map((s) => s.snapshot());
  const received = sessions.reduce((n, s) => n + s.rtp.audio.received + s.rtp.video.received, 0);
  const state = String(await page.evaluate('pwtEcho.state'));
  for (const media of ['audio', 'video'] as const) {
    recordResult({ peer: PEER, version: browser.version, role: SERVER_ROLE, media, variant, pass: false, unsupportedByPeer: true,
      detail: `not offered by Chromium: DTLS ends without use_srtp (page state ${state}, srtpCipher ${stats.srtpCipher ?? 'none'}, ${received} RTP packets reached us)` });
  }
  assert.equal(stats.srtpCipher, undefined, 'Chromium negotiated no SRTP profile');
  assert.equal(stats.inbound.length, 0, 'Chromium received no RTP');
  assert.equal(received, 0, 'we received no RTP');
});

test('Chromium without media permission offers mDNS host candidates: our server still connects (data channel)', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], ...(await serverPath()) });
  t.after(() => server.close());
  // A browser without the media-permission flag and a page that never asks for camera or
  // microphone, so Chromium hides its host addresses behind <uuid>.local names.
  const plain = await launchChromium({ mediaPermission: false });
  t.after(() => plain.close());
  const page = await plain.context.newPage();
  await page.goto(new URL('/no-media', server.url).toString());
  const r = (await page.evaluate(`(async () => {
    const pc = new RTCPeerConnection();
    const dc = pc.createDataChannel('mdns');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => { const t = setTimeout(resolve, 2000);
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve(); } }; });
    const offer = pc.localDescription.sdp;
    const res = await fetch('/whip', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    await new Promise((resolve) => { if (dc.readyState === 'open') resolve(); dc.onopen = resolve; setTimeout(resolve, 10000); });
    const echo = await new Promise((resolve) => { dc.onmessage = (e) => resolve(e.data); dc.send('through mdns'); setTimeout(() => resolve(null), 5000); });
    return { mdns: /a=candidate:\\S+ \\d+ udp \\d+ [0-9a-f-]+\\.local /.test(offer), state: pc.connectionState, echo };
  })()`)) as { mdns: boolean; state: string; echo: string | null };
  recordResult({ peer: PEER, version: browser.version, role: SERVER_ROLE, media: 'data', variant: 'mDNS host candidates', pass: r.echo === 'through mdns',
    detail: `offer ${r.mdns ? 'had' : 'had no'} .local candidates; connection ${r.state}; echoed ${JSON.stringify(r.echo)}` });
  assert.ok(r.mdns, 'Chromium offered .local candidates');
  assert.equal(r.state, 'connected');
  assert.equal(r.echo, 'through mdns');
});

/** A WHIP endpoint whose answerer is a Chromium page echoing tracks (replaceTrack) and messages. */
async function chromiumWhipEndpoint(t: { after(fn: () => Promise<void> | void): void }): Promise<{ url: string; page: Page }> {
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.setContent('<audio id="a" autoplay></audio>');
  await page.addScriptTag({ content: BROWSER_HELPERS });
  const handler = createWhipHandler({
    offer: async (_id, sdp) => {
      const answer = String(await page.evaluate(`window.answerOffer(${JSON.stringify(sdp)})`));
      captureSdp(PEER, 'answer-to-whip-client', answer);
      return answer;
    },
    end: () => true,
  });
  const http = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/whip`, page };
}

test('our whip-client → Chromium answerer: Opus and VP8 looped back through Chromium, data channel', { timeout: 60_000 }, async (t) => {
  const { url, page } = await chromiumWhipEndpoint(t);
  const summary = await runWhipClient({
    url, audio: true, video: true, datachannel: true, seconds: 5,
    audioFile: fixture('opus.ogg'), videoFile: fixture('vp8.ivf'), peer: { hostAddresses: ['127.0.0.1'] },
  });
  const stats = await pageStats(page, 'pc');
  const video = byKind(stats, 'video');
  const audio = byKind(stats, 'audio');
  const v = browser.version;
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'audio', variant: '', pass: summary.rtp.audio.received > 0 && audio.packetsReceived > 0,
    detail: `we sent ${summary.rtp.audio.sent} Opus packets, Chromium received ${audio.packetsReceived} and sent back ${summary.rtp.audio.received}` });
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'video', variant: '', pass: summary.rtp.video.received > 0 && (video.framesDecoded ?? 0) > 0,
    detail: `we sent ${summary.rtp.video.sent} VP8 packets, Chromium decoded ${video.framesDecoded ?? 0} frames and sent back ${summary.rtp.video.received} packets` });
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'data', variant: '', pass: summary.messages.echoedIntact === 100,
    detail: `${summary.messages.echoedIntact}/${summary.messages.sent} test messages back intact` });
  assert.deepEqual(summary.errors, []);
  assert.ok(summary.connected);
  assert.ok(audio.packetsReceived > 0, 'Chromium received our Opus');
  assert.ok((video.framesDecoded ?? 0) > 0, 'Chromium decoded our VP8');
  assert.ok(summary.rtp.audio.received > 0, 'Chromium looped audio back');
  assert.ok(summary.rtp.video.received > 0, 'Chromium looped video back');
  assert.equal(summary.messages.echoedIntact, 100);
});

interface CliSummary {
  ok: boolean;
  rtp: Record<'audio' | 'video', { sent: number; received: number }>;
  media: Partial<Record<'audio' | 'video', { codec: string; origin: string }>>;
  messages: { echoedIntact: number };
  errors: string[];
}

/** `whip-client --url <Chromium endpoint> [extra]` as a user runs it; Chromium's own stats decide. */
async function cliCase(t: { after(fn: () => Promise<void> | void): void }, variant: string, extra: string[], codec: string): Promise<void> {
  const { url, page } = await chromiumWhipEndpoint(t);
  const r = await runCli<CliSummary>(['whip-client', '--url', url, '--seconds', '4', ...extra]);
  const stats = await pageStats(page, 'pc');
  const video = stats.inbound.find((x) => x.kind === 'video');
  const audio = stats.inbound.find((x) => x.kind === 'audio');
  const s = r.summary;
  const v = browser.version;
  const frames = video?.framesDecoded ?? 0;
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'audio', variant, pass: r.code === 0 && (s?.rtp.audio.received ?? 0) > 0 && (audio?.totalSamplesReceived ?? 0) > 0,
    detail: `exit ${r.code}; we sent ${s?.rtp.audio.sent ?? 0} ${s?.media.audio?.codec ?? '?'} packets (${basename(s?.media.audio?.origin ?? '?')}), Chromium played ${audio?.totalSamplesReceived ?? 0} samples and sent back ${s?.rtp.audio.received ?? 0} packets` });
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'video', variant, pass: r.code === 0 && (s?.rtp.video.received ?? 0) > 0 && frames > 0,
    detail: `exit ${r.code}; we sent ${s?.rtp.video.sent ?? 0} ${s?.media.video?.codec ?? '?'} packets (${basename(s?.media.video?.origin ?? '?')}), Chromium decoded ${frames} frames and sent back ${s?.rtp.video.received ?? 0} packets` });
  recordResult({ peer: PEER, version: v, role: CLIENT_ROLE, media: 'data', variant, pass: r.code === 0 && s?.messages.echoedIntact === 100,
    detail: `exit ${r.code}; ${s?.messages.echoedIntact ?? 0}/100 test messages back intact` });
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.ok(s?.ok, r.stdout);
  assert.equal(s.media.video?.codec, codec);
  assert.ok(frames > 0, `Chromium decoded our ${codec}`);
  assert.ok(s.rtp.video.received > 0, 'Chromium looped video back');
  assert.ok((audio?.totalSamplesReceived ?? 0) > 0, 'Chromium played our Opus');
}

test('whip-client --url alone (default clips) → Chromium answerer: Chromium decodes the VP8 and plays the Opus', { timeout: 90_000 }, async (t) => {
  await cliCase(t, 'default clips (no media flags)', [], 'VP8');
});

test('whip-client --video-file vp9.ivf → Chromium answerer: VP9 negotiated and decoded', { timeout: 90_000 }, async (t) => {
  await cliCase(t, '--video-file vp9.ivf', ['--video-file', fixture('vp9.ivf')], 'VP9');
});

test('whip-client --video-file av1.ivf → Chromium answerer: AV1 negotiated and decoded', { timeout: 90_000 }, async (t) => {
  await cliCase(t, '--video-file av1.ivf', ['--video-file', fixture('av1.ivf')], 'AV1');
});

test('whip-client --video-file h264.h264 (Annex B) → Chromium answerer: H.264 negotiated and decoded', { timeout: 90_000 }, async (t) => {
  await cliCase(t, '--video-file h264.h264', ['--video-file', fixture('h264.h264')], 'H264');
});

interface TrickleRun {
  offerCandidates: number;
  patches: number[];
  restartStatus: number;
  etags: string[];
  connected: boolean;
  connectedAfterRestart: boolean;
  echo: string | null;
  echoAfterRestart: string | null;
  log: string[];
  pairChangesBefore: number;
  pairChangesAfter: number;
  localUfragAfter: string | undefined;
  newLocalUfrag: string | undefined;
}

test('Chromium WHIP client with trickle PATCH ↔ our echo server: offer without candidates, trickled ones taken, echoed video decoded', { timeout: 90_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  // A same-origin address that is not the echo page: that page starts its own session on load,
  // and when its POST won the race with setContent the test read that session's counters.
  await page.goto(new URL('/not-the-echo-page', server.url).toString());
  await page.setContent('<audio id="a" autoplay></audio>');
  await page.addScriptTag({ content: BROWSER_HELPERS });
  const r = (await page.evaluate(`window.pwtWhipTrickle(${JSON.stringify(server.whipUrl)}, false)`)) as TrickleRun;
  assert.equal(server.sessions.size, 1, `one session, the page's: ${r.log.join(' | ')}`);
  const session = [...server.sessions.values()][0];
  assert.ok(session, `a session exists: ${r.log.join(' | ')}`);
  const remoteHost = [...(await session.pc.getStats()).values()].filter((s) => (s as { type: string }).type === 'remote-candidate' && (s as { candidateType?: string }).candidateType === 'host').length;
  await page.waitForTimeout(2500);
  const stats = await pageStats(page, 'tricklePc');
  const video = stats.inbound.find((x) => x.kind === 'video');
  const trickled = { ...session.counters.trickle };
  const variant = 'trickle ICE by PATCH';
  const v = browser.version;
  const role = 'our WHIP echo server ← Chromium (WHIP page, trickle PATCH)';
  recordResult({ peer: PEER, version: v, role, media: 'video', variant, pass: r.connected && (video?.framesDecoded ?? 0) > 0 && trickled.candidates > 0,
    detail: `offer had ${r.offerCandidates} candidates; PATCH statuses ${r.patches.join(',')}; we took ${trickled.candidates} trickled candidates (${trickled.dropped} dropped, end-of-candidates ${trickled.endOfCandidates}), ${remoteHost} remote host candidates; Chromium decoded ${video?.framesDecoded ?? 0} echoed frames` });
  recordResult({ peer: PEER, version: v, role, media: 'data', variant, pass: r.echo === 'trickled', detail: `message echoed: ${JSON.stringify(r.echo)}` });
  assert.equal(r.offerCandidates, 0, 'the offer went out before any candidate, so only trickle could carry them');
  assert.ok(r.patches.length > 0 && r.patches.every((s) => s === 204), `PATCH statuses ${r.patches.join(',')}`);
  assert.ok(trickled.candidates > 0, `the server took trickled candidates (counters ${JSON.stringify(trickled)}; page log: ${r.log.join(' | ')})`);
  assert.equal(trickled.endOfCandidates, true);
  assert.ok(remoteHost > 0, 'the server knows Chromium host candidates (from PATCH, not just peer-reflexive)');
  assert.ok(r.connected);
  assert.equal(r.echo, 'trickled');
  assert.ok((video?.framesDecoded ?? 0) > 0, 'Chromium decoded its echoed video');
});

test('Chromium WHIP client: ICE restart by PATCH (If-Match: *) → 200, new ETag, connected again, data echoed', { timeout: 90_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  // A same-origin address that is not the echo page: that page starts its own session on load,
  // and when its POST won the race with setContent the test read that session's counters.
  await page.goto(new URL('/not-the-echo-page', server.url).toString());
  await page.setContent('<audio id="a" autoplay></audio>');
  await page.addScriptTag({ content: BROWSER_HELPERS });
  const r = (await page.evaluate(`window.pwtWhipTrickle(${JSON.stringify(server.whipUrl)}, true)`)) as TrickleRun;
  assert.equal(server.sessions.size, 1, `one session, the page's: ${r.log.join(' | ')}`);
  const session = [...server.sessions.values()][0];
  const restarts = session?.counters.iceRestarts ?? 0;
  recordResult({ peer: PEER, version: browser.version, role: 'our WHIP echo server ← Chromium (WHIP page, trickle PATCH)', media: 'data', variant: 'ICE restart by PATCH',
    pass: r.restartStatus === 200 && r.pairChangesAfter > r.pairChangesBefore && r.echoAfterRestart === 'restarted' && restarts === 1,
    detail: `restart PATCH ${r.restartStatus}, ETag changed ${r.etags.length === 2 && r.etags[0] !== r.etags[1]}, Chromium's selected pair changed ${r.pairChangesBefore} → ${r.pairChangesAfter} times (transport ufrag ${r.localUfragAfter === r.newLocalUfrag ? 'is the new one' : 'not the new one'}), echoed ${JSON.stringify(r.echoAfterRestart)}; server restarts ${restarts}` });
  assert.equal(r.restartStatus, 200, r.log.join(' | '));
  assert.equal(r.etags.length, 2);
  assert.notEqual(r.etags[0], r.etags[1]);
  assert.equal(restarts, 1);
  assert.ok(r.pairChangesAfter > r.pairChangesBefore, `Chromium moved to a pair of the new ICE generation (${r.pairChangesBefore} → ${r.pairChangesAfter})`);
  assert.ok(r.connectedAfterRestart, 'connected after the restart');
  assert.equal(r.echoAfterRestart, 'restarted');
});

test('Chromium as WHEP player of our echo server: plays what our whip-client publishes (VP8 decoded, Opus played)', { timeout: 90_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const publishing = runWhipClient({ url: server.whipUrl, audio: true, video: true, seconds: 10, peer: { hostAddresses: ['127.0.0.1'] } });
  for (let i = 0; i < 100 && ![...server.sessions.values()].some((s) => s.pc.connectionState === 'connected'); i++) await new Promise((r) => setTimeout(r, 50));
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  // A same-origin address that is not the echo page: that page starts its own session on load,
  // and when its POST won the race with setContent the test read that session's counters.
  await page.goto(new URL('/not-the-echo-page', server.url).toString());
  await page.setContent('<audio id="a" autoplay></audio>');
  await page.addScriptTag({ content: BROWSER_HELPERS });
  const r = (await page.evaluate(`window.pwtWhepPlay(${JSON.stringify(server.whepUrl)})`)) as { status: number; connected: boolean; error?: string; answer?: string };
  if (r.answer) captureSdp(PEER, 'answer-from-whep-endpoint', r.answer);
  await page.waitForTimeout(3500);
  const stats = await pageStats(page, 'whepPc');
  const video = stats.inbound.find((x) => x.kind === 'video');
  const audio = stats.inbound.find((x) => x.kind === 'audio');
  const del = Number(await page.evaluate('fetch(window.whepResource, { method: "DELETE" }).then((r) => r.status)'));
  const pub = await publishing;
  const role = 'our WHEP endpoint (echo server) → Chromium player';
  const v = browser.version;
  recordResult({ peer: PEER, version: v, role, media: 'audio', variant: 'published by our whip-client', pass: r.connected && (audio?.totalSamplesReceived ?? 0) > 0,
    detail: `POST ${r.status}, connected ${r.connected}; Chromium received ${audio?.packetsReceived ?? 0} Opus packets, played ${audio?.totalSamplesReceived ?? 0} samples` });
  recordResult({ peer: PEER, version: v, role, media: 'video', variant: 'published by our whip-client', pass: r.connected && (video?.framesDecoded ?? 0) > 0,
    detail: `Chromium received ${video?.packetsReceived ?? 0} VP8 packets and decoded ${video?.framesDecoded ?? 0} frames; DELETE ${del}` });
  assert.equal(r.status, 201, r.error);
  assert.ok(r.connected);
  assert.ok((video?.framesDecoded ?? 0) > 0, 'Chromium decoded the played VP8');
  assert.ok((audio?.totalSamplesReceived ?? 0) > 0, 'Chromium played the Opus');
  assert.equal(del, 200);
  assert.ok(pub.ok, pub.errors.join('; '));
});

test('our whep-client → our echo server playing a Chromium publisher (echo page camera): frames arrive, exit 0', { timeout: 90_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const page = await browser.context.newPage();
  t.after(() => page.close().catch(() => {}));
  await page.goto(server.url);
  await page.addScriptTag({ content: BROWSER_HELPERS });
  await page.waitForFunction("['connected', 'failed', 'rejected', 'error'].includes(window.pwtEcho && window.pwtEcho.state)", undefined, { timeout: 20_000 });
  const r = await runCli<{ ok: boolean; rtp: { audio: { packets: number }; video: { packets: number; frames: number } }; codecs: Record<string, string>; errors: string[] }>(['whep-client', '--url', server.whepUrl, '--seconds', '3']);
  const s = r.summary;
  const role = 'our whep-client → our WHEP endpoint (echo server)';
  const v = browser.version;
  recordResult({ peer: PEER, version: v, role, media: 'audio', variant: 'published by Chromium (echo page)', pass: r.code === 0 && (s?.rtp.audio.packets ?? 0) > 0,
    detail: `exit ${r.code}; ${s?.codecs.audio ?? '?'}: ${s?.rtp.audio.packets ?? 0} packets` });
  recordResult({ peer: PEER, version: v, role, media: 'video', variant: 'published by Chromium (echo page)', pass: r.code === 0 && (s?.rtp.video.frames ?? 0) > 0,
    detail: `exit ${r.code}; ${s?.codecs.video ?? '?'}: ${s?.rtp.video.packets ?? 0} packets, ${s?.rtp.video.frames ?? 0} frames` });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok((s?.rtp.video.frames ?? 0) > 0);
  assert.ok((s?.rtp.audio.packets ?? 0) > 0);
});
