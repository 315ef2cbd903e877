// Hash of every input of the native build. The addon is compiled with this value and
// reports it at run time, so a test can tell a stale binary from a fresh one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { walkFiles } from './walk-files.mjs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const isSource = (p) => /\.(c|cc|cpp|h|hpp)$/.test(p);

/** sha-256 (hex, first 16 chars) over the native sources, binding glue and CMakeLists.txt. */
export function nativeSourceHash(dir = root) {
  const files = [];
  walkFiles(join(dir, 'native'), isSource, files);
  walkFiles(join(dir, 'binding'), isSource, files);
  files.push(join(dir, 'CMakeLists.txt'));
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(dir, f).split('\\').join('/'));
    h.update('\0');
    // Line endings are normalised so a checkout with CRLF hashes the same.
    h.update(readFileSync(f, 'utf8').replace(/\r\n/g, '\n'));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(nativeSourceHash());
