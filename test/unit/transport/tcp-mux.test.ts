// The shared passive ICE-TCP port (lib/transport/source/tcp-mux.ts) on real loopback TCP: a check
// with the right ufrag is answered over RFC 4571 framing and its connection stays; hostile
// connections (garbage, an unknown ufrag, a bad MESSAGE-INTEGRITY, a lying length, slowloris,
// floods of silent connections) are closed and counted, with bounded buffers and deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameRfc4571, Rfc4571Framer } from '../../../lib/ice/rfc4571-framer.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import type { IceTransport } from '../../../lib/transport/ice-transport.js';
import { TcpMux, type TcpMuxOptions } from '../../../lib/transport/source/tcp-mux.js';
import { within } from '../../integration/peer-helpers.js';
import { closed, listenWithIce, open, PEER } from './tcp-mux-test-helpers.js';

/** The port under test: a check deadline of 300 ms unless `options` says otherwise. */
const setup = (options: Partial<TcpMuxOptions> = {}): ReturnType<typeof listenWithIce> => listenWithIce({ checkTimeoutMs: 300, ...options });

function check(ice: IceTransport, password = ice.localParameters.password): Buffer {
  return new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 3))
    .addString(StunAttr.Username, `${ice.localParameters.usernameFragment}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1000)
    .addUint64(StunAttr.IceControlling, 5n)
    .encode({ integrityKey: Buffer.from(password), fingerprint: true });
}

test('the candidate is `tcp ... typ host tcptype passive` on the shared port, with a TCP priority', async (t) => {
  const { mux, ice, close } = await setup();
  t.after(close);
  const [c] = ice.localCandidates;
  assert.equal(ice.localCandidates.length, 1);
  assert.equal(c!.protocol, 'tcp');
  assert.equal(c!.tcpType, 'passive');
  assert.equal(c!.port, mux.local.port);
  // RFC 6544 §4.2: host type preference 126, local preference 2^13 * 4 (passive) + 8191.
  assert.equal(c!.priority, (126 << 24) + (((4 << 13) + 8191) << 8) + 255);
});

test('a check with the right ufrag is answered over the same connection, which then outlives the check deadline', async (t) => {
  const { mux, ice, close } = await setup();
  t.after(close);
  const s = await open(mux);
  t.after(() => s.destroy());
  const framer = new Rfc4571Framer();
  const answered = new Promise<StunMessage>((resolve) => {
    s.on('data', (chunk: Buffer) => {
      for (const f of framer.push(chunk)) {
        const r = StunMessage.decode(f);
        if (r.ok && r.message.messageClass === StunClass.SuccessResponse) resolve(r.message);
      }
    });
  });
  s.write(frameRfc4571(check(ice)));
  const response = await within(answered, 5000, 'Binding success response');
  assert.deepEqual(response.getAddress(StunAttr.XorMappedAddress), { address: '127.0.0.1', port: s.localPort });
  assert.equal(mux.stats.routedByUfrag, 1);
  assert.equal(mux.stats.connectionsPending, 0);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(mux.stats.connectionsOpen, 1, 'an authenticated connection is not closed by the check deadline');
  ice.close();
  await within(closed(s), 5000, 'closing the transport closes its connection');
  assert.equal(mux.stats.connectionsOpen, 0);
});

test('garbage, a first length no check has, and an unknown ufrag: closed at once and counted', async (t) => {
  const { mux, ice, close } = await setup();
  t.after(close);
  const cases: [Buffer, 'not-stun-first' | 'unknown-ufrag'][] = [
    [frameRfc4571(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 'not-stun-first'],
    [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'not-stun-first'],
    [frameRfc4571(Buffer.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'not-stun-first'],
    [frameRfc4571(new StunMessage(StunMethod.Binding, StunClass.Request, Buffer.alloc(12, 1)).addString(StunAttr.Username, 'nobody:peer').encode({ integrityKey: Buffer.from('x'), fingerprint: true })), 'unknown-ufrag'],
  ];
  for (const [bytes] of cases) {
    const s = await open(mux);
    s.write(bytes);
    await within(closed(s), 5000, 'hostile connection closed');
  }
  const d = mux.stats.drops;
  assert.equal(d['not-stun-first'], 3);
  assert.equal(d['no-check-in-time'], 0);
  assert.equal(d['unknown-ufrag'], 1);
  assert.equal(mux.stats.connectionsOpen, 0);
  assert.equal(ice.agent.stats.requestsReceived, 0);
});

test('a bad MESSAGE-INTEGRITY, a lying length and slowloris are closed at the check deadline; memory stays bounded', async (t) => {
  const { mux, ice, close } = await setup();
  t.after(close);
  const forged = await open(mux);
  forged.write(frameRfc4571(check(ice, 'not-the-password-at-all!')));
  const lying = await open(mux);
  // Announces a 2,000-byte first frame (plausible for a check) and sends 100 bytes of it.
  lying.write(Buffer.concat([Buffer.from([0x07, 0xd0]), Buffer.alloc(100, 0x55)]));
  const slow = await open(mux);
  const frame = frameRfc4571(check(ice));
  let i = 0;
  const drip = setInterval(() => {
    if (i < frame.length && !slow.destroyed) slow.write(frame.subarray(i, ++i));
  }, 20);
  t.after(() => clearInterval(drip));
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(mux.stats.bufferedBytes <= 3 * (2 + 65535), `buffered ${mux.stats.bufferedBytes}`);
  await within(Promise.all([closed(forged), closed(lying), closed(slow)]), 5000, 'closed by the deadline');
  clearInterval(drip);
  assert.equal(mux.stats.drops['no-check-in-time'], 3);
  assert.equal(mux.stats.connectionsOpen, 0);
  assert.equal(mux.stats.bufferedBytes, 0);
  assert.ok((ice.agent.stats.drops['bad-integrity'] ?? 0) >= 1);
});

test('a first frame announcing 65,535 bytes is not waited for', async (t) => {
  const { mux, close } = await setup();
  t.after(close);
  const s = await open(mux);
  s.write(Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(40_000, 0x55)]));
  await within(closed(s), 5000, 'closed');
  assert.equal(mux.stats.drops['not-stun-first'], 1);
  assert.equal(mux.stats.drops['no-check-in-time'], 0);
  assert.equal(mux.stats.bufferedBytes, 0);
});

test('a flood of silent connections: refused above the pending limit, the rest closed at the deadline', async (t) => {
  const { mux, close } = await setup({ maxPendingConnections: 20 });
  t.after(close);
  const sockets = await Promise.all(Array.from({ length: 60 }, () => open(mux)));
  await within(Promise.all(sockets.map(closed)), 5000, 'every silent connection closed');
  const d = mux.stats.drops;
  assert.equal(d['too-many-pending'] + d['no-check-in-time'], 60);
  assert.ok(d['too-many-pending'] >= 40, JSON.stringify(d));
  assert.equal(mux.stats.connectionsOpen, 0);
  assert.equal(mux.stats.connectionsPending, 0);
});

test('an authenticated connection that goes silent is closed after the idle timeout', async (t) => {
  const { mux, ice, close } = await setup({ idleTimeoutMs: 300 });
  t.after(close);
  const s = await open(mux);
  s.on('data', () => undefined);
  s.write(frameRfc4571(check(ice)));
  await within(closed(s), 5000, 'idle connection closed');
  assert.equal(mux.stats.drops.idle, 1);
  assert.equal(mux.stats.connectionsOpen, 0);
});

test('maxFrameBytes outside 1..65535 and a frameTimeoutMs that is not a positive number are refused with a typed error, not clamped', async () => {
  for (const bad of [0, -1, 65_536, 1.5, Number.NaN]) {
    await assert.rejects(TcpMux.listen({ address: '127.0.0.1', maxFrameBytes: bad }), { name: 'TypeError', code: 'ERR_TCP_MUX_OPTION' }, `maxFrameBytes ${bad}`);
  }
  for (const bad of [Number.NaN, -1, 0, Number.POSITIVE_INFINITY]) {
    await assert.rejects(TcpMux.listen({ address: '127.0.0.1', frameTimeoutMs: bad }), { name: 'TypeError', code: 'ERR_TCP_MUX_OPTION' }, `frameTimeoutMs ${bad}`);
  }
  const mux = await TcpMux.listen({ address: '127.0.0.1', maxFrameBytes: 65_535, frameTimeoutMs: 1 });
  assert.equal(mux.stats.forwardDrops, 0);
  mux.close();
});
