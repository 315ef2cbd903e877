// The ICE candidate pool (webrtc-pc §4.4.1.1, §4.4.1.6 iceCandidatePoolSize; docs/peer.md
// "setConfiguration"): with a size > 0 the connection gathers before setLocalDescription (the host
// socket is bound at construction) without firing anything; the first setLocalDescription announces
// those candidates (same socket, no new bind) and the connection works as offerer and as answerer;
// size 0 or close() releases the pool. Real sockets on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import type { PeerTransport } from '../../../lib/transport/peer-transport.js';
import { until, within } from '../../integration/peer-helpers.js';

/** The connection's bundle transport, also before an answer made it `mediaTransport` (tests only). */
const transportOf = (pc: RTCPeerConnection): PeerTransport | undefined => (pc as unknown as { transport?: PeerTransport }).transport;

const candidatePorts = (sdp: string): number[] => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => Number(l.split(' ')[5]));

test('a pool of 1 binds at construction, fires nothing, and the first setLocalDescription announces its candidate', { timeout: 30_000 }, async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceCandidatePoolSize: 1 });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const events: string[] = [];
    a.onicecandidate = (e) => events.push(`candidate:${e.candidate?.candidate ?? 'end'}`);
    a.onicegatheringstatechange = () => events.push(`gathering:${a.iceGatheringState}`);
    const pooled = transportOf(a)?.localSockets ?? [];
    assert.equal(pooled.length, 1, 'the host socket is bound before any description');
    const socket = pooled[0]!.socket;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, [], 'nothing fires before setLocalDescription');
    assert.equal(a.iceGatheringState, 'new');

    a.createDataChannel('x');
    await a.setLocalDescription(await a.createOffer());
    const sockets = transportOf(a)!.localSockets;
    assert.equal(sockets.length, 1);
    assert.equal(sockets[0]!.socket, socket, 'the pooled socket, no new bind');
    assert.deepEqual(candidatePorts(a.localDescription!.sdp), [socket.address().port], "the offer carries the pool's candidate");
    await until(() => a.iceGatheringState === 'complete', 5000, 'gathering complete');
    await new Promise((r) => setImmediate(r));
    assert.equal(events[0], 'gathering:gathering');
    assert.ok((events as string[]).includes('gathering:complete'));
    assert.ok((events as string[]).some((e) => e.includes(` ${socket.address().port} typ host`)), 'the pooled candidate is trickled as well');

    // And it connects (offerer: controlling).
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await within(Promise.all([a.connected(), b.connected()]), 15_000, 'connected');
  } finally {
    a.close();
    b.close();
  }
});

test('a pooled connection that answers takes the controlled role and connects', { timeout: 30_000 }, async () => {
  const offerer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const answerer = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceCandidatePoolSize: 4 });
  try {
    const socket = transportOf(answerer)!.localSockets[0]!.socket;
    offerer.createDataChannel('x');
    await offerer.setLocalDescription(await offerer.createOffer());
    await answerer.setRemoteDescription(offerer.localDescription!);
    await answerer.setLocalDescription(await answerer.createAnswer());
    assert.deepEqual(candidatePorts(answerer.localDescription!.sdp), [socket.address().port]);
    assert.equal(answerer.mediaTransport!.ice.role, 'controlled');
    await offerer.setRemoteDescription(answerer.localDescription!);
    await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
  } finally {
    offerer.close();
    answerer.close();
  }
});

test('the pool is released when its size goes back to 0 and on close; a size set later fills it', { timeout: 30_000 }, () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceCandidatePoolSize: 2 });
  const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const socket = transportOf(a)!.localSockets[0]!.socket;
    a.setConfiguration({ ...a.getConfiguration(), iceCandidatePoolSize: 0 });
    assert.equal(socket.closed, true, 'size 0: the pooled socket is closed');
    assert.equal(transportOf(a), undefined);

    assert.equal(transportOf(c), undefined, 'no pool: nothing made before a description');
    c.setConfiguration({ ...c.getConfiguration(), iceCandidatePoolSize: 1 });
    const pooled = transportOf(c)!.localSockets[0]!.socket;
    assert.equal(pooled.closed, false, 'a size set by setConfiguration fills the pool');
    // New servers (or policy) before any description: the pool is gathered again.
    c.setConfiguration({ ...c.getConfiguration(), iceTransportPolicy: 'relay' });
    assert.equal(pooled.closed, true, 'the old pool released');
    assert.equal(transportOf(c)!.localSockets.length, 1, "the new pool's socket (it carries the relay policy's allocations)");
    const last = transportOf(c)!.localSockets[0]!.socket;
    c.close();
    assert.equal(last.closed, true, 'close() releases the pool');
  } finally {
    a.close();
    c.close();
  }
});
