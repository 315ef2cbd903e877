// TypedEventEmitter: Node's EventEmitter behaviour without the listener table its constructor made
// and dropped (docs/peer.md "Setup cost").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { TypedEventEmitter } from '../../../lib/common/typed-emitter.js';

type Events = { data: [number]; error: [Error] };

test('constructing an emitter runs no EventEmitter.init (no listener table made and dropped)', () => {
  // Node's EventEmitter constructor calls EventEmitter.init, looked up at each call (not typed).
  const E = EventEmitter as unknown as { init: (this: EventEmitter, ...args: unknown[]) => void };
  const init = E.init;
  let calls = 0;
  E.init = function (this: EventEmitter, ...args: unknown[]) {
    calls++;
    init.apply(this, args);
  };
  try {
    for (let i = 0; i < 10; i++) new TypedEventEmitter<Events>();
    // The spy itself works: a plain EventEmitter calls it.
    new EventEmitter();
  } finally {
    E.init = init;
  }
  assert.equal(calls, 1);
  const e = new TypedEventEmitter<Events>() as unknown as { _events: unknown };
  assert.equal(e._events, undefined);
});

test('it is an EventEmitter: on, once, off, emit, counts, max listeners, events.once', async () => {
  const e = new TypedEventEmitter<Events>();
  assert.ok(e instanceof EventEmitter);
  assert.equal(e.listenerCount('data'), 0);
  assert.deepEqual(e.eventNames(), []);
  assert.equal(e.emit('data', 1), false);
  const seen: number[] = [];
  const listener = (n: number): void => void seen.push(n);
  e.on('data', listener);
  e.once('data', (n) => seen.push(n * 10));
  assert.equal(e.listenerCount('data'), 2);
  assert.equal(e.emit('data', 2), true);
  assert.equal(e.emit('data', 3), true);
  assert.deepEqual(seen, [2, 20, 3]);
  e.off('data', listener);
  assert.equal(e.emit('data', 4), false);
  assert.deepEqual(e.eventNames(), []);
  assert.equal(e.getMaxListeners(), EventEmitter.defaultMaxListeners);
  e.setMaxListeners(3);
  assert.equal(e.getMaxListeners(), 3);
  e.on('data', listener);
  e.removeAllListeners();
  assert.equal(e.listenerCount('data'), 0);
  const waited = once(e as unknown as EventEmitter, 'data');
  e.emit('data', 5);
  assert.deepEqual(await waited, [5]);
  // An 'error' event with no listener throws, as EventEmitter's does.
  assert.throws(() => e.emit('error', new Error('boom')), /boom/);
});

test('two emitters do not share a listener table', () => {
  const a = new TypedEventEmitter<Events>();
  const b = new TypedEventEmitter<Events>();
  let fromA = 0;
  a.on('data', () => fromA++);
  b.emit('data', 1);
  assert.equal(fromA, 0);
  assert.equal(b.listenerCount('data'), 0);
  a.emit('data', 1);
  assert.equal(fromA, 1);
});

test('safeEmit reports a throwing listener and keeps going', () => {
  const e = new TypedEventEmitter<Events>();
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  const emitWarning = process.emitWarning;
  process.emitWarning = ((w: string | Error) => warnings.push(String(w))) as typeof process.emitWarning;
  try {
    e.on('data', () => {
      throw new Error('listener failed');
    });
    assert.equal(e.safeEmit('data', 1), true);
  } finally {
    process.emitWarning = emitWarning;
    process.off('warning', onWarning);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /listener failed/);
});
