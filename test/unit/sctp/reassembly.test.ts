// Reassembly and ordered delivery (RFC 9260 sections 6.5/6.9, RFC 8260 section 2.1): whatever
// order fragments arrive in, every message comes out once, intact, and ordered streams keep order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReassemblyQueue, type AssembledMessage, type Fragment } from '../../../lib/sctp/reassembly.js';

interface Msg {
  streamId: number;
  unordered: boolean;
  data: Buffer;
}

/** Fragments messages as a sender would: consecutive TSNs, SSN/MID per ordered stream. */
function fragment(msgs: Msg[], interleaved: boolean, chunk: number): Fragment[] {
  const out: Fragment[] = [];
  const nextSeq = new Map<string, number>();
  let tsn = 0xfffffff0; // wraps during the test
  for (const m of msgs) {
    const key = `${m.streamId}:${m.unordered}`;
    const seq = !interleaved && m.unordered ? 0 : nextSeq.get(key) ?? 0;
    nextSeq.set(key, seq + 1);
    const n = Math.max(1, Math.ceil(m.data.length / chunk));
    for (let i = 0; i < n; i++) {
      out.push({
        tsn: tsn >>> 0, streamId: m.streamId, sequence: interleaved ? seq : seq & 0xffff, fsn: i, ppid: 53, unordered: m.unordered,
        beginning: i === 0, ending: i === n - 1, data: m.data.subarray(i * chunk, (i + 1) * chunk),
      });
      tsn = (tsn + 1) >>> 0;
    }
  }
  return out;
}

const msgArb = fc.record({
  streamId: fc.nat(3),
  unordered: fc.boolean(),
  data: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
});

for (const interleaved of [false, true]) {
  test(`any arrival order delivers each message once, intact, ordered streams in order (${interleaved ? 'I-DATA' : 'DATA'})`, () => {
    fc.assert(
      fc.property(fc.array(msgArb, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 64 }), fc.nat(), (msgs, chunk, seed) => {
        const frags = fragment(msgs, interleaved, chunk);
        // Deterministic shuffle from the seed.
        let x = seed | 1;
        for (let i = frags.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) >>> 0;
          const j = x % (i + 1);
          [frags[i], frags[j]] = [frags[j]!, frags[i]!];
        }
        const q = new ReassemblyQueue(interleaved, 1 << 20);
        const out: AssembledMessage[] = [];
        for (const f of frags) assert.equal(q.add(f, out), 'ok');
        assert.equal(out.length, msgs.length);
        assert.equal(q.bufferedBytes, 0);
        const remaining = [...msgs];
        for (const m of out) {
          const i = remaining.findIndex((r) => r.streamId === m.streamId && r.unordered === m.unordered && r.data.equals(m.data));
          assert.ok(i >= 0, 'delivered message was sent');
          remaining.splice(i, 1);
        }
        for (let s = 0; s < 4; s++) {
          const sentOrder = msgs.filter((m) => m.streamId === s && !m.unordered).map((m) => m.data.toString('hex'));
          const gotOrder = out.filter((m) => m.streamId === s && !m.unordered).map((m) => m.data.toString('hex'));
          assert.deepEqual(gotOrder, sentOrder);
        }
      }),
      { numRuns: 300 },
    );
  });
}

test('FORWARD TSN skips an abandoned ordered message and releases the ones waiting behind it', () => {
  const q = new ReassemblyQueue(false, 1 << 20);
  const out: AssembledMessage[] = [];
  const f = (tsn: number, ssn: number, b: boolean, e: boolean): Fragment => ({ tsn, streamId: 1, sequence: ssn, fsn: 0, ppid: 51, unordered: false, beginning: b, ending: e, data: Buffer.from([ssn]) });
  q.add(f(10, 0, true, false), out); // SSN 0 first fragment; its end (TSN 11) is abandoned
  q.add(f(12, 1, true, true), out);
  q.add(f(13, 2, true, true), out);
  assert.equal(out.length, 0);
  q.forward(11, [{ streamId: 1, sequence: 0, unordered: false }], out);
  assert.deepEqual(out.map((m) => m.data[0]), [1, 2]);
  assert.equal(q.bufferedBytes, 0);
});
