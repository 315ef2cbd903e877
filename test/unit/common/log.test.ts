// Namespaced debug logging (lib/common/log.ts): off by default, enabled by PWT_DEBUG / DEBUG /
// NODE_DEBUG or configureLogging, a sink receives records, and a disabled logger builds nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { configureLogging, createLogger, loggedDropCounters, type LogRecord } from '../../../lib/common/log.js';

const logModule = new URL('../../../lib/common/log.ts', import.meta.url).href;

/** Which of ice, dtls, sctp, drop are enabled in a child process with `env` only. */
function enabledWith(env: Record<string, string>): string[] {
  const script = `const { createLogger } = await import(${JSON.stringify(logModule)});
    console.log(JSON.stringify(['ice', 'dtls', 'sctp', 'drop'].filter((n) => createLogger(n).enabled)));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
}

test('off by default; PWT_DEBUG, DEBUG=pwt:* (with exclusions) and NODE_DEBUG enable namespaces', { timeout: 120_000 }, () => {
  assert.deepEqual(enabledWith({}), []);
  assert.deepEqual(enabledWith({ DEBUG: 'express:*,other' }), [], 'other libraries\' DEBUG namespaces do not enable ours');
  assert.deepEqual(enabledWith({ PWT_DEBUG: 'ice,dtls' }), ['ice', 'dtls']);
  assert.deepEqual(enabledWith({ PWT_DEBUG: '*' }), ['ice', 'dtls', 'sctp', 'drop']);
  assert.deepEqual(enabledWith({ DEBUG: 'pwt:*,-pwt:sctp' }), ['ice', 'dtls', 'drop']);
  assert.deepEqual(enabledWith({ DEBUG: 'pwt:sctp' }), ['sctp']);
  assert.deepEqual(enabledWith({ NODE_DEBUG: 'pwt-drop' }), ['drop']);
});

test('configureLogging: namespaces and a sink at run time; a throwing sink is contained', (t) => {
  t.after(() => configureLogging({ namespaces: '', sink: null }));
  const records: LogRecord[] = [];
  const log = createLogger('unit-a');
  const other = createLogger('unit-b');
  const enabled = configureLogging({ namespaces: 'unit-a', sink: (r) => records.push(r) });
  assert.ok(enabled.includes('unit-a') && !enabled.includes('unit-b'));
  assert.equal(log.enabled, true);
  assert.equal(other.enabled, false);
  log('pair %s:%d %s', '10.0.0.1', 5000, 'succeeded');
  other('not written');
  assert.deepEqual(records.map((r) => [r.namespace, r.message]), [['unit-a', 'pair 10.0.0.1:5000 succeeded']]);
  assert.ok(records[0]!.time > 0);
  configureLogging({ sink: () => {
    throw new Error('sink failed');
  } });
  assert.doesNotThrow(() => log('still fine'));
  configureLogging({ namespaces: '' });
  assert.equal(log.enabled, false);
});

test('a disabled logger formats nothing, and drop counters stay plain objects', () => {
  configureLogging({ namespaces: '' });
  const log = createLogger('unit-cost');
  let formatted = 0;
  const probe = { [Symbol.for('nodejs.util.inspect.custom')]: () => `${++formatted}`, toString: () => `${++formatted}` };
  for (let i = 0; i < 1000; i++) log('value %s %o', probe, probe);
  assert.equal(formatted, 0, 'arguments were never formatted');
  const counters = { a: 0 };
  assert.equal(loggedDropCounters('unit', counters), counters, 'no wrapper when drop logging is off');

  const records: LogRecord[] = [];
  configureLogging({ namespaces: 'drop', sink: (r) => records.push(r) });
  try {
    const logged = loggedDropCounters('unit', { malformed: 0 });
    logged.malformed++;
    logged.malformed++;
    assert.deepEqual({ ...logged }, { malformed: 2 });
    assert.deepEqual(records.map((r) => r.message), ['unit malformed (total 1)', 'unit malformed (total 2)']);
  } finally {
    configureLogging({ namespaces: '', sink: null });
  }
});
