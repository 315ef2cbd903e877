// Compares two V8 heap snapshots (.heapsnapshot, e.g. the memory child's with PWT_BENCH_HEAP_SNAPSHOT)
// taken with different numbers of idle PCs, and lists what one more PC keeps: shallow bytes and
// objects per PC by constructor (closures by function name, strings by their first characters).
// `node bench/peers/heap-snapshot-diff.ts small.heapsnapshot N_small big.heapsnapshot N_big [rows] [--by-owner [--depth N]]`
// (--by-owner: grouped also by the first strong retainer, e.g. `IceAgent.pairs → Map`).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** With --by-owner: groups also name the first strong retainer (its group and the edge's name). */
const byOwner = process.argv.includes('--by-owner');
/** --depth N: how many retainers up the owner chain names (default 1). */
const depthAt = process.argv.indexOf('--depth');
const depth = depthAt > 0 ? Number(process.argv[depthAt + 1]) : 1;

/** Shallow bytes and counts per group name. */
function groups(path: string): Map<string, { bytes: number; count: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const stride = fields.length;
  const fType = fields.indexOf('type');
  const fName = fields.indexOf('name');
  const fSize = fields.indexOf('self_size');
  const out = new Map<string, { bytes: number; count: number }>();
  const keyOf = (i: number): string => {
    const type = types[s.nodes[i + fType]!]!;
    const name = s.strings[s.nodes[i + fName]!] ?? '';
    let key: string;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') key = `(string) ${JSON.stringify(name.slice(0, 24))}`;
    else if (type === 'closure') key = `(closure) ${name || '(anonymous)'}`;
    else if (type === 'object' || type === 'native') key = `${type === 'native' ? '(native) ' : ''}${name}`;
    else if (type === 'code' || type === 'hidden') key = `(${type}) ${name.slice(0, 40)}`;
    else key = `(${type}) ${name.slice(0, 40)}`;
    return key;
  };
  // The first strong retainer of each node (node offset → `owner group.edge`).
  const owner = new Map<number, { from: number; edge: string }>();
  if (byOwner) {
    const ef = s.snapshot.meta.edge_fields;
    const et = s.snapshot.meta.edge_types[0];
    const eStride = ef.length;
    const fEdges = fields.indexOf('edge_count');
    let e = 0;
    for (let i = 0; i < s.nodes.length; i += stride) {
      const n = s.nodes[i + fEdges]!;
      for (let k = 0; k < n; k++, e += eStride) {
        const etype = et[s.edges[e]!]!;
        if (etype === 'weak' || etype === 'shortcut') continue;
        const to = s.edges[e + 2]!;
        if (owner.has(to)) continue;
        const nameOrIndex = s.edges[e + 1]!;
        const edge = etype === 'element' || etype === 'hidden' ? `[${etype}]` : (s.strings[nameOrIndex] ?? '?');
        owner.set(to, { from: i, edge });
      }
    }
  }
  for (let i = 0; i < s.nodes.length; i += stride) {
    let key = keyOf(i);
    if (byOwner) {
      let at = i;
      for (let d = 0; d < depth; d++) {
        const o = owner.get(at);
        if (!o) {
          key = `(root) → ${key}`;
          break;
        }
        key = `${d === depth - 1 ? keyOf(o.from) : ''}.${o.edge} → ${key}`;
        at = o.from;
      }
    }
    const g = out.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += s.nodes[i + fSize]!;
    g.count++;
    out.set(key, g);
  }
  return out;
}

const [smallPath, smallN, bigPath, bigN, rowsArg] = process.argv.slice(2).filter((a, i, all) => a !== '--by-owner' && a !== '--depth' && all[i - 1] !== '--depth');
if (!smallPath || !smallN || !bigPath || !bigN) {
  console.error('usage: heap-snapshot-diff.ts small.heapsnapshot N_small big.heapsnapshot N_big [rows]');
  process.exit(2);
}
const pcs = Number(bigN) - Number(smallN);
const a = groups(smallPath);
const b = groups(bigPath);
const rows: { key: string; bytes: number; count: number }[] = [];
for (const [key, g] of b) {
  const o = a.get(key) ?? { bytes: 0, count: 0 };
  rows.push({ key, bytes: (g.bytes - o.bytes) / pcs, count: (g.count - o.count) / pcs });
}
for (const [key, o] of a) if (!b.has(key)) rows.push({ key, bytes: -o.bytes / pcs, count: -o.count / pcs });
rows.sort((x, y) => y.bytes - x.bytes);
const total = rows.reduce((t, r) => t + r.bytes, 0);
console.log(`per PC (${pcs} PCs apart): ${(total / 1024).toFixed(2)} KiB shallow in all`);
console.log('bytes/PC  objects/PC  group');
for (const r of rows.slice(0, Number(rowsArg ?? 60))) console.log(`${r.bytes.toFixed(0).padStart(8)}  ${r.count.toFixed(2).padStart(10)}  ${r.key}`);
