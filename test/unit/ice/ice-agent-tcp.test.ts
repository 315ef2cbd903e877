// The agent's passive ICE-TCP rules (RFC 6544 §6.2, §7.2): a passive candidate sends no ordinary
// checks and pairs with no announced remote candidate (UDP, or TCP active on port 9); a check that
// arrives on it makes a TCP peer-reflexive remote, answered and checked back on the same base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import { formatCandidate } from '../../../lib/ice/candidate.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';

const UDP = { address: '10.0.0.1', port: 4000 };
const TCP = { address: '10.0.0.1', port: 4443 };
const PEER = { ufrag: 'peer', password: 'peerpasswordpeerpassword' };

function agent(): IceAgent {
  const a = new IceAgent({ rng: new SeededRng(3), role: 'controlled' });
  a.addLocalCandidate(0, { type: 'host', address: UDP.address, port: UDP.port });
  a.addLocalCandidate(0, { type: 'host', protocol: 'tcp', address: TCP.address, port: TCP.port });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, PEER);
  return a;
}

test('the passive candidate line carries tcptype passive and its own foundation', () => {
  const a = agent();
  const [udp, tcp] = a.localCandidates;
  assert.match(formatCandidate(tcp!), /^candidate:\d+ 1 tcp \d+ 10\.0\.0\.1 4443 typ host tcptype passive$/);
  assert.notEqual(udp!.foundation, tcp!.foundation);
  assert.ok(tcp!.priority < udp!.priority);
});

test('announced remote candidates (UDP, TCP active port 9) never get checks from the passive base', () => {
  const a = agent();
  a.addRemoteCandidate(0, 'candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host');
  a.addRemoteCandidate(0, 'candidate:2 1 tcp 1518280447 10.0.0.2 9 typ host tcptype active');
  a.addRemoteCandidate(0, null);
  const sent: string[] = [];
  for (let now = 0; now < 2000; now += 10) {
    a.handleTimeout(now);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) sent.push(`${t.local.port}->${t.remote.address}:${t.remote.port}`);
  }
  assert.ok(sent.length > 0);
  assert.ok(sent.every((s) => s === '4000->10.0.0.2:5000'), sent.join(' '));
});

test('a check arriving on the passive base is answered there and makes a TCP peer-reflexive remote', () => {
  const a = agent();
  const remote = { address: '10.0.0.2', port: 51234 };
  const check = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 9))
    .addString(StunAttr.Username, `${a.localCredentials.ufrag}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1518280447)
    .addUint64(StunAttr.IceControlling, 1n)
    .addFlag(StunAttr.UseCandidate)
    .encode({ integrityKey: Buffer.from(a.localCredentials.password), fingerprint: true });
  a.handleInput(1, { local: TCP, remote, data: check });
  const out: { local: number; remote: number }[] = [];
  for (let now = 1; now < 200; now += 5) {
    a.handleTimeout(now);
    for (let t = a.pollTransmit(); t; t = a.pollTransmit()) out.push({ local: t.local.port, remote: t.remote.port });
  }
  // The response and the triggered check both leave on the TCP base towards the connection's address.
  assert.ok(out.filter((o) => o.remote === remote.port).length >= 2, JSON.stringify(out));
  assert.ok(out.filter((o) => o.remote === remote.port).every((o) => o.local === TCP.port));
  const prflx = a.remoteCandidateList.find((c) => c.port === remote.port);
  assert.equal(prflx?.protocol, 'tcp');
  assert.equal(prflx?.type, 'prflx');
});
