// Hostile datagrams from the peer's OWN address and port (forged IPv4 source over a raw socket,
// raw-udp.py), so they pass the "authenticated source" gate and reach ICE, DTLS (RFC 6347 §4.1.2.7:
// invalid records are discarded) and SRTP (RFC 3711 §3.3: authentication, replay list). Classes:
// garbage, forged STUN, DTLS records without a valid MAC (plaintext data, alerts/close_notify,
// SCTP-looking payloads, ClientHello), RTP/RTCP with lying lengths, malformed SRTCP, replayed,
// truncated and tag-flipped copies of genuine SRTP/SRTCP, replayed genuine DTLS records.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { clientHello, dtlsRecord, forgeStun, garbage, lyingRtcp, lyingRtp, Prng, sctpLooking } from './forge.js';
import { RawUdp, type ChecksumMode, type Endpoint } from './raw-udp.js';
import { assertMoved, dropsOnly, FaultWatch, HostileSession, paced, pause, runAttack, type AttackResult } from './session.js';

let s: HostileSession | undefined;
let watch: FaultWatch;
let raw: RawUdp | undefined;
let skip: string | false = false;

before(async () => {
  watch = new FaultWatch();
  const r = await RawUdp.open();
  if (typeof r === 'string') skip = `raw sockets unavailable (${r}); run as root with python3`;
  else raw = r;
});

after(() => {
  raw?.close();
  s?.close();
  watch?.dispose();
});

async function session(): Promise<HostileSession> {
  if (!s || !s.healthy) {
    s?.close();
    s = await HostileSession.open();
  }
  return s;
}

/** Which side is attacked: pc2 with pc1's address forged, or pc1 with pc2's. */
type Target = 'pc2' | 'pc1';

function ends(sess: HostileSession, target: Target): { from: Endpoint; to: Endpoint } {
  return target === 'pc2' ? { from: sess.addr1, to: sess.addr2 } : { from: sess.addr2, to: sess.addr1 };
}

async function attack(name: string, target: Target, make: (sess: HostileSession) => Buffer[] | Promise<Buffer[]>): Promise<AttackResult & { count: number; sess: HostileSession }> {
  const sess = await session();
  const { from, to } = ends(sess, target);
  const d = await make(sess);
  const result = await runAttack(sess, watch, `spoofed ${target}: ${name}`, () => paced(d, async (chunk) => {
    await raw!.send(from, to, chunk);
  }), { target });
  const moved = target === 'pc2' ? result.moved2 : result.moved1;
  const other = target === 'pc2' ? result.moved1 : result.moved2;
  console.log(`RESULT spoofed | ${target} | ${name} | ${d.length} datagrams | target moved ${JSON.stringify(dropsOnly(moved))} | peer moved ${JSON.stringify(dropsOnly(other))}`);
  return { ...result, count: d.length, sess };
}

/** Every SRTP reason a received packet can be dropped for. */
const SRTP_DROPS = ['srtp.tooShort', 'srtp.malformed', 'srtp.authFailed', 'srtp.replayed', 'srtp.tooOld', 'srtp.streamLimit'];

function movedOf(r: AttackResult, target: Target): Record<string, number> {
  return target === 'pc2' ? r.moved2 : r.moved1;
}

test('the raw-socket helper forges the source address (checksum 0 and computed)', async (t) => {
  if (skip) return t.skip(skip);
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const got: { from: number; text: string }[] = [];
  sink.on('message', (m, rinfo) => got.push({ from: rinfo.port, text: m.toString() }));
  try {
    const to = { address: '127.0.0.1', port: sink.address().port };
    for (const mode of ['zero', 'valid', 'bad'] as ChecksumMode[]) await raw!.send({ address: '127.0.0.1', port: 4242 }, to, [Buffer.from(`checksum ${mode}`)], mode);
    await pause(100);
    assert.deepEqual(got.filter((g) => g.text !== 'checksum bad'), [{ from: 4242, text: 'checksum zero' }, { from: 4242, text: 'checksum valid' }]);
    console.log(`RESULT harness | a datagram with a wrong UDP checksum was ${got.some((g) => g.text === 'checksum bad') ? 'delivered' : 'dropped by the kernel'}`);
  } finally {
    sink.close();
  }
});

for (const target of ['pc2', 'pc1'] as Target[]) {
  test(`${target}: garbage from the peer's address is dropped and counted`, { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const r = await attack('garbage', target, () => garbage(300, 11));
    const moved = movedOf(r, target);
    assertMoved(moved, ['transport.unknownFirstByte'], 1, 'garbage: unknown first byte');
    assertMoved(moved, ['ice.malformed', 'ice.bad-fingerprint'], 1, 'garbage: STUN range');
    assertMoved(moved, ['dtls.droppedMalformed'], 1, 'garbage: DTLS range');
    assertMoved(moved, ['transport.srtpRejected'], 1, 'garbage: RTP range');
  });

  test(`${target}: forged STUN from the peer's address is never answered and is counted`, { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const n = 20;
    const r = await attack('forged STUN', target, (sess) => {
      const [me, peer] = target === 'pc2' ? [sess.ice2, sess.ice1] : [sess.ice1, sess.ice2];
      const user = `${me.ufrag}:${peer.ufrag}`;
      const rep = (f: Parameters<typeof forgeStun>[0]): Buffer[] => Array.from({ length: n }, () => forgeStun(f));
      return [
        ...rep({ username: user, integrityKey: 'not-the-password-0123456', fingerprint: true, useCandidate: true }),
        ...rep({ username: user, integrityKey: me.pwd, corruptIntegrity: true, fingerprint: true, useCandidate: true }),
        ...rep({ username: user, integrityKey: me.pwd, fingerprint: true, corruptFingerprint: true }),
        ...rep({ username: `wrong:${peer.ufrag}`, integrityKey: me.pwd, fingerprint: true }),
        ...rep({ username: user, fingerprint: true, useCandidate: true }),
        ...rep({ cls: 2, fingerprint: true }),
        ...rep({ cls: 3, integrityKey: peer.pwd, fingerprint: true }),
        ...rep({ username: user, integrityKey: me.pwd, fingerprint: true, lie: 'attribute-length' }),
      ];
    });
    const moved = movedOf(r, target);
    assertMoved(moved, ['ice.bad-integrity'], 2 * n, 'bad integrity');
    assertMoved(moved, ['ice.bad-fingerprint'], n, 'bad fingerprint');
    assertMoved(moved, ['ice.unknown-ufrag'], n, 'wrong ufrag');
    assertMoved(moved, ['ice.no-integrity'], n, 'no integrity');
    assertMoved(moved, ['ice.unmatched-response'], 2 * n, 'unmatched responses');
    // An answer to a forged request would go to the real peer, which would drop it as unmatched.
    const peerMoved = target === 'pc2' ? r.moved1 : r.moved2;
    assert.equal(peerMoved['ice.unmatched-response'] ?? 0, 0, 'a forged request was answered');
  });

  test(`${target}: DTLS records without a valid MAC from the peer's address are discarded and counted`, { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const rng = new Prng(target === 'pc2' ? 21 : 22);
    const wellFormed: Buffer[] = [];
    const malformed: Buffer[] = [];
    for (let i = 0; i < 10; i++) {
      wellFormed.push(dtlsRecord(23, 0, 50 + i, Buffer.from(`plaintext application data ${i}`))); // epoch 0 data
      wellFormed.push(dtlsRecord(23, 1, 5_000_000 + i, sctpLooking(rng))); // SCTP-looking, no valid MAC
      wellFormed.push(dtlsRecord(21, 1, 6_000_000 + i, rng.bytes(26))); // encrypted-alert-looking
      wellFormed.push(dtlsRecord(21, 0, 70 + i, Buffer.from([1, 0]))); // plaintext close_notify
      wellFormed.push(dtlsRecord(21, 0, 90 + i, Buffer.from([2, 40]))); // plaintext fatal handshake_failure
      wellFormed.push(clientHello(i, rng));
      wellFormed.push(dtlsRecord(23, 1, 8_000_000 + i, Buffer.alloc(0))); // empty record
      malformed.push(dtlsRecord(23, 1, 9_000_000 + i, rng.bytes(20), 300)); // length beyond the datagram
      malformed.push(Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0])); // short header
      malformed.push(dtlsRecord(23, 1, 1 + i, rng.bytes(20)).subarray(0, 12));
    }
    const r = await attack('DTLS records without a valid MAC', target, () => [...wellFormed, ...malformed]);
    const moved = movedOf(r, target);
    assertMoved(moved, ['dtls.droppedMalformed'], malformed.length, 'malformed DTLS records');
    assertMoved(moved, ['dtls.datagramsIn'], wellFormed.length + malformed.length, 'DTLS datagrams reached the engine');
    // Well-formed records that OpenSSL discards (wrong epoch, bad MAC) must be counted too.
    const dropKeys = Object.keys(moved).filter((k) => k.startsWith('dtls.dropped') && k !== 'dtls.droppedMalformed');
    assertMoved(moved, dropKeys.length > 0 ? dropKeys : ['dtls.dropped<any reason for a record OpenSSL discarded>'], wellFormed.length, 'well-formed records without a valid MAC');
  });

  test(`${target}: short protected DTLS records (epoch 1, body shorter than the AEAD nonce + tag) are dropped, the session survives`, { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const rng = new Prng(target === 'pc2' ? 23 : 24);
    const d: Buffer[] = [];
    for (const type of [21, 22, 23]) {
      for (const len of [1, 2, 8, 16, 23]) d.push(dtlsRecord(type, 1, 7_000_000 + d.length, type === 21 && len === 2 ? Buffer.from([1, 0]) : rng.bytes(len)));
    }
    const r = await attack('short protected DTLS records', target, () => d);
    assertMoved(movedOf(r, target), ['dtls.droppedMalformed'], d.length, 'short protected records');
  });

  test(`${target}: RTP/RTCP with lying lengths and malformed SRTCP from the peer's address are dropped and counted`, { timeout: 30_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const rng = new Prng(target === 'pc2' ? 31 : 32);
    const r = await attack('RTP/RTCP lying lengths, malformed SRTCP', target, (sess) => {
      const ssrcs = target === 'pc2' ? [sess.ssrcs.audio1, sess.ssrcs.video1] : [sess.ssrcs.audio2];
      const d: Buffer[] = [];
      for (let i = 0; i < 10; i++) for (const ssrc of ssrcs) d.push(...lyingRtp(ssrc, rng), ...lyingRtcp(ssrc, rng));
      return d;
    });
    const moved = movedOf(r, target);
    assertMoved(moved, ['transport.srtpRejected'], r.count, 'media from the peer address');
    assertMoved(moved, SRTP_DROPS, r.count, 'SRTP reasons');
  });
}

test('pc2: replayed, truncated and tag-flipped copies of genuine SRTP/SRTCP are dropped and counted', { timeout: 30_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const sess = await session();
  // Sniff what pc1 really sends to pc2 (SRTP and, thanks to the PLIs below, SRTCP).
  const capturing = raw!.capture(sess.addr1, sess.addr2, 80, 2000, 128, 191);
  await pause(100);
  for (let i = 0; i < 5; i++) {
    sess.pc1.getTransceivers()[0]!.sender.sendRtcp(Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]));
    await pause(20);
  }
  const genuine = await capturing;
  assert.ok(genuine.length >= 40, `sniffed only ${genuine.length} SRTP packets`);
  const rtcp = genuine.filter((p) => p[1]! >= 192 && p[1]! <= 223);
  const copies: Buffer[] = [];
  const truncated: Buffer[] = [];
  const flipped: Buffer[] = [];
  for (const p of genuine) {
    copies.push(Buffer.from(p));
    truncated.push(p.subarray(0, p.length - 1), p.subarray(0, p.length - 10), p.subarray(0, 12));
    const f = Buffer.from(p);
    f[f.length - 1]! ^= 0x01;
    flipped.push(f);
  }
  const r = await attack('replayed/truncated/flipped SRTP', 'pc2', () => [...copies, ...truncated, ...flipped]);
  assertMoved(r.moved2, ['srtp.replayed', 'srtp.tooOld'], copies.length, 'replayed genuine SRTP/SRTCP');
  // The replay check runs before authentication (RFC 3711 §3.3 step 2), so a damaged copy of a
  // packet already received counts as replayed; together every copy is an SRTP drop.
  assertMoved(r.moved2, SRTP_DROPS, r.count, 'replayed/truncated/flipped');
  assertMoved(r.moved2, ['transport.srtpRejected'], r.count, 'all rejected');
  console.log(`RESULT spoofed | pc2 | sniffed ${genuine.length} genuine packets (${rtcp.length} SRTCP)`);
});

test('pc2: replayed genuine DTLS records (SCTP data) are discarded, no message is delivered twice', { timeout: 30_000 }, async (t) => {
  if (skip) return t.skip(skip);
  const sess = await session();
  const genuine = await raw!.capture(sess.addr1, sess.addr2, 40, 2000, 20, 63);
  assert.ok(genuine.length >= 20, `sniffed only ${genuine.length} DTLS records`);
  const r = await attack('replayed genuine DTLS records', 'pc2', () => genuine.map((p) => Buffer.from(p)));
  // The traffic check already failed on any message delivered twice; the discard must be counted.
  const dropKeys = Object.keys(r.moved2).filter((k) => k.startsWith('dtls.dropped'));
  assertMoved(r.moved2, dropKeys.length > 0 ? dropKeys : ['dtls.dropped<any reason for a replayed record>'], genuine.length, 'replayed DTLS records');
});
