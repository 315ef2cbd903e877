// The consent responder's collection of native counts (docs/ice.md "Consent checks answered natively";
// RFC 7675 §5.1) when a delivery releases another registration, as a listener closing a connection
// does: the nested collection must not overwrite the entries the outer one has not delivered yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { UdpConsentResponder } from '../../../lib/transport/source/udp-consent-responder.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { until } from '../../integration/peer-helpers.js';
import { startPair, up } from './mux-transport-pair.js';

const COUNT = 6;

test('a registration released while counts are delivered does not lose or repeat the others\' counts', async () => {
  // The mux answers nothing natively itself; this responder (3 registrations per native call) does.
  const mux = await UdpMux.bind({ address: '127.0.0.1', nativeConsent: false });
  const socket = mux.nativeSocket;
  assert.ok(socket, 'the mux has the native socket');
  const responder = new UdpConsentResponder(socket, mux.local, 3);
  // No consent checks of the clients' own during the test: only the ones sent below are answered.
  const agent = { consentIntervalMs: 600_000 };
  const servers: IceTransport[] = [];
  const clients: IceTransport[] = [];
  try {
    for (let i = 0; i < COUNT; i++) {
      const server = mux.createTransport({ role: 'controlled', agent });
      const client = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent });
      servers.push(server);
      clients.push(client);
      await startPair(server, client);
    }
    await until(() => servers.every(up) && clients.every(up), 30_000, 'all connected');
    // Registered in order (the native call reports them in that order).
    for (const server of servers) {
      const remote = server.selectedPair?.remote;
      assert.ok(remote);
      responder.select(server, remote);
    }
    assert.equal(responder.size, COUNT);
    // Delivering the first server's counts releases the last one, as a listener closing its connection would.
    const first = servers[0]!;
    const last = servers[COUNT - 1]!;
    const deliver = first.consentAnswered.bind(first);
    first.consentAnswered = (...args) => {
      deliver(...args);
      responder.release(last);
    };
    // i + 1 checks to server i: a count delivered twice or to the wrong agent shows.
    const requests0 = servers.map((s) => s.agent.stats.requestsReceived);
    const answered0 = socket.consentStats.answered;
    let sent = 0;
    for (let i = 0; i < COUNT; i++) {
      const creds = servers[i]!.consentCredentials();
      const own = clients[i]!.localSockets[0];
      assert.ok(creds && own);
      for (let k = 0; k <= i; k++) {
        const check = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 16 * i + k + 1))
          .addString(StunAttr.Username, `${creds.localUfrag}:${creds.remoteUfrag}`)
          .addUint32(StunAttr.Priority, 0x6e0001ff)
          .addUint64(StunAttr.IceControlling, 1n)
          .encode({ integrityKey: Buffer.from(creds.password), fingerprint: true });
        own.socket.send(check, mux.local.port, mux.local.address);
        sent++;
      }
      own.socket.flush();
    }
    await until(() => socket.consentStats.answered - answered0 >= sent, 10_000, 'every check answered natively');
    // The next tick delivers them (one outer collection, with the nested one from the release).
    await until(() => responder.size === COUNT - 1, 10_000, 'the tick delivered the counts');
    const counted = servers.map((s, i) => s.agent.stats.requestsReceived - requests0[i]!);
    assert.deepEqual(counted, servers.map((_, i) => i + 1));
  } finally {
    responder.close();
    for (const t of [...clients, ...servers]) t.close();
    mux.close();
  }
});
