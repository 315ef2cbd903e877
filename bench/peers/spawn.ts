// Runs one benchmark task in a child Node process and returns its JSON result. A library that
// crashes (wrtc at exit, a native fault mid-run) or hangs costs only its own task, never the run.
import { spawn } from 'node:child_process';
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { raisedDescriptorLimit } from './descriptor-limit.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Prefix of the one stdout line that carries a child's result. */
export const RESULT_PREFIX = '@@result ';
/** Prefix of a stdout line with the results so far, used when the child dies before the end. */
export const PARTIAL_PREFIX = '@@partial ';

/** What a child process produced. */
export type ChildOutcome<T> = { ok: true; result: T; partial?: string } | { ok: false; error: string };

/**
 * Runs `script` (a path relative to bench/peers, or absolute) with `task` as its JSON argument
 * under `--import tsx` and `--expose-gc` (and, with `opts.builtLibrary`, against the compiled
 * package in dist/lib, which the caller has built; `opts.env` adds environment variables; `opts.nofile`
 * raises the child's open-descriptor limit to that many where allowed, see descriptor-limit.ts). Resolves with the parsed result line even when the
 * process then exits abnormally; failing that with its last partial line and, in `partial`, why
 * it stopped; with an error naming the exit status, signal or timeout otherwise.
 */
export function runChild<T>(
  script: string,
  task: unknown,
  timeoutMs: number,
  opts: { builtLibrary?: boolean; env?: Record<string, string>; nofile?: number } = {},
): Promise<ChildOutcome<T>> {
  // With `builtLibrary` the child loads lib/ from dist/lib (use-built-library.ts), as an installed package runs.
  const built = opts.builtLibrary ? ['--import', resolvePath(here, 'use-built-library.ts')] : [];
  const [command, ...prefixArgs] = [...(opts.nofile ? raisedDescriptorLimit(opts.nofile).prefix : []), process.execPath];
  return new Promise((resolve) => {
    const child = spawn(command!, [...prefixArgs, '--expose-gc', '--import', 'tsx', ...built, resolvePath(here, script), JSON.stringify(task)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n');
      const line = lines.find((l) => l.startsWith(RESULT_PREFIX));
      if (line) {
        resolve({ ok: true, result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T });
        return;
      }
      const why = `${timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}`}${err ? `: ${err.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      const partial = lines.filter((l) => l.startsWith(PARTIAL_PREFIX)).pop();
      if (partial) resolve({ ok: true, result: JSON.parse(partial.slice(PARTIAL_PREFIX.length)) as T, partial: why });
      else resolve({ ok: false, error: why });
    });
  });
}

/** Writes the results so far (stdout to a pipe is synchronous on Linux, so a crash keeps them). */
export function reportPartial(result: unknown): void {
  process.stdout.write(`${PARTIAL_PREFIX}${JSON.stringify(result)}\n`);
}

/** Writes a child's result line and exits at once (skips library teardown that may crash). */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
}
