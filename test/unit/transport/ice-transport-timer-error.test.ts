// An exception from a deadline's work (the agent's handleTimeout) is reported as a process warning,
// not thrown into the event loop, and the ICE transport's timer keeps running (docs/ice.md "Driver").
// The remote candidate is a bare loopback socket that never answers, so checks retransmit on timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';
import { until } from '../../integration/peer-helpers.js';


test('a handleTimeout that throws on a timer wake is reported and the timer keeps running', { timeout: 30_000 }, async () => {
  const peer = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1' });
  const ice = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent: { checkRtoMs: 50 } });
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'PWT_LISTENER_ERROR') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    peer.onBatch(() => undefined);
    ice.setRemoteParameters({ usernameFragment: 'peerufrag', password: 'peerpasswordof24charsxyz' });
    ice.addRemoteCandidate(`candidate:1 1 udp 2130706431 127.0.0.1 ${peer.address().port} typ host`);
    await ice.gather();
    // Throw from the first handleTimeout that a timer wake makes (timerWakes counts before it runs).
    const agent = ice.agent;
    const original = agent.handleTimeout.bind(agent);
    const wakesAtPatch = ice.stats.timerWakes;
    let threw = false;
    agent.handleTimeout = (now: number): void => {
      if (!threw && ice.stats.timerWakes > wakesAtPatch) {
        threw = true;
        throw new Error('handleTimeout failed on purpose');
      }
      original(now);
    };
    await until(() => threw, 10_000, 'a timer wake that throws');
    const wakesAtThrow = ice.stats.timerWakes;
    const retransmissionsAtThrow = agent.stats.retransmissions;
    await until(() => ice.stats.timerWakes >= wakesAtThrow + 2 && agent.stats.retransmissions > retransmissionsAtThrow,
      10_000, 'timer wakes and retransmissions after the throw');
    await until(() => warnings.length > 0, 5_000, 'the reported warning');
    assert.ok(warnings.some((m) => m.includes('handleTimeout failed on purpose')), 'the exception is reported as a warning');
  } finally {
    process.off('warning', onWarning);
    ice.close();
    peer.close();
  }
});
