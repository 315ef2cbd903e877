// The room server (lib/room, docs/sfu.md "Room server") without a browser: members are our own
// RTCPeerConnections on loopback speaking the page's JSON signaling. Every member receives every
// other member's audio and video through the native router (nothing through JavaScript), a member
// that leaves takes its producers and everyone's subscriptions to it along, and bad requests get
// 4xx answers without disturbing the room.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { startRoomServer, type RoomServer } from '../../../lib/room/index.js';
import { within } from '../../integration/peer-helpers.js';

const ROOM = 'unit';

interface TestMember {
  id: string;
  pc: RTCPeerConnection;
  audio: LocalStreamTrack;
  video: LocalStreamTrack;
  /** Payloads received from each other member, by member id and kind. */
  got: Map<string, { audio: string[]; video: string[] }>;
  subscriptions: Map<string, RTCPeerConnection>;
}

let server: RoomServer;
const members: TestMember[] = [];

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function join(): Promise<TestMember> {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const audio = new LocalStreamTrack({ kind: 'audio' });
  const video = new LocalStreamTrack({ kind: 'video' });
  pc.addTransceiver(audio, { direction: 'sendonly' });
  pc.addTransceiver(video, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  const { status, json } = await post(`/rooms/${ROOM}/join`, { offer: pc.localDescription!.sdp });
  assert.equal(status, 201, JSON.stringify(json));
  await pc.setRemoteDescription({ type: 'answer', sdp: String(json.answer) });
  await within(pc.connected(), 15_000, 'publisher connected');
  const id = String(json.member);
  await within(server.rooms.get(ROOM)!.member(id).ready(), 15_000, 'producers ready');
  return { id, pc, audio, video, got: new Map(), subscriptions: new Map() };
}

async function subscribe(m: TestMember, from: TestMember): Promise<void> {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.addTransceiver('video', { direction: 'recvonly' });
  const got = { audio: [] as string[], video: [] as string[] };
  m.got.set(from.id, got);
  pc.on('track', (e) => {
    const track: MediaStreamTrack = e.track;
    void (async () => {
      for await (const p of track) got[track.kind].push(p.payload.toString());
    })();
  });
  await pc.setLocalDescription(await pc.createOffer());
  const { status, json } = await post(`/rooms/${ROOM}/members/${m.id}/subscribe`, { from: from.id, offer: pc.localDescription!.sdp });
  assert.equal(status, 200, JSON.stringify(json));
  await pc.setRemoteDescription({ type: 'answer', sdp: String(json.answer) });
  await within(pc.connected(), 15_000, 'subscriber connected');
  m.subscriptions.set(from.id, pc);
}

/** Each member sends `count` audio and video packets naming itself, 5 ms apart. */
async function sendRound(tag: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const m of members) {
      m.audio.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`${m.id}/audio/${tag}/${i}`) }));
      m.video.send(new RtpPacket({ timestamp: i * 3000, marker: true, payload: Buffer.from(`${m.id}/video/${tag}/${i}`) }));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitFor(what: string, check: () => boolean, ms = 10_000, state?: () => unknown): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what} within ${ms} ms${state ? `; state: ${JSON.stringify(state())}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  server = await startRoomServer({ port: 0, host: '127.0.0.1', maxMembers: 3, connectTimeoutMs: 20_000 });
});

after(async () => {
  for (const m of members) {
    for (const pc of m.subscriptions.values()) pc.close();
    m.pc.close();
  }
  await server?.close();
});

test('three members each receive the other two members\' audio and video through the router, none through JavaScript', { timeout: 90_000 }, async () => {
  for (let i = 0; i < 3; i++) members.push(await join());
  for (const m of members) for (const other of members) if (other !== m) await subscribe(m, other);
  const room = server.rooms.get(ROOM)!;
  assert.equal(room.members.size, 3);
  // The server consumes once its side of each subscription is connected too.
  await waitFor('every subscription has its two consumers', () => [...room.members.values()].every((m) =>
    m.subscriptions.size === 2 && [...m.subscriptions.values()].every((s) => s.consumers.length === 2)));
  await sendRound('a', 20);
  await waitFor('every member got every other member\'s 20 audio and 20 video packets', () => members.every((m) =>
    [...m.got.values()].every((g) => g.audio.length >= 20 && g.video.length >= 20)), 10_000,
  () => members.map((m) => [...m.got.values()].map((g) => [g.audio.length, g.video.length])));
  for (const m of members) {
    for (const [from, g] of m.got) {
      assert.ok(g.audio.every((p) => p.startsWith(`${from}/audio/`)), 'audio from the right member only');
      assert.ok(g.video.every((p) => p.startsWith(`${from}/video/`)), 'video from the right member only');
    }
  }
  const stats = server.stats();
  assert.ok(stats.router.packetsForwarded >= 3 * 2 * 2 * 20);
  assert.equal(stats.router.jsDeliveries, 0);
  const snapshot = stats.rooms.find((r) => r.name === ROOM)!;
  assert.equal(snapshot.members.length, 3);
  for (const s of snapshot.members) {
    assert.ok(s.publishing);
    assert.deepEqual(s.producers.map((p) => p.kind).sort(), ['audio', 'video']);
    assert.equal(s.subscriptions.length, 2);
    for (const sub of s.subscriptions) assert.ok(sub.consumers.every((c) => c.packetsSent >= 20));
  }
  // The member's own state view, as the page polls it.
  const state = await fetch(new URL(`/rooms/${ROOM}/members/${members[0]!.id}/state`, server.url));
  assert.equal(state.status, 200);
  const body = (await state.json()) as { member: string; room: { members: { id: string }[] }; router: { packetsForwarded: number } };
  assert.equal(body.member, members[0]!.id);
  assert.equal(body.room.members.length, 3);
  assert.ok(body.router.packetsForwarded > 0);
});

test('bad requests get 4xx answers and typed codes; the room keeps forwarding', { timeout: 30_000 }, async () => {
  const [a, b] = members;
  assert.ok(a && b);
  assert.equal((await post(`/rooms/${ROOM}/join`, 'not json')).status, 400);
  assert.equal((await post(`/rooms/${ROOM}/join`, { offer: 42 })).status, 400);
  assert.equal((await post(`/rooms/${ROOM}/join`, [1, 2])).status, 400);
  assert.equal((await post('/rooms/bad%20name!/join', { offer: 'v=0' })).status, 400);
  assert.equal((await post(`/rooms/${ROOM}/join`, { offer: 'x'.repeat(70_000) })).status, 413);
  const full = await post(`/rooms/${ROOM}/join`, { offer: 'v=0' });
  assert.equal(full.status, 503, 'maxMembers 3');
  assert.equal(full.json.code, 'ERR_ROOM_FULL');
  const garbage = await post('/rooms/other/join', { offer: 'v=0\r\nthis is no SDP' });
  assert.equal(garbage.status, 400);
  assert.equal(server.rooms.has('other'), false, 'a refused join leaves no empty room behind');
  const self = await post(`/rooms/${ROOM}/members/${a.id}/subscribe`, { from: a.id, offer: 'v=0' });
  assert.equal(self.status, 400);
  assert.equal(self.json.code, 'ERR_ROOM_SELF');
  const nobody = await post(`/rooms/${ROOM}/members/${a.id}/subscribe`, { from: 'nobody', offer: 'v=0' });
  assert.equal(nobody.status, 404);
  assert.equal(nobody.json.code, 'ERR_ROOM_NO_MEMBER');
  assert.equal((await post(`/rooms/${ROOM}/members/${a.id}/subscribe`, { from: b.id, offer: 'garbage' })).status, 400);
  assert.equal((await fetch(new URL('/rooms/none/members/x/state', server.url))).status, 404);
  assert.equal((await fetch(new URL(`/rooms/${ROOM}/members/x/state`, server.url))).status, 404);
  assert.equal((await fetch(new URL('/nothing', server.url))).status, 404);
  assert.equal((await fetch(new URL('/rooms/%E0%A4%A/members/x/state', server.url))).status, 400, 'malformed percent-encoding');
  // Layer requests: a single-layer producer has layer 0 only.
  const layers = `/rooms/${ROOM}/members/${a.id}/layers`;
  const ok = await post(layers, { from: b.id, spatialLayer: 0 });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, { wantedSpatialLayer: 0, preferredLayers: { spatialLayer: 0 } });
  const tooHigh = await post(layers, { from: b.id, spatialLayer: 3 });
  assert.equal(tooHigh.status, 400);
  assert.equal(tooHigh.json.code, 'ERR_SFU_LAYER');
  assert.equal((await post(layers, { from: b.id, spatialLayer: 'high' })).status, 400);
  assert.equal((await post(layers, { from: b.id })).status, 400);
  // Automatic layer selection on and off (docs/sfu.md "Automatic layer selection"); the state shows it.
  const autoOn = await post(layers, { from: b.id, auto: true });
  assert.equal(autoOn.status, 200);
  assert.deepEqual(autoOn.json, { autoLayers: true, preferredLayers: { spatialLayer: 0 } });
  const shown = await (await fetch(new URL(`/rooms/${ROOM}/members/${a.id}/state`, server.url))).json() as {
    room: { members: { id: string; subscriptions: { from: string; consumers: { kind: string; autoLayers: boolean; targetLayers: unknown }[] }[] }[] };
  };
  const shownVideo = shown.room.members.find((m) => m.id === a.id)!.subscriptions.find((x) => x.from === b.id)!.consumers.find((c) => c.kind === 'video')!;
  assert.equal(shownVideo.autoLayers, true);
  assert.deepEqual(shownVideo.targetLayers, { spatialLayer: 0, temporalLayer: 3 });
  assert.deepEqual((await post(layers, { from: b.id, auto: false })).json, { autoLayers: false, preferredLayers: { spatialLayer: 0 } });
  assert.equal((await post(layers, { from: b.id, auto: 'yes' })).status, 400);
  assert.equal((await post(layers, { from: 'nobody', auto: true })).status, 409);
  const notSubscribed = await post(layers, { from: 'nobody', spatialLayer: 0 });
  assert.equal(notSubscribed.status, 409);
  assert.equal(notSubscribed.json.code, 'ERR_ROOM_NOT_SUBSCRIBED');
  // The refused subscribe replaced nothing: a still receives b.
  const before = a.got.get(b.id)!.video.length;
  await sendRound('b', 5);
  await waitFor('a still receives b', () => a.got.get(b.id)!.video.length >= before + 5);
});

test('a member that leaves: its producers and every subscription to it close, the stats and state no longer show it', { timeout: 30_000 }, async () => {
  const room = server.rooms.get(ROOM)!;
  const leaving = members[2]!;
  const member = room.member(leaving.id);
  const producers = [...member.producers];
  const theirs = members.filter((m) => m !== leaving).map((m) => room.member(m.id).subscriptions.get(leaving.id)!);
  const res = await fetch(new URL(`/rooms/${ROOM}/members/${leaving.id}`, server.url), { method: 'DELETE' });
  assert.equal(res.status, 204);
  assert.ok(producers.every((p) => p.closed));
  assert.ok(theirs.every((s) => s.closed && s.consumers.every((c) => c.closed)));
  assert.ok(member.closed && [...member.subscriptions.values()].length === 0);
  const snapshot = server.stats().rooms.find((r) => r.name === ROOM)!;
  assert.deepEqual(snapshot.members.map((m) => m.id).sort(), members.slice(0, 2).map((m) => m.id).sort());
  assert.ok(snapshot.members.every((m) => m.subscriptions.every((s) => s.from !== leaving.id)));
  assert.equal((await fetch(new URL(`/rooms/${ROOM}/members/${leaving.id}/state`, server.url))).status, 404);
  assert.equal((await fetch(new URL(`/rooms/${ROOM}/members/${leaving.id}`, server.url), { method: 'DELETE' })).status, 404);
  // The other two still hear each other; nothing of the leaver arrives any more.
  const [a, b] = members;
  const fromLeaver = a!.got.get(leaving.id)!.audio.length;
  const before = a!.got.get(b!.id)!.audio.length;
  await sendRound('c', 5);
  await waitFor('a still receives b', () => a!.got.get(b!.id)!.audio.length >= before + 5);
  assert.equal(a!.got.get(leaving.id)!.audio.length, fromLeaver);
  // The last members leave (the page's beacon path): the room goes away.
  for (const m of members.slice(0, 2)) assert.equal((await post(`/rooms/${ROOM}/members/${m.id}/leave`, {})).status, 204);
  assert.equal(server.rooms.has(ROOM), false);
});
