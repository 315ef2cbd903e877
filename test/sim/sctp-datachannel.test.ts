// Data channels over simulated SCTP (RFC 8831, RFC 8832 DCEP): open/ack, negotiated channels,
// unordered and partially reliable delivery, 1000 channels, closing by stream reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DcPair } from './sctp-dc-pair.js';
import type { RTCDataChannel } from '../../lib/sctp/data-channel.js';
import { messageBytes, messagePlan } from '../../lib/echo/message-plan.js';

function collect(ch: RTCDataChannel): unknown[] {
  const got: unknown[] = [];
  ch.on('message', (ev) => got.push(ev.data));
  return got;
}

test('DCEP: createDataChannel opens the channel on both sides with its settings', () => {
  const p = new DcPair(1, { delayMs: 20 });
  const ch = p.a.createDataChannel('chat', { protocol: 'json', ordered: false, maxRetransmits: 3, priority: 'high' });
  assert.equal(ch.readyState, 'connecting');
  assert.equal(ch.id, null);
  const remote: RTCDataChannel[] = [];
  p.b.on('datachannel', (ev) => remote.push(ev.channel));
  const opened: string[] = [];
  ch.onopen = () => opened.push('a');
  let established = 0;
  p.a.on('established', () => established++);
  assert.ok(p.connect());
  assert.equal(established, 1);
  assert.deepEqual(opened, ['a']);
  assert.equal(ch.id! % 2, 0, 'DTLS client uses even ids');
  assert.ok(p.runUntil(() => remote.length === 1, { maxTimeMs: 5000, maxSteps: 1000 }));
  const r = remote[0]!;
  assert.deepEqual([r.label, r.protocol, r.ordered, r.maxRetransmits, r.maxPacketLifeTime, r.priority, r.id, r.readyState],
    ['chat', 'json', false, 3, null, 'high', ch.id, 'open']);
  const fromB = p.b.createDataChannel('other');
  assert.equal(fromB.id! % 2, 1, 'DTLS server uses odd ids');
});

test('strings, binary and empty messages keep their type (PPIDs 51/53/56/57)', () => {
  const p = new DcPair(2);
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('x');
  let r: RTCDataChannel | undefined;
  let got: unknown[] = [];
  p.b.on('datachannel', (ev) => {
    r = ev.channel;
    r.binaryType = 'nodebuffer';
    got = collect(r);
  });
  assert.ok(p.runUntil(() => r !== undefined, { maxTimeMs: 5000, maxSteps: 1000 }));
  ch.send('héllo');
  ch.send('');
  ch.send(Buffer.from([1, 2, 3]));
  ch.send(new Uint8Array(0));
  ch.send(new Uint16Array([0x0102]).buffer);
  ch.send(new DataView(new Uint8Array([9, 8]).buffer));
  assert.ok(p.runUntil(() => got.length === 6, { maxTimeMs: 5000, maxSteps: 1000 }));
  assert.deepEqual(ch.stats, { messagesSent: 6, bytesSent: 6 + 3 + 2 + 2, messagesReceived: 0, bytesReceived: 0 });
  assert.deepEqual(r!.stats, { messagesSent: 0, bytesSent: 0, messagesReceived: 6, bytesReceived: 6 + 3 + 2 + 2 });
  assert.deepEqual(got, ['héllo', '', Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from(new Uint16Array([0x0102]).buffer), Buffer.from([9, 8])]);
  r!.binaryType = 'arraybuffer';
  ch.send(Buffer.from([7]));
  assert.ok(p.runUntil(() => got.length === 7, { maxTimeMs: 5000, maxSteps: 1000 }));
  assert.ok(got[6] instanceof ArrayBuffer && new Uint8Array(got[6])[0] === 7);
});

test('pre-negotiated channels with an explicit id talk without DCEP', () => {
  const p = new DcPair(3);
  const a = p.a.createDataChannel('neg', { negotiated: true, id: 7 });
  const b = p.b.createDataChannel('neg', { negotiated: true, id: 7 });
  let announced = 0;
  p.b.on('datachannel', () => announced++);
  const got = collect(b);
  assert.ok(p.connect());
  assert.equal(a.readyState, 'open');
  assert.equal(b.readyState, 'open');
  a.send('one');
  assert.ok(p.runUntil(() => got.length === 1, { maxTimeMs: 5000, maxSteps: 1000 }));
  assert.equal(announced, 0);
  assert.throws(() => p.a.createDataChannel('dup', { negotiated: true, id: 7 }), { code: 'ERR_DATACHANNEL_ID_IN_USE' });
  assert.throws(() => p.a.createDataChannel('bad', { maxRetransmits: 1, maxPacketLifeTime: 1 }), { name: 'TypeError' });
});

test('unordered channel under loss and jitter delivers every message, some out of order', () => {
  const p = new DcPair(4, { delayMs: 10, jitterMs: 40, loss: 0.05 });
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('u', { ordered: false });
  let got: unknown[] = [];
  p.b.on('datachannel', (ev) => (got = collect(ev.channel)));
  // Until the DCEP ACK is back the opener sends ordered (RFC 8832 section 6); let it arrive.
  assert.ok(p.runUntil(() => p.b.channels.size === 1, { maxTimeMs: 5000, maxSteps: 1000 }));
  p.runUntil(() => false, { maxTimeMs: 500, maxSteps: 1000 });
  const pad = 'x'.repeat(1000);
  for (let i = 0; i < 300; i++) ch.send(`${i} ${pad}`);
  assert.ok(p.runUntil(() => got.length === 300, { maxTimeMs: 60_000, maxSteps: 50_000 }));
  const nums = got.map((v) => Number(String(v).split(' ')[0]));
  assert.deepEqual([...nums].sort((x, y) => x - y), Array.from({ length: 300 }, (_, i) => i));
  const inversions = nums.filter((v, i) => i > 0 && v < nums[i - 1]!).length;
  assert.ok(inversions > 0, 'with loss and jitter some messages overtake others');
});

for (const kind of ['maxRetransmits', 'maxPacketLifeTime'] as const) {
  for (const interleaving of [false, true]) {
    const limit = kind === 'maxRetransmits' ? 0 : 200;
    const ordered = kind === 'maxRetransmits';
    test(`partially reliable ${ordered ? 'ordered' : 'unordered'} (${kind}=${limit}, ${interleaving ? 'I-DATA' : 'DATA'}) under 30 % loss: gives up on lost messages, keeps its promise, never stalls`, () => {
      const p = new DcPair(5, { delayMs: 20, loss: 0.3 }, { interleaving });
      assert.ok(p.connect());
      assert.equal(p.a.association.interleaving, interleaving);
      const ch = p.a.createDataChannel('pr', { [kind]: limit, ordered });
      let got: unknown[] = [];
      p.b.on('datachannel', (ev) => (got = collect(ev.channel)));
      assert.ok(p.runUntil(() => p.b.channels.size === 1, { maxTimeMs: 60_000, maxSteps: 10_000 }));
      p.runUntil(() => false, { maxTimeMs: 200, maxSteps: 1000 });
      const pad = 'x'.repeat(300);
      const sentAt: number[] = [];
      const arrivedAt: number[] = [];
      p.b.channels.get(ch.id!)!.on('message', (ev) => (arrivedAt[Number(String(ev.data).split(' ')[0])] = p.now));
      // Paced: 10 messages every 50 ms, so the queue does not simply expire behind a collapsed cwnd.
      for (let i = 0; i < 400; i++) {
        sentAt.push(p.now);
        ch.send(`${i} ${pad}`);
        if (i % 10 === 9) p.runUntil(() => false, { maxTimeMs: 50, maxSteps: 1000 });
      }
      p.runUntil(() => false, { maxTimeMs: 120_000, maxSteps: 40_000 });
      if (!ordered) {
        // Nothing is (re)transmitted after the lifetime and unordered delivery does not wait,
        // so delivery is bounded by lifetime + one-way delay.
        arrivedAt.forEach((t, i) => assert.ok(t - sentAt[i]! <= limit + 20 + 1, `message ${i} took ${t - sentAt[i]!} ms`));
      }
      const nums = got.filter((v) => v !== 'after').map((v) => Number(String(v).split(' ')[0]));
      assert.ok(nums.length < 400, `some messages were abandoned (${nums.length} of 400 arrived)`);
      assert.ok(nums.length > 100, `most messages still arrive (${nums.length})`);
      if (ordered) for (let i = 1; i < nums.length; i++) assert.ok(nums[i]! > nums[i - 1]!, 'ordered channel keeps order');
      assert.ok(p.a.association.stats.forwardTsnSent > 0);
      assert.equal(p.a.association.bufferedAmount(ch.id!), 0);
      // The channel is not stalled: fresh messages still get through (each may be lost once).
      for (let i = 0; i < 20 && !got.includes('after'); i++) {
        ch.send('after');
        p.runUntil(() => got.includes('after'), { maxTimeMs: 2_000, maxSteps: 2_000 });
      }
      assert.ok(got.includes('after'));
    });
  }
}

test('reliable ordered channel under 30 % loss delivers everything in order', () => {
  const p = new DcPair(6, { delayMs: 20, loss: 0.3 });
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('r');
  let got: unknown[] = [];
  p.b.on('datachannel', (ev) => (got = collect(ev.channel)));
  for (let i = 0; i < 200; i++) ch.send(String(i));
  assert.ok(p.runUntil(() => got.length === 200, { maxTimeMs: 600_000, maxSteps: 50_000 }));
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => String(i)));
});

test('1000 channels open, exchange a message each way and close', () => {
  const p = new DcPair(7, { delayMs: 5 });
  assert.ok(p.connect());
  const local = Array.from({ length: 1000 }, (_, i) => p.a.createDataChannel(`c${i}`));
  const remote = new Map<string, RTCDataChannel>();
  const echoed = new Set<string>();
  p.b.on('datachannel', ({ channel }) => {
    remote.set(channel.label, channel);
    channel.on('message', (ev) => channel.send(`echo ${String(ev.data)}`));
  });
  for (const ch of local) ch.on('message', (ev) => echoed.add(String(ev.data)));
  for (const ch of local) ch.send(ch.label);
  assert.ok(p.runUntil(() => echoed.size === 1000, { maxTimeMs: 120_000, maxSteps: 50_000 }));
  assert.equal(remote.size, 1000);
  assert.equal(new Set(local.map((c) => c.id)).size, 1000);
  let closedRemote = 0;
  for (const ch of remote.values()) ch.on('close', () => closedRemote++);
  for (const ch of local) ch.close();
  assert.ok(p.runUntil(() => closedRemote === 1000 && local.every((c) => c.readyState === 'closed'), { maxTimeMs: 120_000, maxSteps: 50_000 }));
  assert.equal(p.a.channels.size, 0);
  assert.equal(p.b.channels.size, 0);
  // Freed ids are reused.
  const again = p.a.createDataChannel('again');
  assert.equal(again.id, 0);
});

test('close() drains queued data before the stream reset, and the remote sees closing then close', () => {
  const p = new DcPair(8, { delayMs: 20, loss: 0.1 });
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('drain');
  let r: RTCDataChannel | undefined;
  const events: string[] = [];
  let count = 0;
  p.b.on('datachannel', (ev) => {
    r = ev.channel;
    r.on('message', () => count++);
    r.on('closing', () => events.push('closing'));
    r.on('close', () => events.push('close'));
  });
  for (let i = 0; i < 100; i++) ch.send(Buffer.alloc(4000, i));
  ch.close();
  assert.equal(ch.readyState, 'closing');
  assert.throws(() => ch.send('late'), { name: 'InvalidStateError' });
  assert.ok(p.runUntil(() => ch.readyState === 'closed' && r?.readyState === 'closed', { maxTimeMs: 120_000, maxSteps: 50_000 }));
  assert.equal(count, 100);
  assert.deepEqual(events, ['closing', 'close']);
});

test('bufferedAmount rises on send and bufferedamountlow fires when it drains', () => {
  const p = new DcPair(9, { delayMs: 10 });
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('b');
  ch.bufferedAmountLowThreshold = 10_000;
  let low = 0;
  ch.onbufferedamountlow = () => low++;
  for (let i = 0; i < 20; i++) ch.send(Buffer.alloc(5000));
  assert.ok(ch.bufferedAmount >= 90_000);
  assert.ok(p.runUntil(() => ch.bufferedAmount === 0, { maxTimeMs: 60_000, maxSteps: 10_000 }));
  assert.equal(low, 1);
});

test('association abort closes every channel with an error event', () => {
  const p = new DcPair(10);
  assert.ok(p.connect());
  const ch = p.a.createDataChannel('x');
  let r: RTCDataChannel | undefined;
  p.b.on('datachannel', (ev) => (r = ev.channel));
  assert.ok(p.runUntil(() => r !== undefined, { maxTimeMs: 5000, maxSteps: 1000 }));
  const seen: string[] = [];
  r!.on('error', (e) => seen.push(`error:${e.error.message}`));
  r!.on('close', () => seen.push('close'));
  p.a.association.abort(p.now, 'test abort');
  p.flush();
  assert.ok(p.runUntil(() => r!.readyState === 'closed', { maxTimeMs: 5000, maxSteps: 100 }));
  assert.equal(seen.length, 2);
  assert.match(seen[0]!, /test abort/);
  assert.equal(ch.readyState, 'closed');
});

for (const error of [false, true]) {
  test(`the DTLS transport under the association ${error ? 'failed' : 'closed'}: channels close at once, nothing is sent, no timer is left`, () => {
    const p = new DcPair(11);
    assert.ok(p.connect());
    const ch = p.a.createDataChannel('x');
    let r: RTCDataChannel | undefined;
    p.b.on('datachannel', (ev) => (r = ev.channel));
    assert.ok(p.runUntil(() => r !== undefined, { maxTimeMs: 5000, maxSteps: 1000 }));
    ch.send('queued when the transport ends');
    const seen: string[] = [];
    ch.on('error', (e) => seen.push(`error:${e.error.name}`));
    ch.on('close', () => seen.push('close'));
    let closed: { reason: string; error: boolean } | undefined;
    p.a.on('close', (e) => (closed = e));
    p.a.transportEnded(p.now, 'DTLS transport closed (close_notify)', error);
    assert.deepEqual(seen, error ? ['error:OperationError', 'close'] : ['close']);
    assert.deepEqual(closed, { reason: 'DTLS transport closed (close_notify)', error });
    assert.equal(p.a.association.state, 'closed');
    assert.equal(p.a.pollTransmit(), undefined, 'no ABORT: nothing could carry it');
    assert.equal(p.a.pollTimeout(), undefined);
    // Idempotent.
    p.a.transportEnded(p.now, 'again', !error);
    assert.deepEqual(p.a.association.closeReason, { reason: 'DTLS transport closed (close_notify)', error });
  });
}

test('the 100-message echo plan (1 B to 60000 B, fragment edges) arrives once, in order, intact and typed under loss, reordering and duplication, both directions', () => {
  const plan = messagePlan();
  const sent = plan.map((m, i) => ({ text: !m.binary, bytes: messageBytes(i, m.size) }));
  const links = [
    { loss: 0.05, delayMs: 10, jitterMs: 5 },
    { loss: 0.1, delayMs: 20, reorder: 0.1, reorderDelayMs: 30, duplicate: 0.05 },
    { loss: 0.02, burstLoss: 0.03, burstLength: 4, delayMs: 5, jitterMs: 10, duplicate: 0.02 },
    { loss: 0.03, delayMs: 1, bytesPerMs: 500, queueBytes: 60_000 },
  ];
  for (const [li, link] of links.entries()) {
    for (const seed of [1, 2, 3]) {
      for (const dir of ['a→b', 'b→a'] as const) {
        const where = `link ${li}, seed ${seed}, ${dir}`;
        const p = new DcPair(seed, link);
        assert.ok(p.connect(), where);
        const [from, to] = dir === 'a→b' ? [p.a, p.b] : [p.b, p.a];
        const ch = from.createDataChannel('echo');
        let r: RTCDataChannel | undefined;
        let got: unknown[] = [];
        to.on('datachannel', (ev) => {
          r = ev.channel;
          r.binaryType = 'nodebuffer';
          got = collect(r);
        });
        assert.ok(p.runUntil(() => r !== undefined && ch.readyState === 'open', { maxTimeMs: 60_000, maxSteps: 100_000 }), where);
        for (const m of sent) ch.send(m.text ? m.bytes.toString('latin1') : m.bytes);
        assert.ok(p.runUntil(() => got.length >= sent.length, { maxTimeMs: 300_000, maxSteps: 1_000_000 }), `${where}: ${got.length} of ${sent.length}`);
        p.runUntil(() => false, { maxTimeMs: 2000, maxSteps: 10_000 });
        assert.equal(got.length, sent.length, `${where}: no message delivered twice`);
        got.forEach((g, i) => {
          const want = sent[i]!;
          const ok = want.text ? typeof g === 'string' && g === want.bytes.toString('latin1') : Buffer.isBuffer(g) && g.equals(want.bytes);
          assert.ok(ok, `${where}: message ${i} (${want.text ? 'string' : 'binary'}, ${want.bytes.length} B) arrived as a ${typeof g} of ${typeof g === 'string' ? g.length : (g as Buffer).length} B`);
        });
      }
    }
  }
});
