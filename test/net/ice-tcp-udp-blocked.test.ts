// Chromium reaches our echo server over passive ICE-TCP when UDP is blocked (RFC 6544): inside a
// network namespace of its own, nftables drops every UDP packet; the server's answer carries its
// UDP host candidate and the passive TCP candidate of a TcpMux port. The echo page connects, its
// audio and video come back and the 100 data-channel test messages return intact, all over TCP.
// Skipped where namespaces cannot be created (not root) or without Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { NO_CHROMIUM } from './chromium-session.js';

const NFT_RULES = [
  'nft add table inet tcp-soak-udp-block',
  "nft add chain inet tcp-soak-udp-block in '{ type filter hook input priority 0; }'",
  'nft add rule inet tcp-soak-udp-block in meta l4proto udp counter drop',
].join(' && ');

function namespaceProblem(): string | false {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${NFT_RULES}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? false : `cannot create a network namespace with nftables here: ${(r.stderr || r.error?.message || '').trim()}`;
}

const skip = NO_CHROMIUM || namespaceProblem();

test('UDP blocked by nftables: Chromium connects to the echo server over passive ICE-TCP; media and messages come back', { skip, timeout: 150_000 }, async () => {
  const script = `ip link set lo up && ${NFT_RULES} && exec "${process.execPath}" --import tsx test/net/ice-tcp-udp-blocked-child.ts`;
  const child = spawn('unshare', ['-n', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 140_000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(killer);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `child exited ${code} without a result: ${out.slice(-2000)} ${err.slice(-2000)}`);
  const r = JSON.parse(line.slice('RESULT '.length)) as {
    error?: string; state: string; answerCandidates: string[]; selected: string; nft: string;
    inboundFirst: Record<string, number>; inboundSecond: Record<string, number>;
    messages: { sent: number; intact: number }; tcpMux: { routedByUfrag: number; framesReceived: number; framesSent: number };
  };
  assert.equal(r.error, undefined);
  assert.equal(r.state, 'connected');
  assert.ok(r.answerCandidates.some((c) => / udp /.test(c)), 'the answer offers UDP too');
  assert.ok(r.answerCandidates.some((c) => / tcp .* tcptype passive/.test(c)), 'and the passive TCP candidate');
  assert.equal(r.selected, 'tcp/tcp');
  for (const kind of ['audio', 'video']) assert.ok((r.inboundSecond[kind] ?? 0) > (r.inboundFirst[kind] ?? 0), `${kind} keeps coming back: ${JSON.stringify(r.inboundFirst)} → ${JSON.stringify(r.inboundSecond)}`);
  assert.equal(r.messages.intact, 100, JSON.stringify(r.messages));
  assert.equal(r.tcpMux.routedByUfrag, 1);
  const dropped = /counter packets (\d+)/.exec(r.nft);
  assert.ok(dropped && Number(dropped[1]) > 0, `nftables dropped UDP: ${r.nft}`);
  console.log(`UDP packets dropped by nftables: ${dropped[1]}; TCP frames in/out: ${r.tcpMux.framesReceived}/${r.tcpMux.framesSent}; echoed packets ${JSON.stringify(r.inboundSecond)}`);
});
