// Builds and runs test/interop/pion/main.go (a pion/webrtc v3 WHIP client and server) from Debian's
// golang-github-pion-webrtc.v3-dev, offline, in Go's GOPATH mode.
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SOURCE_DIR = fileURLToPath(new URL('./pion/', import.meta.url));
const BUILD_DIR = fileURLToPath(new URL('./.build/pion/', import.meta.url));
const GOCODE = '/usr/share/gocode/src';

/** The built binary and pion's version, or why it cannot be built here. */
export type PionBuild = { binary: string; version: string } | { skip: string };

/**
 * Debian ships v2+ modules at their unversioned path (github.com/pion/webrtc, module
 * github.com/pion/webrtc/v3). GOPATH mode finds an import only at its full path, so a GOPATH of
 * our own gets a `<path>/vN` symlink for each such module.
 */
function makeGopath(gopath: string): void {
  const owners = readdirSync(join(GOCODE, 'github.com'));
  for (const owner of owners) {
    const ownerDir = join(GOCODE, 'github.com', owner);
    for (const name of readdirSync(ownerDir)) {
      const goMod = join(ownerDir, name, 'go.mod');
      if (!existsSync(goMod)) continue;
      const m = /^module\s+"?(\S+?)"?\s*$/m.exec(readFileSync(goMod, 'utf8'));
      const major = m ? /\/(v\d+)$/.exec(m[1]!) : null;
      if (!m || !major || m[1] !== `github.com/${owner}/${name}/${major[1]}`) continue;
      const linkDir = join(gopath, 'src', 'github.com', owner, name);
      mkdirSync(linkDir, { recursive: true });
      if (!existsSync(join(linkDir, major[1]!))) linkOnce(join(ownerDir, name), join(linkDir, major[1]!));
    }
  }
}

/** A symlink that another process may be making at the same moment (a concurrent build). */
function linkOnce(target: string, path: string): void {
  try {
    symlinkSync(target, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

let cached: PionBuild | undefined;

/** Builds pion-peer once per process (Go caches the rest); returns why not when it cannot. */
export function buildPionPeer(): PionBuild {
  return (cached ??= buildWithDebianPion(SOURCE_DIR, BUILD_DIR, 'pion-peer'));
}

/**
 * Builds the Go program in `sourceDir` against Debian's pion sources into `<buildDir>/<name>`
 * (GOPATH mode, offline); returns the binary and pion's version, or why it cannot be built here.
 */
export function buildWithDebianPion(sourceDir: string, buildDir: string, name: string): PionBuild {
  try {
    execFileSync('go', ['version'], { stdio: 'pipe' });
  } catch {
    return { skip: 'Go is not installed (Debian golang-go)' };
  }
  if (!existsSync(join(GOCODE, 'github.com/pion/webrtc/go.mod'))) {
    return { skip: 'pion is not installed (Debian golang-github-pion-webrtc.v3-dev)' };
  }
  let version = 'unknown';
  try {
    version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'golang-github-pion-webrtc.v3-dev'], { stdio: 'pipe' }).toString().replace(/-\d+$/, '');
  } catch {
    // Not a Debian package database: the version stays unknown.
  }
  const gopath = join(buildDir, 'gopath');
  makeGopath(gopath);
  const binary = join(buildDir, name);
  // Built under a name of this process's own and renamed into place: processes that build the same
  // directory at once (concurrent bench or test runs) never run, or overwrite, a half-written binary.
  const partial = `${binary}.${process.pid}.partial`;
  try {
    execFileSync('go', ['build', '-o', partial, '.'], {
      cwd: sourceDir,
      stdio: 'pipe',
      env: { ...process.env, GO111MODULE: 'off', GOPATH: `${gopath}:/usr/share/gocode`, GOCACHE: join(buildDir, 'cache'), GOFLAGS: '' },
      timeout: 240_000,
    });
    renameSync(partial, binary);
  } catch (error) {
    rmSync(partial, { force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    return { skip: `${name} does not build: ${stderr.slice(0, 500)}` };
  }
  return { binary, version };
}

/** A pion-peer process: its JSON lines in order, and stdin. */
export interface PionProcess {
  /** The next JSON line (rejects after `timeoutMs`). */
  next<T>(timeoutMs: number): Promise<T>;
  /** Writes one line to its stdin. */
  send(line: string): void;
  kill(): void;
}

/** Starts pion-peer with `args`. */
export function startPionPeer(binary: string, args: string[]): PionProcess {
  const child: ChildProcessWithoutNullStreams = spawn(binary, args, { stdio: 'pipe' });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  return {
    next<T>(timeoutMs: number): Promise<T> {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(JSON.parse(ready) as T);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pion-peer: no output in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(JSON.parse(line) as T);
        });
      });
    },
    send(line: string): void {
      child.stdin.write(`${line}\n`);
    },
    kill(): void {
      child.kill('SIGKILL');
    },
  };
}
