// Consent checks sent natively on a connection's own socket (docs/ice.md "Consent checks sent natively";
// RFC 7675 §5.1, RFC 8445 §7.2.2, RFC 8839 §5.4): a due check the native side did not send is reported
// back and sent from JavaScript, so consent does not expire on a working path, and their answers are
// counted natively as the agent's, not as drops (each answer under one reason); the ids not sent come
// back at the front; a remote ufrag longer than 256 characters is refused; answers without FINGERPRINT
// refresh consent on both paths; the per-tick collection of an own socket makes one native call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { until } from '../../integration/peer-helpers.js';
import { bindUdpAgain, connectPair } from './mux-transport-pair.js';

// Consent checks every 200 ms (160-240 ms), lost after 3 s of silence ('disconnected' after 2.5 s is
// not judged: a loaded machine may stall that long; consent loss is terminal and is).
const AGENT = { consentIntervalMs: 200, disconnectedTimeoutMs: 2500, consentTimeoutMs: 3000 };

async function connected(nativeConsent = true): Promise<{ server: IceTransport; client: IceTransport }> {
  const server = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
  const client = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent: AGENT, nativeConsent });
  await connectPair(server, client);
  await until(() => client.agent.stats.responsesReceived >= 3, 15_000, 'answers to the first consent checks');
  return { server, client };
}

test('a consent check the native side did not send leaves from JavaScript and consent holds', async () => {
  const { server, client } = await connected();
  try {
    const own = client.localSockets[0]!;
    assert.ok(own.socket.consentStats.checksSent >= 1, 'the checks are sent natively');
    // The native side sends nothing from now on (as when RAND_bytes fails): the ids come back unsent.
    let calls = 0;
    own.socket.sendConsentChecks = (_ids: Uint32Array, _count: number): number => {
      calls++;
      return 0;
    };
    const nativeSent0 = own.socket.consentStats.checksSent;
    const native0 = { ...own.socket.consentStats, dropped: { ...own.socket.consentStats.responsesDropped } };
    const checks0 = client.agent.stats.consentChecksSent;
    const requests0 = server.agent.stats.requestsReceived;
    const fromServer0 = client.agent.stats.responsesReceived;
    // 30 checks (more than 4.8 s at one per 160-240 ms: past the 3 s consent timeout) sent from JavaScript,
    // reaching the peer and answered (answers to the checks sent natively before may still be counted
    // in the first collection: hence the counts on both sides, not only the answers).
    await until(
      () => client.agent.stats.consentChecksSent - checks0 >= 30 && server.agent.stats.requestsReceived - requests0 >= 25 && client.agent.stats.responsesReceived - fromServer0 >= 25,
      60_000,
      '30 checks sent from JavaScript and answered',
    );
    assert.ok(calls >= 1, 'the native send was tried');
    assert.equal(own.socket.consentStats.checksSent, nativeSent0, 'nothing more sent natively');
    // Their answers reach the native side first: counted once, as the agent's, never as a drop.
    const native = own.socket.consentStats;
    assert.ok(native.responsesToAgent - native0.responsesToAgent >= 25, `answers to the agent's checks: ${JSON.stringify(native)}`);
    assert.deepEqual(native.responsesDropped, native0.dropped, 'no answer counted as a drop');
    assert.ok(native.responsesVerified - native0.responsesVerified <= 2, 'only answers to checks sent natively before the switch verified natively');
    assert.notEqual(client.state, 'failed', `consent holds: ${client.agent.stateReason ?? ''}`);
  } finally {
    client.close();
    server.close();
  }
});

test('sendConsentChecks moves the ids it could not send to the front', async (t) => {
  const socket = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
  t.after(() => socket.close());
  const dest = socket.destination(9, '127.0.0.1');
  const checks = (remotePassword: string) => ({ remotePassword, tieBreaker: new Uint8Array(8), priority: 1, timeoutMs: 30_000 });
  const ok = socket.addConsentResponder(dest, 'loc1', 'rem1', 'local-password-0123456', true, checks('remote-password-0123456'));
  // A username too long to build a check with (past the 256-character ufrag cap the agent applies).
  const tooLong = socket.addConsentResponder(socket.destination(10, '127.0.0.1'), 'loc2', 'r'.repeat(600), 'local-password-0123456', true, checks('remote-password-0123456'));
  const plain = socket.addConsentResponder(socket.destination(11, '127.0.0.1'), 'loc3', 'rem3', 'local-password-0123456', true);
  assert.ok(ok > 0 && tooLong > 0 && plain > 0);
  const ids = Uint32Array.from([tooLong, ok, plain, 99999]);
  assert.equal(socket.sendConsentChecks(ids, 4), 1);
  assert.deepEqual([...ids.subarray(0, 3)], [tooLong, plain, 99999]);
  assert.equal(socket.consentStats.checksSent, 1);
});

test('a remote ufrag longer than 256 characters is a typed error (RFC 8839 §5.4)', () => {
  const t = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] } });
  try {
    assert.throws(() => t.setRemoteParameters({ usernameFragment: 'a'.repeat(257), password: 'p'.repeat(22) }), (err: Error & { code?: string }) => err.code === 'ERR_ICE_CREDENTIALS');
    t.setRemoteParameters({ usernameFragment: 'a'.repeat(256), password: 'p'.repeat(22) });
  } finally {
    t.close();
  }
});


for (const nativeConsent of [true, false]) {
  test(`answers without FINGERPRINT refresh consent (${nativeConsent ? 'checks sent natively' : 'checks in JavaScript'})`, async () => {
    const { server, client } = await connected(nativeConsent);
    let peer: Socket | undefined;
    try {
      const own = client.localSockets[0]!;
      const serverLocal = server.localSockets[0]!.base;
      const password = Buffer.from(server.localParameters.password);
      // The peer is replaced by a stack that signs its answers with MESSAGE-INTEGRITY only.
      server.close();
      peer = await bindUdpAgain(serverLocal.port);
      let answered = 0;
      const p = peer;
      p.on('message', (data) => {
        const decoded = StunMessage.decode(data);
        if (!decoded.ok || decoded.message.messageClass !== StunClass.Request) return;
        const answer = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, decoded.message.transactionId)
          .addAddress(StunAttr.XorMappedAddress, own.base)
          .encode({ integrityKey: password });
        answered++;
        p.send(answer, own.base.port, own.base.address);
      });
      const verified0 = own.socket.consentStats.responsesVerified;
      const received0 = client.agent.stats.responsesReceived;
      // 30 answered checks: more than 4.8 s, past the 3 s consent timeout.
      await until(() => answered >= 30 && client.agent.stats.responsesReceived - received0 >= 25, 60_000, '30 checks answered without FINGERPRINT');
      assert.notEqual(client.state, 'failed', `consent holds: ${client.agent.stateReason ?? ''}`);
      if (nativeConsent) assert.ok(own.socket.consentStats.responsesVerified - verified0 >= 25, `verified natively: ${JSON.stringify(own.socket.consentStats)}`);
    } finally {
      client.close();
      server.close();
      peer?.close();
    }
  });
}

test('the per-tick collection of an own socket makes one native call', async () => {
  const { server, client } = await connected();
  try {
    const own = client.localSockets[0]!;
    const take = own.socket.takeConsentAnswers.bind(own.socket);
    // Calls in one synchronous run (between microtask checkpoints) belong to one collection.
    let inRun = 0;
    let maxInRun = 0;
    let withEntries = 0;
    own.socket.takeConsentAnswers = (out: Uint32Array): number => {
      if (inRun === 0) queueMicrotask(() => (inRun = 0));
      inRun++;
      maxInRun = Math.max(maxInRun, inRun);
      const n = take(out);
      if (n > 0) withEntries++;
      return n;
    };
    await until(() => withEntries >= 5, 30_000, 'five collections with verified answers');
    assert.equal(maxInRun, 1, 'one native call per collection');
    assert.notEqual(client.state, 'failed');
  } finally {
    client.close();
    server.close();
  }
});
