// Test rig: a controlled server agent connected (sans-I/O, simulated time) to a controlling client with
// two host candidates, R1 and R2, and the nominating check libwebrtc sends on its selected pair
// (RFC 8445 §7.2.2, §7.3.1.5). Used by the native consent and nomination tests of the agent.
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent, type IceAgentOptions } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';

export const SERVER = { address: '10.0.0.2', port: 2000 };
export const R1 = { address: '10.0.0.1', port: 1001 };
export const R2 = { address: '10.0.0.1', port: 1002 };

/**
 * The server (controlled, with `server` options on top) and the client, run 6 s of simulated time so
 * that both have selected a pair and every check has settled (both pairs succeeded on a full server).
 */
export function connectTwoHostAgents(server: Partial<IceAgentOptions> = {}): { server: IceAgent; client: IceAgent; now: number } {
  const s = new IceAgent({ rng: new SeededRng(7), role: 'controlled', ...server });
  s.addLocalCandidate(0, { type: 'host', address: SERVER.address, port: SERVER.port });
  s.endOfLocalCandidates(0);
  const c = new IceAgent({ rng: new SeededRng(8), role: 'controlling' });
  c.addLocalCandidate(0, { type: 'host', address: R1.address, port: R1.port });
  c.addLocalCandidate(0, { type: 'host', address: R2.address, port: R2.port });
  c.endOfLocalCandidates(0);
  c.setRemoteCredentials(0, s.localCredentials, { lite: server.mode === 'lite' });
  s.setRemoteCredentials(0, c.localCredentials);
  c.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${SERVER.address} ${SERVER.port} typ host`);
  c.addRemoteCandidate(0, null);
  s.addRemoteCandidate(0, `candidate:1 1 udp 2130706431 ${R1.address} ${R1.port} typ host`);
  s.addRemoteCandidate(0, `candidate:2 1 udp 2130706175 ${R2.address} ${R2.port} typ host`);
  s.addRemoteCandidate(0, null);
  let now = 0;
  for (let step = 0; step < 600; step++) {
    for (const [from, to] of [[c, s], [s, c]] as const) {
      for (let t = from.pollTransmit(); t; t = from.pollTransmit()) to.handleInput(now, { local: t.remote, remote: t.local, data: t.data });
    }
    while (s.pollEvent());
    while (c.pollEvent());
    now += 10;
    c.handleTimeout(now);
    s.handleTimeout(now);
  }
  assert.ok(s.selectedPair && c.selectedPair, 'the agents did not connect');
  return { server: s, client: c, now };
}

/** A nominating check from the client to the server with transaction id bytes `id`. */
export function useCandidateCheck(server: IceAgent, client: IceAgent, id: number): Buffer {
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, id))
    .addString(StunAttr.Username, `${server.localCredentials.ufrag}:${client.localCredentials.ufrag}`)
    .addUint32(StunAttr.Priority, 0x6e0001ff)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(server.localCredentials.password), fingerprint: true });
}
