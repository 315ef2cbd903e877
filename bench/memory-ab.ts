// Side-by-side memory children of two trees (e.g. a branch and its branch point in another
// worktree), alternating, each child against its own tree's compiled package (dist/lib, built
// beforehand) and its own bench harness: RSS and JS heap per idle PC, the wait for the library's
// post-burst memory work, and the 60 s idle reading where asked.
// `node --import tsx bench/memory-ab.ts <other tree> <cases> [rounds]`, cases like
// `1000:ours,1000:ours-udpmux,10000:ours:60,1000:node-datachannel` (PCs:library[:idle seconds]).
// `PWT_AB_THIS_ENV='MALLOC_ARENA_MAX=1 X=Y'` adds environment variables to this tree's children only
// (with this tree as the other tree too, an A/B of a setting rather than of code).
import { resolve } from 'node:path';
import { loadavg } from 'node:os';

const [otherTree, casesArg, roundsArg] = process.argv.slice(2);
if (!otherTree || !casesArg) {
  console.error('usage: memory-ab.ts <other tree> <cases> [rounds]');
  process.exit(2);
}
const trees = { other: resolve(otherTree), this: resolve(new URL('..', import.meta.url).pathname) };
const rounds = Number(roundsArg ?? 1);
const thisEnv = Object.fromEntries(
  (process.env.PWT_AB_THIS_ENV ?? '').split(/\s+/).filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
type Spawn = typeof import('./peers/spawn.js');
const spawners: Record<'other' | 'this', Spawn> = {
  other: (await import(`${trees.other}/bench/peers/spawn.ts`)) as Spawn,
  this: (await import('./peers/spawn.js')) as Spawn,
};
const k = (v: number | undefined): string => (v === undefined ? '-' : (v / 1024).toFixed(1));
for (const c of casesArg.split(',')) {
  const [pcsText, lib, idleText] = c.split(':');
  const pcs = Number(pcsText);
  const idleMs = idleText ? [Number(idleText) * 1000] : [];
  // Only ours differs between trees; other libraries run once per round from this tree.
  const order: ('other' | 'this')[] = lib!.startsWith('ours') ? ['other', 'this'] : ['this'];
  for (let r = 0; r < rounds; r++) {
    for (const tree of r % 2 === 0 ? order : [...order].reverse()) {
      const load = loadavg()[0]!.toFixed(1);
      const started = Date.now();
      const out = await spawners[tree].runChild<{ rssPerPc: number; heapPerPc: number; connectedPcs: number; failedPairs: number; settleWaitMs?: number; newSpace?: number; rssTrimmedPerPc?: number; breakdown?: { nativeInUse: number; nativeFree: number; v8Committed: number }; idle?: { rssPerPc: number; heapPerPc: number }[] }>(
        'child.ts', { task: 'memory', lib, pcs, idleMs }, 1_200_000 + 60_000 * idleMs.length, { builtLibrary: true, ...(tree === 'this' ? { env: thisEnv } : {}) },
      );
      const s = ((Date.now() - started) / 1000).toFixed(0);
      if (!out.ok) {
        console.log(`${pcs} ${lib} ${tree}: no result (${out.error}) load ${load}`);
        continue;
      }
      const m = out.result;
      const idle = m.idle?.[0];
      const b = m.breakdown;
      const parts = `${b ? `, C heap in use ${k(b.nativeInUse)} free ${k(b.nativeFree)}, V8 committed ${k(b.v8Committed)}` : ''}${m.newSpace !== undefined ? `, young ${(m.newSpace / 1048576).toFixed(1)} MiB` : ''}${m.rssTrimmedPerPc !== undefined ? `, RSS after trim ${k(m.rssTrimmedPerPc)}` : ''}`;
      console.log(`${pcs} ${lib} ${tree}: RSS ${k(m.rssPerPc)} KiB/PC, JS heap ${k(m.heapPerPc)} KiB/PC, connected ${m.connectedPcs} (failed pairs ${m.failedPairs}), wait ${m.settleWaitMs?.toFixed(0) ?? '-'} ms${parts}${idle ? `, after ${idleText} s idle RSS ${k(idle.rssPerPc)} heap ${k(idle.heapPerPc)}` : ''}; load ${load} at start, ${s} s`);
    }
  }
}
