// Interop with pion/webrtc v3 (Go, Debian's package; test/interop/pion/main.go) over loopback, both
// WHIP roles, audio + video + data channel: pion's WHIP client against our echo server, and our
// whip-client against pion's WHIP server. Counts on both sides, not just "connected".
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { runWhipClient } from '../../lib/cli/whip-client.js';
import { captureSdp, recordResult } from './results.js';
import { renderMatrix } from './render-matrix.js';
import { buildPionPeer, startPionPeer } from './pion-peer.js';

const PEER = 'pion/webrtc (Go)';
const SERVER_ROLE = 'our WHIP echo server ← pion client';
const CLIENT_ROLE = 'our whip-client → pion WHIP server';
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/media/${name}`, import.meta.url));

const build = buildPionPeer();
const skip = 'skip' in build ? build.skip : false;
if (skip) process.stdout.write(`# pion interop skipped: ${skip}\n`);

after(() => {
  if (!skip) renderMatrix();
});

interface PionClientSummary {
  ok: boolean;
  error?: string;
  connected: boolean;
  audioSamplesSent: number;
  videoFramesSent: number;
  audioPacketsReceived: number;
  videoPacketsReceived: number;
  messagesSent: number;
  messagesIntact: number;
  deleteStatus: number;
  offer: string;
}

test('pion WHIP client → our echo server: Opus, VP8 and data channel echoed back to pion', { skip, timeout: 60_000 }, async (t) => {
  if ('skip' in build) return;
  const ended: string[] = [];
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], log: (line) => ended.push(line) });
  t.after(() => server.close());
  const pion = startPionPeer(build.binary, ['client', server.whipUrl, '4', fixture('vp8.ivf'), fixture('opus.ogg')]);
  t.after(() => pion.kill());
  const r = await pion.next<PionClientSummary>(45_000);
  if (r.offer) captureSdp('pion', 'offer', r.offer);
  // The echo server logs each session's counters when the session ends (pion's DELETE).
  const end = ended.find((l) => /ended \(DELETE\)/.test(l)) ?? '';
  const echoed = /echoed (\d+) audio \+ (\d+) video RTP packets, (\d+) messages/.exec(end);
  const [ourAudio, ourVideo, ourMessages] = echoed ? [Number(echoed[1]), Number(echoed[2]), Number(echoed[3])] : [0, 0, 0];
  recordResult({ peer: PEER, version: build.version, role: SERVER_ROLE, media: 'audio', variant: '', pass: r.audioPacketsReceived > 0 && ourAudio > 0,
    detail: `pion sent ${r.audioSamplesSent} Opus frames, we echoed ${ourAudio} packets, pion received ${r.audioPacketsReceived}` });
  recordResult({ peer: PEER, version: build.version, role: SERVER_ROLE, media: 'video', variant: '', pass: r.videoPacketsReceived > 0 && ourVideo > 0,
    detail: `pion sent ${r.videoFramesSent} VP8 frames, we echoed ${ourVideo} packets, pion received ${r.videoPacketsReceived}` });
  recordResult({ peer: PEER, version: build.version, role: SERVER_ROLE, media: 'data', variant: '', pass: r.messagesIntact === r.messagesSent && r.messagesSent > 0,
    detail: `${r.messagesIntact}/${r.messagesSent} messages (text and binary, 1 B to 60000 B) back intact; we echoed ${ourMessages}` });
  assert.ok(r.connected, r.error);
  assert.equal(r.error, undefined);
  assert.ok(ourAudio > 0 && r.audioPacketsReceived > 0, `audio echoed: ours ${ourAudio}, pion received ${r.audioPacketsReceived}`);
  assert.ok(ourVideo > 0 && r.videoPacketsReceived > 0, `video echoed: ours ${ourVideo}, pion received ${r.videoPacketsReceived}`);
  assert.equal(r.messagesSent, 20);
  assert.equal(r.messagesIntact, 20);
  assert.equal(r.deleteStatus, 200);
});

interface PionServerStats {
  audioPacketsReceived: number;
  videoPacketsReceived: number;
  messagesEchoed: number;
  answer: string;
}

test('our whip-client → pion WHIP server: Opus and VP8 echoed by pion, data channel', { skip, timeout: 60_000 }, async (t) => {
  if ('skip' in build) return;
  const pion = startPionPeer(build.binary, ['server']);
  t.after(() => pion.kill());
  const { url } = await pion.next<{ url: string }>(15_000);
  const summary = await runWhipClient({
    url, audio: true, video: true, datachannel: true, seconds: 4,
    audioFile: fixture('opus.ogg'), videoFile: fixture('vp8.ivf'), peer: { hostAddresses: ['127.0.0.1'] },
  });
  pion.send('stats');
  const stats = await pion.next<PionServerStats>(10_000);
  if (stats.answer) captureSdp('pion', 'answer-to-whip-client', stats.answer);
  recordResult({ peer: PEER, version: build.version, role: CLIENT_ROLE, media: 'audio', variant: '', pass: stats.audioPacketsReceived > 0 && summary.rtp.audio.received > 0,
    detail: `we sent ${summary.rtp.audio.sent} Opus packets, pion received ${stats.audioPacketsReceived}, ${summary.rtp.audio.received} came back` });
  recordResult({ peer: PEER, version: build.version, role: CLIENT_ROLE, media: 'video', variant: '', pass: stats.videoPacketsReceived > 0 && summary.rtp.video.received > 0,
    detail: `we sent ${summary.rtp.video.sent} VP8 packets, pion received ${stats.videoPacketsReceived}, ${summary.rtp.video.received} came back` });
  recordResult({ peer: PEER, version: build.version, role: CLIENT_ROLE, media: 'data', variant: '', pass: summary.messages.echoedIntact === 100,
    detail: `${summary.messages.echoedIntact}/${summary.messages.sent} test messages back intact (pion echoed ${stats.messagesEchoed})` });
  assert.ok(summary.connected, summary.errors.join('; '));
  assert.ok(stats.audioPacketsReceived > 0 && summary.rtp.audio.received > 0, `audio: pion received ${stats.audioPacketsReceived}, back ${summary.rtp.audio.received}`);
  assert.ok(stats.videoPacketsReceived > 0 && summary.rtp.video.received > 0, `video: pion received ${stats.videoPacketsReceived}, back ${summary.rtp.video.received}`);
  assert.equal(summary.messages.echoedIntact, 100);
  assert.ok(summary.ok, summary.errors.join('; '));
});
