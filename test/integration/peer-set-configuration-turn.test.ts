// RTCPeerConnection.setConfiguration (webrtc-pc "set the configuration", RFC 8829 §4.1.18) with a real
// coturn: a connection made without ICE servers is given a TURN server (and, in one case, the 'relay'
// transport policy) after it connected over host candidates; nothing is gathered until the next
// gathering phase, and restartIce() + an ICE-restart offer then allocates on the new server, announces
// its relay candidate and reconnects, over the relay when the policy says so (RFC 8445 §9). Data
// crosses the new pair both ways. Then a server the list no longer names is released once ICE moved off it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { dataRoundTrip as roundTrip, negotiate, until, within } from './peer-helpers.js';

let turn: Coturn | undefined;
before(async () => {
  if (!coturnSkip) turn = await startCoturn();
});
after(() => turn?.close());

/** The candidates `pc` announced since `gathered` was emptied: trickled ones and those its description carries. */
const announced = (pc: RTCPeerConnection, gathered: readonly string[]): string[] =>
  [...gathered, ...pc.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2))];

/** The typ of a candidate line. */
const typ = (line: string): string => / typ (\w+)/.exec(line)?.[1] ?? '';

for (const policy of ['relay', 'all'] as const) {
  test(`setConfiguration({ iceServers: [turn]${policy === 'relay' ? ", iceTransportPolicy: 'relay'" : ''} }) then restartIce: relay candidates from the new server, reconnected`, { timeout: 90_000, skip: coturnSkip }, async () => {
    const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
    try {
      const gathered: string[] = [];
      a.onicecandidate = (e) => {
        const line = e.candidate?.candidate ?? '';
        if (line) gathered.push(line);
        void b.addIceCandidate({ candidate: line }).catch(() => undefined);
      };
      const ca = a.createDataChannel('x');
      const cbP = new Promise<RTCDataChannel>((r) => b.once('datachannel', (e) => r(e.channel)));
      await negotiate(a, b);
      await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected over host candidates');
      const cb = await within(cbP, 10_000, 'data channel');
      await until(() => ca.readyState === 'open' && cb.readyState === 'open', 10_000, 'channels open');
      assert.equal(a.mediaTransport!.selectedPair!.local.type, 'host');
      assert.ok(announced(a, gathered).every((l) => typ(l) === 'host'), 'no server: host candidates only');

      // The new configuration: nothing happens until the next gathering phase.
      a.setConfiguration({ iceServers: [turn!.iceServer('udp')], ...(policy === 'relay' ? { iceTransportPolicy: 'relay' as const } : {}) });
      assert.deepEqual(a.getConfiguration().iceServers, [turn!.iceServer('udp')]);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(a.mediaTransport!.ice.localCandidates.every((c) => c.type === 'host'), 'no relay candidate before the restart');
      assert.equal(a.mediaTransport!.turnDropStats(), undefined, 'no allocation before the restart (no TURN client)');
      assert.equal(a.mediaTransport!.selectedPair!.local.type, 'host', 'the connection goes on as it was');

      // restartIce + an ICE-restart offer: a new gathering phase with the new server.
      gathered.length = 0;
      const ufrag = a.mediaTransport!.ice.localCredentials.ufrag;
      a.restartIce();
      await negotiate(a, b);
      assert.notEqual(a.mediaTransport!.ice.localCredentials.ufrag, ufrag, 'new ICE credentials');
      await until(() => gathered.some((l) => typ(l) === 'relay'), 20_000, 'a relay candidate from the new TURN server');
      await until(() => a.iceGatheringState === 'complete', 20_000, 'gathering complete after the allocation');
      const relay = gathered.find((l) => typ(l) === 'relay')!;
      assert.match(relay, / 127\.0\.0\.1 \d+ typ relay/, `relayed by the local coturn: ${relay}`);
      if (policy === 'relay') {
        assert.deepEqual([...new Set(announced(a, gathered).map(typ))], ['relay'], 'under the relay policy only the relay candidate is announced');
        assert.ok(!/typ host/.test(a.localDescription!.sdp), 'no host candidate in the restarted description');
        await until(() => a.mediaTransport?.selectedPair?.local.type === 'relay', 20_000, 'ICE selects the relayed pair');
      } else {
        assert.ok(announced(a, gathered).some((l) => typ(l) === 'host'), "under 'all' the host candidates are announced again");
      }
      await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected after the restart');
      assert.ok(a.mediaTransport!.turnDropStats() !== undefined, 'a TURN client on the new server');
      await roundTrip(ca, cb, 'after restart');
      assert.equal(a.connectionState, 'connected');

      if (policy === 'relay') {
        // The list drops the server; the next restart announces no relay candidate and (once ICE has
        // left the allocation) releases it: under the relay policy nothing is left, so the
        // connection keeps the relayed pair it has until then.
        a.setConfiguration({ iceServers: [], iceTransportPolicy: 'all' });
        gathered.length = 0;
        a.restartIce();
        await negotiate(a, b);
        await until(() => a.iceGatheringState === 'complete', 20_000, 'gathering complete');
        const types = announced(a, gathered).map(typ);
        assert.ok(types.length > 0 && types.every((t) => t === 'host'), `host candidates again, no relay: ${types.join(',')}`);
        await until(() => a.mediaTransport?.selectedPair?.local.type === 'host', 20_000, 'ICE moves back to a host pair');
        assert.ok(a.mediaTransport!.ice.localCandidates.every((c) => c.type !== 'relay'), 'the relay candidate is gone');
        // The allocation was released once ICE left it: the transport has no TURN client any more.
        await until(() => a.mediaTransport!.turnDropStats() === undefined, 5000, 'the allocation on the dropped server released');
        await roundTrip(ca, cb, 'back on host');
      }
    } finally {
      a.close();
      b.close();
    }
  });
}

test('iceCandidatePoolSize 1 with a TURN server: allocated before setLocalDescription, whose description carries the relay candidate at once', { timeout: 60_000, skip: coturnSkip }, async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [turn!.iceServer('udp')], iceCandidatePoolSize: 1 });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    let events = 0;
    a.onicecandidate = () => events++;
    // The pool's transport (a test reads it before an answer makes it `mediaTransport`).
    const pooled = (a as unknown as { transport?: NonNullable<RTCPeerConnection['mediaTransport']> }).transport!;
    await until(() => pooled.ice.localCandidates.some((c) => c.type === 'relay'), 20_000, 'the pool allocated on the server');
    assert.equal(events, 0, 'nothing announced before setLocalDescription');
    assert.equal(a.iceGatheringState, 'new');
    const relay = pooled.ice.localCandidates.find((c) => c.type === 'relay')!;
    a.createDataChannel('x');
    await a.setLocalDescription(await a.createOffer());
    // Synchronously in the description: no allocation round trip after setLocalDescription.
    assert.match(a.localDescription!.sdp, new RegExp(` ${relay.address.replace(/\./g, '\\.')} ${relay.port} typ relay`), 'the pooled relay candidate');
    await until(() => a.iceGatheringState === 'complete', 5000, 'complete');
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
    await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected');
  } finally {
    a.close();
    b.close();
  }
});
