// Builds the fanout load generator (bench/loadgen/*.cpp over the core's DTLS, SRTP and STUN code,
// against the system OpenSSL) into bench/.build once per source change, like the forward-path suite.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const buildDir = join(root, 'bench', '.build');

/**
 * The sources the binary is made of: the load generator's files and, of the core, only what they
 * reach through `#include "native/..."` (each header's .cpp beside it), so a core file that needs the
 * addon's other layers (libuv, the UDP tables) never enters this standalone build.
 */
function sources(): string[] {
  const loadgen = readdirSync(join(root, 'bench', 'loadgen')).filter((f) => f.endsWith('.cpp') || f.endsWith('.hpp')).sort()
    .map((f) => join(root, 'bench', 'loadgen', f));
  const seen = new Set<string>(loadgen);
  const queue = [...loadgen];
  const include = /^\s*#\s*include\s+"(native\/[^"]+)"/gm;
  while (queue.length > 0) {
    const file = queue.pop()!;
    for (const m of readFileSync(file, 'utf8').matchAll(include)) {
      const header = join(root, m[1]!);
      for (const f of [header, header.replace(/\.hpp$/, '.cpp')]) {
        if (!seen.has(f) && existsSync(f)) {
          seen.add(f);
          queue.push(f);
        }
      }
    }
  }
  return [...seen].sort();
}

/** Path of the built load generator, compiled first when a source is newer; throws when g++ fails. */
export function buildFanoutLoadgen(): string {
  const bin = join(buildDir, 'fanout_loadgen');
  const all = sources();
  const built = existsSync(bin) ? statSync(bin).mtimeMs : 0;
  if (all.some((f) => statSync(f).mtimeMs > built)) {
    mkdirSync(buildDir, { recursive: true });
    // Built under a name of its own and renamed, so that a process starting it meanwhile never runs half a binary.
    const tmp = `${bin}.${process.pid}`;
    const r = spawnSync('g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Wno-missing-field-initializers', '-I', root, '-o', tmp,
      ...all.filter((f) => f.endsWith('.cpp')), '-lssl', '-lcrypto'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('could not compile bench/loadgen (needs g++ and libssl-dev)');
    renameSync(tmp, bin);
  }
  return bin;
}
