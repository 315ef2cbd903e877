// bench/peers/spawn.ts: a child that crashes after reporting still yields its result; one that
// hangs or dies without a result yields an error, and the caller goes on (per-library isolation);
// `builtLibrary` children load lib/ from dist/lib.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../../bench/peers/spawn.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'child-behaviour.ts');

test('a result line is returned even when the child then aborts (wrtc at exit)', { timeout: 30_000 }, async () => {
  const out = await runChild<{ value: number }>(fixture, { mode: 'result-then-abort' }, 20_000);
  assert.deepEqual(out, { ok: true, result: { value: 42 } });
});

test('a child that crashes mid-way yields its last partial result and why it stopped', { timeout: 30_000 }, async () => {
  const out = await runChild<{ done: number }>(fixture, { mode: 'partial-then-abort' }, 20_000);
  assert.equal(out.ok, true);
  assert.deepEqual(out.ok && out.result, { done: 2 });
  assert.match((out.ok && out.partial) || '', /killed by SIGABRT/);
});

test('a normal child reports through reportResult', { timeout: 30_000 }, async () => {
  const out = await runChild<{ value: number }>(fixture, { mode: 'ok' }, 20_000);
  assert.deepEqual(out, { ok: true, result: { value: 7 } });
});

test('a hanging child is killed at the time limit and reported as timed out', { timeout: 30_000 }, async () => {
  const out = await runChild(fixture, { mode: 'hang' }, 3_000);
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.error : '', /timed out after 3000 ms/);
});

test('a child that dies without a result reports its exit code and stderr', { timeout: 30_000 }, async () => {
  const out = await runChild(fixture, { mode: 'fail' }, 20_000);
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.error : '', /exit code 3: native fault in library/);
});

test('builtLibrary makes the child resolve lib/ modules to the compiled package in dist/lib, nothing else', { timeout: 30_000 }, async () => {
  const source = await runChild<{ url: string; other: string }>(fixture, { mode: 'resolve-lib' }, 20_000);
  assert.equal(source.ok, true);
  assert.match(source.ok ? source.result.url : '', /\/lib\/common\/errors\.ts$/);
  const built = await runChild<{ url: string; other: string }>(fixture, { mode: 'resolve-lib' }, 20_000, { builtLibrary: true });
  assert.equal(built.ok, true);
  assert.match(built.ok ? built.result.url : '', /\/dist\/lib\/common\/errors\.js$/);
  assert.match(built.ok ? built.result.other : '', /\/bench\/peers\/spawn\.ts$/);
});
