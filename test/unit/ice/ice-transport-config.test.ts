// ICE server URLs (RFC 7064 stun/stuns, RFC 7065 turn/turns), host address selection and
// API misuse errors of IceTransport / UdpMux.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIceServerUrl, IceTransport } from '../../../lib/transport/ice-transport.js';
import { listHostAddresses } from '../../../lib/transport/source/host-addresses.js';
import { UdpMux } from '../../../lib/transport/source/udp-mux.js';
import { PwtError } from '../../../lib/common/errors.js';

test('ICE server URLs: defaults and transports', () => {
  assert.deepEqual(parseIceServerUrl('stun:stun.example.org'), { scheme: 'stun', host: 'stun.example.org', port: 3478, transport: 'udp' });
  assert.deepEqual(parseIceServerUrl('turn:10.0.0.1:3479?transport=tcp'), { scheme: 'turn', host: '10.0.0.1', port: 3479, transport: 'tcp' });
  assert.deepEqual(parseIceServerUrl('turns:turn.example.org'), { scheme: 'turns', host: 'turn.example.org', port: 5349, transport: 'tcp' });
  assert.deepEqual(parseIceServerUrl('turn:[2001:db8::1]:3478'), { scheme: 'turn', host: '2001:db8::1', port: 3478, transport: 'udp' });
  for (const bad of ['http://x', 'turn:', 'turn:host:0', 'turn:host?transport=sctp', 'stun:host:99999']) {
    assert.throws(() => parseIceServerUrl(bad), (e: unknown) => e instanceof PwtError && e.code === 'ERR_ICE_SERVER_URL', bad);
  }
});

test('host addresses: explicit list, loopback opt-in, family filters', () => {
  assert.deepEqual(listHostAddresses({ addresses: ['127.0.0.1', '::0001'] }), ['127.0.0.1', '::1']);
  const all = listHostAddresses({ loopback: true });
  assert.ok(all.includes('127.0.0.1'));
  assert.ok(!listHostAddresses({ loopback: false }).includes('127.0.0.1'));
  assert.ok(listHostAddresses({ loopback: true, ipv6: false }).every((a) => !a.includes(':')));
  assert.deepEqual(listHostAddresses({ interfaces: ['no-such-interface'], loopback: false }), []);
});

test('misuse throws typed errors: closed transport, wildcard mux without an announced address', async () => {
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'] } });
  t.close();
  assert.throws(() => t.addRemoteCandidate(null), (e: unknown) => e instanceof PwtError && e.code === 'ERR_ICE_CLOSED' && e.name === 'InvalidStateError');
  assert.equal(t.send(Buffer.from([0x80])), false);
  assert.equal(t.stats.drops['no-selected-pair'], 1);
  await assert.rejects(UdpMux.bind({ address: '0.0.0.0' }), (e: unknown) => e instanceof PwtError && e.code === 'ERR_MUX_ADDRESS');
  const live = new IceTransport({ gather: { addresses: ['127.0.0.1'] } });
  assert.throws(() => live.addRemoteCandidate('candidate:garbage'), (e: unknown) => e instanceof PwtError && e.code === 'ERR_ICE_CANDIDATE_SYNTAX');
  live.close();
});
