// Consent checks answered natively on a UdpMux port (docs/ice.md "Consent checks answered natively";
// RFC 7675 §5.1, RFC 8445 §7.3.1): once a pair on the port is selected, the peer's checks are answered
// inside the receive batch and never reach the server's agent as datagrams; the agent still counts
// them (requestsReceived / responsesSent), the peer keeps consent, a nominating check on the selected
// pair is answered too, a lite server hears its peer through them, and a forged check from the peer's
// own address is left to the agent, which drops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IceTransport, IceTransportOptions } from '../../../lib/transport/ice-transport.js';
import type { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import type { UdpSocket } from '../../../lib/transport/source/udp-socket.js';
import type { IceConnectionState } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { until } from '../../integration/peer-helpers.js';
import { connectOverMux, up } from './mux-transport-pair.js';

async function connect(
  agent: IceTransportOptions['agent'],
  options: { nativeConsent?: boolean; serverMode?: 'full' | 'lite' } = {},
): Promise<{ mux: UdpMux; server: IceTransport; client: IceTransport; socket: UdpSocket }> {
  const { mux, server, client } = await connectOverMux(agent, options);
  const socket = mux.nativeSocket;
  assert.ok(socket, 'the mux has the native socket');
  return { mux, server, client, socket };
}

/** Runs `body` on a connected pair (see connect), then closes the client, the server and the mux. */
async function whileConnected(
  agent: IceTransportOptions['agent'],
  options: { nativeConsent?: boolean; serverMode?: 'full' | 'lite' },
  body: (pair: { mux: UdpMux; server: IceTransport; client: IceTransport; socket: UdpSocket }) => Promise<void>,
): Promise<void> {
  const { mux, server, client, socket } = await connect(agent, options);
  try {
    await body({ mux, server, client, socket });
  } finally {
    client.close();
    server.close();
    mux.close();
  }
}

/** Once the port has answered a few checks: the client's own socket and the server's consent credentials. */
async function afterNativeAnswers(server: IceTransport, client: IceTransport, socket: UdpSocket) {
  await until(() => socket.consentStats.answered >= 3, 30_000, 'native answers');
  const own = client.localSockets[0];
  assert.ok(own, 'the client has its own socket');
  const creds = server.consentCredentials();
  assert.ok(creds);
  return { own, creds };
}

test('the peer\'s consent checks are answered natively and counted by the agent', async () => {
  await whileConnected({ consentIntervalMs: 100 }, {}, async ({ server, client, socket }) => {
    const s0 = socket.consentStats;
    assert.equal(s0.registrations, 1, 'the selected pair is registered');
    const answered0 = client.agent.stats.responsesReceived;
    const serverRequests0 = server.agent.stats.requestsReceived;
    const serverResponses0 = server.agent.stats.responsesSent;
    const drops0 = JSON.stringify(server.agent.stats.drops);
    await until(() => socket.consentStats.answered - s0.answered >= 20, 30_000, '20 consent checks answered natively');
    // The client's checks were answered (its agent accepted the native responses: integrity, fingerprint,
    // transaction id, XOR-MAPPED-ADDRESS), and it stays connected.
    await until(() => client.agent.stats.responsesReceived - answered0 >= 20, 30_000, 'the client received 20 answers');
    assert.ok(up(client), `client ${client.state}`);
    // The server's agent learns the counts at the next tick (one native call for the port).
    const native = socket.consentStats.answered;
    await until(() => server.agent.stats.requestsReceived - serverRequests0 >= native - s0.answered, 10_000, 'the agent counted the answered checks');
    assert.equal(server.agent.stats.requestsReceived - serverRequests0, server.agent.stats.responsesSent - serverResponses0);
    assert.equal(JSON.stringify(server.agent.stats.drops), drops0, 'nothing dropped on the way');
    assert.ok(up(server), `server ${server.state}`);
    // A closed transport's registration goes with it.
    server.close();
    assert.equal(socket.consentStats.registrations, 0);
  });
});

test('with nativeConsent off the agent answers every check in JavaScript', async () => {
  await whileConnected({ consentIntervalMs: 100 }, { nativeConsent: false }, async ({ server, client, socket }) => {
    const requests0 = server.agent.stats.requestsReceived;
    await until(() => server.agent.stats.requestsReceived - requests0 >= 10, 30_000, '10 checks answered by the agent');
    const stats = socket.consentStats;
    assert.deepEqual([stats.answered, stats.declined, stats.registrations, stats.checksSent], [0, 0, 0, 0]);
    assert.ok(up(client) && up(server));
  });
});

test('a forged check from the peer\'s own address is left to the agent, which drops and counts it', async () => {
  await whileConnected({ consentIntervalMs: 100 }, {}, async ({ mux, server, client, socket }) => {
    const { own, creds } = await afterNativeAnswers(server, client, socket);
    const declined0 = socket.consentStats.declined;
    const bad0 = server.agent.stats.drops['bad-integrity'];
    // The right USERNAME and role, MESSAGE-INTEGRITY under a wrong password: not answered here.
    const forged = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 7))
      .addString(StunAttr.Username, `${creds.localUfrag}:${creds.remoteUfrag}`)
      .addUint64(StunAttr.IceControlling, 1n)
      .encode({ integrityKey: Buffer.from('not-the-password-of-the-server'), fingerprint: true });
    for (let i = 0; i < 3; i++) own.socket.send(forged, mux.local.port, mux.local.address);
    own.socket.flush();
    await until(() => server.agent.stats.drops['bad-integrity'] - bad0 >= 3, 10_000, 'the agent dropped the forged checks');
    assert.ok(socket.consentStats.declined - declined0 >= 3, 'counted as left to JavaScript');
    assert.ok(up(server) && up(client));
  });
});

test('a nominating check (USE-CANDIDATE from the controlling peer) on the selected pair is answered natively too', async () => {
  await whileConnected({ consentIntervalMs: 100 }, {}, async ({ mux, server, client, socket }) => {
    const { own, creds } = await afterNativeAnswers(server, client, socket);
    assert.ok(!creds.controlling, 'the server is controlled');
    const selected = server.selectedPair;
    const answered0 = socket.consentStats.answered;
    const unmatched0 = client.agent.stats.drops['unmatched-response'];
    const requests0 = server.agent.stats.requestsReceived;
    // As libwebrtc sends them on its selected pair: the right credentials, ICE-CONTROLLING, USE-CANDIDATE.
    const password = Buffer.from(creds.password);
    for (let i = 0; i < 3; i++) {
      const check = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 40 + i))
        .addString(StunAttr.Username, `${creds.localUfrag}:${creds.remoteUfrag}`)
        .addUint32(StunAttr.Priority, 0x6e0001ff)
        .addUint64(StunAttr.IceControlling, 1n)
        .addFlag(StunAttr.UseCandidate)
        .encode({ integrityKey: password, fingerprint: true });
      own.socket.send(check, mux.local.port, mux.local.address);
    }
    own.socket.flush();
    // Answered by the port: the client's agent gets three responses it never asked for.
    await until(() => client.agent.stats.drops['unmatched-response'] - unmatched0 >= 3, 10_000, 'the answers reached the client');
    assert.ok(socket.consentStats.answered - answered0 >= 3);
    // The agent counts them at the next tick and the nomination keeps the selected pair.
    await until(() => server.agent.stats.requestsReceived - requests0 >= 3, 10_000, 'the agent counted them');
    assert.deepEqual(server.selectedPair, selected);
    assert.ok(up(server) && up(client));
  });
});

test('a lite server hears its peer through the native answers and stays connected', async () => {
  // Lite: no checks of its own, so only the peer's checks keep its pair alive (disconnected after 8 s
  // without; the counts arrive once a second).
  await whileConnected({ consentIntervalMs: 200, disconnectedTimeoutMs: 8000 }, { serverMode: 'lite' }, async ({ server, socket }) => {
    const states: IceConnectionState[] = [];
    server.on('statechange', (s) => states.push(s));
    const requests0 = server.agent.stats.requestsReceived;
    const answered0 = socket.consentStats.answered;
    // Longer than the disconnected timeout, with every check answered natively.
    await until(() => socket.consentStats.answered - answered0 >= 60 && server.agent.stats.requestsReceived - requests0 >= 40, 60_000, '60 checks answered natively');
    assert.ok(!states.includes('disconnected') && !states.includes('failed'), `states: ${states.join(', ')}`);
    assert.ok(up(server), `server ${server.state}`);
  });
});
