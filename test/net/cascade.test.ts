// Cascading across hosts (docs/scaling.md "Cascading across hosts"): two network namespaces joined
// by a veth pair stand for two hosts, with one router process each (`ip netns exec`). A Chromium
// publisher joins the room on host A; two Chromium subscribers join on host B; the room spans both
// through one SRTP pipe transport whose parameters (and the stream's description) the test relays
// between the processes, as an application would through its room registry. Every subscriber must
// decode the publisher's video. Names are prefixed `pp-`; skipped where namespaces cannot be created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LONG, NO_CHROMIUM } from './chromium-session.js';

const TAG = String(process.pid % 100_000);
const NS_A = `pp-a-${TAG}`;
const NS_B = `pp-b-${TAG}`;
const VETH_A = `pp-va-${TAG}`;
const VETH_B = `pp-vb-${TAG}`;
const IP_A = '10.218.77.1';
const IP_B = '10.218.77.2';
const FRAMES = LONG ? 300 : 30;

function sh(cmd: string): { ok: boolean; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: 10_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function cleanUp(): void {
  sh(`ip netns del ${NS_A} 2>/dev/null; ip netns del ${NS_B} 2>/dev/null; ip link del ${VETH_A} 2>/dev/null; true`);
}

function setUpHosts(): string | false {
  const steps = [
    `ip netns add ${NS_A}`,
    `ip netns add ${NS_B}`,
    `ip link add name ${VETH_A} type veth peer name ${VETH_B}`,
    `ip link set ${VETH_A} netns ${NS_A}`,
    `ip link set ${VETH_B} netns ${NS_B}`,
    `ip -n ${NS_A} addr add ${IP_A}/24 dev ${VETH_A}`,
    `ip -n ${NS_B} addr add ${IP_B}/24 dev ${VETH_B}`,
    `ip -n ${NS_A} link set lo up`,
    `ip -n ${NS_B} link set lo up`,
    `ip -n ${NS_A} link set ${VETH_A} up`,
    `ip -n ${NS_B} link set ${VETH_B} up`,
  ];
  for (const s of steps) {
    const r = sh(s);
    if (!r.ok) {
      cleanUp();
      return `cannot create two network namespaces joined by veth here (${s}: ${r.out})`;
    }
  }
  return false;
}

const skip = NO_CHROMIUM || (sh('ip netns add pp-probe-' + TAG).ok ? (sh('ip netns del pp-probe-' + TAG), false) : 'cannot create network namespaces here (needs root and iproute2)');

interface Host {
  child: ChildProcessWithoutNullStreams;
  next(key: string): Promise<Record<string, unknown>>;
  send(m: object): void;
  log(): string;
}

function startHost(ns: string, role: 'origin' | 'edge', ip: string): Host {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/net/cascade-host.ts', role, ip, String(FRAMES)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: Record<string, unknown>[] = [];
  let wake: (() => void) | null = null;
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout }).on('line', (l) => {
    if (!l.startsWith('MSG ')) {
      log = (log + l + '\n').slice(-4000);
      return;
    }
    messages.push(JSON.parse(l.slice(4)) as Record<string, unknown>);
    wake?.();
  });
  child.on('exit', () => wake?.());
  return {
    child,
    log: () => log,
    send: (m) => child.stdin.write(`${JSON.stringify(m)}\n`),
    async next(key) {
      for (;;) {
        const i = messages.findIndex((m) => key in m || 'error' in m);
        if (i >= 0) {
          const m = messages.splice(i, 1)[0]!;
          if ('error' in m) throw new Error(`${role} host: ${String(m.error)}`);
          return m;
        }
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${role} host exited (${child.exitCode ?? child.signalCode}): ${log.slice(-2000)}`);
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

test(`cascade: a Chromium publisher on host A, two Chromium subscribers on host B, one SRTP pipe between two router processes; both decode ${FRAMES} frames`, { skip, timeout: 180_000 }, async (t) => {
  const problem = setUpHosts();
  if (problem) {
    t.skip(problem);
    return;
  }
  const hosts: Host[] = [];
  t.after(() => {
    for (const h of hosts) if (h.child.exitCode === null) h.child.kill('SIGKILL');
    cleanUp();
  });
  const origin = startHost(NS_A, 'origin', IP_A);
  const edge = startHost(NS_B, 'edge', IP_B);
  hosts.push(origin, edge);
  const killer = setTimeout(() => {
    for (const h of hosts) h.child.kill('SIGKILL');
  }, 170_000);
  try {
    // The application's part: exchange pipe parameters and the stream description.
    const [a, b] = await Promise.all([origin.next('pipe'), edge.next('pipe')]);
    assert.equal((a.pipe as { ip: string }).ip, IP_A);
    assert.ok((a.pipe as { srtp?: unknown }).srtp, 'SRTP keys in the parameters');
    origin.send({ pipe: b.pipe });
    edge.send({ pipe: a.pipe });
    const stream = await origin.next('stream');
    edge.send({ stream: stream.stream });
    const edgeResult = (await edge.next('result')).result as {
      decoded: number[]; widths: number[]; producer: { packetsReceived: number }; pipe: { spoofedDropped: number; srtpDropped: number; packetsAccepted: number };
      router: { packetsForwarded: number; jsDeliveries: number };
    };
    origin.send({ done: true });
    const originResult = (await origin.next('result')).result as {
      framesSent: number; producer: { packetsReceived: number; pwtForwarded: number }; consumer: { packetsSent: number };
      router: { jsDeliveries: number }; pipe: { rtcpReceived: number };
    };
    t.diagnostic(`host B subscribers decoded ${edgeResult.decoded.join(' and ')} frames (${edgeResult.widths.join('/')} px); ` +
      `the pipe carried ${originResult.consumer.packetsSent} packets A→B, B accepted ${edgeResult.pipe.packetsAccepted}; ` +
      `A's pipe received ${originResult.pipe.rtcpReceived} RTCP packets from B; Chromium on A encoded ${originResult.framesSent} frames`);
    assert.equal(edgeResult.decoded.length, 2);
    for (const d of edgeResult.decoded) assert.ok(d >= FRAMES, `every subscriber decodes the publisher's video (${d})`);
    for (const w of edgeResult.widths) assert.ok(w > 0);
    assert.ok(originResult.consumer.packetsSent > 0 && edgeResult.producer.packetsReceived > 0);
    assert.equal(edgeResult.pipe.spoofedDropped, 0);
    assert.equal(edgeResult.pipe.srtpDropped, 0);
    assert.equal(originResult.router.jsDeliveries + edgeResult.router.jsDeliveries, 0, 'no JavaScript per forwarded packet on either host');
    assert.ok(originResult.pipe.rtcpReceived > 0, "host B's keyframe requests crossed the pipe");
  } catch (err) {
    throw new Error(`${String(err)}\n--- origin log ---\n${origin.log()}\n--- edge log ---\n${edge.log()}`);
  } finally {
    clearTimeout(killer);
  }
  await Promise.all(hosts.map((h) => new Promise((r) => (h.child.exitCode !== null ? r(null) : h.child.once('exit', r)))));
});
