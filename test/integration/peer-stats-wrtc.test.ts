// getStats() agrees with libwebrtc's (@roamhq/wrtc, in a child process) about the same DTLS
// association over loopback: both certificates, the DTLS cipher suite and version, the SRTP profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { within } from './peer-helpers.js';
import { assertStatsAgree, type PeerStats } from './stats-agreement.js';

interface WrtcStats extends PeerStats {
  connectionState: string;
}

test('our transport and certificate stats match what libwebrtc reports for the same connection', { timeout: 40_000 }, async (t) => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./wrtc-stats-peer.mjs', import.meta.url))], { stdio: 'pipe' });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const call = <T>(msg: object, ms: number): Promise<T> =>
    within(new Promise<T>((resolve) => {
      waiting.push((line) => resolve(JSON.parse(line) as T));
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    }), ms, `wrtc child reply (stderr: ${stderr})`);

  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => pc.close());
  pc.addTransceiver(new LocalStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  pc.createDataChannel('stats');
  await pc.setLocalDescription(await pc.createOffer());
  const answer = await call<{ sdp?: string; error?: string }>({ cmd: 'answer', sdp: pc.localDescription!.sdp }, 15_000);
  assert.ok(answer.sdp, answer.error);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  await pc.connected(10_000);
  const theirs = await call<WrtcStats>({ cmd: 'stats' }, 15_000);
  assert.equal(theirs.connectionState, 'connected');
  const ours = await pc.getStats();
  t.diagnostic(`agreed: ${assertStatsAgree(ours, theirs)}`);
});
