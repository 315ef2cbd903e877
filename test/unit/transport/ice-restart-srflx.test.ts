// Server-reflexive candidates across a restart after setConfiguration (lib/transport/ice-transport.ts
// restart, lib/ice/ice-agent.ts IceRestartGathering.serverReflexiveAgain; docs/peer.md
// "setConfiguration"): the new gathering phase queries the servers of the new list again, so the
// previous generation's srflx candidates, and a query of the previous list still unanswered, are
// dropped like the other candidates of the old generation. Real sockets: fake STUN servers on
// loopback that answer with a mapping of their own (203.0.113.x, RFC 5737), as a NAT would differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { until } from '../../integration/peer-helpers.js';

interface FakeStun {
  readonly url: string;
  /** Requests held (not answered yet) while `hold` is set. */
  hold: boolean;
  readonly held: { msg: StunMessage; from: RemoteInfo }[];
  answer(msg: StunMessage, from: RemoteInfo): void;
  close(): void;
}

/** A STUN server on 127.0.0.1 that maps every client to `mapped`. */
async function fakeStun(mapped: { address: string; port: number }): Promise<FakeStun> {
  const s: Socket = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const server: FakeStun = {
    url: `stun:127.0.0.1:${s.address().port}`,
    hold: false,
    held: [],
    answer(msg, from) {
      const res = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, msg.transactionId).addAddress(StunAttr.XorMappedAddress, mapped);
      s.send(res.encode({ fingerprint: true }), from.port, from.address);
    },
    close: () => s.close(),
  };
  s.on('message', (data, from) => {
    const d = StunMessage.decode(data);
    if (!d.ok || d.message.method !== StunMethod.Binding || d.message.messageClass !== StunClass.Request) return;
    if (server.hold) server.held.push({ msg: d.message, from });
    else server.answer(d.message, from);
  });
  return server;
}

const srflx = (ice: IceTransport): string[] => ice.localCandidates.filter((c) => c.type === 'srflx').map((c) => `${c.address}:${c.port}`).sort();

test('a restart after setConfiguration announces only the srflx candidates of the new list', { timeout: 30_000 }, async (t) => {
  const s1 = await fakeStun({ address: '203.0.113.1', port: 1111 });
  const s2 = await fakeStun({ address: '203.0.113.2', port: 2222 });
  const ice = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, iceServers: [{ urls: s1.url }] });
  t.after(() => (ice.close(), s1.close(), s2.close()));
  await ice.gather();
  await until(() => ice.gatheringState === 'complete', 10_000, 'first gathering');
  assert.deepEqual(srflx(ice), ['203.0.113.1:1111']);

  // S1 replaced by S2: S1's mapping is not carried into the new generation.
  ice.setConfiguration({ iceServers: [{ urls: s2.url }] });
  ice.restart();
  await until(() => ice.gatheringState === 'complete', 10_000, 'gathering after the restart');
  assert.deepEqual(srflx(ice), ['203.0.113.2:2222']);
  assert.equal(ice.localCandidates.filter((c) => c.type === 'host').length, 1, 'the host candidate again');

  // No server: no srflx candidate at all.
  ice.setConfiguration({ iceServers: [] });
  ice.restart();
  await until(() => ice.gatheringState === 'complete', 10_000, 'gathering without servers');
  assert.deepEqual(srflx(ice), []);

  // A plain restart (nothing changed) keeps the generation's candidates, as before.
  ice.setConfiguration({ iceServers: [{ urls: s2.url }] });
  ice.restart();
  await until(() => ice.gatheringState === 'complete', 10_000, 'gathering with S2 again');
  assert.deepEqual(srflx(ice), ['203.0.113.2:2222']);
  ice.restart();
  assert.deepEqual(srflx(ice), ['203.0.113.2:2222'], 'a restart with the same configuration keeps them');
});

test("a query of the previous list unanswered at the restart does not add its srflx to the new generation", { timeout: 30_000 }, async (t) => {
  const slow = await fakeStun({ address: '203.0.113.9', port: 9999 });
  const s2 = await fakeStun({ address: '203.0.113.2', port: 2222 });
  slow.hold = true;
  const ice = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, iceServers: [{ urls: slow.url }] });
  t.after(() => (ice.close(), slow.close(), s2.close()));
  await ice.gather();
  await until(() => slow.held.length > 0, 10_000, 'the query reached the slow server');
  assert.equal(ice.gatheringState, 'gathering');

  ice.setConfiguration({ iceServers: [{ urls: s2.url }] });
  ice.restart();
  await until(() => srflx(ice).length > 0, 10_000, "the new list's srflx");
  // The new phase does not wait for the old query.
  assert.equal(ice.gatheringState, 'complete');
  // The old server answers now, while its query is still within its retransmission time: dropped.
  for (const h of slow.held.splice(0)) slow.answer(h.msg, h.from);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(srflx(ice), ['203.0.113.2:2222']);
});
