// A TCP connection's close drops the native SRTP route only when the route is that connection's
// (review 10 #8; docs/ice.md "ICE-TCP"): the same remote, its address compared canonically (one IPv6
// address has many spellings), and the same local base (the passive port and an active source may both
// reach one remote address and port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceTransport } from '../../../lib/transport/ice-transport.js';
import type { TransportAddress } from '../../../lib/ice/transport-address.js';

interface Internals {
  tcpRoute: { route: { send(p: Uint8Array): boolean; remove(): void }; remote: TransportAddress; session: unknown; base: TransportAddress } | undefined;
}

function withRoute(remote: TransportAddress, base: TransportAddress): { t: IceTransport; removed: () => number; events: () => number } {
  const t = new IceTransport({ gather: { addresses: [] } });
  let removed = 0;
  let events = 0;
  t.on('tcplegroutechange', () => events++);
  (t as unknown as Internals).tcpRoute = { route: { send: () => true, remove: () => void removed++ }, remote, session: {}, base };
  return { t, removed: () => removed, events: () => events };
}

const ACTIVE_BASE = { address: '2001:db8::10', port: 9 };
const PASSIVE_BASE = { address: '2001:db8::10', port: 443 };
const REMOTE = { address: '2001:db8::1', port: 50_000 };

test('the route goes with its own connection, whatever the spelling of the remote address', () => {
  for (const spelling of ['2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:0db8::0001']) {
    const { t, removed, events } = withRoute(REMOTE, ACTIVE_BASE);
    t.tcpConnectionClosed({ address: spelling, port: REMOTE.port }, ACTIVE_BASE);
    assert.equal(removed(), 1, spelling);
    assert.equal(events(), 1, spelling);
    assert.equal((t as unknown as Internals).tcpRoute, undefined);
    t.close();
  }
});

test('a close on another base, or from another remote, leaves the route alone', () => {
  const cases: [TransportAddress, TransportAddress][] = [
    [REMOTE, PASSIVE_BASE], // same remote address and port, the passive port's connection
    [REMOTE, { address: '2001:db8::11', port: 9 }], // another active source's
    [{ address: REMOTE.address, port: REMOTE.port + 1 }, ACTIVE_BASE],
    [{ address: '2001:db8::2', port: REMOTE.port }, ACTIVE_BASE],
  ];
  for (const [remote, base] of cases) {
    const { t, removed, events } = withRoute(REMOTE, ACTIVE_BASE);
    t.tcpConnectionClosed(remote, base);
    assert.equal(removed(), 0, JSON.stringify([remote, base]));
    assert.equal(events(), 0);
    assert.ok((t as unknown as Internals).tcpRoute);
    (t as unknown as Internals).tcpRoute = undefined;
    t.close();
  }
});
