// Finds the directory that holds Node's own headers (include/node/node.h), so that
// cmake-js never tries to download them: this project must build offline.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Returns a nodedir containing include/node/node.h, or undefined when none is found. */
export function findNodeDir() {
  const candidates = [
    process.env.npm_config_nodedir,
    dirname(dirname(process.execPath)),
    '/usr',
    '/usr/local',
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, 'include', 'node', 'node.h'))) return dir;
  }
  return undefined;
}
