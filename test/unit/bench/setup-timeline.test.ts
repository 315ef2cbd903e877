// bench/setup-timeline.ts (`npm run bench:setup-timeline`, docs/peer.md "Setup cost"): a short run
// prints one pair's timeline with every step of the setup on the right side, in protocol order
// (the DTLS client starting on its valid pair, before the nomination),
// and the milestone medians; on own sockets and with the answerer on a shared UdpMux port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function timeline(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'setup-timeline.ts'), '--pairs', '3', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The first line of the median pair's timeline (before the milestones) matching `pattern`. */
function lineIndex(lines: readonly string[], pattern: RegExp): number {
  const i = lines.findIndex((l) => pattern.test(l));
  assert.ok(i >= 0, `no line matches ${pattern}:\n${lines.join('\n')}`);
  return i;
}

for (const shared of [false, true]) {
  test(`setup timeline (${shared ? 'answerer on a shared port' : 'own sockets'}): ICE, DTLS and SCTP steps in order on the right sides`, { timeout: 100_000 }, () => {
    const out = timeline(...(shared ? ['--shared'] : []));
    const [pair, milestones] = out.split('\nmilestones');
    assert.ok(pair && milestones, out);
    const lines = pair.split('\n');
    // The offerer (A) is the controlling ICE agent and, answered with a=setup:active, the DTLS server.
    // B (controlled) starts its DTLS client on its first valid pair, before A's nomination reaches
    // it (RFC 8445 §12.1; docs/ice.md "Data before the nomination").
    const order = [
      /A {2}createOffer$/,
      /B {2}setRemoteDescription\(offer\)$/,
      /B {2}RECV .*STUN check-ok/,
      /B {2}DTLS start \(client\)/,
      /B {2}SEND .*DTLS ClientHello/,
      /A {2}RECV DTLS ClientHello/,
      /A {2}SEND .*DTLS ServerHello\+Certificate\+ServerKeyExchange\+CertificateRequest\+ServerHelloDone/,
      /B {2}SEND .*DTLS Certificate\+ClientKeyExchange\+CertificateVerify\+ChangeCipherSpec\+Finished/,
      // The last flight leaves at once, before its sender keys SRTP (docs/peer.md "Setup cost").
      /A {2}SEND .*DTLS ChangeCipherSpec\+Finished/,
      /A {2}SRTP keyed/,
      /B {2}SRTP keyed/,
    ];
    let last = -1;
    for (const pattern of order) {
      const i = lineIndex(lines, pattern);
      assert.ok(i > last, `${pattern} comes after the step before it:\n${pair}`);
      last = i;
    }
    // On every schedule (checked over 240 pairs under one core and two CPU hogs): B's first check is
    // queued in the turn of its setLocalDescription(answer), before A has the answer, so it leaves B's
    // socket before B can answer any check of A's; A answers it when read, before it reads B's answer
    // to its own check, and only that answer lets A nominate, so on A's socket (FIFO) the check-ok to
    // B precedes the nomination, and B's client starts on the check-ok (docs/ice.md).
    assert.ok(lineIndex(lines, /B {2}DTLS start \(client\)/) < lineIndex(lines, /B {2}RECV .*STUN check \+USE-CANDIDATE/), `the client starts before the nomination:\n${pair}`);
    lineIndex(lines, /A {2}SEND .*STUN check \+USE-CANDIDATE/);
    for (const side of ['A', 'B']) {
      lineIndex(lines, new RegExp(`${side} {2}connection connected`));
      lineIndex(lines, new RegExp(`${side} {2}SCTP out INIT`));
    }
    lineIndex(lines, /A {2}datachannel open/);
    // Per datagram, not per flush: which datagrams share a flush varies with the schedule.
    assert.match(milestones, /^ +[\d.]+ ms {2}B {2}SEND DTLS ClientHello$/m);
    assert.match(out, /createOffer → both connected: median \d+\.\d+ ms/);
  });
}
