// setConfiguration + ICE restart on a shared UdpMux port with a real coturn (docs/peer.md
// "setConfiguration"): a UDP allocation of a shared-port connection has a socket of its own (an
// allocation is its 5-tuple, RFC 8656 §2.2); when a restart drops its server, the allocation is released
// (Refresh, lifetime 0, RFC 8656 §7.3) and its socket closed once ICE selected the new pair, not before.
// coturn runs with --total-quota 1: a second allocation succeeds only if the first was really released.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { dataRoundTrip as roundTrip, negotiate, until, within } from './peer-helpers.js';

let turn: Coturn | undefined;
before(async () => {
  if (!coturnSkip) turn = await startCoturn(['--total-quota', '1']);
});
after(() => turn?.close());

/** Connects `a` (trickling to `b`) and `b`, with a data channel; resolves with both ends. */
async function connect(a: RTCPeerConnection, b: RTCPeerConnection): Promise<[RTCDataChannel, RTCDataChannel]> {
  a.onicecandidate = (e) => {
    if (e.candidate?.candidate) void b.addIceCandidate({ candidate: e.candidate.candidate }).catch(() => undefined);
  };
  const ca = a.createDataChannel('x');
  const cbP = new Promise<RTCDataChannel>((r) => b.once('datachannel', (e) => r(e.channel)));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected');
  const cb = await within(cbP, 10_000, 'data channel');
  await until(() => ca.readyState === 'open' && cb.readyState === 'open', 10_000, 'channels open');
  return [ca, cb];
}

/** True once a fresh relay-only connection gets a relay candidate from `server`; tries until `ms` passed. */
async function relayAllocated(server: Coturn, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (let attempt = 0; attempt < 20 && Date.now() < end; attempt++) {
    const c = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [server.iceServer('udp')], iceTransportPolicy: 'relay' });
    try {
      let relay = false;
      c.onicecandidate = (e) => {
        if (e.candidate?.candidate.includes(' typ relay')) relay = true;
      };
      c.createDataChannel('y');
      await c.setLocalDescription(await c.createOffer());
      await until(() => c.iceGatheringState === 'complete', 10_000, 'gathering complete');
      if (relay) return true;
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

test("shared port: a dropped server's allocation is released and its socket closed once the restart's pair is selected", { timeout: 90_000, skip: coturnSkip }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const a = new RTCPeerConnection({ udpMux: mux, iceServers: [turn!.iceServer('udp')], iceTransportPolicy: 'relay' });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const [ca, cb] = await connect(a, b);
    await until(() => a.mediaTransport?.selectedPair?.local.type === 'relay', 20_000, 'the relayed pair');
    // The allocation's own socket (the shared port is not the transport's).
    const sockets = a.mediaTransport!.localSockets;
    assert.equal(sockets.length, 1, 'one socket: the allocation\'s');
    const turnSocket = sockets[0]!.socket;

    // The server leaves the list; the restart's offer is out but ICE is still on the relayed pair:
    // the allocation and its socket stay.
    a.setConfiguration({ iceServers: [], iceTransportPolicy: 'all' });
    a.restartIce();
    await a.setLocalDescription(await a.createOffer());
    assert.equal(a.mediaTransport!.selectedPair!.local.type, 'relay');
    assert.equal(turnSocket.closed, false, 'the socket of the pair in use stays open');
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await until(() => a.mediaTransport?.selectedPair?.local.type === 'host', 20_000, 'ICE moves to the shared port');
    await until(() => turnSocket.closed, 5000, "the allocation's socket closed");
    assert.equal(a.mediaTransport!.localSockets.length, 0, 'no socket of its own left');
    assert.equal(a.mediaTransport!.turnDropStats(), undefined, 'no TURN client left');
    await roundTrip(ca, cb, 'on the shared port');

    // coturn (quota 1) freed the allocation: another connection gets one. coturn deletes an allocation
    // refreshed with lifetime 0 on its next timer tick (about a second), so a few tries, 10 s at most;
    // without the release it would hold the quota for its lifetime (600 s).
    assert.equal(await relayAllocated(turn!, 10_000), true, 'the quota of one allocation was free again (the release reached the server)');
  } finally {
    a.close();
    b.close();
    mux.close();
  }
});
