// Probe: where the RSS of idle connected PCs lives, by kind of mapping (/proc/self/smaps: the main
// C heap `[heap]`, anonymous mappings by size — V8's 256 KiB pages, glibc's thread-arena heaps of
// 1–64 MiB, small ones —, code, files), next to the C heap in use/free (mallinfo2) and V8's
// committed and used heap, per PC; then V8's spaces. Linux only. Run against the compiled package
// as the memory suite does: `node --expose-gc --import tsx --import ./bench/peers/use-built-library.ts
// bench/peers/rss-mappings-probe.ts [ours|ours-udpmux] [pairs] [settle ms]` (docs/peer.md "Memory per idle connection").
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { nativeHeapStats } from '../../lib/native/native-heap-stats.js';
import { loadAdapter } from './registry.js';

const lib = process.argv[2] ?? 'ours';
const pairs = Number(process.argv[3] ?? 500);
const settleMs = Number(process.argv[4] ?? 5500);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

/** Resident KiB per mapping kind. */
function residentByKind(): Map<string, number> {
  const out = new Map<string, number>();
  let kind = '';
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const kib = (parseInt(m[2]!, 16) - parseInt(m[1]!, 16)) / 1024;
      const name = m[4]!.trim();
      const size = kib >= 65536 ? '>=64M' : kib >= 1024 ? '1-64M' : kib >= 256 ? '256K-1M' : '<256K';
      kind = name ? (name.startsWith('/') ? 'files' : name) : `anonymous ${m[3]} ${size}`;
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out.set(kind, (out.get(kind) ?? 0) + Number(r[1]));
  }
  return out;
}

function sample(): { kinds: Map<string, number>; cInUse: number; cFree: number; v8Committed: number; v8Used: number } {
  gc!();
  gc!();
  const c = nativeHeapStats();
  const h = getHeapStatistics();
  return { kinds: residentByKind(), cInUse: c?.inUse ?? 0, cFree: c?.free ?? 0, v8Committed: h.total_physical_size, v8Used: h.used_heap_size };
}

const adapter = await loadAdapter(lib as Parameters<typeof loadAdapter>[0]);
await adapter.connectPairs(1, false);
await new Promise((r) => setTimeout(r, 500));
const before = sample();
const held = await adapter.connectPairs(pairs, true);
const pcs = 2 * (pairs - held.failed);
await new Promise((r) => setTimeout(r, settleMs));
const after = sample();
const kib = (bytes: number): string => (bytes / 1024 / pcs).toFixed(1);
const total = (m: Map<string, number>): number => [...m.values()].reduce((s, v) => s + v, 0);
console.log(`${lib}, ${pcs} idle PCs, per PC: RSS ${((total(after.kinds) - total(before.kinds)) / pcs).toFixed(1)} KiB; C heap in use ${kib(after.cInUse - before.cInUse)}, free ${kib(after.cFree - before.cFree)}; V8 committed ${kib(after.v8Committed - before.v8Committed)}, used ${kib(after.v8Used - before.v8Used)}`);
const kinds = [...new Set([...after.kinds.keys(), ...before.kinds.keys()])]
  .map((k) => [k, ((after.kinds.get(k) ?? 0) - (before.kinds.get(k) ?? 0)) / pcs] as const)
  .filter(([, v]) => Math.abs(v) >= 0.05)
  .sort((a, b) => b[1] - a[1]);
for (const [k, v] of kinds) console.log(`  ${v.toFixed(1).padStart(6)} KiB  ${k}`);
console.log(`  V8 spaces (committed/used MiB): ${getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => `${s.space_name} ${(s.space_size / 1048576).toFixed(1)}/${(s.space_used_size / 1048576).toFixed(1)}`).join(', ')}`);
await held.peers.close();
process.exit(0);
