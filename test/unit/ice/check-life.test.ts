// One formula for a connectivity check's life (RFC 8489 §6.2.1), shared by the agent (when an
// unanswered check fails) and the active ICE-TCP connect timeout (a third of it, docs/ice.md
// "ICE-TCP"): a change of the agent's defaults or formula cannot desync the two.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { checkLifeMs, IceAgent, type IceAgentOptions } from '../../../lib/ice/ice-agent.js';
import { tcpConnectTimeoutMs } from '../../../lib/transport/source/tcp-active.js';

const CASES: Pick<IceAgentOptions, 'checkRtoMs' | 'checkMaxRtoMs' | 'checkMaxTransmits'>[] = [
  {},
  { checkRtoMs: 100, checkMaxRtoMs: 200, checkMaxTransmits: 4 },
  { checkRtoMs: 250, checkMaxRtoMs: 3000, checkMaxTransmits: 5 },
  { checkRtoMs: 800, checkMaxRtoMs: 400, checkMaxTransmits: 3 },
];

/** When the agent's only pair (nobody answers) fails, measured on its own clock. */
function agentCheckLife(opts: (typeof CASES)[number]): number {
  const a = new IceAgent({ rng: new SeededRng(7), role: 'controlling', ...opts });
  a.addLocalCandidate(0, { type: 'host', address: '10.0.0.1', port: 1000 });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, { ufrag: 'abcd', password: 'abcdefghijklmnopqrstuv' });
  a.addRemoteCandidate(0, 'candidate:1 1 udp 2130706431 10.0.0.2 2000 typ host');
  a.addRemoteCandidate(0, null);
  let sentAt: number | undefined;
  let now = 0;
  for (let i = 0; i < 1000 && now < 120_000; i++) {
    while (a.pollTransmit()) sentAt ??= now;
    if (a.checkList.length > 0 && a.checkList.every((p) => p.state === 'failed')) return now - sentAt!;
    const t = a.pollTimeout();
    if (t === undefined) break;
    now = Math.max(now, t);
    a.handleTimeout(now);
  }
  throw new Error('the pair never failed');
}

test('checkLifeMs: 9.5 s with the defaults; the agent gives up an unanswered check exactly then', () => {
  assert.equal(checkLifeMs(), 9500);
  assert.equal(checkLifeMs({ checkRtoMs: 100, checkMaxRtoMs: 200, checkMaxTransmits: 4 }), 700);
  for (const c of CASES) assert.equal(agentCheckLife(c), checkLifeMs(c), JSON.stringify(c));
});

test('tcpConnectTimeoutMs is a third of checkLifeMs (at least 100 ms)', () => {
  assert.equal(tcpConnectTimeoutMs({}), 3167);
  for (const c of CASES) assert.equal(tcpConnectTimeoutMs(c), Math.max(100, Math.ceil(checkLifeMs(c) / 3)), JSON.stringify(c));
  assert.equal(tcpConnectTimeoutMs({ checkRtoMs: 10, checkMaxRtoMs: 10, checkMaxTransmits: 2 }), 100);
});
