// The JSON {type, sdp} / trickled-candidate channels: message parsing (hostile input never
// throws), TCP and Unix sockets, copy-and-paste, and two peer connections negotiated over TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { parseSignalingMessage, MAX_SIGNALING_MESSAGE_BYTES } from '../../../lib/signaling/signaling-message.js';
import { SignalingClosedError } from '../../../lib/signaling/message-queue.js';
import { connectTcpSignaling, connectUnixSignaling, listenTcpSignaling, listenUnixSignaling } from '../../../lib/signaling/socket-signaling.js';
import { CopyAndPasteSignaling } from '../../../lib/signaling/copy-paste-signaling.js';
import { negotiateAsAnswerer, negotiateAsOfferer } from '../../../lib/signaling/negotiate.js';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';

test('parseSignalingMessage accepts descriptions, candidates, end-of-candidates and bye', () => {
  assert.deepEqual(parseSignalingMessage('{"type":"offer","sdp":"v=0"}'), { type: 'offer', sdp: 'v=0' });
  assert.deepEqual(parseSignalingMessage('{"type":"answer","sdp":"v=0","extra":1}'), { type: 'answer', sdp: 'v=0' });
  const c = { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  assert.deepEqual(parseSignalingMessage(JSON.stringify({ type: 'candidate', candidate: c })), { type: 'candidate', candidate: c });
  assert.deepEqual(parseSignalingMessage('{"type":"candidate","candidate":null}'), { type: 'candidate', candidate: null });
  assert.deepEqual(parseSignalingMessage('{"type":"bye"}'), { type: 'bye' });
});

test('parseSignalingMessage rejects malformed messages without throwing', () => {
  for (const bad of ['', 'not json', 'null', '42', '[]', '{"type":"offer"}', '{"type":"offer","sdp":5}', '{"type":"pranswer","sdp":"v=0"}',
    '{"type":"candidate"}', '{"type":"candidate","candidate":{"candidate":1}}', '{"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":-1}}',
    JSON.stringify({ type: 'offer', sdp: 'x'.repeat(MAX_SIGNALING_MESSAGE_BYTES) })]) {
    assert.equal(parseSignalingMessage(bad), undefined, bad.slice(0, 60));
  }
  fc.assert(fc.property(fc.string(), (s) => {
    parseSignalingMessage(s);
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    parseSignalingMessage(JSON.stringify(v));
  }), { numRuns: 500 });
});

test('TCP channel: messages both ways in order, malformed and over-long lines dropped and counted, close ends receive', async (t) => {
  const listener = await listenTcpSignaling(0);
  const client = await connectTcpSignaling(listener.address as number);
  const server = await listener.accept();
  t.after(async () => {
    client.close();
    server.close();
    await listener.close();
  });
  client.send({ type: 'offer', sdp: 'v=0 offer' });
  client.send({ type: 'candidate', candidate: { candidate: 'candidate:x', sdpMid: '0' } });
  assert.deepEqual(await server.receive(2000), { type: 'offer', sdp: 'v=0 offer' });
  assert.deepEqual(await server.receive(2000), { type: 'candidate', candidate: { candidate: 'candidate:x', sdpMid: '0' } });
  server.send({ type: 'answer', sdp: 'v=0 answer' });
  assert.deepEqual(await client.receive(2000), { type: 'answer', sdp: 'v=0 answer' });
  // Raw garbage through the same socket: a broken line and a line longer than the limit.
  (client as unknown as { socket: import('node:net').Socket }).socket.write('garbage\n');
  const raw = (client as unknown as { socket: import('node:net').Socket }).socket;
  raw.write('x'.repeat(MAX_SIGNALING_MESSAGE_BYTES + 10));
  raw.write(`${'y'.repeat(MAX_SIGNALING_MESSAGE_BYTES)}{"type":"offer","sdp":"inside the long line"}\n`);
  client.send({ type: 'bye' });
  assert.deepEqual(await server.receive(2000), { type: 'bye' });
  assert.equal(server.drops.malformed, 2);
  await assert.rejects(server.receive(50), SignalingClosedError);
  client.close();
  await assert.rejects(server.receive(2000), SignalingClosedError);
});

test('Unix-socket channel carries the same messages', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pwt-sig-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'signal.sock');
  const listener = await listenUnixSignaling(path);
  assert.equal(listener.address, path);
  const client = await connectUnixSignaling(path);
  const server = await listener.accept();
  t.after(async () => {
    client.close();
    server.close();
    await listener.close();
  });
  client.send({ type: 'offer', sdp: 'v=0 unix' });
  assert.deepEqual(await server.receive(2000), { type: 'offer', sdp: 'v=0 unix' });
  client.close();
  server.close();
});

test('copy-and-paste: send prints a hint and one JSON line; pasted lines are parsed, comments skipped, typos counted', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (d: Buffer) => (printed += d.toString()));
  const channel = new CopyAndPasteSignaling(input, output);
  channel.send({ type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n' });
  const lines = printed.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^# copy the next line/);
  assert.deepEqual(JSON.parse(lines[1]!), { type: 'offer', sdp: 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n' });
  input.write('# a comment\n{"type":"answer", oops\n\n{"type":"answer","sdp":"v=0 pasted"}\n');
  assert.deepEqual(await channel.receive(2000), { type: 'answer', sdp: 'v=0 pasted' });
  assert.equal(channel.drops.malformed, 1);
  input.end();
  await assert.rejects(channel.receive(2000), SignalingClosedError);
  channel.close();
});

test('two peer connections negotiate over TCP signalling with trickled candidates and exchange RTP', { timeout: 30_000 }, async (t) => {
  const listener = await listenTcpSignaling(0);
  const offererChannel = await connectTcpSignaling(listener.address as number);
  const answererChannel = await listener.accept();
  t.after(async () => {
    offererChannel.close();
    answererChannel.close();
    await listener.close();
  });
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => {
    a.close();
    b.close();
  });
  const track = new LocalStreamTrack({ kind: 'audio' });
  a.addTransceiver(track);
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  await Promise.all([negotiateAsOfferer(a, offererChannel, { timeoutMs: 10_000 }), negotiateAsAnswerer(b, answererChannel, { timeoutMs: 10_000 })]);
  await a.connected(10_000);
  track.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('over tcp signalling') }));
  const packet = await (await remote).recv();
  assert.equal(packet.payload.toString(), 'over tcp signalling');
});
