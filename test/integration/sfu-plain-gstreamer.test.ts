// GStreamer `udpsink` publishes into a router through a plain transport, and GStreamer `udpsrc`
// records a plain consumer of it (docs/scaling.md "Plain transport"): videotestsrc → vp8enc →
// rtpvp8pay (RFC 7741) → udpsink from a fixed source port → plain producer → plain consumer (payload
// type rewritten) → udpsrc → rtpvp8depay → webmmux → file; ffprobe decodes the recording. Skipped
// without gst-launch-1.0 and its vpx/rtp/udp/matroska elements (Debian gstreamer1.0-tools,
// gstreamer1.0-plugins-good, gstreamer1.0-plugins-base) or without ffprobe.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { Router } from '../../lib/sfu/index.js';
import { within } from './peer-helpers.js';

function runs(tool: string, args: string[]): boolean {
  try {
    execFileSync(tool, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

const ELEMENTS = ['videotestsrc', 'vp8enc', 'rtpvp8pay', 'udpsink', 'udpsrc', 'rtpvp8depay', 'webmmux', 'filesink'];
const SKIP = !runs('gst-launch-1.0', ['--version'])
  ? 'gst-launch-1.0 is not installed (Debian gstreamer1.0-tools)'
  : !ELEMENTS.every((e) => runs('gst-inspect-1.0', ['--exists', e]))
    ? `a GStreamer element is missing (${ELEMENTS.join(', ')}; Debian gstreamer1.0-plugins-good/-base)`
    : !runs('ffprobe', ['-version']) ? 'ffprobe is not installed (Debian ffmpeg)' : false;
const SSRC = 0x2b2b_5678;
const PT = 96;
const FRAMES = 150; // 5 s at 30 frames/s, a keyframe every 15

let dir = '';
before(() => {
  if (!SKIP) dir = mkdtempSync(join(tmpdir(), 'pwt-plain-gst-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A UDP port free right now on 127.0.0.1 (an ordinary bind, released at once). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves once something has bound 127.0.0.1:`port` (a bind of ours fails). */
async function portTaken(port: number): Promise<void> {
  for (;;) {
    const s = createSocket('udp4');
    const taken = await new Promise<boolean>((r) => {
      s.once('error', () => r(true));
      s.bind(port, '127.0.0.1', () => r(false));
    });
    await new Promise<void>((r) => s.close(() => r()));
    if (taken) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));
}

test('GStreamer udpsink publishes VP8 into a plain transport; a plain consumer recorded by GStreamer udpsrc decodes', { skip: SKIP, timeout: 120_000 }, async (t) => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const router = Router.create(mux);
  const procs: ChildProcess[] = [];
  t.after(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    router.close();
    mux.close();
  });

  // udpsink sends from a fixed source port (bind-port), so the transport need not learn it (comedia off).
  const gstSourcePort = await freePort();
  const inbound = router.createPlainTransport({ listenIp: '127.0.0.1' });
  inbound.connect({ ip: '127.0.0.1', port: gstSourcePort });
  const producer = inbound.produce({ kind: 'video', ssrc: SSRC, payloadType: PT, codec: { name: 'VP8', clockRate: 90000 } });

  // The recorder: udpsrc with the consumer's stream as caps (consumerStream gives payload type and clock rate).
  const recordPort = await freePort();
  const outbound = router.createPlainTransport({ listenIp: '127.0.0.1' });
  const consumer = outbound.consume(producer, { payloadType: 97 });
  const stream = outbound.consumerStream(consumer);
  assert.equal(stream.codec.name, 'VP8');
  const recording = join(dir, 'recording.webm');
  const caps = `application/x-rtp,media=video,encoding-name=VP8,clock-rate=${stream.codec.clockRate},payload=${stream.payloadType}`;
  const recorder = spawn('gst-launch-1.0', ['-e', '-q', 'udpsrc', 'address=127.0.0.1', `port=${recordPort}`, `caps=${caps}`,
    '!', 'rtpvp8depay', '!', 'webmmux', '!', 'filesink', `location=${recording}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(recorder);
  let recorderErr = '';
  recorder.stderr!.on('data', (d: Buffer) => (recorderErr += d.toString()));
  await within(portTaken(recordPort), 20_000, 'GStreamer recorder listening');
  outbound.connect({ ip: '127.0.0.1', port: recordPort });

  // The publisher: a live test pattern, VP8, RTP, to the plain transport's port.
  const publisher = spawn('gst-launch-1.0', ['-q', 'videotestsrc', `num-buffers=${FRAMES}`, 'is-live=true',
    '!', 'video/x-raw,width=320,height=240,framerate=30/1',
    '!', 'vp8enc', 'deadline=1', 'keyframe-max-dist=15', 'target-bitrate=300000',
    '!', 'rtpvp8pay', `pt=${PT}`, `ssrc=${SSRC}`, 'mtu=1200',
    '!', 'udpsink', 'host=127.0.0.1', `port=${inbound.tuple.localPort}`, 'bind-address=127.0.0.1', `bind-port=${gstSourcePort}`],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(publisher);
  let publisherErr = '';
  publisher.stderr!.on('data', (d: Buffer) => (publisherErr += d.toString()));
  assert.equal(await within(exited(publisher), 60_000, 'GStreamer publisher done'), 0, publisherErr);

  // Everything it sent has been forwarded once the consumer's count stops moving.
  let sent = -1;
  await within((async () => {
    for (;;) {
      const now = consumer.getStats().packetsSent;
      if (now > 0 && now === sent) return;
      sent = now;
      await new Promise((r) => setTimeout(r, 300));
    }
  })(), 20_000, 'forwarding settled');
  const p = producer.getStats();
  assert.ok(p.packetsReceived >= FRAMES, `the producer received the stream (${p.packetsReceived} packets)`);
  assert.equal(consumer.getStats().packetsSent, p.packetsReceived, 'every packet forwarded to the plain consumer');
  const s = inbound.getStats();
  assert.equal(s.spoofedDropped, 0);
  assert.equal(s.unknownSsrcDropped, 0);
  assert.equal(router.stats.jsDeliveries, 0, 'no JavaScript per packet');

  // SIGINT with -e: the recorder sends EOS down its pipeline, so webmmux finishes the file.
  recorder.kill('SIGINT');
  await within(exited(recorder), 20_000, 'GStreamer recorder done');
  assert.ok(existsSync(recording) && statSync(recording).size > 0, `GStreamer wrote a recording (${recorderErr})`);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,width,nb_read_frames', '-of', 'json', recording],
    { encoding: 'utf8', timeout: 30_000 })) as { streams: { codec_name: string; width: number; nb_read_frames: string }[] };
  t.diagnostic(`ffprobe: ${JSON.stringify(probe.streams[0])}`);
  assert.equal(probe.streams[0]?.codec_name, 'vp8');
  assert.equal(probe.streams[0]?.width, 320);
  assert.ok(Number(probe.streams[0]?.nb_read_frames) >= FRAMES / 2, 'ffprobe decodes the recorded frames');
});
