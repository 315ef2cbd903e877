// Open-file-descriptor budget of a benchmark child (RLIMIT_NOFILE, Linux /proc): libwebrtc (wrtc)
// holds about 64 descriptors per connected pair, so 1,000 pairs need more than a default limit.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** This process's RLIMIT_NOFILE, soft and hard (from /proc/self/limits), or undefined where unreadable. */
function descriptorLimits(): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line?.slice('Max open files'.length).trim().split(/\s+/) ?? []).map((v) => (v === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(v)));
    return soft === undefined || hard === undefined || !Number.isFinite(soft) || !Number.isFinite(hard) ? undefined : { soft, hard };
  } catch {
    return undefined;
  }
}

/** This process's soft RLIMIT_NOFILE: how many descriptors it may have open; undefined where unreadable. */
export function descriptorLimit(): number | undefined {
  return descriptorLimits()?.soft;
}

/** Descriptors this process has open now (/proc/self/fd), or undefined where unreadable. */
export function openDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/**
 * The command prefix that starts a child with RLIMIT_NOFILE raised to `wanted` (util-linux
 * `prlimit`, which sets its own limit and execs the command) when this process's hard limit is
 * lower and raising it is allowed here (CAP_SYS_RESOURCE; tried once with `prlimit … true`); an
 * empty prefix otherwise. (Node itself raises its soft limit to the hard one at start.) `limit` is
 * what the child will have.
 */
export function raisedDescriptorLimit(wanted: number): { prefix: string[]; limit: number | undefined } {
  const current = descriptorLimits();
  if (!current) return { prefix: [], limit: undefined };
  if (current.hard >= wanted) return { prefix: [], limit: current.hard };
  const arg = `--nofile=${wanted}:${wanted}`;
  if (spawnSync('prlimit', [arg, '--', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0) return { prefix: ['prlimit', arg, '--'], limit: wanted };
  return { prefix: [], limit: current.hard };
}
