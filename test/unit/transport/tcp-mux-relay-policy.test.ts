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
