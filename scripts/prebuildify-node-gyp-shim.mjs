#!/usr/bin/env node
// Stands in for node-gyp when prebuildify calls `node-gyp rebuild --arch=X --release ...`:
// builds the addon with our cmake-js script into build/Release, where prebuildify collects it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arch = (process.argv.find((a) => a.startsWith('--arch=')) ?? `--arch=${process.arch}`).slice(7);
const debug = process.argv.includes('--debug');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--arch', arch, ...(debug ? ['--debug'] : [])], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
