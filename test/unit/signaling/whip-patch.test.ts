// WHIP beyond POST/DELETE (RFC 9725 §4.3-§4.6) between our client and our echo server, real peer
// connections on loopback: bearer tokens (401), Link rel="ice-server", trickle PATCH (204, counted),
// If-Match (412), ICE restart by PATCH (200, new ETag, new credentials, data still echoed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../../../lib/echo/echo-server.js';
import { RTCPeerConnection, type RTCDataChannel } from '../../../lib/peer/index.js';
import { whipConnect, WhipError, parseIceServerLinks, splitIceServers } from '../../../lib/signaling/whip-client.js';
import { formatIceFragment, parseIceFragment, applyIceFragment, iceFragmentOf, ICE_FRAGMENT_TYPE } from '../../../lib/signaling/ice-fragment.js';
import { iceServerLinks } from '../../../lib/signaling/whip-server.js';
import { parseSdp } from '../../../lib/sdp/index.js';

const ICE_SERVERS = [{ urls: 'stun:stun.example.net' }, { urls: 'turn:turn.example.net?transport=udp', username: 'user', credential: 'pa"ss' }];

function echoOnce(channel: RTCDataChannel, text: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    const onMessage = (e: { data: unknown }): void => {
      clearTimeout(timer);
      channel.off('message', onMessage);
      resolve(String(e.data));
    };
    channel.on('message', onMessage);
    channel.send(text);
  });
}

async function opened(channel: RTCDataChannel, timeoutMs: number): Promise<void> {
  if (channel.readyState === 'open') return;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('data channel did not open')), timeoutMs);
    channel.once('open', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

test('bearer token: none or wrong is 401 with WWW-Authenticate; the right one gets 201 with Link ice-server headers', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], token: 's3cret', iceServers: ICE_SERVERS });
  t.after(() => server.close());
  for (const token of [undefined, 'wrong']) {
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    pc.createDataChannel('x');
    await assert.rejects(whipConnect(server.whipUrl, pc, token === undefined ? {} : { token }), (e: unknown) => e instanceof WhipError && e.status === 401);
    pc.close();
  }
  const raw = await fetch(server.whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' });
  assert.equal(raw.status, 401);
  assert.equal(raw.headers.get('www-authenticate'), 'Bearer');
  assert.equal(server.sessions.size, 0, 'no session made for an unauthorized request');

  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.createDataChannel('x');
  const session = await whipConnect(server.whipUrl, pc, { token: 's3cret' });
  assert.deepEqual(session.iceServers, ICE_SERVERS);
  const del = await fetch(session.resource, { method: 'DELETE' });
  assert.equal(del.status, 401, 'DELETE needs the token too');
  assert.equal(await session.end(), 200);
});

test('Link header values round-trip through iceServerLinks / parseIceServerLinks, other rels ignored', () => {
  const header = [...iceServerLinks(ICE_SERVERS), '<https://example.net/x>; rel="next"'].join(', ');
  assert.deepEqual(parseIceServerLinks(header), ICE_SERVERS);
  assert.deepEqual(parseIceServerLinks(null), []);
  assert.deepEqual(parseIceServerLinks('<stun:a.example>;rel=ice-server'), [{ urls: 'stun:a.example' }]);
});

test('a TURN server announced without credentials (or with a bad URL) is left out of session.iceServers and reported, so they can go into new RTCPeerConnection', { timeout: 30_000 }, async (t) => {
  const announced = [
    { urls: 'stun:stun.example.net' },
    { urls: 'turn:turn.example.net' },
    { urls: 'turns:turn.example.net', username: 'only-user' },
    { urls: 'http://not-ice.example.net' },
    { urls: 'turn:turn.example.net?transport=tcp', username: 'u', credential: 'c' },
  ];
  // Without the split, the constructor refuses the raw list (InvalidAccessError, as browsers do).
  assert.throws(() => new RTCPeerConnection({ iceServers: announced }), (e: unknown) => (e as { name?: string }).name === 'InvalidAccessError');
  const split = splitIceServers(parseIceServerLinks(iceServerLinks(announced).join(', ')));
  assert.deepEqual(split.usable, [announced[0], announced[4]]);
  assert.deepEqual(split.skipped, [
    { server: announced[1], code: 'ERR_PEER_ICE_SERVER_CREDENTIALS' },
    { server: announced[2], code: 'ERR_PEER_ICE_SERVER_CREDENTIALS' },
    { server: announced[3], code: 'ERR_PEER_ICE_SERVER_URL' },
  ]);

  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], iceServers: announced });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.createDataChannel('x');
  const session = await whipConnect(server.whipUrl, pc);
  assert.deepEqual(session.iceServers, split.usable);
  assert.deepEqual(session.skippedIceServers, split.skipped);
  const next = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: session.iceServers });
  next.close();
  assert.equal(await session.end(), 200);
});

test('trickle PATCH: 204 and counted; stale If-Match 412; wrong type 415; bad fragment 400; unknown session 404', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const channel = pc.createDataChannel('x');
  const session = await whipConnect(server.whipUrl, pc);
  assert.match(session.etag ?? '', /^"[0-9a-f-]{36}"$/);
  const own = parseSdp(pc.localDescription!.sdp).media[0]!;
  const candidate = `candidate:${own.candidates[0]!.foundation} 1 udp 2130706431 127.0.0.1 ${own.candidates[0]!.port} typ host`;
  assert.equal(await session.trickle([{ candidate, sdpMid: own.mid! }], true), 204);
  const s = [...server.sessions.values()][0]!;
  assert.deepEqual(s.counters.trickle, { candidates: 1, dropped: 0, endOfCandidates: true });

  const fragment = formatIceFragment({ iceUfrag: own.iceUfrag, icePwd: own.icePwd, iceOptions: [], media: [{ mLine: 'application 9 UDP/DTLS/SCTP webrtc-datachannel', mid: own.mid!, candidates: [candidate], endOfCandidates: false }] });
  const stale = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': ICE_FRAGMENT_TYPE, 'if-match': '"not-the-tag"' }, body: fragment });
  assert.equal(stale.status, 412);
  assert.equal(stale.headers.get('etag'), session.etag);
  const wrongType = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': 'application/sdp' }, body: fragment });
  assert.equal(wrongType.status, 415);
  const bad = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': ICE_FRAGMENT_TYPE }, body: 'm=audio 9 X 0\r\na=candidate:1 1 udp 1 1.2.3.4 99999 typ host\r\n' });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /line 2/);
  const unknown = await fetch(`${server.whipUrl}/no-such-session`, { method: 'PATCH', headers: { 'content-type': ICE_FRAGMENT_TYPE }, body: fragment });
  assert.equal(unknown.status, 404);

  await pc.connected(10_000);
  await opened(channel, 10_000);
  assert.equal(await echoOnce(channel, 'after trickle', 5000), 'after trickle');
  assert.equal(await session.end(), 200);
  const afterEnd = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': ICE_FRAGMENT_TYPE }, body: fragment });
  assert.equal(afterEnd.status, 404);
});

test('ICE restart by PATCH (If-Match: *): 200 with new credentials and ETag, checks on the new credentials, data still echoed', { timeout: 30_000 }, async (t) => {
  const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'] });
  t.after(() => server.close());
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  const channel = pc.createDataChannel('x');
  const session = await whipConnect(server.whipUrl, pc);
  await pc.connected(10_000);
  await opened(channel, 10_000);
  assert.equal(await echoOnce(channel, 'before', 5000), 'before');
  const before = { etag: session.etag, theirs: iceFragmentOf(session.answer).iceUfrag, ours: iceFragmentOf(pc.localDescription!.sdp).iceUfrag };
  await session.restartIce();
  const after = { etag: session.etag, theirs: iceFragmentOf(session.answer).iceUfrag, ours: iceFragmentOf(pc.localDescription!.sdp).iceUfrag };
  assert.notEqual(after.etag, before.etag);
  assert.notEqual(after.theirs, before.theirs, 'the server answered with new credentials');
  assert.notEqual(after.ours, before.ours, 'we offered new credentials');
  const s = [...server.sessions.values()][0]!;
  assert.equal(s.counters.iceRestarts, 1);
  assert.equal(iceFragmentOf(s.pc.remoteDescription!.sdp).iceUfrag, after.ours, 'the server checks against our new ufrag');
  assert.equal(await echoOnce(channel, 'after restart', 5000), 'after restart');
  // The old entity-tag is stale now.
  const stale = await fetch(session.resource, { method: 'PATCH', headers: { 'content-type': ICE_FRAGMENT_TYPE, 'if-match': before.etag! }, body: formatIceFragment(iceFragmentOf(pc.localDescription!.sdp)) });
  assert.equal(stale.status, 412);
  assert.equal(await session.end(), 200);
});

test('ICE fragments: parse is lenient about whitespace and line ends, normalizes candidates, names the bad line', () => {
  const f = parseIceFragment('a=ice-options:trickle,ice2\na=group:BUNDLE 0\nm=audio 9 UDP/TLS/RTP/SAVPF 111 \r\na=mid:0\na=ice-ufrag: EsAw \na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\na=candidate:1387637174 1 UDP 2122260223 192.0.2.1 61764 typ host generation 0\na=end-of-candidates\n');
  assert.deepEqual(f, {
    iceUfrag: 'EsAw', icePwd: 'P2uYro0UCOQ4zxjKXaWCBui1', iceOptions: ['trickle', 'ice2'],
    media: [{ mLine: 'audio 9 UDP/TLS/RTP/SAVPF 111', mid: '0', candidates: ['candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0'], endOfCandidates: true }],
  });
  assert.deepEqual(parseIceFragment(formatIceFragment(f)), f);
  assert.throws(() => parseIceFragment('a=candidate:1 1 udp 1 1.2.3.4 5 typ host'), /line 1.*before any m= line/);
  assert.throws(() => applyIceFragment('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', { iceOptions: [], media: [] }), /ice-ufrag/);
});
