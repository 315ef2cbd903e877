// GSO fallback (docs/udp.md "Send"): in a private network namespace (`unshare -n`, gone with its
// process) whose loopback has a 1280-byte MTU, a UDP_SEGMENT burst of 1400-byte datagrams is refused
// by the kernel. The socket counts it (stats.gsoFallbacks), sends those datagrams one by one (they
// arrive, fragmented and reassembled by IP) and stays off GSO; a small burst before it went out as
// GSO. Skipped with the reason where a namespace cannot be made (not root, no `unshare` or `ip`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./udp-gso-fallback-child.ts', import.meta.url));

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces and GSO need Linux';
  if (process.getuid?.() !== 0) return 'a network namespace needs root';
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'mtu', '1280', 'up'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return `cannot make a network namespace with unshare -n and ip: ${(probe.stderr || String(probe.error)).trim()}`;
  return undefined;
}

interface Burst {
  arrived: number[];
  stats: { gsoSends: number; gsoFallbacks: number; packetsSent: number; drops: Record<string, number> };
}

test('a GSO send the kernel refuses is counted, resent one by one, and GSO stays off', (t) => {
  const reason = unavailable();
  if (reason) return t.skip(reason);
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo mtu 1280 up && exec "$0" --import tsx "$1"', process.execPath, child], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const { small, large, after } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { small: Burst; large: Burst; after: Burst };
  assert.deepEqual(small.arrived, [500, 500, 500, 500]);
  if (small.stats.gsoSends === 0) return t.skip('this kernel sends no UDP_SEGMENT (GSO) at all: nothing to fall back from');
  assert.equal(small.stats.gsoFallbacks, 0);
  // The refused burst: counted once, every datagram still delivered, none dropped.
  assert.deepEqual(large.arrived, [1400, 1400, 1400, 1400]);
  assert.equal(large.stats.gsoFallbacks, 1);
  assert.equal(large.stats.gsoSends, small.stats.gsoSends, 'the refused burst is not counted as a GSO send');
  assert.equal(large.stats.packetsSent, 8);
  assert.ok(Object.values(large.stats.drops).every((n) => n === 0), `no drops: ${JSON.stringify(large.stats.drops)}`);
  // From then on the socket sends plainly.
  assert.deepEqual(after.arrived, [500, 500, 500, 500]);
  assert.equal(after.stats.gsoSends, small.stats.gsoSends);
  assert.equal(after.stats.gsoFallbacks, 1);
  assert.equal(after.stats.packetsSent, 12);
});
