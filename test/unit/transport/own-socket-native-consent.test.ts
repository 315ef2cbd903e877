// Consent checks answered natively on a connection's own socket (docs/ice.md "Consent checks answered
// natively", "Consent checks sent natively"; RFC 7675 §5.1, RFC 8445 §7.3.1): once the selected pair is
// on a socket the transport owns, the peer's checks are answered inside the receive batch and our own
// are sent and their answers verified there, with no JavaScript call on either socket; the
// agent still counts them, a lite agent hears its peer through them, an ICE restart registers the new
// credentials, and a forged check (wrong integrity, unknown ufrag) is left to the agent, which drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport, type IceTransportOptions } from '../../../lib/transport/ice-transport.js';
import type { UdpSocket } from '../../../lib/transport/source/udp-socket.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';
import type { IceConnectionState } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { until } from '../../integration/peer-helpers.js';
import { connectPair, up } from './mux-transport-pair.js';

interface OwnPair {
  server: IceTransport;
  client: IceTransport;
  /** The server's own socket and its address, and the client's. */
  serverSocket: UdpSocket;
  serverLocal: TransportAddress;
  clientSocket: UdpSocket;
}

// The server (controlled) checks nothing of its own for the test's length, so the only STUN its socket
// receives once connected are the client's consent checks (every 100 ms).
const QUIET: IceTransportOptions['agent'] = { consentIntervalMs: 600_000, disconnectedTimeoutMs: 600_000, consentTimeoutMs: 600_000 };

async function whileConnected(
  options: { server?: Partial<IceTransportOptions>; client?: Partial<IceTransportOptions> },
  body: (pair: OwnPair) => Promise<void>,
): Promise<void> {
  const server = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] }, agent: QUIET, ...options.server });
  const client = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent: { consentIntervalMs: 100 }, ...options.client });
  try {
    await connectPair(server, client);
    const s = server.localSockets[0];
    const c = client.localSockets[0];
    assert.ok(s && c, 'both have their own socket');
    await body({ server, client, serverSocket: s.socket, serverLocal: s.base, clientSocket: c.socket });
  } finally {
    client.close();
    server.close();
  }
}

test('an own socket answers the peer\'s consent checks with no JavaScript call, and the agent counts them', async () => {
  await whileConnected({}, async ({ server, client, serverSocket, clientSocket }) => {
    await until(() => serverSocket.consentStats.answered >= 3, 30_000, 'the first native answers');
    assert.equal(serverSocket.consentStats.registrations, 1, 'the selected pair is registered on the own socket');
    const jsCalls0 = serverSocket.stats.jsCalls;
    const clientJsCalls0 = clientSocket.stats.jsCalls;
    const clientChecks0 = clientSocket.consentStats;
    const answered0 = serverSocket.consentStats.answered;
    const requests0 = server.agent.stats.requestsReceived;
    const responsesReceived0 = client.agent.stats.responsesReceived;
    const drops0 = JSON.stringify(server.agent.stats.drops);
    await until(() => serverSocket.consentStats.answered - answered0 >= 20, 30_000, '20 more checks answered natively');
    // The client's agent accepted the native answers (integrity, fingerprint, transaction id).
    await until(() => client.agent.stats.responsesReceived - responsesReceived0 >= 20, 30_000, 'the client received 20 answers');
    // The agent learns the native counts at its ticks, so its baseline above may lag the socket's:
    // 20 more for the agent can be fewer for the socket until the next tick.
    await until(() => clientSocket.consentStats.responsesVerified - clientChecks0.responsesVerified >= 20, 30_000, 'the client verified 20 answers natively');
    assert.equal(serverSocket.stats.jsCalls, jsCalls0, 'no receive batch of the server\'s socket entered JavaScript');
    // The client's own checks went out natively and their answers were verified there: no receive
    // batch of the client's socket entered JavaScript either.
    const clientChecks = clientSocket.consentStats;
    assert.ok(clientChecks.checksSent - clientChecks0.checksSent >= 20, `client checks: ${JSON.stringify(clientChecks)}`);
    assert.ok(clientChecks.responsesVerified - clientChecks0.responsesVerified >= 20);
    assert.equal(clientSocket.stats.jsCalls, clientJsCalls0, 'no receive batch of the client\'s socket entered JavaScript');
    // The agent learns the counts at the next tick (one native call per socket).
    const native = serverSocket.consentStats.answered - answered0;
    await until(() => server.agent.stats.requestsReceived - requests0 >= native, 10_000, 'the agent counted the answered checks');
    assert.equal(JSON.stringify(server.agent.stats.drops), drops0, 'nothing dropped');
    assert.ok(up(server) && up(client), `server ${server.state}, client ${client.state}`);
    // Closing releases the registration (the socket closes with the transport).
    server.close();
    assert.equal(serverSocket.closed, true);
  });
});

test('with nativeConsent off the own socket\'s agent answers every check in JavaScript', async () => {
  await whileConnected({ server: { nativeConsent: false } }, async ({ server, serverSocket }) => {
    const requests0 = server.agent.stats.requestsReceived;
    const jsCalls0 = serverSocket.stats.jsCalls;
    await until(() => server.agent.stats.requestsReceived - requests0 >= 10, 30_000, '10 checks answered by the agent');
    const stats = serverSocket.consentStats;
    assert.deepEqual([stats.answered, stats.declined, stats.registrations, stats.checksSent], [0, 0, 0, 0]);
    assert.ok(serverSocket.stats.jsCalls - jsCalls0 >= 10, 'each check entered JavaScript');
  });
});

test('forged checks (wrong integrity, unknown ufrag) on an own socket are left to the agent, which drops and counts them', async () => {
  await whileConnected({}, async ({ server, client, serverSocket, serverLocal, clientSocket }) => {
    await until(() => serverSocket.consentStats.answered >= 3, 30_000, 'the first native answers');
    const creds = server.consentCredentials();
    assert.ok(creds);
    const declined0 = serverSocket.consentStats.declined;
    const answered0 = serverSocket.consentStats.answered;
    const bad0 = server.agent.stats.drops['bad-integrity'];
    const unknown0 = server.agent.stats.drops['unknown-ufrag'];
    const unmatched0 = client.agent.stats.drops['unmatched-response'];
    const check = (username: string, key: string, id: number) =>
      new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, id))
        .addString(StunAttr.Username, username)
        .addUint64(StunAttr.IceControlling, 1n)
        .encode({ integrityKey: Buffer.from(key), fingerprint: true });
    // From the peer's own address: the right USERNAME under a wrong password, and an unknown local
    // ufrag under the right one. Neither is answered natively.
    for (let i = 0; i < 3; i++) {
      clientSocket.send(check(`${creds.localUfrag}:${creds.remoteUfrag}`, 'not-the-password-of-the-server', 90 + i), serverLocal.port, serverLocal.address);
      clientSocket.send(check(`nobody0:${creds.remoteUfrag}`, creds.password, 100 + i), serverLocal.port, serverLocal.address);
    }
    clientSocket.flush();
    await until(
      () => server.agent.stats.drops['bad-integrity'] - bad0 >= 3 && server.agent.stats.drops['unknown-ufrag'] - unknown0 >= 3,
      10_000,
      'the agent dropped the forged checks',
    );
    assert.ok(serverSocket.consentStats.declined - declined0 >= 6, 'each counted as left to JavaScript');
    // The client's real checks were answered meanwhile; none of the forged ones was (they would show as
    // answers the client never asked for).
    assert.equal(client.agent.stats.drops['unmatched-response'], unmatched0);
    assert.ok(serverSocket.consentStats.answered >= answered0);
    assert.ok(up(server) && up(client));
  });
});

test('a lite agent on its own socket hears its peer through the native answers and stays connected', async () => {
  const states: IceConnectionState[] = [];
  // Lite: no checks of its own, so only the peer's checks keep its pair alive (disconnected after 8 s without).
  await whileConnected({ server: { mode: 'lite', agent: { disconnectedTimeoutMs: 8000 } }, client: { agent: { consentIntervalMs: 200 } } }, async ({ server, serverSocket }) => {
    server.on('statechange', (s) => states.push(s));
    const requests0 = server.agent.stats.requestsReceived;
    const answered0 = serverSocket.consentStats.answered;
    const jsCalls0 = serverSocket.stats.jsCalls;
    await until(() => serverSocket.consentStats.answered - answered0 >= 60 && server.agent.stats.requestsReceived - requests0 >= 40, 60_000, '60 checks answered natively');
    assert.ok(!states.includes('disconnected') && !states.includes('failed'), `states: ${states.join(', ')}`);
    assert.equal(serverSocket.stats.jsCalls, jsCalls0);
    assert.ok(up(server), `server ${server.state}`);
  });
});

test('an ICE restart registers the new credentials on the own socket; the old ones go to the agent', async () => {
  await whileConnected({}, async ({ server, client, serverSocket }) => {
    await until(() => serverSocket.consentStats.answered >= 3, 30_000, 'the first native answers');
    const before = server.consentCredentials();
    server.restart();
    const after = server.consentCredentials();
    assert.ok(before && after && before.localUfrag !== after.localUfrag, 'new local credentials');
    assert.equal(serverSocket.consentStats.registrations, 1, 'registered again, once');
    // The client still checks with the old credentials until it learns the new ones: those go to the
    // agent. Then its checks under the new ones are answered natively again.
    client.setRemoteParameters(server.localParameters);
    const answered0 = serverSocket.consentStats.answered;
    await until(() => serverSocket.consentStats.answered - answered0 >= 10, 30_000, 'checks under the new credentials answered natively');
    assert.ok(up(server) && up(client), `server ${server.state}, client ${client.state}`);
  });
});
