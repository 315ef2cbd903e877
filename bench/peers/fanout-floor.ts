// The loopback floor rows of the fanout suite (docs/bench/README.md "The loopback floor"): builds
// bench/native/fanout_floor.c into bench/.build on demand (like the scale suite's scale_blast), runs it
// for one N and parses its rounds. The floor replays the fanout load's shape with nothing but the
// kernel (and, in the aesgcm variant, AES-128-GCM through EVP per datagram) on the sending side.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', 'native', 'fanout_floor.c');
const binary = join(here, '..', '.build', 'fanout_floor');

/** What the floor sends: kernel only, or sealing each datagram with AES-128-GCM first. */
export type FloorVariant = 'kernel' | 'aesgcm';

/** One measured round of the floor's sender. */
export interface FloorRound {
  datagrams: number;
  /** The sender's CPU over the round, µs: user and system separately (getrusage of the process). */
  userUs: number;
  sysUs: number;
  seconds: number;
  /** Datagrams the sinks received of the round's (all of them once drained, at most 1 s after). */
  delivered: number;
  wakeups: number;
  /** sendmmsg calls that found the send buffer full (then waited for room). */
  blocked: number;
}

/** The load one floor run replays. */
export interface FloorTask {
  variant: FloorVariant;
  subscribers: number;
  /** Incoming packets per wake-up (may be fractional: the packets due so far at this rate). */
  packetsPerWakeup: number;
  wakeupsPerSecond: number;
  warmupSeconds: number;
  seconds: number;
  rounds: number;
  /** Datagram length in bytes (1028: RTP header, 1000 payload bytes, GCM tag). */
  bytes: number;
  /** A destination's run of packets in one wake-up leaves as one UDP_SEGMENT message, as native/udp sends it. */
  gso: boolean;
}

const numericKeys = ['datagrams', 'userUs', 'sysUs', 'seconds', 'delivered', 'wakeups', 'blocked'] as const;

/**
 * The rounds in fanout_floor's stdout, one JSON object per line; throws on a line that is not one
 * with every field a finite non-negative number (a truncated or mixed-up output must not become a figure).
 */
export function parseFloorOutput(text: string): FloorRound[] {
  const rounds: FloorRound[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`fanout_floor printed a line that is not JSON: ${line.slice(0, 120)}`);
    }
    if (typeof v !== 'object' || v === null) throw new Error(`fanout_floor printed a line that is not an object: ${line.slice(0, 120)}`);
    const o = v as Record<string, unknown>;
    const round = {} as Record<(typeof numericKeys)[number], number>;
    for (const k of numericKeys) {
      const x = o[k];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(`fanout_floor round lacks a valid ${k}: ${line.slice(0, 120)}`);
      round[k] = x;
    }
    if (round.datagrams === 0) throw new Error(`fanout_floor round sent nothing: ${line.slice(0, 120)}`);
    rounds.push(round);
  }
  return rounds;
}

/** Path of the built floor, compiled first when the source is newer; throws when cc fails. */
export function buildFanoutFloor(): string {
  const built = existsSync(binary) ? statSync(binary).mtimeMs : 0;
  if (statSync(source).mtimeMs > built) {
    mkdirSync(dirname(binary), { recursive: true });
    // Built under a name of its own and renamed, so that a process starting it meanwhile never runs half a binary.
    const tmp = `${binary}.${process.pid}`;
    const r = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', tmp, source, '-lcrypto', '-lm'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('could not compile bench/native/fanout_floor.c (needs cc and libssl-dev)');
    renameSync(tmp, binary);
  }
  return binary;
}

/** Runs the floor once; resolves with its rounds or rejects with its stderr (killed by pid after `timeoutMs`). */
export function runFanoutFloor(task: FloorTask, timeoutMs: number): Promise<FloorRound[]> {
  const bin = buildFanoutFloor();
  const args = [task.variant, task.subscribers, task.packetsPerWakeup, task.wakeupsPerSecond, task.warmupSeconds, task.seconds, task.rounds, task.bytes, task.gso ? 'gso' : 'plain'].map(String);
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`fanout_floor ${args.join(' ')} exited (${signal ?? code})${stderr ? `: ${stderr.trim()}` : ''}`));
      try {
        resolve(parseFloorOutput(stdout));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
