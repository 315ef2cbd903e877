// Consent freshness on real sockets (RFC 7675 §5.1, docs/ice.md "Driver"): a server transport on a
// UdpMux port and a client on its own socket, over loopback. While both answer, the server's timer
// wakes about once per consent check it sends (none for nothing); when the client goes silent, the
// server's unanswered checks lose consent and the transport fails within the consent timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IceConnectionState } from '../../../lib/ice/ice-agent.js';
import { until } from '../../integration/peer-helpers.js';
import { connectOverMux } from './mux-transport-pair.js';

/**
 * Both sides check 20 times; each side's timer must wake about once per check it sends. `native`: the
 * checks are sent natively and their answers reach the agents once per CONSENT_TICK_MS (1 s) or at a
 * wake, so the disconnected timeout is given more than a tick after each check, as the defaults are
 * (checks every 5 s, disconnected 7.5 s after the last answer).
 */
async function wakesPerCheck(native: boolean): Promise<void> {
  // The defaults' proportions scaled down (checks every 5 s ± 20 %, disconnected 7.5 s after the last
  // response): the disconnected deadline left by the previous response falls before the next check.
  const agent = native ? { consentIntervalMs: 400, disconnectedTimeoutMs: 2500 } : { consentIntervalMs: 400, disconnectedTimeoutMs: 600 };
  const { mux, server, client } = await connectOverMux(agent, { nativeConsent: native, clientNativeConsent: native });
  try {
    const checks0 = server.agent.stats.consentChecksSent;
    const wakes0 = server.stats.timerWakes;
    const clientChecks0 = client.agent.stats.consentChecksSent;
    const clientWakes0 = client.stats.timerWakes;
    await until(() => server.agent.stats.consentChecksSent - checks0 >= 20 && client.agent.stats.consentChecksSent - clientChecks0 >= 20, 60_000, '20 consent checks each way');
    const checks = server.agent.stats.consentChecksSent - checks0;
    const wakes = server.stats.timerWakes - wakes0;
    const clientChecks = client.agent.stats.consentChecksSent - clientChecks0;
    const clientWakes = client.stats.timerWakes - clientWakes0;
    // Every wake has a check to send. A response later than the disconnected timeout on a loaded
    // machine adds a wake to mark the pair disconnected; the slack covers a few of those, not one extra wake per check.
    assert.ok(wakes <= checks * 1.25 + 3, `server: ${wakes} timer wakes for ${checks} consent checks`);
    assert.ok(clientWakes <= clientChecks * 1.25 + 3, `client: ${clientWakes} timer wakes for ${clientChecks} consent checks`);
    if (native) {
      // The checks did go out natively, and their answers were verified there.
      const port = mux.nativeSocket!.consentStats;
      const own = client.localSockets[0]!.socket.consentStats;
      assert.ok(port.checksSent >= 20 && port.responsesVerified >= 15, `port: ${JSON.stringify(port)}`);
      assert.ok(own.checksSent >= 20 && own.responsesVerified >= 15, `client: ${JSON.stringify(own)}`);
    }
  } finally {
    client.close();
    server.close();
    mux.close();
  }
}

test('connected and idle: the timer wakes once per consent check sent, not twice (checks in JavaScript)', async () => {
  await wakesPerCheck(false);
});

test('connected and idle: the timer wakes once per consent check sent, not twice (checks sent natively)', async () => {
  await wakesPerCheck(true);
});

test('a client that goes silent loses consent: disconnected, then failed within the consent timeout', async () => {
  const { mux, server, client } = await connectOverMux({ consentIntervalMs: 200, disconnectedTimeoutMs: 1000, consentTimeoutMs: 3000 });
  try {
    const states: IceConnectionState[] = [];
    server.on('statechange', (s) => states.push(s));
    const answered = server.agent.stats.responsesReceived;
    // Closing the client's socket silences it: no response, no request, nothing else on the pair.
    client.close();
    const checksAtSilence = server.agent.stats.consentChecksSent;
    // Consent is lost 3 s after the last response; the deadline leaves a loaded machine room.
    await until(() => server.state === 'failed', 20_000, 'the server transport to fail');
    // Disconnected first (1 s of silence), unless a stalled event loop skipped past it; never back up.
    assert.equal(states[states.length - 1], 'failed', `states: ${states.join(', ')}`);
    assert.ok(states.every((s) => s === 'disconnected' || s === 'failed'), `states: ${states.join(', ')}`);
    assert.ok(server.agent.stats.consentChecksSent > checksAtSilence, 'the server kept checking while silent');
    assert.ok(server.agent.stats.responsesReceived - answered <= 1, 'at most a response already on its way was received');
    // Failed for good: no more checks go out on the pair.
    const checksAtFailure = server.agent.stats.consentChecksSent;
    const wakesAtFailure = server.stats.timerWakes;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(server.agent.stats.consentChecksSent, checksAtFailure);
    assert.equal(server.state, 'failed');
    assert.ok(server.stats.timerWakes - wakesAtFailure <= 1, 'a failed transport stops waking');
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
