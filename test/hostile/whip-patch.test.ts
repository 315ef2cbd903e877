// Garbage WHIP PATCH bodies (RFC 9725 §4.3, RFC 8840 fragments) against a live echo session: every
// request gets a 4xx or 204, never a 5xx or a crash; refused candidates are counted; the session
// stays connected and keeps echoing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { whipConnect } from '../../lib/signaling/whip-client.js';
import { ICE_FRAGMENT_TYPE } from '../../lib/signaling/ice-fragment.js';
import { Prng } from './forge.js';

const PIECES = ['a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host', 'a=candidate:x', 'a=candidate:1 1 udp 1 1.2.3.4 70000 typ host', 'm=audio 9 X 0', 'a=mid:0',
  'a=mid:', 'a=end-of-candidates', 'a=candidate:2 1 tcp 1 ::1 9 typ host tcptype active', 'a=candidate:3 1 udp 1 host.invalid 5 typ host', '\u0000\u0001', 'a=ice-pwd:', 'x=1', ' ', 'a=candidate:4 7 udp 1 10.0.0.1 5 typ relay raddr 1.1.1.1 rport 1'];

test('300 garbage PATCH bodies: 204/400/412/415 only, candidates counted, the session keeps echoing', { timeout: 60_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const channel = pc.createDataChannel('x');
  const session = await whipConnect(server.whipUrl, pc);
  await pc.connected(10_000);
  const rng = new Prng(0x9725);
  const statuses = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const lines = Array.from({ length: 1 + (rng.next() % 6) }, () => PIECES[rng.next() % PIECES.length]!);
    const ifMatch: Record<string, string> = rng.next() % 3 === 0 ? { 'if-match': '"stale"' } : rng.next() % 2 === 0 ? { 'if-match': session.etag! } : {};
    const type = rng.next() % 10 === 0 ? 'text/plain' : ICE_FRAGMENT_TYPE;
    const r = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': type, ...ifMatch }, body: lines.join(rng.next() % 2 ? '\r\n' : '\n') });
    await r.arrayBuffer();
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
  assert.deepEqual([...statuses.keys()].filter((s) => ![204, 400, 412, 415].includes(s)), [], `statuses ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(204) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0 && (statuses.get(412) ?? 0) > 0);
  const s = [...server.sessions.values()][0]!;
  assert.ok(s.counters.trickle.candidates + s.counters.trickle.dropped > 0, JSON.stringify(s.counters.trickle));
  assert.equal(pc.connectionState, 'connected');
  if (channel.readyState !== 'open') await new Promise<void>((resolve) => channel.once('open', () => resolve()));
  const echoed = await new Promise<unknown>((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);
    channel.once('message', (e) => {
      clearTimeout(timer);
      resolve(e.data);
    });
    channel.send('still here');
  });
  assert.equal(echoed, 'still here');
  assert.equal(await session.end(), 200);
});
