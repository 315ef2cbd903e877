// SrtpSession through the addon: round trips per profile (per packet and batched), RFC 5761
// demux, ROC across the wrap, replay, typed misuse errors, close/wipe, counters, and hostile
// input (random bytes, truncation, bit flips) that must be dropped and counted, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PwtError } from '../../../lib/common/errors.js';
import {
  SrtpBatch, SrtpCounterIndex, SrtpPacketKind, SrtpSession, SrtpStatus, srtpProfileLengths, SRTP_MAX_OVERHEAD,
} from '../../../lib/srtp/index.js';
import { ALL_PROFILES, keyMaterial, rtcp, rtp, sessionPair } from './srtp-fixtures.js';

for (const profile of ALL_PROFILES) {
  test(`profile ${profile}: per-packet round trip of RTP 0..1500 B payload with CSRCs, padding, extensions`, () => {
    const { tx, rx } = sessionPair(profile);
    const out = Buffer.alloc(1600);
    const back = Buffer.alloc(1600);
    const overhead = srtpProfileLengths(profile)!.rtpOverhead;
    assert.equal(tx.rtpOverhead, overhead);
    for (let payload = 0; payload <= 1500; payload += 7) {
      const clear = rtp({
        seq: 60000 + payload, ssrc: 0xabc, payload,
        csrcs: payload % 3, extensionWords: payload % 2 ? payload % 4 : undefined, padding: payload % 5 === 0 ? 4 : 0,
      });
      const n = tx.protectRtp(clear, out);
      assert.equal(n, clear.length + overhead);
      const header = clear.length - payload - (payload % 5 === 0 ? 4 : 0);
      assert.deepEqual(out.subarray(0, header), clear.subarray(0, header), 'header and extensions stay clear');
      const m = rx.unprotectRtp(out.subarray(0, n), back);
      assert.equal(m, clear.length);
      assert.deepEqual(back.subarray(0, m), clear);
    }
    assert.equal(rx.readCounters()[SrtpCounterIndex.rtpUnprotected], 215);
  });

  test(`profile ${profile}: RTCP round trip, in place, with replay rejection`, () => {
    const { tx, rx } = sessionPair(profile);
    for (let body = 0; body <= 1200; body += 40) {
      const clear = rtcp(0x77, body);
      const buf = Buffer.alloc(clear.length + SRTP_MAX_OVERHEAD);
      clear.copy(buf);
      const n = tx.protectRtcp(buf.subarray(0, clear.length), buf);
      assert.equal(n, clear.length + srtpProfileLengths(profile)!.rtcpOverhead);
      const copy = Buffer.from(buf.subarray(0, n));
      const m = rx.unprotect(buf.subarray(0, n), buf);
      assert.equal(m, clear.length);
      assert.deepEqual(buf.subarray(0, m), clear);
      assert.equal(rx.unprotect(copy, buf), -SrtpStatus.replayed);
    }
    assert.equal(rx.dropped(SrtpStatus.replayed), 31);
  });

  test(`profile ${profile}: batch protect/unprotect of mixed RTP and RTCP in one call each`, () => {
    const { tx, rx } = sessionPair(profile);
    const batch = new SrtpBatch({ slots: 64 });
    const clears: Buffer[] = [];
    for (let i = 0; i < 64; i++) {
      const p = i % 4 === 3 ? rtcp(0x99, 4 * (i % 10)) : rtp({ seq: 65500 + i * 2, ssrc: 0x42, payload: i * 20 });
      clears.push(p);
      batch.set(i, p);
    }
    assert.equal(tx.protectBatch(batch, 64), 64);
    assert.ok(batch.results.every((r) => r === SrtpStatus.ok));
    // Corrupt packet 5 and duplicate packet 6 into slot 7.
    batch.buffer[batch.offsets[5]! + batch.lengths[5]! - 1]! ^= 0x01;
    batch.buffer.copyWithin(batch.offsets[7]!, batch.offsets[6]!, batch.offsets[6]! + batch.lengths[6]!);
    batch.lengths[7] = batch.lengths[6]!;
    assert.equal(rx.unprotectBatch(batch, 64), 62);
    assert.equal(batch.results[5], SrtpStatus.authFailed);
    assert.equal(batch.results[7], SrtpStatus.replayed);
    for (let i = 0; i < 64; i++) {
      if (i === 5 || i === 7) continue;
      assert.equal(batch.results[i], SrtpStatus.ok);
      assert.deepEqual(Buffer.from(batch.view(i)), clears[i]);
    }
    const stats = rx.stats();
    assert.equal(stats.dropped.authFailed, 1);
    assert.equal(stats.dropped.replayed, 1);
    assert.equal(stats.rtpUnprotected + stats.rtcpUnprotected, 62);
  });
}

test('RFC 5761: payload types 192..223 in byte 1 are RTCP, the rest RTP', () => {
  const { tx, rx } = sessionPair(0x0001);
  const out = Buffer.alloc(200);
  // RTP with marker + PT 95 (byte 1 = 223) would be taken for RTCP: protect it as RTP explicitly,
  // then the auto demux reads it as RTCP and drops it.
  const n = tx.protectRtp(rtp({ seq: 1, ssrc: 5, payload: 40, payloadType: 0x80 | 95 }), out);
  assert.ok(rx.unprotect(out.subarray(0, n), Buffer.alloc(200)) < 0);
  const m = tx.protectRtp(rtp({ seq: 2, ssrc: 5, payload: 40, payloadType: 0x80 | 96 }), out);
  assert.equal(rx.unprotect(out.subarray(0, m), Buffer.alloc(200)), m - 10);
});

test('ROC: sequence wrap with reordering and late pre-wrap packets (RFC 3711 appendix A)', () => {
  for (const profile of ALL_PROFILES) {
    const { tx, rx } = sessionPair(profile);
    const sent: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      const out = Buffer.alloc(200);
      const n = tx.protectRtp(rtp({ seq: (65531 + i) & 0xffff, ssrc: 1, payload: 30 }), out);
      sent.push(out.subarray(0, n));
    }
    for (const i of [0, 1, 5, 2, 6, 3, 4, 8, 7, 9]) {
      assert.ok(rx.unprotectRtp(sent[i]!, Buffer.alloc(200)) > 0, `packet ${i}`);
    }
    for (const i of [4, 5, 9]) assert.equal(rx.unprotectRtp(sent[i]!, Buffer.alloc(200)), -SrtpStatus.replayed);
  }
});

test('replay window: too old dropped, in-window late accepted once', () => {
  const { tx, rx } = sessionPair(0x0007, 128);
  const sent: Buffer[] = [];
  for (let s = 0; s < 300; s++) {
    const out = Buffer.alloc(100);
    sent.push(out.subarray(0, tx.protectRtp(rtp({ seq: s, ssrc: 3, payload: 10 }), out)));
  }
  const sink = Buffer.alloc(100);
  assert.ok(rx.unprotectRtp(sent[299]!, sink) > 0);
  assert.equal(rx.unprotectRtp(sent[171]!, sink), -SrtpStatus.tooOld);
  assert.ok(rx.unprotectRtp(sent[172]!, sink) > 0);
  assert.equal(rx.unprotectRtp(sent[172]!, sink), -SrtpStatus.replayed);
  assert.equal(rx.dropped(SrtpStatus.tooOld), 1);
});

test('misuse throws typed errors with stable codes', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof PwtError);
      return err.code;
    }
    return 'none';
  };
  const k = keyMaterial(0x0001, 1);
  const s = new SrtpSession();
  assert.equal(code(() => new SrtpSession({ replayWindow: 100 })), 'ERR_SRTP_OPTIONS');
  assert.equal(code(() => new SrtpSession({ maxStreams: 0 })), 'ERR_SRTP_OPTIONS');
  assert.equal(code(() => s.setKeys({ profile: 0x0005 as never, localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt })), 'ERR_SRTP_PROFILE');
  assert.equal(code(() => s.setKeys({ profile: 0x0001, localMasterKey: k.key.subarray(1), localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt })), 'ERR_SRTP_KEY_LENGTH');
  assert.equal(code(() => s.setKeys({ profile: 0x0007, localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt })), 'ERR_SRTP_KEY_LENGTH');
  assert.equal(code(() => s.protectRtp(rtp({ seq: 1, ssrc: 1, payload: 10 }), Buffer.alloc(100))), 'ERR_SRTP_NOT_KEYED');
  // Receiving before keys is network input: dropped and counted, not thrown.
  assert.equal(s.unprotect(Buffer.alloc(40, 0x80), Buffer.alloc(40)), -SrtpStatus.notKeyed);
  s.setKeys({ profile: 0x0001, localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt });
  assert.equal(s.keyed, true);
  const p = rtp({ seq: 1, ssrc: 1, payload: 10 });
  assert.equal(code(() => s.protectRtp(p, Buffer.alloc(p.length + 9))), 'ERR_SRTP_BUFFER_TOO_SMALL');
  assert.equal(code(() => s.protectRtp(p, Buffer.alloc(10))), 'ERR_SRTP_BUFFER_TOO_SMALL');
  assert.equal(code(() => s.protectRtp(Buffer.alloc(20), Buffer.alloc(100))), 'ERR_SRTP_MALFORMED_PACKET');
  assert.equal(code(() => s.protectRtp('x' as never, Buffer.alloc(100))), 'ERR_SRTP_BUFFER');
  const batch = new SrtpBatch({ slots: 4 });
  assert.equal(code(() => s.protectBatch(batch, 5)), 'ERR_SRTP_BATCH');
  assert.equal(code(() => s.protectBatch(batch, 1, 7 as never)), 'ERR_SRTP_KIND');
  assert.equal(code(() => new SrtpBatch({ slots: 0 })), 'ERR_SRTP_BATCH');
  s.close();
  assert.equal(s.keyed, false);
  assert.equal(s.closed, true);
  assert.equal(code(() => s.protectRtp(p, Buffer.alloc(100))), 'ERR_SRTP_CLOSED');
  assert.equal(code(() => s.unprotect(p, Buffer.alloc(100))), 'ERR_SRTP_CLOSED');
  assert.equal(code(() => s.setKeys({ profile: 0x0001, localMasterKey: k.key, localMasterSalt: k.salt, remoteMasterKey: k.key, remoteMasterSalt: k.salt })), 'ERR_SRTP_CLOSED');
  // Counters stay readable after close.
  assert.equal(s.dropped(SrtpStatus.notKeyed), 1);
  s.close();
});

test('batch layout errors are reported per packet, not thrown', () => {
  const { tx } = sessionPair(0x0001);
  const batch = new SrtpBatch({ slots: 3, slotSize: 64 });
  batch.set(0, rtp({ seq: 1, ssrc: 1, payload: 20 }));
  batch.set(1, rtp({ seq: 2, ssrc: 1, payload: 50 })); // 62 B: no room for a 10 B tag in 64
  batch.set(2, rtp({ seq: 3, ssrc: 1, payload: 20 }));
  batch.offsets[2] = 1_000_000;
  assert.equal(tx.protectBatch(batch, 3, SrtpPacketKind.rtp), 1);
  assert.deepEqual([...batch.results], [SrtpStatus.ok, SrtpStatus.bufferTooSmall, SrtpStatus.invalidArgument]);
  assert.equal(tx.readCounters()[SrtpCounterIndex.protectFailed], 1);
});

test('property: any RTP packet round-trips under every profile (fast-check)', () => {
  const sessions = new Map(ALL_PROFILES.map((p) => [p, sessionPair(p)]));
  let seq = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...ALL_PROFILES), fc.integer({ min: 0, max: 1400 }), fc.integer({ min: 0, max: 15 }),
      fc.option(fc.integer({ min: 0, max: 8 })), fc.integer({ min: 0, max: 0xffffffff }),
      (profile, payload, csrcs, ext, ssrc) => {
        const { tx, rx } = sessions.get(profile)!;
        const clear = rtp({ seq: seq++, ssrc: ssrc % 8, payload, csrcs, extensionWords: ext ?? undefined });
        const buf = Buffer.alloc(clear.length + SRTP_MAX_OVERHEAD);
        const n = tx.protectRtp(clear, buf);
        const m = rx.unprotectRtp(buf.subarray(0, n), buf);
        assert.equal(m, clear.length);
        assert.deepEqual(buf.subarray(0, m), clear);
      },
    ),
    { numRuns: 400, seed: 42 },
  );
});

test('hostile input: random bytes, truncations and bit flips are dropped and counted', () => {
  for (const profile of ALL_PROFILES) {
    const { tx, rx } = sessionPair(profile);
    let expected = 0;
    const sink = Buffer.alloc(2048);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        assert.ok(rx.unprotect(bytes, sink) < 0);
        expected++;
      }),
      { numRuns: 300, seed: 7 },
    );
    const good = Buffer.alloc(200);
    const n = tx.protectRtp(rtp({ seq: 9, ssrc: 9, payload: 60, csrcs: 1, extensionWords: 1 }), good);
    for (let len = 0; len < n; len++) {
      assert.ok(rx.unprotectRtp(good.subarray(0, len), sink) < 0);
      expected++;
    }
    for (let bit = 0; bit < n * 8; bit += 3) {
      const bad = Buffer.from(good.subarray(0, n));
      bad[bit >> 3]! ^= 1 << (bit & 7);
      assert.ok(rx.unprotect(bad, sink) < 0);
      expected++;
    }
    const c = rx.readCounters();
    let drops = 0;
    for (let i = 1; i <= 13; i++) drops += c[SrtpCounterIndex.droppedBase + i]!;
    assert.equal(drops, expected);
    assert.equal(c[SrtpCounterIndex.streams], 0, 'no stream state from unauthenticated packets');
    assert.ok(rx.unprotectRtp(good.subarray(0, n), sink) > 0, 'the genuine packet still passes');
  }
});

test('per-packet output buffer detached after use: refused with a typed error, no native access', () => {
  const { tx } = sessionPair(0x0007);
  const out = new Uint8Array(256);
  const p = rtp({ seq: 1, ssrc: 1, payload: 40 });
  assert.ok(tx.protectRtp(p, out) > 0);
  structuredClone(out.buffer, { transfer: [out.buffer] });
  assert.equal(out.length, 0);
  assert.throws(() => tx.protectRtp(p, out), (err: unknown) => err instanceof PwtError && err.code === 'ERR_SRTP_BUFFER_TOO_SMALL');
  // A fresh buffer rebinds and works.
  assert.ok(tx.protectRtp(p, new Uint8Array(256)) > 0);
});

test('a per-packet native function kept after its session is collected fails cleanly', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let session: SrtpSession | undefined = sessionPair(0x0001).tx;
  // The per-packet functions exist once a buffer is bound (the first per-packet call); only the
  // function is kept, not the native handle.
  assert.ok(session.protectRtp(rtp({ seq: 1, ssrc: 1, payload: 20 }), new Uint8Array(256)) > 0);
  const protectAt = (session.nativeHandle as { protectAt(kind: number, offset: number, length: number, capacity: number): number }).protectAt;
  session = undefined;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  // A capacity beyond the 256-byte bound buffer: refused whether or not the session is collected yet.
  assert.throws(() => protectAt(0, 0, 12, 1000), (err: unknown) =>
    ['ERR_SRTP_CLOSED', 'ERR_SRTP_BUFFER'].includes((err as { code?: string }).code ?? ''));
  assert.equal(session, undefined);
});

test('the per-packet native functions are made by the first per-packet call, not per session', () => {
  const { tx, rx } = sessionPair(0x0007);
  const handle = (s: SrtpSession): Record<string, unknown> => s.nativeHandle as Record<string, unknown>;
  assert.equal(typeof handle(tx).protectAt, 'undefined');
  assert.equal(typeof handle(rx).unprotectAt, 'undefined');
  const out = new Uint8Array(256);
  const packet = rtp({ seq: 7, ssrc: 9, payload: 40 });
  const n = tx.protectRtp(packet, out);
  assert.ok(n > packet.length);
  assert.equal(typeof handle(tx).protectAt, 'function');
  const clear = new Uint8Array(256);
  assert.equal(rx.unprotectRtp(out.subarray(0, n), clear), packet.length);
  assert.deepEqual(Buffer.from(clear.subarray(0, packet.length)), packet);
  tx.close();
  rx.close();
});
