// Runs the package's command line (lib/cli/main.ts) as a user does, for the interop suite: the exit
// code and the one JSON line whip-client / whep-client print.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));

/** What a command printed and how it exited. */
export interface CliRun<T> {
  code: number | null;
  /** The parsed JSON line (undefined when stdout held no single JSON line). */
  summary: T | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `pure-webrtc-transport <args>`; killed after `timeoutMs`. */
export function runCli<T>(args: string[], timeoutMs = 45_000): Promise<CliRun<T>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.trim().split('\n');
      let summary: T | undefined;
      try {
        summary = lines.length === 1 ? (JSON.parse(lines[0]!) as T) : undefined;
      } catch {
        summary = undefined;
      }
      resolve({ code, summary, stdout, stderr });
    });
  });
}
