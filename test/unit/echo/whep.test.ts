// The echo server's WHEP endpoint (draft-ietf-wish-whep) with the whep-client command, real peer
// connections on loopback: a published WHIP session (our whip-client, default clips) is played by
// `whep-client`, which prints one JSON line and exits 0; without a publisher it exits 1 (404).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../../../lib/echo/echo-server.js';
import { runWhipClient } from '../../../lib/cli/whip-client.js';
import { runWhepClient, type WhepClientSummary } from '../../../lib/cli/whep-client.js';

const MAIN = fileURLToPath(new URL('../../../lib/cli/main.ts', import.meta.url));

function run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('whep-client plays a published session: opus and VP8 arrive, frames counted, exit 0, subscriber DELETEd', { timeout: 60_000 }, async (t) => {
  const log: string[] = [];
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], log: (l) => log.push(l) });
  t.after(() => server.close());
  // The publisher outlives the player on any schedule (starting the player's process takes seconds
  // on a loaded machine): it sends until the player is done, then stops.
  const stopPublisher = new AbortController();
  t.after(() => stopPublisher.abort());
  const publishing = runWhipClient({ url: server.whipUrl, audio: true, video: true, seconds: 50, signal: stopPublisher.signal, peer: { hostAddresses: ['127.0.0.1'] } });
  // Wait until the publisher is connected: WHEP plays the newest connected session.
  for (let i = 0; i < 100 && ![...server.sessions.values()].some((s) => s.pc.connectionState === 'connected'); i++) await new Promise((r) => setTimeout(r, 50));
  const r = await run(['whep-client', '--url', server.whepUrl, '--seconds', '3']);
  stopPublisher.abort();
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]!) as WhepClientSummary;
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.codecs, { audio: 'opus', video: 'VP8' });
  assert.ok(s.rtp.audio.packets > 50, `audio packets ${s.rtp.audio.packets}`);
  assert.ok(s.rtp.video.frames > 20, `video frames ${s.rtp.video.frames}`);
  assert.equal(server.subscribers.size, 0, 'the player DELETEd its session');
  const ended = log.find((l) => /WHEP subscriber .* ended \(DELETE\)/.test(l)) ?? '';
  const forwarded = /forwarded (\d+) audio \+ (\d+) video/.exec(ended);
  assert.ok(forwarded && Number(forwarded[2]) >= s.rtp.video.packets, ended);
  const pub = await publishing;
  assert.ok(pub.ok, pub.errors.join('; '));
});

test('whep-client outliving its publisher: the endpoint ended the subscriber, DELETE 404 is no error, exit 0', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  // The publisher stops 1.5 s after the player's subscriber connected (not after a fixed time: the
  // player's process may take seconds to start on a loaded machine), well inside the player's 12 s.
  const stopPublisher = new AbortController();
  t.after(() => stopPublisher.abort());
  const publishing = runWhipClient({ url: server.whipUrl, audio: true, video: true, seconds: 50, signal: stopPublisher.signal, peer: { hostAddresses: ['127.0.0.1'] } });
  for (let i = 0; i < 100 && ![...server.sessions.values()].some((s) => s.pc.connectionState === 'connected'); i++) await new Promise((r) => setTimeout(r, 50));
  const playing = run(['whep-client', '--url', server.whepUrl, '--seconds', '12']);
  const subs = server.subscribers as unknown as Map<string, { pc: { connectionState: string } }>;
  for (let i = 0; i < 600 && ![...subs.values()].some((x) => x.pc.connectionState === 'connected'); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1500));
  stopPublisher.abort();
  const r = await playing;
  const pub = await publishing;
  assert.ok(pub.ok, pub.errors.join('; '));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const s = JSON.parse(r.stdout.trim()) as WhepClientSummary;
  assert.deepEqual(s.errors, []);
  assert.equal(s.endedByEndpoint, true);
  assert.ok(s.rtp.video.frames > 5, `video frames ${s.rtp.video.frames}`);
});

test('whep-client: a DELETE answered 404 while media still flows (the resource URL is not the live session) is an error, not endedByEndpoint', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], log: () => {} });
  t.after(() => server.close());
  const publishing = runWhipClient({ url: server.whipUrl, audio: true, video: true, seconds: 8, peer: { hostAddresses: ['127.0.0.1'] } });
  for (let i = 0; i < 100 && ![...server.sessions.values()].some((s) => s.pc.connectionState === 'connected'); i++) await new Promise((r) => setTimeout(r, 50));
  const playing = runWhepClient({ url: server.whepUrl, seconds: 3, peer: { hostAddresses: ['127.0.0.1'] } });
  // The endpoint loses track of the subscriber (as if the client's resource URL named another
  // one) while its connection keeps forwarding: the DELETE gets 404 with media still arriving.
  const subs = server.subscribers as unknown as Map<string, { pc: { connectionState: string }; close(): void }>;
  let orphan: { close(): void } | undefined;
  for (let i = 0; i < 200 && orphan === undefined; i++) {
    const [id, sub] = [...subs.entries()].find(([, x]) => x.pc.connectionState === 'connected') ?? [];
    if (id !== undefined && sub !== undefined) {
      subs.delete(id);
      orphan = sub;
    } else await new Promise((r) => setTimeout(r, 50));
  }
  t.after(() => orphan?.close());
  assert.ok(orphan, 'the subscriber connected');
  const s = await playing;
  assert.equal(s.endedByEndpoint, undefined);
  assert.equal(s.ok, false);
  assert.ok(s.errors.some((e) => /answered 404 while the session showed no end/.test(e)), s.errors.join('; '));
  assert.ok(s.rtp.video.packets > 0);
  await publishing;
});

test('whep-client with nothing published: the endpoint answers 404, the command prints ok false and exits 1', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const r = await run(['whep-client', '--url', server.whepUrl, '--seconds', '1']);
  assert.equal(r.code, 1);
  const s = JSON.parse(r.stdout.trim()) as WhepClientSummary;
  assert.equal(s.ok, false);
  assert.match(s.errors[0]!, /404: offer rejected: no published session to play/);
  const named = await fetch(`${server.whepUrl}?from=nope`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' });
  assert.equal(named.status, 404);
});
