// The data-channel test set of issue 9: 100 messages, string and binary, 1 B..60000 B with the
// SCTP fragment edges 16384, 16385 and 32768.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageBytes, messagePlan } from '../../../lib/echo/message-plan.js';

test('the plan has 100 messages of both kinds and every size the issue names', () => {
  const plan = messagePlan();
  assert.equal(plan.length, 100);
  for (const size of [1, 16384, 16385, 32768, 60000]) {
    assert.ok(plan.some((m) => m.size === size && m.binary), `binary ${size}`);
    assert.ok(plan.some((m) => m.size === size && !m.binary), `string ${size}`);
  }
  assert.equal(Math.min(...plan.map((m) => m.size)), 1);
  assert.equal(Math.max(...plan.map((m) => m.size)), 60000);
  assert.deepEqual(messagePlan(), plan, 'deterministic');
});

test('message bytes are ASCII letters (a string message has as many bytes as characters) and differ per index', () => {
  const a = messageBytes(3, 100);
  assert.equal(a.length, 100);
  assert.ok(a.every((b) => b >= 97 && b < 123));
  assert.equal(Buffer.byteLength(a.toString('latin1'), 'utf8'), 100);
  assert.notDeepEqual(messageBytes(4, 100), a);
});
