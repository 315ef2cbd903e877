// Real sockets on loopback: two IceTransports connect and exchange data (native batch socket
// and the dgram stand-in); 200 transports on one UdpMux port connect to 200 clients; floods
// of unknown and forged datagrams at the mux are dropped, counted and never answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { IceTransport, type IceTransportOptions } from '../../lib/transport/ice-transport.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { dgramUdpSocketFactory } from '../../lib/transport/source/datagram-socket.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { until } from './peer-helpers.js';

const LOOPBACK = { addresses: ['127.0.0.1'] };


const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';

/** Wires two transports' signaling together (candidates trickled as they appear). */
function signal(a: IceTransport, b: IceTransport): void {
  a.on('icecandidate', (c) => b.addRemoteCandidate(c));
  b.on('icecandidate', (c) => a.addRemoteCandidate(c));
  a.setRemoteParameters(b.localParameters);
  b.setRemoteParameters(a.localParameters);
}

async function connectPair(options: IceTransportOptions = {}): Promise<[IceTransport, IceTransport]> {
  const a = new IceTransport({ role: 'controlling', gather: LOOPBACK, ...options });
  const b = new IceTransport({ role: 'controlled', gather: LOOPBACK, ...options });
  signal(a, b);
  await Promise.all([a.gather(), b.gather()]);
  await until(() => up(a) && up(b), 10_000, 'connected');
  return [a, b];
}

async function exchange(a: IceTransport, b: IceTransport): Promise<void> {
  const gotA: string[] = [];
  const gotB: string[] = [];
  a.on('data', (d) => gotA.push(d.toString()));
  b.setDataHandler((d) => gotB.push(d.toString()));
  // DTLS-range first bytes (RFC 7983) so that they are not taken for STUN.
  assert.ok(a.send(Buffer.from('\x17hello from a')));
  assert.ok(b.send(Buffer.from('\x17hello from b')));
  await until(() => gotA.length === 1 && gotB.length === 1, 5000, 'data');
  assert.deepEqual(gotA, ['\x17hello from b']);
  assert.deepEqual(gotB, ['\x17hello from a']);
}

test('two transports on loopback (native batch socket) connect and carry data both ways', async () => {
  const [a, b] = await connectPair();
  try {
    const states: string[] = [];
    assert.equal(a.selectedPair!.local.address, '127.0.0.1');
    assert.equal(a.gatheringState, 'complete');
    await exchange(a, b);
    b.on('statechange', (s) => states.push(s));
    a.close();
    assert.equal(a.state, 'closed');
    assert.equal(a.send(Buffer.from('x')), false);
    assert.deepEqual(states, []);
  } finally {
    a.close();
    b.close();
  }
});

test('the dgram stand-in socket works behind the same interface', async () => {
  const [a, b] = await connectPair({ socketFactory: dgramUdpSocketFactory });
  try {
    await exchange(a, b);
  } finally {
    a.close();
    b.close();
  }
});

test('announced address: host candidate carries the public IP, the socket stays on loopback', async () => {
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'], announcedAddress: '203.0.113.7' } });
  const lines: (string | null)[] = [];
  t.on('icecandidate', (c) => lines.push(c));
  await t.gather();
  t.close();
  assert.match(lines[0]!, / 203\.0\.113\.7 \d+ typ host/);
  assert.equal(lines.at(-1), null);
});

test('200 transports on one UdpMux port connect to 200 clients, echo data and lose nothing in a burst', async () => {
  const N = 200;
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const servers: IceTransport[] = [];
  const clients: IceTransport[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const s = mux.createTransport({ role: 'controlled' });
      const c = new IceTransport({ role: 'controlling', gather: LOOPBACK });
      s.setDataHandler((d) => s.send(d));
      signal(c, s);
      servers.push(s);
      clients.push(c);
    }
    await Promise.all([...servers.map((s) => s.gather()), ...clients.map((c) => c.gather())]);
    await until(() => clients.every(up) && servers.every(up), 30_000, `all ${N} connected`);
    const echoed = new Set<number>();
    clients.forEach((c, i) => {
      c.setDataHandler((d) => echoed.add(d.readUInt32BE(1)));
      const msg = Buffer.alloc(5);
      msg[0] = 0x80;
      msg.writeUInt32BE(i, 1);
      c.send(msg);
    });
    await until(() => echoed.size === N, 10_000, 'all echoes');
    // A burst: every client sends 20 datagrams in the same event-loop turn (4000 at once); the
    // mux must route every one of them (pion's UDPMux lost 50-70 % under this kind of load).
    let received = 0;
    for (const srv of servers) srv.setDataHandler(() => received++);
    for (const c of clients) for (let k = 0; k < 20; k++) c.send(Buffer.from([0x80, k, 1, 2, 3, 4, 5, 6]));
    await until(() => received === N * 20, 10_000, `all ${N * 20} burst datagrams`);
    const st = mux.stats;
    assert.equal(st.transports, N);
    assert.ok(st.routes >= N, `${st.routes} routes`);
    assert.ok(st.routedByAddress > N);
    assert.equal(st.drops['unknown-ufrag'], 0);
    assert.equal(st.drops['unknown-sender'], 0);
    // Every server selected a pair whose local side is the one mux port.
    for (const s of servers) assert.equal(s.selectedPair!.localBase.port, mux.local.port);
  } finally {
    for (const c of clients) c.close();
    mux.close();
  }
});

test('hostile input at the mux: floods, forged and wrongly signed STUN are dropped, counted, never answered', async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const victim = mux.createTransport({ role: 'controlled' });
  await victim.gather();
  const attacker = createSocket('udp4');
  await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', () => r()));
  let answers = 0;
  attacker.on('message', () => answers++);
  try {
    const send = (b: Uint8Array): void => attacker.send(b, mux.local.port, '127.0.0.1');
    const ufrag = victim.localParameters.usernameFragment;
    for (let i = 0; i < 300; i++) send(Buffer.alloc(1 + (i % 200), i));
    for (let i = 0; i < 100; i++) {
      const m = new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, i)).addString(StunAttr.Username, `${ufrag}:evil`);
      send(m.encode({ integrityKey: Buffer.from('not-the-password-000000'), fingerprint: true }));
      send(new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, i)).addString(StunAttr.Username, `nobody:evil`).encode({ integrityKey: Buffer.from('x') }));
      send(new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, i)).addString(StunAttr.Username, `${ufrag}:evil`).encode({ fingerprint: true }));
    }
    await until(() => mux.stats.datagramsReceived >= 600, 5000, 'flood received');
    await new Promise((r) => setTimeout(r, 100));
    const st = mux.stats;
    assert.equal(st.drops['unknown-sender'], 300);
    assert.equal(st.drops['unknown-ufrag'], 100);
    assert.equal(victim.agent.stats.drops['bad-integrity'], 100);
    assert.equal(victim.agent.stats.drops['no-integrity'], 100);
    assert.equal(victim.agent.stats.responsesSent, 0);
    assert.equal(answers, 0, 'nothing answered');
    assert.equal(st.routes, 0, 'no route learned from unauthenticated input');
  } finally {
    attacker.close();
    mux.close();
  }
});

test('IPv6 loopback: two transports on ::1 connect and carry data', async () => {
  const a = new IceTransport({ role: 'controlling', gather: { addresses: ['::1'] } });
  const b = new IceTransport({ role: 'controlled', gather: { addresses: ['::1'] } });
  signal(a, b);
  try {
    await Promise.all([a.gather(), b.gather()]);
    await until(() => up(a) && up(b), 10_000, 'connected over ::1');
    assert.equal(a.selectedPair!.remoteAddress.address, '::1');
    await exchange(a, b);
  } finally {
    a.close();
    b.close();
  }
});

test('ICE-lite server transports on a mux (the usual SFU setup) connect to full clients', async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1', announcedAddress: '127.0.0.1' });
  const pairs: [IceTransport, IceTransport][] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const s = mux.createTransport({ mode: 'lite' });
      const c = new IceTransport({ role: 'controlled', gather: LOOPBACK });
      c.on('icecandidate', (l) => s.addRemoteCandidate(l));
      s.on('icecandidate', (l) => c.addRemoteCandidate(l));
      c.setRemoteParameters(s.localParameters);
      s.setRemoteParameters(c.localParameters);
      pairs.push([s, c]);
    }
    await Promise.all(pairs.flatMap(([s, c]) => [s.gather(), c.gather()]));
    await until(() => pairs.every(([s, c]) => up(s) && up(c)), 10_000, 'lite pairs connected');
    for (const [s, c] of pairs) {
      assert.equal(c.role, 'controlling', 'the full client takes control facing a lite server');
      assert.equal(s.agent.stats.checksSent, 0);
      await exchange(c, s);
    }
  } finally {
    for (const [, c] of pairs) c.close();
    mux.close();
  }
});

test('SO_REUSEPORT: two muxes share one port; unroutable datagrams are forwarded to the owner', async () => {
  let a: UdpMux | undefined;
  let b: UdpMux | undefined;
  a = await UdpMux.bind({ address: '127.0.0.1', reusePort: true, onUnroutable: (d, r) => b?.deliver(d, r) });
  b = await UdpMux.bind({ address: '127.0.0.1', port: a.local.port, reusePort: true, onUnroutable: (d, r) => a?.deliver(d, r) });
  assert.equal(b.local.port, a.local.port);
  const pairs: [IceTransport, IceTransport][] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const s = (i % 2 ? a : b).createTransport({ role: 'controlled' });
      const c = new IceTransport({ role: 'controlling', gather: LOOPBACK });
      signal(c, s);
      pairs.push([s, c]);
    }
    await Promise.all(pairs.flatMap(([s, c]) => [s.gather(), c.gather()]));
    await until(() => pairs.every(([s, c]) => up(s) && up(c)), 15_000, 'all pairs over two reuseport muxes');
    for (const [s, c] of pairs) await exchange(c, s);
    // The kernel spreads clients over both sockets; at least some needed forwarding.
    assert.ok(a.stats.forwarded + b.stats.forwarded > 0);
    assert.equal(a.stats.drops['unknown-ufrag'] + b.stats.drops['unknown-ufrag'], 0);
  } finally {
    for (const [, c] of pairs) c.close();
    a.close();
    b.close();
  }
});

test('ICE restart through the mux: new ufrags are routed, a new pair is selected, data keeps flowing', async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const s = mux.createTransport({ role: 'controlled' });
  const c = new IceTransport({ role: 'controlling', gather: LOOPBACK });
  signal(c, s);
  try {
    await Promise.all([s.gather(), c.gather()]);
    await until(() => up(s) && up(c), 10_000, 'connected');
    let reselected = 0;
    c.on('selectedcandidatepairchange', () => reselected++);
    const oldUfrag = s.localParameters.usernameFragment;
    c.restart();
    s.restart();
    assert.notEqual(s.localParameters.usernameFragment, oldUfrag);
    c.setRemoteParameters(s.localParameters);
    s.setRemoteParameters(c.localParameters);
    // Candidates re-announced by the restart (without a ufrag label) survive the new description.
    assert.ok(c.agent.remoteCandidateList.some((x) => x.type === 'host' && x.port === mux.local.port));
    await until(() => reselected > 0 && up(c) && up(s), 10_000, 're-selected after restart');
    await exchange(c, s);
  } finally {
    c.close();
    mux.close();
  }
});
