// Hostile datagrams from a stranger's address (a plain UDP socket ICE never authenticated) at a
// live session: garbage, forged STUN (RFC 8489/8445: bad integrity, bad fingerprint, wrong ufrag,
// no integrity, unmatched responses), DTLS records (RFC 6347), RTP/RTCP with lying lengths and
// malformed SRTCP (RFC 3550, RFC 3711). Nothing may be answered; everything is dropped and counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { clientHello, dtlsRecord, forgeStun, garbage, lyingRtcp, lyingRtp, Prng, rtp, sctpLooking } from './forge.js';
import { RawUdp } from './raw-udp.js';
import { assertMoved, counters, dropsOnly, FaultWatch, HostileSession, paced, pause, runAttack } from './session.js';

let s: HostileSession;
let watch: FaultWatch;
let stranger: Socket;
let answers = 0;

before(async () => {
  watch = new FaultWatch();
  s = await HostileSession.open();
  stranger = createSocket('udp4');
  stranger.on('message', () => answers++);
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
});

after(() => {
  stranger?.close();
  s?.close();
  watch?.dispose();
});

/** A fresh session when an earlier class broke this one (that class has failed already). */
async function session(): Promise<HostileSession> {
  if (!s.healthy) {
    s.close();
    s = await HostileSession.open();
  }
  return s;
}

function sendAll(to: number): (chunk: readonly Buffer[]) => Promise<void> {
  return async (chunk) => {
    for (const d of chunk) await new Promise<void>((r) => stranger.send(d, to, '127.0.0.1', () => r()));
  };
}

async function attack(name: string, datagrams: Buffer[]): Promise<ReturnType<typeof runAttack>> {
  const sess = await session();
  const answersBefore = answers;
  const result = await runAttack(sess, watch, `stranger: ${name}`, () => paced(datagrams, sendAll(sess.addr2.port)));
  await pause(20);
  assert.equal(answers - answersBefore, 0, `${name}: the stranger got an answer`);
  console.log(`RESULT stranger | ${name} | ${datagrams.length} datagrams | pc2 moved ${JSON.stringify(dropsOnly(result.moved2))}`);
  return result;
}

test('garbage of every first-byte range is dropped and counted', { timeout: 30_000 }, async () => {
  const d = garbage(300, 1);
  const { moved2 } = await attack('garbage', d);
  assertMoved(moved2, ['transport.unknownFirstByte'], d.filter((b) => b.length === 0 || (b[0]! > 3 && b[0]! < 20) || (b[0]! > 63 && b[0]! < 128) || b[0]! > 191).length, 'garbage');
  assertMoved(moved2, ['transport.unauthenticatedSource'], d.filter((b) => b.length > 0 && ((b[0]! >= 20 && b[0]! <= 63) || (b[0]! >= 128 && b[0]! <= 191))).length, 'garbage');
  assertMoved(moved2, ['ice.malformed', 'ice.bad-fingerprint'], d.filter((b) => b.length > 0 && b[0]! <= 3).length, 'garbage');
});

test('forged STUN is never answered and is counted by reason', { timeout: 30_000 }, async () => {
  const sess = await session();
  const user = `${sess.ice2.ufrag}:${sess.ice1.ufrag}`;
  const n = 20;
  const rep = (f: Parameters<typeof forgeStun>[0]): Buffer[] => Array.from({ length: n }, () => forgeStun(f));
  const d = [
    ...rep({ username: user, integrityKey: 'not-the-password-0123456', fingerprint: true, useCandidate: true }), // bad integrity
    ...rep({ username: user, integrityKey: sess.ice2.pwd, corruptIntegrity: true, fingerprint: true }), // right key, flipped MAC bit
    ...rep({ username: user, integrityKey: sess.ice2.pwd, fingerprint: true, corruptFingerprint: true }), // bad fingerprint
    ...rep({ username: `wrong:${sess.ice1.ufrag}`, integrityKey: sess.ice2.pwd, fingerprint: true }), // wrong ufrag
    ...rep({ username: user, fingerprint: true, useCandidate: true }), // valid-looking, no integrity
    ...rep({ fingerprint: true }), // no username, no integrity
    ...rep({ cls: 2, fingerprint: true }), // success response nobody asked for
    ...rep({ cls: 3, integrityKey: sess.ice1.pwd, fingerprint: true }), // error response nobody asked for
    ...rep({ method: 0x0003, username: user, integrityKey: sess.ice2.pwd, fingerprint: true }), // Allocate: unexpected method
    ...rep({ username: user, integrityKey: sess.ice2.pwd, fingerprint: true, lie: 'header-length' }),
    ...rep({ username: user, integrityKey: sess.ice2.pwd, fingerprint: true, lie: 'attribute-length' }),
  ];
  const { moved2 } = await attack('forged STUN', d);
  assertMoved(moved2, ['ice.bad-integrity'], 2 * n, 'bad integrity');
  assertMoved(moved2, ['ice.bad-fingerprint'], n, 'bad fingerprint');
  assertMoved(moved2, ['ice.unknown-ufrag'], n, 'wrong ufrag');
  assertMoved(moved2, ['ice.no-integrity'], 2 * n, 'no integrity');
  assertMoved(moved2, ['ice.unmatched-response'], 2 * n, 'unmatched responses');
  assertMoved(moved2, ['ice.unexpected-method'], n, 'unexpected method');
  assertMoved(moved2, ['ice.malformed'], 2 * n, 'lying lengths');
});

test('DTLS records from a stranger (plaintext data, short, truncated, ClientHello) are dropped and counted', { timeout: 30_000 }, async () => {
  const r = new Prng(3);
  const d: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    d.push(dtlsRecord(23, 0, 100 + i, Buffer.from(`plaintext application data ${i}`)));
    d.push(dtlsRecord(23, 1, 1000 + i, sctpLooking(r)));
    d.push(dtlsRecord(21, 1, 2000 + i, r.bytes(26)));
    d.push(dtlsRecord(22, 0, i, r.bytes(40), 400)); // header longer than the datagram
    d.push(Buffer.from([22, 0xfe, 0xfd, 0, 0])); // shorter than a record header
    d.push(clientHello(i, r));
  }
  const { moved2 } = await attack('DTLS records', d);
  assertMoved(moved2, ['transport.unauthenticatedSource'], d.length, 'DTLS from a stranger');
});

test('RTP/RTCP with lying lengths and malformed SRTCP from a stranger are dropped and counted', { timeout: 30_000 }, async () => {
  const sess = await session();
  const r = new Prng(4);
  const d: Buffer[] = [];
  for (let i = 0; i < 10; i++) {
    for (const ssrc of [sess.ssrcs.audio1, sess.ssrcs.video1]) d.push(...lyingRtp(ssrc, r), ...lyingRtcp(ssrc, r));
  }
  const { moved2 } = await attack('RTP/RTCP lying lengths, malformed SRTCP', d);
  assertMoved(moved2, ['transport.unauthenticatedSource'], d.length, 'media from a stranger');
});

test('a genuine STUN check replayed from a stranger does not move the session, and does not let the stranger in', { timeout: 45_000 }, async (t) => {
  const raw = await RawUdp.open();
  if (typeof raw === 'string') return t.skip(`raw sockets unavailable (${raw}); run as root with python3`);
  try {
    const sess = await session();
    // A consent check of pc1 (RFC 7675 §5.1: every 4–6 s) sniffed on the way to pc2. The window is
    // three intervals: the capture process starts late on a loaded machine.
    const checks = await raw.capture(sess.addr1, sess.addr2, 1, 15_000, 0, 0, 0x01);
    assert.equal(checks.length, 1, 'no consent check sniffed within 15 s');
    const pair = (await counters(sess.pc2)).transport.selectedCandidatePairId;
    const r = new Prng(6);
    // Records long enough to hold a nonce and tag (the short ones are the spoofed suite's class).
    const records = [24, 40, 100].map((len, i) => dtlsRecord(i === 0 ? 21 : 23, 1, 7_000_000 + i, r.bytes(len)));
    const media = Array.from({ length: 10 }, (_, i) => rtp(0x80, 111, 100 + i, sess.ssrcs.audio1, r.bytes(60)));
    const { moved2 } = await runAttack(sess, watch, 'stranger: replayed consent check, then DTLS and SRTP', async () => {
      for (let i = 0; i < 5; i++) await sendAll(sess.addr2.port)([checks[0]!]);
      await pause(100);
      await sendAll(sess.addr2.port)([...media, ...records]);
    });
    console.log(`RESULT stranger | replayed consent check + DTLS/SRTP from the stranger | answered ${answers} | pc2 moved ${JSON.stringify(dropsOnly(moved2))}`);
    assert.equal((await counters(sess.pc2)).transport.selectedCandidatePairId, pair, 'the selected pair changed');
    // ICE may answer an authenticated request from anywhere (RFC 8445 §7.3), but only a valid pair
    // may carry DTLS and media: the stranger's datagrams must stay outside.
    assertMoved(moved2, ['transport.unauthenticatedSource'], media.length + records.length, 'DTLS and media from the stranger after the replay');
  } finally {
    raw.close();
  }
});
