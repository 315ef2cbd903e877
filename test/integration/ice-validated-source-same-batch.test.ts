// A DTLS datagram from a source the ICE agent has validated, read before the transport drained the
// agent's `remote-validated` event (docs/ice.md "Data before the nomination"): with the DTLS client
// starting on its first valid pair, its ClientHello often arrives in the same receive batch as the
// check response that validated it, and the driver must take it on the agent's own record
// (`isValidatedRemote`) instead of dropping it as `unknown-source` (a dropped ClientHello costs a
// DTLS retransmission timeout). Real sockets on loopback; the offerer's (controlling, DTLS server)
// agent holds back its `remote-validated` and `valid-pair` events, so until its own nomination
// selects a pair only the agent's record can vouch for the answerer's address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { IceAgent } from '../../lib/ice/ice-agent.js';
import { negotiate, within } from './peer-helpers.js';

type Fn = (...a: unknown[]) => unknown;
const proto = (c: { prototype: unknown }): Record<string, Fn> => c.prototype as Record<string, Fn>;

let holdBack = false;
/** Calls of isValidatedRemote that vouched for a source (from the driver's receive path). */
let vouched = 0;
const transports = new Set<IceTransport>();

const pollEvent = proto(IceAgent).pollEvent!;
proto(IceAgent).pollEvent = function (this: IceAgent, ...a: unknown[]) {
  const controlling = (this as unknown as { roleValue: string }).roleValue === 'controlling';
  for (;;) {
    const e = pollEvent.apply(this, a) as { type: string } | undefined;
    if (holdBack && controlling && e && (e.type === 'remote-validated' || e.type === 'valid-pair')) continue;
    return e;
  }
};
const isValidatedRemote = proto(IceAgent).isValidatedRemote!;
proto(IceAgent).isValidatedRemote = function (this: IceAgent, ...a: unknown[]) {
  const yes = isValidatedRemote.apply(this, a) as boolean;
  if (yes) vouched++;
  return yes;
};
const emitEvent = proto(IceTransport).emitEvent!;
proto(IceTransport).emitEvent = function (this: IceTransport, ...a: unknown[]) {
  transports.add(this);
  return emitEvent.apply(this, a);
};

test('a DTLS datagram from a source the agent validated is delivered before the transport drained the event', { timeout: 120_000 }, async () => {
  holdBack = true;
  try {
    // Pairs one after another; the ClientHello races the offerer's own nomination, so over several
    // pairs some reach the offerer before its selection (vouched > 0) — none may be dropped. At
    // least 8 pairs, and more (bounded: 40 pairs, 60 s) until that case was seen.
    const end = Date.now() + 60_000;
    for (let i = 0; i < 40 && (i < 8 || (vouched === 0 && Date.now() < end)); i++) {
      const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
      const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
      a.addTransceiver('audio');
      await negotiate(a, b);
      await within(Promise.all([a.connected(), b.connected()]), 10_000, `pair ${i} connected`);
      a.close();
      b.close();
    }
  } finally {
    holdBack = false;
  }
  const dropped = [...transports].reduce((n, t) => n + t.stats.drops['unknown-source'], 0);
  assert.equal(dropped, 0, 'no DTLS datagram from the validated peer dropped as unknown-source');
  assert.ok(vouched > 0, `the agent's record vouched for a source before the selection (${vouched} times)`);
});
