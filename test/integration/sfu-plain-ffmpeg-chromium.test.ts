// ffmpeg → plain transport → Chromium, and a plain consumer recorded by ffmpeg (docs/scaling.md
// "Plain transport"): `ffmpeg -re -i <VP8 ivf> -c copy -f rtp rtp://127.0.0.1:<port>` publishes
// into a router; a Chromium page subscribes over WebRTC and decodes (framesDecoded grows); the same
// producer is sent to a plain address where ffmpeg records it from an SDP file, and ffprobe decodes
// the recording. Skipped without Chromium or ffmpeg.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router } from '../../lib/sfu/index.js';
import { launchChromium, SKIP_CHROMIUM, type ChromiumHandle } from '../interop/chromium.js';
import { within } from './peer-helpers.js';
import { chromiumSubscriber, setUpSfuPage, untilPage } from './sfu-browser.js';

function has(tool: string): boolean {
  try {
    execFileSync(tool, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const SKIP = SKIP_CHROMIUM || (!has('ffmpeg') || !has('ffprobe') ? 'ffmpeg/ffprobe are not installed (Debian ffmpeg)' : false);
const SSRC = 0x0f0f_1234;
const PT = 96;
const SECONDS = 5;

let browser: ChromiumHandle | undefined;
let dir = '';
before(async () => {
  if (SKIP) return;
  dir = mkdtempSync(join(tmpdir(), 'pwt-plain-ffmpeg-'));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A UDP port free right now on 127.0.0.1 (and the one above it, which ffmpeg uses for RTCP). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const a = createSocket('udp4');
    const port = await new Promise<number>((r) => a.bind(0, '127.0.0.1', () => r(a.address().port)));
    const b = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(port + 1, '127.0.0.1', () => r(true));
    });
    a.close();
    if (ok) b.close();
    if (ok && port % 2 === 0) return port;
  }
  throw new Error('no free UDP port pair');
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));
}

test('ffmpeg publishes VP8 RTP into a plain transport; Chromium decodes it; ffmpeg records a plain consumer and ffprobe decodes it', { skip: SKIP, timeout: 120_000 }, async (t) => {
  // A VP8 file made by ffmpeg from its test pattern: a keyframe every 15 frames.
  const ivf = join(dir, 'testsrc.ivf');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${SECONDS}`,
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '15', '-b:v', '300k', ivf], { timeout: 60_000 });

  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    router.close();
    mux.close();
  });

  // The publisher's source port is fixed (localrtpport), so the transport need not learn it (comedia off).
  const ffmpegPort = await freePortPair();
  const inbound = router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
  inbound.connect({ ip: '127.0.0.1', port: ffmpegPort });
  const producer = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: PT, codec: { name: 'VP8', clockRate: 90000 } });

  // Chromium subscribes.
  const page = await browser!.context.newPage();
  await setUpSfuPage(page);
  const sub = await chromiumSubscriber(page, mux, 0);
  t.after(() => sub.server.close());
  await router.consume(producer, sub.server, sub.transceiver);

  // ffmpeg records a plain consumer from an SDP file (RFC 4566; RTP/AVP, RFC 3551).
  const recordPort = await freePortPair();
  const sdp = join(dir, 'record.sdp');
  writeFileSync(sdp, ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=pwt plain consumer', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${recordPort} RTP/AVP 97`, 'a=rtpmap:97 VP8/90000', 'a=recvonly', ''].join('\r\n'));
  const recording = join(dir, 'recording.ivf');
  const recorder = spawn('ffmpeg', ['-v', 'error', '-y', '-protocol_whitelist', 'file,udp,rtp', '-i', sdp, '-c', 'copy', recording],
    { stdio: ['pipe', 'ignore', 'pipe'] });
  procs.push(recorder);
  let recorderErr = '';
  recorder.stderr!.on('data', (d: Buffer) => (recorderErr += d.toString()));
  // ffmpeg binds its RTP port once it has read the SDP: wait for the port to be taken.
  await within((async () => {
    for (;;) {
      const s = createSocket('udp4');
      const taken = await new Promise<boolean>((r) => {
        s.once('error', () => r(true));
        s.bind(recordPort, '127.0.0.1', () => r(false));
      });
      s.close();
      if (taken) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })(), 20_000, 'ffmpeg recorder listening');
  const outbound = router.createPlainTransport({ listenIp: '127.0.0.1' });
  outbound.connect({ ip: '127.0.0.1', port: recordPort });
  const recordConsumer = outbound.consume(producer, { payloadType: 97 });
  assert.equal(outbound.consumerStream(recordConsumer).codec.name, 'VP8');

  // ffmpeg publishes the file in real time.
  const publisher = spawn('ffmpeg', ['-v', 'error', '-re', '-i', ivf, '-c', 'copy', '-f', 'rtp', '-ssrc', String(SSRC), '-payload_type', String(PT),
    `rtp://127.0.0.1:${inbound.tuple.localPort}?localrtpport=${ffmpegPort}&pkt_size=1200`], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(publisher);
  let publisherErr = '';
  publisher.stderr!.on('data', (d: Buffer) => (publisherErr += d.toString()));

  const stats = await untilPage(page, (s) => (s[0]?.decoded ?? 0) >= 30, 30_000, 'Chromium decodes 30 frames');
  t.diagnostic(`Chromium decoded ${stats[0]!.decoded} frames, ${stats[0]!.width} px wide`);
  assert.equal(stats[0]!.width, 320);
  assert.equal(await within(exited(publisher), 30_000, 'ffmpeg publisher done'), 0, publisherErr);
  const p = producer.getStats();
  assert.ok(p.packetsReceived > 0);
  assert.equal(inbound.getStats().spoofedDropped, 0);
  assert.ok(recordConsumer.getStats().packetsSent > 0);
  assert.equal(router.stats.jsDeliveries, 0);

  // Stop the recorder ('q' on stdin lets it finish the file), then decode what it wrote.
  recorder.stdin!.end('q');
  await within(exited(recorder), 20_000, 'ffmpeg recorder done');
  assert.ok(existsSync(recording) && statSync(recording).size > 0, `ffmpeg wrote a recording (${recorderErr})`);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,nb_read_frames', '-of', 'json', recording],
    { encoding: 'utf8', timeout: 30_000 })) as { streams: { codec_name: string; width: number; nb_read_frames: string }[] };
  t.diagnostic(`ffprobe: ${JSON.stringify(probe.streams[0])}`);
  assert.equal(probe.streams[0]?.codec_name, 'vp8');
  assert.equal(probe.streams[0]?.width, 320);
  assert.ok(Number(probe.streams[0]?.nb_read_frames) >= 30, 'ffprobe decodes the recorded frames');
});
