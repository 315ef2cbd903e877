// The passive ICE-TCP port (TcpMux) under iceTransportPolicy 'relay' (lib/transport/ice-transport.ts
// gatherTcp): the port's base is held back with its host candidate, so a check arriving over the
// port gets no STUN answer (as with no port attached); a restart's gathering under 'all' after
// setConfiguration registers the base and announces the candidate, and the same check is answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { frameRfc4571, Rfc4571Framer } from '../../../lib/ice/rfc4571-framer.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { TcpMux } from '../../../lib/transport/source/tcp-mux.js';
import { within } from '../../integration/peer-helpers.js';
import { closed, open, PEER } from './tcp-mux-test-helpers.js';

function check(ice: IceTransport): Buffer {
  const { usernameFragment, password } = ice.localParameters;
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 7))
    .addString(StunAttr.Username, `${usernameFragment}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1000)
    .addUint64(StunAttr.IceControlling, 5n)
    .encode({ integrityKey: Buffer.from(password), fingerprint: true });
}

/** Sends a check on a new connection; resolves with whether a success response came before `ms` or the connection's end. */
async function answered(mux: TcpMux, ice: IceTransport, ms: number): Promise<boolean> {
  const s: Socket = await open(mux);
  try {
    const framer = new Rfc4571Framer();
    const got = new Promise<boolean>((resolve) => {
      s.on('data', (chunk: Buffer) => {
        for (const f of framer.push(chunk)) {
          const r = StunMessage.decode(f);
          if (r.ok && r.message.messageClass === StunClass.SuccessResponse) resolve(true);
        }
      });
      void closed(s).then(() => resolve(false));
      setTimeout(() => resolve(false), ms).unref();
    });
    s.write(frameRfc4571(check(ice)));
    return await got;
  } finally {
    s.destroy();
  }
}

test("under 'relay' the TcpMux port answers no check; after setConfiguration 'all' and a restart it announces and answers", async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1', checkTimeoutMs: 2000 });
  const ice = new IceTransport({ role: 'controlled', gather: { addresses: [] }, iceTransportPolicy: 'relay' });
  t.after(() => (ice.close(), mux.close()));
  mux.attach(ice);
  await ice.gather();
  ice.setRemoteParameters({ usernameFragment: PEER.ufrag, password: PEER.password });
  assert.equal(ice.localCandidates.length, 0, "'relay' announces no host candidate");
  assert.equal(await answered(mux, ice, 1000), false, "a check over the port is not answered under 'relay'");
  assert.equal(mux.stats.routedByUfrag, 1, 'the port routed the check to the transport, which dropped it');

  ice.setConfiguration({ iceTransportPolicy: 'all' });
  ice.restart();
  const tcp = ice.localCandidates.filter((c) => c.protocol === 'tcp');
  assert.equal(tcp.length, 1, "the restart under 'all' announces the passive candidate");
  assert.equal(tcp[0]!.tcpType, 'passive');
  assert.equal(tcp[0]!.port, mux.local.port);
  assert.equal(await within(answered(mux, ice, 5000), 6000, 'check after the restart'), true, "the check is answered under 'all'");
});

test("a transport made under 'all' answers on the port (the contrast: the base is registered at gather)", async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1', checkTimeoutMs: 2000 });
  const ice = new IceTransport({ role: 'controlled', gather: { addresses: [] } });
  t.after(() => (ice.close(), mux.close()));
  mux.attach(ice);
  await ice.gather();
  ice.setRemoteParameters({ usernameFragment: PEER.ufrag, password: PEER.password });
  assert.equal(await within(answered(mux, ice, 5000), 6000, 'check'), true);
});

test("after setConfiguration 'relay' and a restart the port answers no check; back under 'all' it answers again", async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1', checkTimeoutMs: 2000 });
  const ice = new IceTransport({ role: 'controlled', gather: { addresses: [] } });
  t.after(() => (ice.close(), mux.close()));
  mux.attach(ice);
  await ice.gather();
  ice.setRemoteParameters({ usernameFragment: PEER.ufrag, password: PEER.password });
  assert.equal(await within(answered(mux, ice, 5000), 6000, 'check under all'), true);

  // No pair is selected on the port: the restart under 'relay' unregisters its base at once.
  ice.setConfiguration({ iceTransportPolicy: 'relay' });
  ice.restart();
  ice.setRemoteParameters({ usernameFragment: `${PEER.ufrag}2`, password: PEER.password });
  assert.equal(ice.localCandidates.filter((c) => c.type !== 'relay').length, 0, "'relay' announces no host candidate");
  const routed = mux.stats.routedByUfrag;
  assert.equal(await answered(mux, ice, 1000), false, "a check with the new credentials is not answered under 'relay'");
  assert.equal(mux.stats.routedByUfrag, routed + 1, 'the port routed it to the transport, which dropped it');

  ice.setConfiguration({ iceTransportPolicy: 'all' });
  ice.restart();
  assert.equal(ice.localCandidates.filter((c) => c.protocol === 'tcp').length, 1, 'the passive candidate is announced again');
  assert.equal(await within(answered(mux, ice, 5000), 6000, 'check back under all'), true);
});

test("active ICE-TCP candidates: none under 'relay'; a restart under 'all' makes them, 'relay' drops them, 'all' announces them again", async (t) => {
  const ice = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'], tcpActive: true }, iceTransportPolicy: 'relay' });
  t.after(() => ice.close());
  await ice.gather();
  const active = (): number => ice.localCandidates.filter((c) => c.protocol === 'tcp' && c.tcpType === 'active').length;
  assert.equal(active(), 0, "'relay': no active candidate");
  for (const [policy, expected] of [['all', 1], ['relay', 0], ['all', 1]] as const) {
    ice.setConfiguration({ iceTransportPolicy: policy });
    ice.restart();
    assert.equal(active(), expected, `after the restart under '${policy}'`);
    assert.equal(ice.localCandidates.filter((c) => c.protocol === 'udp' && c.type === 'host').length, policy === 'all' ? 1 : 0);
  }
});
