// A pair streaming from the moment it is connected while the DTLS handshake thread is on and slow
// (docs/dtls.md "Handshake thread", Home: work held on the JavaScript thread while results are
// still out runs in order once they are back): every RTP packet arrives once and every ordered
// reliable data-channel message arrives, in order, both ways; nothing is dropped for the backlog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('streaming right after connected with the handshake thread on: every packet arrives, messages in order', { timeout: 200_000 }, (t) => {
  const child = fileURLToPath(new URL('./peer-stream-after-connected-threaded-child.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', child], {
    encoding: 'utf8',
    timeout: 190_000,
    // One handshake thread: the window needs both sides' engines queued behind each other on it (with
    // the pool each side's engine gets its own thread and the window closes).
    env: { ...process.env, PWT_DTLS_HANDSHAKE_THREAD: '1', PWT_DTLS_HANDSHAKE_THREADS: '1', PWT_TEST_HANDSHAKE_THREAD_DELAY_MS: '900' },
  });
  assert.equal(r.signal, null, `the child did not exit by itself: ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line, r.stdout);
  const { rounds } = JSON.parse(line) as { rounds: { rtp: number[]; messages: number[]; inOrder: boolean; peerAwaitingAtStart: boolean[]; droppedBacklog: number[]; handshakeThread: string[] }[] };
  t.diagnostic(JSON.stringify(rounds));
  assert.equal(rounds.length, 3);
  for (const round of rounds) {
    assert.deepEqual(round.rtp, [120, 120]);
    assert.deepEqual(round.messages, [300, 300]);
    assert.ok(round.inOrder, 'each message in order, each RTP packet once');
    assert.deepEqual(round.droppedBacklog, [0, 0]);
    assert.deepEqual(round.handshakeThread, ['on', 'on']);
  }
  // The hold path ran: in some round a side started streaming while the other's thread still held
  // the work that keys its SRTP (the 900 ms delay makes that window, see the child).
  assert.ok(rounds.some((r) => r.peerAwaitingAtStart.some(Boolean)), 'no round streamed while the peer awaited its handshake thread');
});
