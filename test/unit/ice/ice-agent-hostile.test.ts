// Hostile input straight into the agent (RFC 8445 §7.3 authentication rules): random bytes,
// mutated valid checks and forged responses never throw, never get answered, and are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRng } from '../../../lib/common/rng.js';
import { IceAgent } from '../../../lib/ice/ice-agent.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';

const LOCAL = { address: '10.0.0.1', port: 1000 };
const EVIL = { address: '10.6.6.6', port: 666 };

function agent(): IceAgent {
  const a = new IceAgent({ rng: new SeededRng(7), role: 'controlled' });
  a.addLocalCandidate(0, { type: 'host', address: LOCAL.address, port: LOCAL.port });
  a.endOfLocalCandidates(0);
  a.setRemoteCredentials(0, { ufrag: 'peer', password: 'peerpasswordpeerpassword' });
  while (a.pollEvent());
  return a;
}

function totalDrops(a: IceAgent): number {
  return Object.values(a.stats.drops).reduce((x, y) => x + y, 0);
}

test('random datagrams: no throw, no transmit, every one counted', () => {
  const a = agent();
  let n = 0;
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    a.handleInput(1, { local: LOCAL, remote: EVIL, data: bytes });
    n++;
    assert.equal(a.pollTransmit(), undefined);
  }), { numRuns: 3000 });
  assert.equal(totalDrops(a) + a.stats.indicationsReceived, n);
  assert.equal(a.remoteCandidateList.length, 0);
});

test('single-bit mutations of a valid check are never answered, except ones that only rename FINGERPRINT', () => {
  const a = agent();
  const valid = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 1))
    .addString(StunAttr.Username, `${a.localCredentials.ufrag}:peer`)
    .addUint32(StunAttr.Priority, 1000)
    .addUint64(StunAttr.IceControlling, 5n)
    .encode({ integrityKey: Buffer.from(a.localCredentials.password), fingerprint: true });
  const answeredAt = new Set<number>();
  for (let i = 0; i < valid.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const m = Buffer.from(valid);
      m[i]! ^= bit;
      a.handleInput(1, { local: LOCAL, remote: EVIL, data: m });
      for (let t = a.pollTransmit(); t; t = a.pollTransmit()) {
        const r = StunMessage.decode(t.data);
        if (r.ok && r.message.messageClass !== StunClass.Request) answeredAt.add(i);
      }
    }
  }
  // HMAC and CRC cover every byte. Renaming the FINGERPRINT attribute type leaves an unknown
  // attribute after MESSAGE-INTEGRITY, which is ignored (RFC 8489 §14.5): the request is still
  // authentic. Nothing else is answered.
  const fpType = valid.length - 8;
  assert.deepEqual([...answeredAt].sort((x, y) => x - y), [fpType, fpType + 1]);
  const before = a.stats.responsesSent;
  a.handleInput(2, { local: LOCAL, remote: EVIL, data: valid });
  assert.equal(a.stats.responsesSent, before + 1);
});

test('forged success responses (right transaction id, wrong key) do not validate a pair', () => {
  const a = agent();
  a.addRemoteCandidate(0, 'candidate:1 1 udp 2130706431 10.0.0.2 2000 typ host');
  a.handleTimeout(0);
  const check = a.pollTransmit()!;
  const req = StunMessage.decode(check.data);
  assert.ok(req.ok);
  const forged = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, req.message.transactionId)
    .addAddress(StunAttr.XorMappedAddress, LOCAL)
    .encode({ integrityKey: Buffer.from('wrongwrongwrongwrongwrong'), fingerprint: true });
  a.handleInput(1, { local: LOCAL, remote: check.remote, data: forged });
  assert.equal(a.stats.drops['response-bad-integrity'], 1);
  assert.ok(a.checkList.every((p) => !p.valid));
  // The genuine response from the wrong address fails the pair (non-symmetric, §7.2.5.2.1).
  const genuine = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, req.message.transactionId)
    .addAddress(StunAttr.XorMappedAddress, LOCAL)
    .encode({ integrityKey: Buffer.from('peerpasswordpeerpassword'), fingerprint: true });
  a.handleInput(2, { local: LOCAL, remote: EVIL, data: genuine });
  assert.equal(a.stats.drops['response-wrong-address'], 1);
  assert.equal(a.checkList[0]!.state, 'failed');
});
