// Runs inside `unshare -n` with nftables dropping every SYN to 127.0.0.1:4999 (the blackholed
// passive address): see tcp-active-connect-timeout.test.ts. Prints one RESULT line.
import { execSync } from 'node:child_process';
import { TcpActiveSource, tcpConnectTimeoutMs } from '../../lib/transport/source/tcp-active.js';
import { IceTransport } from '../../lib/transport/ice-transport.js';

const BLACKHOLE = { address: '127.0.0.1', port: 4999 };

async function until(cond: () => boolean, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!cond() && performance.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
  return performance.now() - t0;
}

async function main(): Promise<Record<string, unknown>> {
  // 1. The source alone, 250 ms connect timeout: each attempt is given up and counted, then the
  // remote's 3 attempts are spent and further sends are dropped without a new connection.
  const src = new TcpActiveSource('127.0.0.1', () => {}, undefined, 250);
  const attempts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = src.stats.connectTimeouts;
    src.send(Buffer.from([0, 1, 0, 0]), BLACKHOLE.port, BLACKHOLE.address);
    attempts.push(Math.round(await until(() => src.stats.connectTimeouts > before, 3000)));
  }
  const dropsBefore = src.stats.sendDrops;
  src.send(Buffer.from([0, 1, 0, 0]), BLACKHOLE.port, BLACKHOLE.address);
  const source = { ...src.stats, attempts, droppedAfterAttempts: src.stats.sendDrops - dropsBefore };
  src.close();

  // 2. Through the transport: an ICE check to a blackholed passive candidate with fast check timing
  // (life 100+200+200+200 ms: connect timeout 234 ms); ICE fails on time.
  const agent = { checkRtoMs: 100, checkMaxRtoMs: 200, checkMaxTransmits: 4 };
  const t = new IceTransport({ gather: { addresses: ['127.0.0.1'], tcpActive: true }, agent, resolveMdns: null });
  await t.gather();
  t.setRemoteParameters({ usernameFragment: 'abcd', password: 'abcdefghijklmnopqrstuv' });
  t.addRemoteCandidate(`candidate:1 1 tcp 1518280447 ${BLACKHOLE.address} ${BLACKHOLE.port} typ host tcptype passive`);
  t.addRemoteCandidate(null);
  const failedAfter = Math.round(await until(() => t.agent.state === 'failed', 10_000));
  // The transport's own active source: its SYN was given up by the connect timeout, not left to the
  // kernel (the pair would fail by check timeout either way, so the state alone proves nothing).
  const bases = (t as unknown as { bases: Map<string, { kind: string; socket?: unknown }> }).bases;
  const sources = [...bases.values()].flatMap((b) => (b.kind === 'socket' && b.socket instanceof TcpActiveSource ? [b.socket] : []));
  const connectTimeouts = sources.reduce((n, s) => n + s.stats.connectTimeouts, 0);
  const synSent = execSync('ss -Htn state syn-sent', { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '').length;
  const transport = { state: t.agent.state, reason: t.agent.stateReason, failedAfter, connectTimeoutMs: tcpConnectTimeoutMs(agent), activeSources: sources.length, connectTimeouts, synSent };
  t.close();
  const nft = execSync('nft list table inet blackhole', { encoding: 'utf8' });
  return { source, transport, defaultTimeoutMs: tcpConnectTimeoutMs({}), nft };
}

main().then(
  (r) => {
    console.log(`RESULT ${JSON.stringify(r)}`);
    process.exit(0);
  },
  (err: unknown) => {
    console.log(`RESULT ${JSON.stringify({ error: String((err as Error)?.stack ?? err) })}`);
    process.exit(1);
  },
);
