// `npm run test:packaging`: the long form of test/packaging (PWT_PACKAGING=full): both prebuilds
// in the tarball, the Node 18/20/22/24 x64 matrix, arm64 under qemu-user and the source fallback.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), 'test/packaging'], {
  cwd: root, stdio: 'inherit', env: { ...process.env, PWT_PACKAGING: 'full' },
});
process.exit(r.status ?? 1);
