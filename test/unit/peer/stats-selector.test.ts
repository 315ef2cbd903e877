// The stats selection algorithm (webrtc-pc, lib/peer/stats-selector.ts) on a hand-built
// report: seeds, entries they name by *Id, remote entries naming them by localId, transitively.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectStats } from '../../../lib/peer/stats-selector.js';
import type { RTCStats, RTCStatsReport } from '../../../lib/peer/stats.js';

const entries: RTCStats[] = [
  { id: 'P', type: 'peer-connection', timestamp: 1 },
  { id: 'T01', type: 'transport', timestamp: 1, selectedCandidatePairId: 'CP1', localCertificateId: 'CFa', remoteCertificateId: 'CFb' },
  { id: 'CP1', type: 'candidate-pair', timestamp: 1, transportId: 'T01', localCandidateId: 'L1', remoteCandidateId: 'R1' },
  { id: 'CP2', type: 'candidate-pair', timestamp: 1, transportId: 'T01', localCandidateId: 'L2', remoteCandidateId: 'R1' },
  { id: 'L1', type: 'local-candidate', timestamp: 1, transportId: 'T01' },
  { id: 'L2', type: 'local-candidate', timestamp: 1, transportId: 'T01' },
  { id: 'R1', type: 'remote-candidate', timestamp: 1, transportId: 'T01' },
  { id: 'CFa', type: 'certificate', timestamp: 1 },
  { id: 'CFb', type: 'certificate', timestamp: 1 },
  { id: 'C111', type: 'codec', timestamp: 1, transportId: 'T01' },
  { id: 'C96', type: 'codec', timestamp: 1, transportId: 'T01' },
  { id: 'OT1', type: 'outbound-rtp', timestamp: 1, ssrc: 1, transportId: 'T01', codecId: 'C111' },
  { id: 'RI1', type: 'remote-inbound-rtp', timestamp: 1, ssrc: 1, transportId: 'T01', localId: 'OT1' },
  { id: 'OT2', type: 'outbound-rtp', timestamp: 1, ssrc: 2, transportId: 'T01', codecId: 'C96', remoteId: 'RI2' },
  { id: 'RI2', type: 'remote-inbound-rtp', timestamp: 1, ssrc: 2, transportId: 'T01', localId: 'OT2' },
  { id: 'IT3', type: 'inbound-rtp', timestamp: 1, ssrc: 3, transportId: 'T01', codecId: 'C111', trackIdentifier: 'OT2' },
  { id: 'D0', type: 'data-channel', timestamp: 1 },
];
const report: RTCStatsReport = new Map(entries.map((e) => [e.id, e]));

test('a seed brings what it names and what names it as localId, nothing else', () => {
  const picked = selectStats(report, (s) => s.id === 'OT1');
  assert.deepEqual([...picked.keys()].sort(), ['C111', 'CFa', 'CFb', 'CP1', 'L1', 'OT1', 'R1', 'RI1', 'T01']);
  const second = selectStats(report, (s) => s.id === 'OT2');
  assert.ok(second.has('RI2') && second.has('C96') && !second.has('OT1') && !second.has('C111'));
  // trackIdentifier is not an id reference; no seed, no entries.
  assert.ok(!selectStats(report, (s) => s.id === 'IT3').has('OT2'));
  assert.equal(selectStats(report, () => false).size, 0);
  assert.equal(picked.get('OT1'), report.get('OT1'), 'entries are the report\'s own objects');
});
