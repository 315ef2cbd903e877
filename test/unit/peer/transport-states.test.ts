// The connection-wide states of webrtc-pc §4.3.3 (lib/peer/transport-states.ts): the one-transport
// fast path gives what the aggregate over a list of that one transport gives, for every state pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateConnectionState, aggregateIceState, connectionStateOf } from '../../../lib/peer/transport-states.js';
import type { IceConnectionState } from '../../../lib/ice/ice-agent.js';
import type { DtlsTransportState } from '../../../lib/dtls/dtls-transport.js';

const ICE: IceConnectionState[] = ['new', 'checking', 'connected', 'completed', 'disconnected', 'failed', 'closed'];
const DTLS: DtlsTransportState[] = ['new', 'connecting', 'connected', 'closed', 'failed'];

test('one transport: connectionStateOf equals the aggregate, and the ICE aggregate is the transport\'s own state', () => {
  for (const ice of ICE) {
    assert.equal(aggregateIceState([{ ice, dtls: 'new' }]), ice);
    for (const dtls of DTLS) assert.equal(connectionStateOf(ice, dtls), aggregateConnectionState([{ ice, dtls }]), `ice ${ice}, dtls ${dtls}`);
  }
});

test('the rules of webrtc-pc §4.3.3 for one transport', () => {
  assert.equal(connectionStateOf('new', 'new'), 'new');
  assert.equal(connectionStateOf('checking', 'new'), 'connecting');
  assert.equal(connectionStateOf('connected', 'connecting'), 'connecting');
  assert.equal(connectionStateOf('connected', 'connected'), 'connected');
  assert.equal(connectionStateOf('completed', 'closed'), 'connected');
  assert.equal(connectionStateOf('disconnected', 'connected'), 'disconnected');
  assert.equal(connectionStateOf('connected', 'failed'), 'failed');
  assert.equal(connectionStateOf('failed', 'connected'), 'failed');
});

test('two transports: the aggregate waits for both and takes the worst', () => {
  assert.equal(aggregateConnectionState([{ ice: 'connected', dtls: 'connected' }, { ice: 'checking', dtls: 'new' }]), 'connecting');
  assert.equal(aggregateConnectionState([{ ice: 'connected', dtls: 'connected' }, { ice: 'failed', dtls: 'new' }]), 'failed');
  assert.equal(aggregateIceState([{ ice: 'connected', dtls: 'connected' }, { ice: 'checking', dtls: 'new' }]), 'checking');
  assert.equal(aggregateIceState([{ ice: 'completed', dtls: 'connected' }, { ice: 'connected', dtls: 'connected' }]), 'connected');
});
