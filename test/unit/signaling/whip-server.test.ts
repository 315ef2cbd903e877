// RFC 9725 endpoint behaviour of createWhipHandler (§4.2 POST/201/Location, §4.4 DELETE, OPTIONS,
// 415 for a wrong type, 4xx text for a rejected offer) and whipConnect against it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWhipHandler, WhipRejection } from '../../../lib/signaling/whip-server.js';
import { whipConnect, WhipError, type WhipPeer } from '../../../lib/signaling/whip-client.js';

async function serve(t: { after(fn: () => unknown): void }, options: { maxOfferBytes?: number } = {}): Promise<{ base: string; ended: string[] }> {
  const ended: string[] = [];
  const handler = createWhipHandler({
    offer: async (id, sdp) => {
      if (sdp.includes('reject-me')) throw new Error('no usable m-section');
      if (sdp.includes('busy')) throw new WhipRejection(503, 'too many sessions');
      return `answer-to:${sdp}:${id}`;
    },
    end: (id) => {
      if (id === 'unknown') return false;
      ended.push(id);
      return true;
    },
  }, { path: '/whip', ...options });
  const server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(404);
        res.end('elsewhere');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ended };
}

test('POST application/sdp answers 201 with the answer, a Location under the endpoint, and DELETE ends it', async (t) => {
  const { base, ended } = await serve(t);
  const res = await fetch(`${base}/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp; charset=utf-8' }, body: 'v=0 offer' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  const location = res.headers.get('location')!;
  assert.match(location, /^\/whip\/[0-9a-f-]{36}$/);
  const id = location.slice('/whip/'.length);
  assert.equal(await res.text(), `answer-to:v=0 offer:${id}`);
  const del = await fetch(`${base}${location}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  assert.deepEqual(ended, [id]);
  const again = await fetch(`${base}/whip/unknown`, { method: 'DELETE' });
  assert.equal(again.status, 404);
});

test('wrong content type is 415 with Accept-Post; other methods 405; OPTIONS 204', async (t) => {
  const { base } = await serve(t);
  const r415 = await fetch(`${base}/whip`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(r415.status, 415);
  assert.equal(r415.headers.get('accept-post'), 'application/sdp');
  assert.match(await r415.text(), /application\/sdp/);
  const get = await fetch(`${base}/whip`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  const patch = await fetch(`${base}/whip/x`, { method: 'PATCH', body: 'a=candidate' });
  assert.equal(patch.status, 405);
  const options = await fetch(`${base}/whip`, { method: 'OPTIONS' });
  assert.equal(options.status, 204);
  assert.equal(options.headers.get('accept-post'), 'application/sdp');
  const other = await fetch(`${base}/elsewhere`);
  assert.equal(other.status, 404);
  assert.equal(await other.text(), 'elsewhere');
});

test('a rejected offer is a 4xx/5xx text naming the reason; an oversized offer is 413', async (t) => {
  const { base } = await serve(t, { maxOfferBytes: 1000 });
  const bad = await fetch(`${base}/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'reject-me' });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /offer rejected: no usable m-section/);
  const busy = await fetch(`${base}/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'busy' });
  assert.equal(busy.status, 503);
  const big = await fetch(`${base}/whip`, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'x'.repeat(2000) });
  assert.equal(big.status, 413);
});

function fakePeer(offer: string): WhipPeer & { remote: string | undefined } {
  let local: { sdp: string } | null = null;
  return {
    remote: undefined,
    createOffer: async () => ({ type: 'offer', sdp: offer }),
    setLocalDescription: async (d) => {
      local = { sdp: d!.sdp };
    },
    get localDescription() {
      return local;
    },
    async setRemoteDescription(d) {
      this.remote = d.sdp;
    },
  };
}

test('whipConnect posts the offer, applies the answer, resolves Location against the endpoint and DELETEs', async (t) => {
  const { base, ended } = await serve(t);
  const peer = fakePeer('v=0 mine');
  const session = await whipConnect(`${base}/whip`, peer);
  assert.match(session.resource, new RegExp(`^${base}/whip/[0-9a-f-]{36}$`));
  assert.equal(peer.remote, session.answer);
  assert.match(session.answer, /^answer-to:v=0 mine:/);
  assert.equal(await session.end(), 200);
  assert.equal(ended.length, 1);
});

test('whipConnect raises WhipError with the status and text of a rejection', async (t) => {
  const { base } = await serve(t);
  const peer = fakePeer('reject-me');
  await assert.rejects(whipConnect(`${base}/whip`, peer), (e: unknown) => e instanceof WhipError && e.status === 400 && /no usable m-section/.test(e.message));
  assert.equal(peer.remote, undefined);
});
