// The DTLS client starts on ICE's first valid pair (RFC 8445 §12.1, docs/ice.md "Data before the
// nomination"): the answerer (controlled, DTLS client) sends its ClientHello before the offerer's
// nomination selects a pair, and the handshake still completes when the controlling side then
// nominates another pair than that valid one (the flights follow the selected pair). Real sockets on
// loopback; the library is unchanged, only observed (and, in the second test, the offerer's choice
// of the pair it nominates is steered) through prototype wrappers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { DtlsTransport } from '../../lib/dtls/dtls-transport.js';
import { IceAgent } from '../../lib/ice/ice-agent.js';
import type { IceSelectedPair } from '../../lib/ice/ice-agent.js';
import { negotiate, within } from './peer-helpers.js';

type Fn = (...a: unknown[]) => unknown;
const proto = (c: { prototype: unknown }): Record<string, Fn> => c.prototype as Record<string, Fn>;

/** What happened, in order: `<ICE role>:<driver event>` and `dtls-start:<DTLS role>`. */
const log: string[] = [];
/** The controlled side's valid pair (its `validpair` event) and selected pair. */
let validPair: IceSelectedPair | undefined;
let selectedByControlled: IceSelectedPair | undefined;

const emitEvent = proto(IceTransport).emitEvent!;
proto(IceTransport).emitEvent = function (this: IceTransport, ...a: unknown[]) {
  const name = a[0] as string;
  if (name === 'validpair' || name === 'selectedcandidatepairchange') {
    log.push(`${this.role}:${name}`);
    if (this.role === 'controlled' && name === 'validpair') validPair ??= a[1] as IceSelectedPair;
    if (this.role === 'controlled' && name === 'selectedcandidatepairchange') selectedByControlled = a[1] as IceSelectedPair;
  }
  return emitEvent.apply(this, a);
};
const start = proto(DtlsTransport).start!;
proto(DtlsTransport).start = function (this: DtlsTransport, ...a: unknown[]) {
  log.push(`dtls-start:${this.role}`);
  return start.apply(this, a);
};

/** Steering: the controlling agent nominates a valid pair whose local base is not the controlled side's valid-pair remote. */
let steer = false;
interface PairView {
  valid: boolean;
  local: { base: { address: string; port: number } };
}
const sendCheck = proto(IceAgent).sendCheck!;
proto(IceAgent).sendCheck = function (this: IceAgent, ...a: unknown[]) {
  const self = this as unknown as { roleValue: string; pairs: PairView[]; nominating: PairView | undefined };
  if (steer && a[2] === true && a[3] === 'check' && self.roleValue === 'controlling') {
    const avoid = validPair?.remoteAddress;
    const other = (p: PairView): boolean => !!avoid && !(p.local.base.address === avoid.address && p.local.base.port === avoid.port);
    const pair = a[1] as PairView;
    if (!other(pair)) {
      const alt = self.pairs.find((p) => p.valid && other(p));
      // No other valid pair yet (or the controlled side's valid pair not known yet): nominate later.
      if (!alt) {
        self.nominating = undefined;
        return undefined;
      }
      self.nominating = alt;
      a[1] = alt;
    }
  }
  return sendCheck.apply(this, a);
};

async function connectPair(offererAddresses: string[]): Promise<[RTCPeerConnection, RTCPeerConnection]> {
  const a = new RTCPeerConnection({ hostAddresses: offererAddresses });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  a.addTransceiver('audio');
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 15_000, 'both connected');
  return [a, b];
}

test('the controlled DTLS client starts on the first valid pair, before the nomination selects it', async () => {
  log.length = 0;
  validPair = undefined;
  steer = false;
  const [a, b] = await connectPair(['127.0.0.1']);
  const controlled = log.filter((e) => e.startsWith('controlled:') || e === 'dtls-start:client');
  assert.deepEqual(controlled.slice(0, 3), ['controlled:validpair', 'dtls-start:client', 'controlled:selectedcandidatepairchange']);
  assert.equal(a.connectionState, 'connected');
  assert.equal(b.connectionState, 'connected');
  a.close();
  b.close();
});

test('the handshake begun on the valid pair completes when the controlling side nominates another pair', async () => {
  log.length = 0;
  validPair = undefined;
  selectedByControlled = undefined;
  steer = true;
  try {
    const [a, b] = await connectPair(['127.0.0.1', '127.0.0.2']);
    assert.ok(validPair && selectedByControlled, 'a valid pair, then a selected one');
    assert.ok(log.indexOf('dtls-start:client') < log.indexOf('controlled:selectedcandidatepairchange'), log.join(' '));
    const key = (p: IceSelectedPair): string => `${p.remoteAddress.address}:${p.remoteAddress.port}`;
    assert.notEqual(key(selectedByControlled), key(validPair), 'the nominated pair is another one');
    assert.equal(a.connectionState, 'connected');
    assert.equal(b.connectionState, 'connected');
    // Data flows on the pair that was selected: a data channel would need SCTP; the DTLS state and
    // the SRTP-keyed connection state are what the handshake gives.
    a.close();
    b.close();
  } finally {
    steer = false;
  }
});
