// Makes sure dist/ (scripts/build-js.mjs) holds the compiled package of the current lib/ sources,
// for benchmark children that run the package as installed (runChild's builtLibrary).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dist/ unless it is newer than every file of lib/; returns whether it built. */
export function ensureBuiltPackage(): boolean {
  const entry = join(root, 'dist', 'lib', 'index.js');
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestSource(join(root, 'lib'))) return false;
  execFileSync(process.execPath, [join(root, 'scripts', 'build-js.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}
