// The command line (lib/cli/main.ts) as a user runs it: usage errors exit 2, `whip-client`
// against the echo server prints exactly one JSON line and exits 0, against a failing endpoint 1;
// `echo` and `sfu` print the URL and serve their page, `echo` with every session on one UDP port
// unless --own-sockets. Also the media sources it sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startEchoServer } from '../../../lib/echo/echo-server.js';
import { createMediaSource, defaultMediaFile } from '../../../lib/cli/media-source.js';
import { servedCodecs } from '../../../lib/echo/served-codecs.js';
import '../../../lib/policy/default-policies.js';

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

test('usage errors exit 2 with a message; --help exits 0', { timeout: 60_000 }, async () => {
  const none = await run([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /usage:/);
  const unknown = await run(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command frobnicate/);
  const noUrl = await run(['whip-client']);
  assert.equal(noUrl.code, 2);
  assert.match(noUrl.stderr, /--url is required/);
  const badProfile = await run(['whip-client', '--url', 'http://127.0.0.1:1/whip', '--srtp-profile', 'ROT13']);
  assert.equal(badProfile.code, 2);
  assert.match(badProfile.stderr, /unknown SRTP profile ROT13/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
});

test('whip-client --url alone against the echo server: default clips, one JSON summary line, everything echoed, exit 0', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const r = await run(['whip-client', '--url', server.whipUrl, '--seconds', '2']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]!) as { ok: boolean; connected: boolean; msToConnected: number; messages: { sent: number; echoedIntact: number }; rtp: Record<string, { sent: number; received: number }>; media: Record<string, { codec: string; origin: string }>; errors: string[] };
  assert.equal(s.ok, true);
  assert.deepEqual(s.media, { audio: { codec: 'opus', origin: 'default' }, video: { codec: 'VP8', origin: 'default' } });
  assert.equal(s.connected, true);
  assert.ok(s.msToConnected >= 0);
  assert.deepEqual(s.errors, []);
  assert.equal(s.messages.sent, 100);
  assert.equal(s.messages.echoedIntact, 100);
  for (const kind of ['audio', 'video']) {
    assert.ok(s.rtp[kind]!.sent > 0);
    assert.ok(s.rtp[kind]!.received > 0);
  }
  assert.equal(server.sessions.size, 0, 'the client DELETEd its session');
});

test('whip-client against an endpoint that rejects: JSON with ok false and the error, exit 1', { timeout: 60_000 }, async (t) => {
  const http = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('forbidden\n');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const r = await run(['whip-client', '--url', `http://127.0.0.1:${(http.address() as AddressInfo).port}/whip`, '--datachannel', '--seconds', '1']);
  assert.equal(r.code, 1);
  const s = JSON.parse(r.stdout.trim()) as { ok: boolean; connected: boolean; errors: string[] };
  assert.equal(s.ok, false);
  assert.equal(s.connected, false);
  assert.match(s.errors[0]!, /answered 403: forbidden/);
});

test('echo prints the URL to open and serves the page until SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'echo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/) in a browser/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /pure-webrtc-transport echo/);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('sfu prints the URL to open and the media port, serves the room page and stats, and exits 0 on SIGINT', { timeout: 60_000 }, async () => {
  const bad = await run(['sfu', '--udp-port', '70000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--udp-port: 70000 is not a port/);
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'sfu', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const [url, udpPort] = await new Promise<[string, number]>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)\?room=main in several browser tabs \(media on UDP 127\.0\.0\.1:(\d+)\)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve([m[1]!, Number(m[2])]);
        }
      });
    });
    assert.ok(udpPort > 0);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /pure-webrtc-transport sfu room/);
    const stats = (await (await fetch(`${url}stats`)).json()) as { router: { packetsForwarded: number }; rooms: unknown[] };
    assert.equal(stats.router.packetsForwarded, 0);
    assert.deepEqual(stats.rooms, []);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('echo puts every session on one UDP port (native echo), --own-sockets on its own sockets; bad --udp-port use exits 2', { timeout: 120_000 }, async (t) => {
  const usage = async (args: string[], message: RegExp): Promise<void> => {
    const r = await run(['echo', '--port', '0', ...args]);
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, message);
  };
  await usage(['--udp-port', '70000'], /--udp-port: 70000 is not a port/);
  await usage(['--udp-port', '0x10'], /--udp-port: 0x10 is not a port/);
  await usage(['--udp-port', '0', '--own-sockets'], /--udp-port and --own-sockets exclude each other/);
  await usage(['--host', '0.0.0.0', '--udp-port', '0'], /--udp-port binds one address/);
  await usage(['--bind-address', '127.0.0.1', '--bind-address', '::1', '--udp-port', '0'], /--udp-port binds one address/);
  await usage(['--public-ip', '::1'], /--public-ip ::1 and the media address 127\.0\.0\.1 are of different IP families/);
  await usage(['--host', '0.0.0.0', '--ice-tcp-port', '0'], /--ice-tcp-port on a wildcard address needs --public-ip or a concrete --bind-address/);

  const { RTCPeerConnection } = await import('../../../lib/peer/index.js');
  const { whipConnect } = await import('../../../lib/signaling/whip-client.js');
  /** The echo command's WHIP URL and its media line, once printed; the process. */
  const startEcho = (args: string[]): Promise<[string, string, ChildProcess]> => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'echo', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no media line printed: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const url = /WHIP endpoint (http:\/\/\S+:\d+\/whip)/.exec(out);
        const media = /echo server: (media [^\n]*)\n/.exec(out);
        if (url && media) {
          clearTimeout(timer);
          resolve([url[1]!, media[1]!, child]);
        }
      });
    });
  };
  /**
   * One connected WHIP session from a client on `client`: the answer's UDP host candidates
   * (`address port`) and the kinds the server echoes natively (its /sessions/<id>). Left open.
   */
  const connect = async (whipUrl: string, client = '127.0.0.1'): Promise<{ candidates: string[]; nativeEcho: () => Promise<string[]> }> => {
    const pc = new RTCPeerConnection({ hostAddresses: [client] });
    t.after(() => pc.close());
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    const session = await whipConnect(whipUrl, pc);
    const candidates = [...pc.remoteDescription!.sdp.matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host/g)].map((m) => `${m[1]} ${m[2]}`);
    await pc.connected(15_000);
    const id = new URL(session.resource).pathname.split('/').pop()!;
    const nativeEcho = async (): Promise<string[]> => {
      const r = (await (await fetch(new URL(`/sessions/${id}`, whipUrl))).json()) as { session: { nativeEcho: string[] } };
      return r.session.nativeEcho;
    };
    return { candidates, nativeEcho };
  };
  /** Polls until the engine echoes the session's audio (it takes over once the session is connected). */
  const echoedNatively = async (s: { nativeEcho: () => Promise<string[]> }): Promise<void> => {
    for (let i = 0; i < 100 && (await s.nativeEcho()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await s.nativeEcho(), ['audio']);
  };

  const [sharedUrl, sharedMedia, sharedServer] = await startEcho([]);
  const port = /^media on UDP 127\.0\.0\.1:(\d+) for every session, RTP echoed natively$/.exec(sharedMedia)?.[1];
  assert.ok(port && Number(port) > 0, sharedMedia);
  const first = await connect(sharedUrl);
  const second = await connect(sharedUrl);
  assert.deepEqual(first.candidates, [`127.0.0.1 ${port}`]);
  assert.deepEqual(second.candidates, [`127.0.0.1 ${port}`]);
  await echoedNatively(first);
  await echoedNatively(second);
  // A whole WHIP session through the command line's shared port: media goes both ways. (A packet
  // that arrives before the engine takes over is received and not echoed: docs/echo.md.)
  const r = await run(['whip-client', '--url', sharedUrl, '--seconds', '1']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { ok: boolean; rtp: Record<'audio' | 'video', { sent: number; received: number }> };
  assert.equal(summary.ok, true);
  for (const kind of ['audio', 'video'] as const) assert.ok(summary.rtp[kind].sent > 0 && summary.rtp[kind].received > 0, JSON.stringify(summary.rtp));
  // SIGTERM with two live sessions on the port: the server closes them, then the port, and exits 0.
  const exited = new Promise<number | null>((resolve) => sharedServer.on('close', resolve));
  sharedServer.kill('SIGTERM');
  assert.equal(await exited, 0);

  // A wildcard host with --public-ip binds the wildcard of the announced address's family.
  const [v4Url, v4Media] = await startEcho(['--host', '0.0.0.0', '--public-ip', '127.0.0.1']);
  const v4Port = /^media on UDP 0\.0\.0\.0:(\d+) \(announced as 127\.0\.0\.1\) for every session/.exec(v4Media)?.[1];
  assert.ok(v4Port, v4Media);
  const v4 = await connect(v4Url.replace('0.0.0.0', '127.0.0.1'));
  assert.deepEqual(v4.candidates, [`127.0.0.1 ${v4Port}`]);
  await echoedNatively(v4);
  const [v6Url, v6Media] = await startEcho(['--host', '::', '--public-ip', '::1']);
  const v6Port = /^media on UDP \[::\]:(\d+) \(announced as ::1\) for every session/.exec(v6Media)?.[1];
  assert.ok(v6Port, v6Media);
  const v6 = await connect(v6Url.replace('[::]', '[::1]'), '::1');
  assert.deepEqual(v6.candidates, [`::1 ${v6Port}`]);
  await echoedNatively(v6);

  const [ownUrl, ownMedia] = await startEcho(['--own-sockets']);
  assert.equal(ownMedia, "media on each session's own UDP sockets");
  const a = await connect(ownUrl);
  const b = await connect(ownUrl);
  assert.equal(a.candidates.length, 1);
  assert.equal(b.candidates.length, 1);
  assert.notEqual(a.candidates[0], b.candidates[0]);
  assert.deepEqual(await a.nativeEcho(), []);
});

test('echo --ice-tcp-port: answers carry the passive TCP candidate of that port and a client connects over TCP only', { timeout: 60_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'echo', '--port', '0', '--ice-tcp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const [whipUrl, tcpPort] = await new Promise<[string, number]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no ICE-TCP line printed: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /WHIP endpoint (http:\/\/127\.0\.0\.1:\d+\/whip)/.exec(out);
      const tcp = /ICE-TCP \(passive\) on 127\.0\.0\.1:(\d+)/.exec(out);
      if (url && tcp) {
        clearTimeout(timer);
        resolve([url[1]!, Number(tcp[1])]);
      }
    });
  });
  const { RTCPeerConnection } = await import('../../../lib/peer/index.js');
  const { whipConnect } = await import('../../../lib/signaling/whip-client.js');
  // The client has active TCP candidates and the server's UDP candidate is taken out of the answer:
  // only the TCP pair can work.
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  t.after(() => pc.close());
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  await pc.setLocalDescription(await pc.createOffer());
  const udpFree = {
    localDescription: pc.localDescription,
    createOffer: () => pc.createOffer(),
    setLocalDescription: () => pc.setLocalDescription(),
    setRemoteDescription: (d: { type: 'answer'; sdp: string }) => {
      assert.match(d.sdp, new RegExp(`a=candidate:\\S+ 1 tcp \\d+ 127\\.0\\.0\\.1 ${tcpPort} typ host tcptype passive\r\n`));
      return pc.setRemoteDescription({ type: 'answer', sdp: d.sdp.split('\r\n').filter((l) => !/^a=candidate:\S+ 1 udp /.test(l)).join('\r\n') });
    } };
  const session = await whipConnect(whipUrl, udpFree);
  await pc.connected(15_000);
  const stats = [...(await pc.getStats()).values()] as { type: string; id: string; protocol?: string; localCandidateId?: string; selectedCandidatePairId?: string }[];
  const transport = stats.find((s) => s.type === 'transport')!;
  const pair = stats.find((s) => s.id === transport.selectedCandidatePairId)!;
  assert.equal(stats.find((s) => s.id === pair.localCandidateId)!.protocol, 'tcp');
  assert.equal(await session.end(), 200);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('media sources: the shipped Opus tone every 20 ms and VP8 clip, looped with increasing timestamps', () => {
  const audio = createMediaSource('audio');
  assert.deepEqual([audio.codec, audio.origin], ['opus', 'default']);
  const first = audio.due(0);
  assert.equal(first.length, 1);
  const second = audio.due(1000);
  assert.equal(second.length, 50);
  const ts = [...first, ...second].map((p) => p.timestamp!);
  for (let i = 1; i < ts.length; i++) assert.equal(ts[i]! - ts[i - 1]!, 960);
  // Real Opus: TOC config 19..31 is CELT-only fullband/wideband (RFC 6716 §3.1), not 3-byte silence.
  assert.ok(second.every((p) => p.payload.length > 3));
  const video = createMediaSource('video');
  assert.deepEqual([video.codec, video.origin], ['VP8', 'default']);
  const packets = video.due(5000);
  assert.ok(packets.length > 0);
  const frameTimestamps = [...new Set(packets.map((p) => p.timestamp!))];
  assert.equal(frameTimestamps.length, 151, '30 fps for 5 s, and the frame at 0');
  for (let i = 1; i < frameTimestamps.length; i++) assert.ok(frameTimestamps[i]! > frameTimestamps[i - 1]!, 'timestamps keep increasing across loops');
  assert.ok(packets.filter((p) => p.marker).length === frameTimestamps.length, 'one marker per frame');
  assert.equal(video.due(5000).length, 0, 'each frame once');
  // RFC 7741 §4.3: the first payload of a keyframe has S=1, PID 0, and P=0 in the VP8 payload header.
  const firstPayload = packets[0]!.payload;
  const descriptorLength = (firstPayload[0]! & 0x80) !== 0 ? 2 + ((firstPayload[1]! & 0x80) !== 0 ? ((firstPayload[2]! & 0x80) !== 0 ? 2 : 1) : 0) + ((firstPayload[1]! & 0x40) !== 0 ? 1 : 0) + ((firstPayload[1]! & 0x30) !== 0 ? 1 : 0) : 1;
  assert.equal(firstPayload[descriptorLength]! & 0x01, 0, 'the clip starts with a keyframe');
});

test('media sources: VP9 and AV1 IVF by FourCC, H.264 Annex B, other files refused with ERR_MEDIA_FILE', () => {
  const media = (name: string): string => fileURLToPath(new URL(`../../fixtures/media/${name}`, import.meta.url));
  for (const [file, codec] of [['vp8.ivf', 'VP8'], ['vp9.ivf', 'VP9'], ['av1.ivf', 'AV1'], ['h264.h264', 'H264']] as const) {
    const source = createMediaSource('video', media(file));
    assert.equal(source.codec, codec);
    const packets = source.due(1000);
    assert.ok(packets.length >= 20, `${file}: ${packets.length} packets`);
    assert.ok(packets.some((p) => p.marker));
  }
  assert.throws(() => createMediaSource('video', media('opus.ogg')), (e: unknown) => (e as { code?: string }).code === 'ERR_MEDIA_FILE');
  assert.throws(() => createMediaSource('audio', media('vp8.ivf')), (e: unknown) => (e as { code?: string }).code === 'ERR_MEDIA_FILE');
});

test('the shipped default clips decode with ffmpeg (libvpx, libopus) without errors', { skip: ffmpegMissing() }, () => {
  for (const [kind, frames] of [['video', 30], ['audio', 50]] as const) {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', defaultMediaFile(kind), '-f', 'null', '-'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    assert.equal(r.stderr.trim(), '', 'no decoder errors');
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', defaultMediaFile(kind)], { encoding: 'utf8' });
    assert.ok(Number(probe.stdout.trim()) >= frames, `${kind}: ${probe.stdout.trim()} frames decoded`);
  }
});

function ffmpegMissing(): string | false {
  return spawnSync('ffmpeg', ['-version']).status === 0 ? false : 'ffmpeg is not installed';
}

test('servedCodecs: only the codec a file carries, with the rtcp-fb the default policy modules serve', () => {
  const h264 = servedCodecs('video', (c) => c.name === 'H264' && c.parameters['packetization-mode'] === '1');
  assert.deepEqual(h264.map((c) => [c.name, c.parameters['profile-level-id']]), [['H264', '42e01f'], ['H264', '42001f']]);
  for (const c of h264) {
    assert.ok(c.rtcpFeedback.some((f) => f.type === 'nack' && f.parameter === 'pli'), 'PLI is served (keyframe requester)');
    assert.ok(c.rtcpFeedback.some((f) => f.type === 'nack' && f.parameter === undefined), 'NACK is served');
  }
  assert.deepEqual(servedCodecs('video', () => false).map((c) => c.name), ['VP8', 'VP9', 'H264', 'H264', 'H264', 'H264', 'AV1'], 'nothing kept: every codec');
});
