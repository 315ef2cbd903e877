// sdpCandidateOf (lib/peer/local-candidate.ts) gives what parsing lib/ice's candidate line with
// lib/sdp gives (RFC 8839 §5.1 fields, RFC 6544 tcptype, the ufrag extension), for each kind of
// candidate our agent gathers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCandidate, type IceCandidate } from '../../../lib/ice/candidate.js';
import { parseCandidate } from '../../../lib/sdp/candidate.js';
import { sdpCandidateOf } from '../../../lib/peer/local-candidate.js';

const CANDIDATES: IceCandidate[] = [
  { foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, address: '127.0.0.1', port: 40000, type: 'host' },
  { foundation: 'a+/9', component: 1, protocol: 'udp', priority: 1694498815, address: '192.0.2.7', port: 40001, type: 'srflx', relatedAddress: '127.0.0.1', relatedPort: 40000 },
  { foundation: '3', component: 1, protocol: 'udp', priority: 16777215, address: '2001:db8::1', port: 3478, type: 'relay', relatedAddress: '192.0.2.7', relatedPort: 40001, ufrag: 'abcd' },
  { foundation: '4', component: 1, protocol: 'tcp', priority: 1518280447, address: '127.0.0.1', port: 9, type: 'host', tcpType: 'active' },
  { foundation: '5', component: 1, protocol: 'tcp', priority: 1518214911, address: '127.0.0.1', port: 4443, type: 'host', tcpType: 'passive', ufrag: 'wxyz' },
  // A related address without a port is not written by lib/ice, so it is not in the model either.
  { foundation: '6', component: 1, protocol: 'udp', priority: 1, address: '10.0.0.1', port: 1, type: 'prflx', relatedAddress: '10.0.0.2', tcpType: '', ufrag: '' },
];

test('sdpCandidateOf equals parseCandidate of the formatted line for every kind of candidate', () => {
  for (const c of CANDIDATES) assert.deepStrictEqual(sdpCandidateOf(c), parseCandidate(formatCandidate(c)), formatCandidate(c));
});
