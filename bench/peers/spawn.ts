// Runs one benchmark task in a child Node process and returns its JSON result. A library that
// crashes (wrtc at exit, a native fault mid-run) or hangs costs only its own task, never the run.
import { spawn } from 'node:child_process';
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Prefix of the one stdout line that carries a child's result. */
export const RESULT_PREFIX = '@@result ';

/** What a child process produced. */
export type ChildOutcome<T> = { ok: true; result: T } | { ok: false; error: string };

/**
 * Runs `script` (a path relative to bench/peers, or absolute) with `task` as its JSON argument under `--import tsx`
 * and `--expose-gc`. Resolves with the parsed result line even when the process then exits
 * abnormally; with an error naming the exit status, signal or timeout otherwise.
 */
export function runChild<T>(script: string, task: unknown, timeoutMs: number): Promise<ChildOutcome<T>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', resolvePath(here, script), JSON.stringify(task)], {
      stdio: ['ignore', 'pipe', 'pipe'],
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
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (line) {
        resolve({ ok: true, result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T });
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ ok: false, error: `${why}${err ? `: ${err.trim().split('\n').slice(-3).join(' | ')}` : ''}` });
    });
  });
}

/** Writes a child's result line and exits at once (skips library teardown that may crash). */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`, () => process.exit(0));
}
