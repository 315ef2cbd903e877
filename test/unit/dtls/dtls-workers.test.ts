// The addon in several worker threads at once (docs/architecture.md, Principles 4): each thread has its own
// engines, pool and read buffer; the shared BIO method is created once. Handshakes run
// concurrently in three workers and all connect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';

test('handshakes run concurrently in three worker threads', { timeout: 120_000 }, async () => {
  const url = new URL('./fixtures/handshake-worker.ts', import.meta.url);
  const runs = [0, 1, 2].map(
    () =>
      new Promise<number>((resolve, reject) => {
        // Workers do not inherit tsx's loader: an eval stub imports the .ts body through tsx's API.
        const stub = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}))`;
        const w = new Worker(stub, { eval: true, workerData: { count: 25 } });
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      }),
  );
  assert.deepEqual(await Promise.all(runs), [25, 25, 25]);
});
