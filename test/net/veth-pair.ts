// Two network namespaces joined by a veth pair, for the tests that put a real `tbf` rate limit on
// one side's egress (bwe-tbf.test.ts, sfu-auto-layers.test.ts); needs root and iproute2. Names
// must be unique per run: several checkouts on one machine run these files at once.
import { spawnSync } from 'node:child_process';

/** Runs a command (10 s bound); throws on failure unless `check` is false. */
export function sh(cmd: string[], check = true): { ok: boolean; err: string } {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 10_000 });
  const ok = r.status === 0;
  if (check && !ok) throw new Error(`${cmd.join(' ')}: ${r.stderr || r.error}`);
  return { ok, err: r.stderr ?? String(r.error) };
}

export interface VethPairNames {
  nsA: string;
  nsB: string;
  /** Interface names: 15 characters at most. */
  ifA: string;
  ifB: string;
  addrA: string;
  addrB: string;
}

/** Deletes both namespaces (and with them the veth pair); missing ones are fine. */
export function deleteVethPair(n: VethPairNames): void {
  sh(['ip', 'netns', 'del', n.nsA], false);
  sh(['ip', 'netns', 'del', n.nsB], false);
}

/** Creates both namespaces, the veth pair between them and their /24 addresses, links up; returns why it cannot, if so. */
export function createVethPair(n: VethPairNames): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  if (!sh(['ip', '-V'], false).ok || !sh(['tc', '-V'], false).ok) return '`ip` or `tc` (iproute2) is missing';
  deleteVethPair(n);
  const made = sh(['ip', 'netns', 'add', n.nsA], false);
  if (!made.ok) return `cannot create a network namespace: ${made.err.trim()}`;
  sh(['ip', 'netns', 'add', n.nsB]);
  sh(['ip', 'link', 'add', 'name', n.ifA, 'type', 'veth', 'peer', 'name', n.ifB]);
  sh(['ip', 'link', 'set', n.ifA, 'netns', n.nsA]);
  sh(['ip', 'link', 'set', n.ifB, 'netns', n.nsB]);
  for (const [ns, dev, addr] of [[n.nsA, n.ifA, n.addrA], [n.nsB, n.ifB, n.addrB]] as const) {
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sh(['ip', '-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  return undefined;
}
