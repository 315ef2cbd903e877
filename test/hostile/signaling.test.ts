// Garbage on the signaling path of a live session: setRemoteDescription with malformed or
// JSEP-invalid SDP (RFC 8866 grammar, RFC 8829 §5.10 m-section rules, RFC 8839 ice-char) must
// reject with a typed error and change nothing; addIceCandidate with garbage (RFC 8839 §5.1) must
// reject with a typed error or be ignored (a parsable line ICE cannot use: ignored and counted in
// pwtRemoteCandidatesIgnored). The session stays connected and traffic keeps flowing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RTCSessionDescriptionInit } from '../../lib/peer/index.js';
import { Prng } from './forge.js';
import { counters, FaultWatch, HostileSession, pause } from './session.js';

const ERROR_NAMES = new Set(['InvalidStateError', 'InvalidAccessError', 'InvalidModificationError', 'OperationError', 'SyntaxError', 'TypeError', 'RangeError', 'NotSupportedError', 'DataError']);

let s: HostileSession;
let watch: FaultWatch;

before(async () => {
  watch = new FaultWatch();
  s = await HostileSession.open();
});

after(() => {
  s?.close();
  watch?.dispose();
});

async function session(): Promise<HostileSession> {
  if (!s.healthy) {
    s.close();
    s = await HostileSession.open();
  }
  return s;
}

function assertTyped(err: unknown, what: string): void {
  assert.ok(err instanceof Error, `${what}: threw a non-Error ${String(err)}`);
  const e = err as Error & { code?: unknown };
  assert.ok(ERROR_NAMES.has(e.name), `${what}: error name ${e.name} (${e.message})`);
  assert.ok(typeof e.code === 'string' && e.code.startsWith('ERR_'), `${what}: error without a stable code (${e.name}: ${e.message})`);
}

function ufragOf(sdp: string | undefined): string | undefined {
  return sdp === undefined ? undefined : /a=ice-ufrag:(\S+)/.exec(sdp)?.[1];
}

/** Applies `desc` to pc2 and checks: typed rejection, nothing changed, session alive, traffic flowing. */
async function garbageDescription(name: string, desc: unknown): Promise<void> {
  const sess = await session();
  const pc = sess.pc2;
  const faults = watch.faults.length;
  const before = { signaling: pc.signalingState, remote: pc.remoteDescription?.sdp, local: pc.localDescription?.sdp, transceivers: pc.getTransceivers().length };
  let accepted = false;
  try {
    await pc.setRemoteDescription(desc as RTCSessionDescriptionInit);
    accepted = true;
  } catch (err) {
    assertTyped(err, name);
    console.log(`RESULT sdp | ${name} | ${(err as Error).name} ${(err as { code?: string }).code}`);
  }
  const afterState = { signaling: pc.signalingState, remote: pc.remoteDescription?.sdp, local: pc.localDescription?.sdp, transceivers: pc.getTransceivers().length };
  if (accepted) console.log(`RESULT sdp | ${name} | ACCEPTED (signaling ${afterState.signaling})`);
  // Undo what a failing case applied, so that the report names the first defect only.
  if (pc.signalingState === 'have-remote-offer') await pc.setRemoteDescription({ type: 'rollback' }).catch(() => undefined);
  assert.equal(accepted, false, `${name}: accepted`);
  assert.equal(afterState.signaling, before.signaling, `${name}: signaling state changed`);
  assert.equal(afterState.remote, before.remote, `${name}: remote description changed`);
  assert.equal(ufragOf(afterState.local), ufragOf(before.local), `${name}: local ICE credentials changed (ICE restarted)`);
  assert.equal(afterState.transceivers, before.transceivers, `${name}: transceivers changed`);
  await sess.assertConnected(name);
  await sess.verifyFlow({ lossAllowed: false, what: name });
  watch.assertNone(faults, name);
}

/** The offer pc1 sent, as the base of JSEP-invalid variants. */
function offer(): string {
  return s.pc1.localDescription!.sdp;
}

function lines(sdp: string): string[] {
  return sdp.split('\r\n').filter((l) => l !== '');
}

const garbageInputs: [string, () => unknown][] = [
  ['null description', () => null],
  ['undefined description', () => undefined],
  ['empty object', () => ({})],
  ['offer without sdp', () => ({ type: 'offer' })],
  ['sdp is a number', () => ({ type: 'offer', sdp: 42 })],
  ['sdp is an object', () => ({ type: 'offer', sdp: { toString: () => 'v=0' } })],
  ['unknown type', () => ({ type: 'bogus', sdp: offer() })],
  ['pranswer', () => ({ type: 'pranswer', sdp: offer() })],
  ['answer in stable state', () => ({ type: 'answer', sdp: offer() })],
  ['empty sdp', () => ({ type: 'offer', sdp: '' })],
  ['one word', () => ({ type: 'offer', sdp: 'hello' })],
  ['NUL bytes', () => ({ type: 'offer', sdp: '\0'.repeat(200) })],
  ['random bytes', () => ({ type: 'offer', sdp: new Prng(9).bytes(4096).toString('latin1') })],
  ['2 MiB of attributes', () => ({ type: 'offer', sdp: offer() + 'a=x-junk:'.padEnd(1000, 'z').concat('\r\n').repeat(2100) })],
  ['truncated at 25%', () => ({ type: 'offer', sdp: offer().slice(0, Math.floor(offer().length / 4)) })],
  ['truncated mid-line at 50%', () => ({ type: 'offer', sdp: offer().slice(0, Math.floor(offer().length / 2)) })],
  ['truncated at 75% of the lines', () => ({ type: 'offer', sdp: lines(offer()).slice(0, Math.floor(lines(offer()).length * 0.75)).join('\r\n') + '\r\n' })],
  ['lines joined by bare CR', () => ({ type: 'offer', sdp: offer().replace(/\r\n/g, '\r') })],
  ['m= with port 99999 and no formats', () => ({ type: 'offer', sdp: offer().replace(/^m=audio \d+ [^\r]*/m, 'm=audio 99999 UDP/TLS/RTP/SAVPF') })],
  ['rtpmap payload type 300', () => ({ type: 'offer', sdp: offer().replace(/a=rtpmap:111 /, 'a=rtpmap:300 ') })],
  ['fingerprint that is not hex', () => ({ type: 'offer', sdp: offer().replace(/a=fingerprint:sha-256 \S+/g, 'a=fingerprint:sha-256 ZZ:ZZ') })],
  ['no fingerprint', () => ({ type: 'offer', sdp: offer().replace(/a=fingerprint:[^\r]*\r\n/g, '') })],
  ['no ICE credentials', () => ({ type: 'offer', sdp: offer().replace(/a=ice-(ufrag|pwd):[^\r]*\r\n/g, '') })],
  ['ice-ufrag with characters outside ice-char', () => ({ type: 'offer', sdp: offer().replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:bad!ufrag') })],
  ['ice-pwd with characters outside ice-char', () => ({ type: 'offer', sdp: offer().replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:"quoted;password"000000') })],
  ['duplicate mid', () => ({ type: 'offer', sdp: offer().replace(/a=mid:1/, 'a=mid:0') })],
  ['BUNDLE names an unknown mid', () => ({ type: 'offer', sdp: offer().replace(/a=group:BUNDLE [^\r]*/, 'a=group:BUNDLE 0 1 2 7') })],
  ['m-section kind swapped (audio mid 0 offered as video)', () => ({ type: 'offer', sdp: offer().replace('m=audio', 'm=video').replace(/a=rtpmap:111 opus\/48000\/2/, 'a=rtpmap:111 VP8/90000') })],
  ['negotiated m-sections removed (no BUNDLE group)', () => {
    const l = lines(offer()).filter((x) => !x.startsWith('a=group:'));
    const second = l.findIndex((x, i) => x.startsWith('m=') && i > l.findIndex((y) => y.startsWith('m=')));
    return { type: 'offer', sdp: l.slice(0, second).join('\r\n') + '\r\n' };
  }],
  ['garbage candidate line', () => ({ type: 'offer', sdp: offer().replace(/(a=candidate:[^\r]*\r\n)/, '$1a=candidate:garbage here\r\n') })],
  ['setup with an unknown role', () => ({ type: 'offer', sdp: offer().replace(/a=setup:\S+/g, 'a=setup:sideways') })],
];

for (const [name, make] of garbageInputs) {
  test(`setRemoteDescription(${name}): typed error, nothing changes, traffic flows`, { timeout: 30_000 }, async () => {
    await session();
    await garbageDescription(name, make());
  });
}

const candidateInputs: [string, () => unknown, 'reject' | 'ignore-counted' | 'either'][] = [
  ['not a candidate', () => ({ candidate: 'garbage', sdpMid: '0' }), 'reject'],
  ['empty fields', () => ({ candidate: 'candidate:', sdpMid: '0' }), 'reject'],
  ['priority not a number', () => ({ candidate: 'candidate:1 1 udp notanumber 127.0.0.1 5000 typ host', sdpMid: '0' }), 'reject'],
  ['port 70000', () => ({ candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 70000 typ host', sdpMid: '0' }), 'reject'],
  // Parsable lines ICE cannot use: ignored and counted (RFC 8839 §5.1), not rejected.
  ['address not an IP', () => ({ candidate: 'candidate:1 1 udp 2130706431 not_an_ip!! 5000 typ host', sdpMid: '0' }), 'ignore-counted'],
  ['unknown type', () => ({ candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 5000 typ bogus', sdpMid: '0' }), 'ignore-counted'],
  ['10 KiB line', () => ({ candidate: `candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host ${'x '.repeat(5000)}`, sdpMid: '0' }), 'either'],
  ['candidate is a number', () => ({ candidate: 42, sdpMid: '0' }), 'either'],
  ['unknown sdpMid', () => ({ candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 9 typ host', sdpMid: 'nope' }), 'either'],
  ['wrong usernameFragment', () => ({ candidate: 'candidate:1 1 udp 2130706431 127.0.0.1 9 typ host', sdpMid: '0', usernameFragment: 'zzzz' }), 'either'],
  ['discard port 9', () => ({ candidate: 'candidate:2 1 udp 2130706431 127.0.0.1 9 typ host', sdpMid: '0' }), 'either'],
  ['broadcast address', () => ({ candidate: 'candidate:3 1 udp 2130706431 255.255.255.255 5000 typ host', sdpMid: '0' }), 'either'],
  ['multicast address', () => ({ candidate: 'candidate:4 1 udp 2130706431 224.0.0.1 5000 typ host', sdpMid: '0' }), 'either'],
  ['unspecified address, port 0', () => ({ candidate: 'candidate:5 1 udp 2130706431 0.0.0.0 0 typ host', sdpMid: '0' }), 'either'],
  ['other family (IPv6)', () => ({ candidate: 'candidate:6 1 udp 2130706431 ::1 5000 typ host', sdpMid: '0' }), 'either'],
  ['TCP candidate', () => ({ candidate: 'candidate:7 1 tcp 2130706431 127.0.0.1 9 typ host tcptype active', sdpMid: '0' }), 'either'],
];

for (const [name, make, expect] of candidateInputs) {
  test(`addIceCandidate(${name}): typed error or ignored, session unchanged`, { timeout: 30_000 }, async () => {
    const sess = await session();
    const faults = watch.faults.length;
    const pair = (await counters(sess.pc2)).transport.selectedCandidatePairId;
    const ignoredOf = async (): Promise<number> => (await sess.pc2.getStats()).get('P')!['pwtRemoteCandidatesIgnored'] as number;
    const ignoredBefore = await ignoredOf();
    let outcome = 'ignored';
    try {
      await sess.pc2.addIceCandidate(make() as never);
    } catch (err) {
      assertTyped(err, name);
      outcome = `${(err as Error).name} ${(err as { code?: string }).code}`;
    }
    console.log(`RESULT candidate | ${name} | ${outcome}`);
    if (expect === 'reject') assert.notEqual(outcome, 'ignored', `${name}: a malformed candidate was accepted`);
    if (expect === 'ignore-counted') {
      assert.equal(outcome, 'ignored', `${name}: a parsable candidate ICE cannot use is ignored, not rejected`);
      assert.equal(await ignoredOf(), ignoredBefore + 1, `${name}: counted in pwtRemoteCandidatesIgnored`);
    }
    await pause(100);
    assert.equal((await counters(sess.pc2)).transport.selectedCandidatePairId, pair, `${name}: the selected pair changed`);
    await sess.assertConnected(name);
    await sess.verifyFlow({ lossAllowed: false, what: name });
    watch.assertNone(faults, name);
  });
}

test('addIceCandidate: 500 valid-looking candidates to nowhere are bounded and harmless', { timeout: 30_000 }, async () => {
  const sess = await session();
  const faults = watch.faults.length;
  const pair = (await counters(sess.pc2)).transport.selectedCandidatePairId;
  for (let i = 0; i < 500; i++) {
    await sess.pc2.addIceCandidate({ candidate: `candidate:${1000 + i} 1 udp ${2130706431 - i} 127.0.0.${2 + (i % 200)} ${20_000 + i} typ host`, sdpMid: '0' });
  }
  await pause(500);
  const stats = [...(await sess.pc2.getStats()).values()];
  const remote = stats.filter((x) => x.type === 'remote-candidate').length;
  console.log(`RESULT candidate | 500 valid-looking candidates | ${remote} remote candidates kept`);
  assert.ok(remote <= 101, `${remote} remote candidates kept`);
  assert.equal((await counters(sess.pc2)).transport.selectedCandidatePairId, pair, 'the selected pair changed');
  await sess.assertConnected('500 candidates');
  await sess.verifyFlow({ lossAllowed: false, what: '500 candidates' });
  watch.assertNone(faults, '500 candidates');
});
