// The echo server's HTTP surface: the page at `/` (with the test plan), WHIP errors, per-session
// stats JSON and session cleanup on DELETE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../../../lib/echo/echo-server.js';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { whipConnect } from '../../../lib/signaling/whip-client.js';

test('serves the page, rejects bad offers with clear 4xx texts, reports and ends sessions', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await fetch(server.url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<title>pure-webrtc-transport echo<\/title>/);
  assert.match(html, /const PLAN = \[\{"binary":false,"size":1\}/);
  assert.match(html, /fetch\('\/whip'/);

  const wrongType = await fetch(server.whipUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'v=0' });
  assert.equal(wrongType.status, 415);
  const garbage = await fetch(server.whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\nnonsense\r\n' });
  assert.equal(garbage.status, 400);
  assert.match(await garbage.text(), /^offer rejected: /);
  assert.equal(server.sessions.size, 0);
  assert.equal((await fetch(new URL('/sessions/none', server.url))).status, 404);
  assert.equal((await fetch(new URL('/nothing', server.url))).status, 404);

  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  const session = await whipConnect(server.whipUrl, pc);
  await pc.connected(10_000);
  const id = session.resource.split('/').pop()!;
  assert.ok(server.sessions.has(id));
  await server.sessions.get(id)!.pc.connected(10_000);
  const stats = (await (await fetch(new URL(`/sessions/${id}`, server.url))).json()) as { session: { id: string; connectionState: string }; stats: { type: string }[] };
  assert.equal(stats.session.id, id);
  assert.equal(stats.session.connectionState, 'connected');
  assert.ok(stats.stats.some((s) => s.type === 'transport'));
  assert.equal(await session.end(), 200);
  assert.equal(server.sessions.size, 0);
  assert.equal(await session.end(), 404);
});

test('announceAddress puts the public IP on host candidates and c= lines only', async () => {
  const { announceAddress } = await import('../../../lib/echo/announce.js');
  const sdp = [
    'v=0', 'c=IN IP4 10.0.0.5', 'a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host',
    'a=candidate:2 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000', 'a=candidate:bad', '',
  ].join('\r\n');
  assert.equal(announceAddress(sdp, '203.0.113.7'), [
    'v=0', 'c=IN IP4 203.0.113.7', 'a=candidate:1 1 udp 2130706431 203.0.113.7 40000 typ host',
    'a=candidate:2 1 udp 1694498815 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000', 'a=candidate:bad', '',
  ].join('\r\n'));
});

test('a session answered with a publicIp announces it instead of the bound address', { timeout: 30_000 }, async (t) => {
  // Nothing listens on 127.0.0.2: the server's own checks reach the client, which pairs with it
  // as a peer-reflexive candidate (RFC 8445 §7.2.5.3.1), as a client of a NATed server would.
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], publicIp: '127.0.0.2' });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  const session = await whipConnect(server.whipUrl, pc);
  assert.match(session.answer, / 127\.0\.0\.2 \d+ typ host/);
  assert.doesNotMatch(session.answer, / 127\.0\.0\.1 \d+ typ host/);
  await server.sessions.get(session.resource.split('/').pop()!)!.pc.connected(10_000);
  await session.end();
});

test('a session whose client never connects is ended after connectTimeoutMs', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], connectTimeoutMs: 300 });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  await pc.setLocalDescription();
  const offer = pc.localDescription!.sdp;
  // The client disappears right after posting its offer.
  pc.close();
  const res = await fetch(server.whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
  assert.equal(res.status, 201);
  assert.equal(server.sessions.size, 1);
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(server.sessions.size, 0);
});

test('offers still queued when the server closes get 503 and leave no session behind', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  const pcs: RTCPeerConnection[] = [];
  t.after(() => {
    for (const pc of pcs) pc.close();
  });
  const offers: string[] = [];
  for (let i = 0; i < 8; i++) {
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    pcs.push(pc);
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    offers.push(pc.localDescription!.sdp);
  }
  // All eight posted at once: the server answers them one at a time, so most wait in its queue
  // when close() runs.
  const posts = offers.map((sdp) => fetch(server.whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: sdp })
    .then((r) => r.status, () => 0));
  for (let i = 0; i < 200 && server.sessions.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const closed = server.close();
  const statuses = await Promise.all(posts);
  await closed;
  // close() drops the HTTP connections, so a client sees 201, 503 or a reset (0).
  assert.ok(statuses.every((s) => s === 201 || s === 503 || s === 0), statuses.join(','));
  assert.ok(statuses.some((s) => s !== 201), `close() cut some offers short: ${statuses.join(',')}`);
  // The queue goes on answering after close() returned; give it the time to try.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(server.sessions.size, 0, 'no session outlives close()');
});
