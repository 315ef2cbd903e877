// Recursive file listing shared by the build, release and fuzz scripts (and shipped in the npm
// package: scripts/source-hash.mjs uses it at install time).
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file below `dir` whose path `keep` accepts, depth first, each directory's entries sorted by
 * name (so a hash over the list is the same on every file system). A missing `dir` lists nothing.
 * Symbolic links are followed (as source-hash.mjs's first walk did with statSync): a link to a
 * directory is walked under the link's path, a link to a file is listed as that file; a broken link
 * is listed as a file (reading it then fails, as it should); a link back to a directory being
 * walked (a cycle) is skipped.
 */
export function walkFiles(dir, keep = () => true, out = [], ancestors = new Set()) {
  if (!existsSync(dir)) return out;
  const real = realpathSync(dir);
  if (ancestors.has(real)) return out;
  ancestors.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() || (e.isSymbolicLink() && isDirectoryLink(p))) walkFiles(p, keep, out, ancestors);
    else if (keep(p)) out.push(p);
  }
  ancestors.delete(real);
  return out;
}

/** Whether symbolic link `p` leads to a directory (false when it is broken). */
function isDirectoryLink(p) {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
