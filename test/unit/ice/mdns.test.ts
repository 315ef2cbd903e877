// mDNS query encoding and answer parsing for `.local` candidates (RFC 6762, RFC 1035 §4.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeMdnsQuery, parseMdnsAnswer } from '../../../lib/transport/ice-mdns.js';

const NAME = '0b1c9a5e-1111-4c2e-9d55-0123456789ab.local';

function answer(name: string, ip: number[], compressed: boolean): Buffer {
  const q = encodeMdnsQuery(name);
  const header = Buffer.from([0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  const question = q.subarray(12);
  const owner = compressed ? Buffer.from([0xc0, 12]) : question.subarray(0, question.length - 4);
  const rr = Buffer.concat([owner, Buffer.from([0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4]), Buffer.from(ip)]);
  return Buffer.concat([header, question, rr]);
}

test('query asks for the A record with the unicast-response bit', () => {
  const q = encodeMdnsQuery(NAME);
  assert.equal(q.readUInt16BE(4), 1);
  assert.equal(q[12], 36);
  assert.deepEqual([...q.subarray(-4)], [0, 1, 0x80, 1]);
});

test('answers with plain and compressed owner names resolve; other names do not', () => {
  assert.equal(parseMdnsAnswer(answer(NAME, [192, 168, 1, 20], false), NAME), '192.168.1.20');
  assert.equal(parseMdnsAnswer(answer(NAME, [10, 0, 0, 1], true), NAME.toUpperCase()), '10.0.0.1');
  assert.equal(parseMdnsAnswer(answer('other.local', [10, 0, 0, 1], true), NAME), undefined);
  assert.equal(parseMdnsAnswer(encodeMdnsQuery(NAME), NAME), undefined, 'a query is not an answer');
});

test('truncated, looping and random responses never throw', () => {
  const full = answer(NAME, [1, 2, 3, 4], true);
  for (let i = 0; i < full.length; i++) assert.equal(parseMdnsAnswer(full.subarray(0, i), NAME), undefined);
  const loop = Buffer.from(full);
  loop[12] = 0xc0;
  loop[13] = 12;
  assert.equal(parseMdnsAnswer(loop, NAME), undefined);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
    parseMdnsAnswer(Buffer.from(b), NAME);
  }), { numRuns: 2000 });
});
