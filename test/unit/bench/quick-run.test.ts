// bench/run.ts: a --quick run of a full-stack suite finishes, in its own child process, and
// writes its samples (with machine facts and library versions) and a chart; bad arguments exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function bench(...args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'run.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 150_000 });
  return { status: r.status, stdout: r.stdout };
}

test('an unknown suite name exits with status 2 before running anything', { timeout: 30_000 }, () => {
  const r = bench('--quick', 'no-such-suite');
  assert.equal(r.status, 2);
});

test('--quick memory finishes and writes every sample, machine facts, versions and a chart', { timeout: 160_000 }, () => {
  const started = Date.now();
  const r = bench('--quick', '--rounds', '1', 'memory');
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /suite times: memory [\d.]+ s\n/);
  const out = JSON.parse(readFileSync(join(root, '.bench-out', 'memory.json'), 'utf8')) as {
    date: string;
    machine: Record<string, string>;
    libraries: Record<string, string>;
    series: { subject: string; case: string; samples: number[] }[];
  };
  assert.ok(Date.parse(out.date) >= started - 1000);
  assert.ok(out.machine.cpu && out.machine.node);
  assert.match(out.libraries.werift ?? '', /^\d+\.\d+\.\d+/);
  const ours = out.series.filter((s) => s.subject === 'ours');
  assert.deepEqual(ours.map((s) => s.case).sort(), ['20 PCs, JS heap per PC', '20 PCs, RSS per PC', '20 PCs, RSS per PC after releaseIdleMemory()']);
  for (const s of ours) assert.equal(s.samples.length, 1);
  assert.ok(statSync(join(root, '.bench-out', 'charts', 'memory.svg')).mtimeMs >= started - 1000);
});
