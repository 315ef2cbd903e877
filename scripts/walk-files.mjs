// Recursive file listing shared by the build, release and fuzz scripts (and shipped in the npm
// package: scripts/source-hash.mjs uses it at install time).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file below `dir` whose path `keep` accepts, depth first, each directory's entries sorted by
 * name (so a hash over the list is the same on every file system). A missing `dir` lists nothing.
 * Symbolic links are listed as files, not followed.
 */
export function walkFiles(dir, keep = () => true, out = []) {
  if (!existsSync(dir)) return out;
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, keep, out);
    else if (keep(p)) out.push(p);
  }
  return out;
}
