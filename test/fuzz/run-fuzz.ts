// Long TypeScript fuzz run of one target (used by scripts/fuzz.mjs): mutations in a worker thread
// until the deadline, a watchdog that reports an input running past the hang limit, and every
// new failure minimized and written to test/fuzz/corpus/<target>/finding-<hash>.
// Usage: node --import tsx test/fuzz/run-fuzz.ts <target> <seconds> <seed>
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTarget, FUZZ_TARGETS } from './targets.js';
import { CORPUS_ROOT, loadCorpus, minimize, runOne } from './fuzz-target.js';
import { Mutator } from './mutator.js';

/** An input that runs longer than this is reported as a hang. */
const HANG_MS = 10_000;
/** Shared slots: [0] iteration counter, [1] current input length; bytes follow at offset 8. */
const SHARED_INPUT_MAX = 64 * 1024;

interface WorkerArgs {
  target: string;
  seconds: number;
  seed: number;
  shared: SharedArrayBuffer;
}

interface FindingMessage {
  kind: 'finding';
  signature: string;
  error: string;
  input: string;
}

function saveFinding(target: string, input: Buffer): string {
  const name = `finding-${createHash('sha1').update(input).digest('hex').slice(0, 10)}`;
  writeFileSync(join(CORPUS_ROOT, target, name), input);
  return name;
}

/** The first line of an error with numbers masked: failures with the same cause share it. */
function signatureOf(error: string): string {
  return error.split('\n')[0]!.replace(/\d+/g, '#').slice(0, 200);
}

function workerMain(args: WorkerArgs): void {
  const target = findTarget(args.target)!;
  const counters = new Int32Array(args.shared, 0, 2);
  const bytes = new Uint8Array(args.shared, 8, SHARED_INPUT_MAX);
  const corpus = loadCorpus(target.name);
  const mutator = new Mutator(args.seed, corpus.map((c) => c.data), target.maxLength);
  // Failures the corpus already holds (known findings) are not reported again.
  const seen = new Set<string>();
  for (const { data } of corpus) {
    const known = runOne(target, data);
    if (known !== undefined) seen.add(signatureOf(known));
  }
  const deadline = Date.now() + args.seconds * 1000;
  let i = 0;
  while (Date.now() < deadline) {
    for (let k = 0; k < 200; k++, i++) {
      const input = mutator.next();
      const n = Math.min(input.length, SHARED_INPUT_MAX);
      bytes.set(input.subarray(0, n));
      Atomics.store(counters, 1, n);
      Atomics.store(counters, 0, i);
      const error = runOne(target, input);
      if (error === undefined) continue;
      const signature = signatureOf(error);
      if (seen.has(signature)) continue;
      seen.add(signature);
      const small = minimize(target, input);
      parentPort!.postMessage({ kind: 'finding', signature, error: runOne(target, small) ?? error, input: small.toString('hex') } satisfies FindingMessage);
    }
  }
  parentPort!.postMessage({ kind: 'done', iterations: i });
}

async function main(): Promise<void> {
  const [name, secondsArg, seedArg] = process.argv.slice(2);
  const target = name === undefined ? undefined : findTarget(name);
  if (!target) {
    console.error(`unknown target ${name}; TypeScript targets: ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  const seconds = Number(secondsArg ?? 60);
  const seed = Number(seedArg ?? 1) >>> 0;
  // The corpus must hold before mutating it: report committed inputs that already fail.
  for (const { file, data } of loadCorpus(target.name)) {
    const error = runOne(target, data);
    if (error !== undefined) console.log(`corpus ${file} fails (known): ${error.split('\n')[0]}`);
  }
  const shared = new SharedArrayBuffer(8 + SHARED_INPUT_MAX);
  const counters = new Int32Array(shared, 0, 2);
  // tsx's loader must be registered inside the worker before this .ts file is imported there.
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { target: target.name, seconds, seed, shared } satisfies WorkerArgs });
  let findings = 0;
  let lastIteration = -1;
  let lastChange = Date.now();
  const watchdog = setInterval(() => {
    const it = Atomics.load(counters, 0);
    if (it !== lastIteration) {
      lastIteration = it;
      lastChange = Date.now();
      return;
    }
    if (Date.now() - lastChange < HANG_MS) return;
    const n = Atomics.load(counters, 1);
    const input = Buffer.from(new Uint8Array(shared, 8, n));
    const file = saveFinding(target.name, input);
    console.log(`HANG (> ${HANG_MS} ms) in ${target.name}: ${file}\n  input ${input.toString('hex')}`);
    findings++;
    void worker.terminate();
  }, 1000);
  await new Promise<void>((resolve) => {
    worker.on('message', (m: FindingMessage | { kind: 'done'; iterations: number }) => {
      if (m.kind === 'done') {
        console.log(`${target.name}: ${m.iterations} inputs in ${seconds} s (seed ${seed}), ${findings} new finding(s)`);
        return;
      }
      findings++;
      const file = saveFinding(target.name, Buffer.from(m.input, 'hex'));
      console.log(`FINDING in ${target.name} -> test/fuzz/corpus/${target.name}/${file}\n  input ${m.input}\n  ${m.error.split('\n').join('\n  ')}`);
    });
    worker.on('error', (err) => {
      console.log(`worker error: ${err.stack ?? err}`);
      findings++;
    });
    worker.on('exit', () => resolve());
  });
  clearInterval(watchdog);
  process.exitCode = findings > 0 ? 1 : 0;
}

if (isMainThread) await main();
else workerMain(workerData as WorkerArgs);
