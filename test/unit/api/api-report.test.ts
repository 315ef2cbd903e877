// The public surface: docs/api-report.md matches what the entry points publish (stripInternal
// .d.ts, scripts/api-report.mjs --check), and internals stay out of the entry points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pkg from '../../../lib/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('docs/api-report.md is up to date with the published declarations', { timeout: 120_000 }, () => {
  const r = spawnSync(process.execPath, ['scripts/api-report.mjs', '--check'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
});

test('internal members and the raw native module are not part of the published API', () => {
  const report = readFileSync(new URL('../../../docs/api-report.md', import.meta.url), 'utf8');
  const peerConnection = /### RTCPeerConnection\n\n(?:[^`\n][^\n]*\n\n)?```ts\n([\s\S]*?)```/.exec(report)?.[1] ?? '';
  assert.match(peerConnection, /getStats\(selector\?/, 'the report has the class');
  for (const internal of ['mediaTransport', 'nextTransportSequence', 'now()', 'applyNegotiation']) {
    assert.ok(!peerConnection.includes(internal), `RTCPeerConnection publishes ${internal}`);
  }
  assert.ok(!/\bloadNativeAddon\b|\bloadAddon\b|\bnativeExport\b/.test(report), 'the raw addon loader is published');
  assert.ok(!/^\s+native:/m.test(report), 'a native object is published');
  // At run time too: the sender plumbing is not on the connection object.
  const pc = new pkg.RTCPeerConnection();
  assert.equal('nextTransportSequence' in pc || 'now' in pc, false);
  pc.close();
  const names = Object.keys(pkg);
  assert.ok(!names.includes('loadNativeAddon') && !names.includes('loadAddon'));
  const info = pkg.nativeBuildInfo();
  assert.match(info.sourceHash, /^[0-9a-f]{8,}$/);
  assert.equal(Object.keys(info).sort().join(), 'opensslHeaders,sourceHash');
});

test('the API reference README.md links to describes every exported name (its TSDoc summary)', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.match(readme, /\[docs\/api-report\.md\]\(docs\/api-report\.md\)/, 'README links the report');
  const report = readFileSync(new URL('../../../docs/api-report.md', import.meta.url), 'utf8');
  const entries = [...report.matchAll(/^### (?!namespace )(\S+)\n\n([^\n]*)\n/gm)];
  assert.ok(entries.length > 500, `${entries.length} entries`);
  const bare = entries.filter((m) => m[2]!.startsWith('```') || m[2]!.trim().length < 8).map((m) => m[1]);
  assert.deepEqual(bare, [], 'exports listed with a signature only');
  // Every runtime export of the entry point has its entry.
  const listed = new Set(entries.map((m) => m[1]));
  const missing = Object.keys(pkg).filter((n) => n !== 'default' && n !== 'sdp' && !listed.has(n));
  assert.deepEqual(missing, []);
});
