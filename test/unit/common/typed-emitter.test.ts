// TypedEventEmitter's listener table (lib/common/typed-emitter.ts): an ordinary object instead of
// Node's null-prototype dictionary, which must read the same: no inherited name is a listener.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypedEventEmitter } from '../../../lib/common/typed-emitter.js';

type Events = Record<string, unknown[]>;

describe('TypedEventEmitter listener table', () => {
  it('has no listener under an Object.prototype name, and keeps __proto__ a plain event name', () => {
    const e = new TypedEventEmitter<Events>();
    e.on('x', () => {});
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'newListener']) {
      assert.equal(e.listenerCount(name), 0, name);
      assert.equal(e.emit(name), false, name);
    }
    let got = 0;
    e.on('__proto__', (n) => {
      got += n as number;
    });
    assert.equal(e.emit('__proto__', 2), true);
    assert.equal(got, 2);
    assert.deepEqual(e.eventNames(), ['x', '__proto__']);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
  });

  it('adds, fires once, removes and removes all as EventEmitter does', () => {
    const e = new TypedEventEmitter<Events>();
    const seen: string[] = [];
    const a = (): void => void seen.push('a');
    e.addListener('t', a);
    e.once('t', () => seen.push('once'));
    e.on('u', () => seen.push('u'));
    e.emit('t');
    e.emit('t');
    assert.deepEqual(seen, ['a', 'once', 'a']);
    e.off('t', a);
    assert.equal(e.listenerCount('t'), 0);
    assert.deepEqual(e.eventNames(), ['u']);
    e.removeAllListeners();
    assert.equal(e.emit('u'), false);
    e.once('u', () => seen.push('u2'));
    e.emit('u');
    assert.deepEqual(seen, ['a', 'once', 'a', 'u2']);
  });

  it('fires newListener for listeners added after one is listening to it', () => {
    const e = new TypedEventEmitter<Events>();
    const added: unknown[] = [];
    e.on('newListener', (name) => added.push(name));
    e.on('v', () => {});
    assert.deepEqual(added, ['v']);
  });
});
