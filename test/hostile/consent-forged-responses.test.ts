// Forged answers to our consent checks (RFC 7675 §5.1, RFC 8489 §6.3.3, §14.5, §14.7; docs/ice.md
// "Consent checks sent natively"): the peer stops answering and an impostor takes over its address
// while a stranger sprays from another one. They answer every check with the right transaction id but
// a wrong MESSAGE-INTEGRITY, the right integrity from another address, an error response, a truncated
// success, a made-up transaction id, and a replay of the one real answer they gave. None of it
// refreshes consent: the connection goes disconnected and fails with `consent-lost`, and each drop is
// counted — natively (the socket's consentStats) and by the agent — on the native path and in JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import type { IceConnectionState } from '../../lib/ice/ice-agent.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { until } from '../integration/peer-helpers.js';
import { bindUdpAgain, connectPair } from '../unit/transport/mux-transport-pair.js';



async function forgedAnswersDoNotRefresh(nativeConsent: boolean): Promise<void> {
  const agent = { consentIntervalMs: 200, disconnectedTimeoutMs: 1000, consentTimeoutMs: 4000 };
  const server = new IceTransport({ role: 'controlled', gather: { addresses: ['127.0.0.1'] } });
  const client = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent, nativeConsent });
  const sockets: Socket[] = [];
  try {
    await connectPair(server, client);
    const own = client.localSockets[0]!;
    const serverLocal = server.localSockets[0]!.base;
    const password = Buffer.from(server.localParameters.password);
    await until(() => client.agent.stats.responsesReceived >= 3, 15_000, 'answers to the first consent checks');
    if (nativeConsent) assert.ok(own.socket.consentStats.responsesVerified >= 1, 'the checks are sent natively');

    // The peer stops answering; an impostor takes its address, a stranger has another.
    server.close();
    const impostor = await bindUdpAgain(serverLocal.port);
    const stranger = await bindUdpAgain(0);
    sockets.push(impostor, stranger);
    const states: IceConnectionState[] = [];
    client.on('statechange', (s) => states.push(s));
    let legit: Buffer | undefined;
    let checksSeen = 0;
    const stats0 = { ...own.socket.consentStats, dropped: { ...own.socket.consentStats.responsesDropped } };
    const drops0 = { ...client.agent.stats.drops };
    let responses0 = -1;
    const to = (s: Socket, b: Buffer) => s.send(b, own.base.port, own.base.address);
    impostor.on('message', (data) => {
      const decoded = StunMessage.decode(data);
      if (!decoded.ok || decoded.message.messageClass !== StunClass.Request) return;
      const txid = decoded.message.transactionId;
      const success = () => new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, txid).addAddress(StunAttr.XorMappedAddress, own.base);
      if (!legit) {
        // One real answer (the impostor knows the password): consent is fresh from here, and it is replayed below.
        legit = success().encode({ integrityKey: password, fingerprint: true });
        responses0 = client.agent.stats.responsesReceived;
        to(impostor, legit);
        return;
      }
      checksSeen++;
      to(impostor, success().encode({ integrityKey: Buffer.from('not-the-password-of-the-peer'), fingerprint: true }));
      to(stranger, success().encode({ integrityKey: password, fingerprint: true }));
      to(impostor, new StunMessage(StunMethod.Binding, StunClass.ErrorResponse, txid).addErrorCode(400, 'Bad Request').encode({ integrityKey: password, fingerprint: true }));
      to(impostor, success().encode({ integrityKey: password, fingerprint: true }).subarray(0, -8));
      to(impostor, new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, Buffer.alloc(12, checksSeen)).addAddress(StunAttr.XorMappedAddress, own.base).encode({ integrityKey: password, fingerprint: true }));
      to(impostor, legit);
    });

    // The one real answer is counted (natively verified answers reach the agent at the next collection):
    // the baseline of the checks below.
    await until(() => client.agent.stats.responsesReceived > responses0, 30_000, 'the real answer to be counted');
    // Consent is lost 4 s after the real answer; the deadline leaves a loaded machine room.
    await until(() => client.state === 'failed', 60_000, 'the client to lose consent');
    assert.equal(client.agent.stateReason, 'consent-lost');
    assert.ok(states.every((s) => s === 'disconnected' || s === 'failed'), `states: ${states.join(', ')}`);
    assert.ok(states.includes('disconnected'), `disconnected first: ${states.join(', ')}`);
    assert.ok(checksSeen >= 3, `forged answers to ${checksSeen} checks`);
    assert.ok(client.agent.stats.responsesReceived - responses0 >= 1, 'the impostor\'s one real answer was counted');
    const d = client.agent.stats.drops;
    if (nativeConsent) {
      // Only the one real answer counted as an answer. (In JavaScript the agent counts a response with
      // valid integrity before it checks the source address, so the stranger's show in that count there
      // without refreshing anything.)
      const real = client.agent.stats.responsesReceived - responses0;
      assert.equal(real, 1, `${real} answers counted after the impostor took over: only the real one`);
      const s = own.socket.consentStats;
      const dropped = s.responsesDropped;
      const verified = s.responsesVerified - stats0.responsesVerified;
      assert.ok(verified >= 1, `verified natively: ${verified} (the real answer)`);
      assert.ok(dropped.badIntegrity - stats0.dropped.badIntegrity >= checksSeen, `bad integrity: ${JSON.stringify(dropped)}`);
      assert.ok(dropped.errorResponse - stats0.dropped.errorResponse >= checksSeen, `error responses: ${JSON.stringify(dropped)}`);
      assert.ok(dropped.malformed - stats0.dropped.malformed >= checksSeen, `truncated: ${JSON.stringify(dropped)}`);
      // A made-up id and the replay of the answered check, each time.
      assert.ok(dropped.unknownTransaction - stats0.dropped.unknownTransaction >= 2 * checksSeen, `unknown transaction: ${JSON.stringify(dropped)}`);
      // All of it, and the stranger's answers (never looked at natively), reached the agent, which dropped them.
      assert.ok(d['unmatched-response'] - drops0['unmatched-response'] >= 5 * checksSeen, `agent drops: ${JSON.stringify(d)}`);
    } else {
      assert.ok(d['response-bad-integrity'] - drops0['response-bad-integrity'] >= checksSeen, `agent drops: ${JSON.stringify(d)}`);
      assert.ok(d['response-wrong-address'] - drops0['response-wrong-address'] >= checksSeen, `agent drops: ${JSON.stringify(d)}`);
      assert.ok(d['unmatched-response'] - drops0['unmatched-response'] >= 2 * checksSeen, `agent drops: ${JSON.stringify(d)}`);
      assert.ok(d.malformed - drops0.malformed + d['bad-fingerprint'] - drops0['bad-fingerprint'] >= checksSeen, `agent drops: ${JSON.stringify(d)}`);
    }
  } finally {
    client.close();
    server.close();
    for (const s of sockets) s.close();
  }
}

test('forged consent answers do not refresh consent when the checks are sent natively', async () => {
  await forgedAnswersDoNotRefresh(true);
});

test('forged consent answers do not refresh consent when the agent sends the checks in JavaScript', async () => {
  await forgedAnswersDoNotRefresh(false);
});
