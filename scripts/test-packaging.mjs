// `npm run test:packaging`: the long form of test/packaging (PWT_PACKAGING=full): both prebuilds
// in the tarball, the Node 18/20/22/24 x64 matrix, arm64 under qemu-user and the source fallback.
// The prebuilds are built first, outside the tests' time bounds (as `npm test` builds the addon
// before its tests): the arm64 cross-build from a clean tree, inside the file's 300 s, left too
// little for the installs on a loaded machine (docs/native-build.md "Tests: test/packaging").
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prebuild } from './prebuildify.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const arch of ['x64', 'arm64']) console.log(`test:packaging: prebuild ${prebuild(arch)}`);
// The file's tests declare bounds of up to 600 s each (five npm installs, one of them compiling
// from source, and qemu-user runs): the file as a whole gets 20 minutes, not the default 300 s.
const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), 'test/packaging'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, PWT_PACKAGING: 'full', PWT_TEST_FILE_TIMEOUT_MS: '1200000' },
});
process.exit(r.status ?? 1);
