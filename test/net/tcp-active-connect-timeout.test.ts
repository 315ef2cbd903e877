// Active ICE-TCP connect timeout (docs/ice.md "ICE-TCP"): inside a network namespace of its own,
// nftables drops every SYN to 127.0.0.1:4999, so a connection attempt there gets no answer at all
// (a blackholed passive address; without the timeout it would last until the kernel gives up, about
// two minutes). Each attempt is given up after the connect timeout, closed and counted as
// `connectTimeouts`; after the remote's 3 attempts sends are dropped; an IceTransport whose only
// pair is such a candidate fails on time. Skipped where namespaces cannot be created (not root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';

const NFT_RULES = [
  'nft add table inet blackhole',
  "nft add chain inet blackhole in '{ type filter hook input priority 0; }'",
  'nft add rule inet blackhole in ip daddr 127.0.0.1 tcp dport 4999 tcp flags syn counter drop',
].join(' && ');

function namespaceProblem(): string | false {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${NFT_RULES}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? false : `cannot create a network namespace with nftables here: ${(r.stderr || r.error?.message || '').trim()}`;
}

test('a SYN that is never answered: the active connect gives up after its timeout, counted; ICE fails on time', { skip: namespaceProblem(), timeout: 60_000 }, async () => {
  const script = `ip link set lo up && ${NFT_RULES} && exec "${process.execPath}" --import tsx test/net/tcp-active-connect-timeout-child.ts`;
  const child = spawn('unshare', ['-n', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(killer);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `child exited ${code} without a result: ${out.slice(-2000)} ${err.slice(-2000)}`);
  const r = JSON.parse(line.slice('RESULT '.length)) as {
    error?: string;
    source: { connectTimeouts: number; connectionsFailed: number; connectionsOpened: number; attempts: number[]; droppedAfterAttempts: number };
    transport: { state: string; reason: string; failedAfter: number; connectTimeoutMs: number; activeSources: number; connectTimeouts: number; synSent: number };
    defaultTimeoutMs: number;
    nft: string;
  };
  assert.equal(r.error, undefined);
  assert.equal(r.defaultTimeoutMs, 3167, "a third of a check's life with the agent's defaults (9.5 s)");
  assert.equal(r.source.connectTimeouts, 3);
  assert.equal(r.source.connectionsFailed, 0, 'a timeout is its own reason');
  assert.equal(r.source.connectionsOpened, 0);
  for (const ms of r.source.attempts) assert.ok(ms >= 200 && ms < 2500, `attempt given up after ${ms} ms (timeout 250)`);
  assert.equal(r.source.droppedAfterAttempts, 1, 'the remote had its 3 attempts');
  assert.equal(r.transport.connectTimeoutMs, 234);
  assert.equal(r.transport.state, 'failed');
  assert.ok(r.transport.failedAfter < 5000, `ICE failed after ${r.transport.failedAfter} ms`);
  assert.equal(r.transport.activeSources, 1);
  assert.ok(r.transport.connectTimeouts >= 1, `the transport's active source gave its SYN up by the connect timeout (${r.transport.connectTimeouts})`);
  assert.equal(r.transport.synSent, 0, 'no connection left in SYN-SENT when ICE failed');
  const dropped = /counter packets (\d+)/.exec(r.nft);
  assert.ok(dropped && Number(dropped[1]) >= 4, `nftables dropped the SYNs: ${r.nft}`);
  console.log(`attempts given up after ${r.source.attempts.join(', ')} ms; ICE failed after ${r.transport.failedAfter} ms; SYNs dropped: ${dropped[1]}`);
});
