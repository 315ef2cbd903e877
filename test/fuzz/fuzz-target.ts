// The shape of a TypeScript fuzz target and the runner that replays its corpus and mutations,
// checking the invariant: no exception but the parser's documented typed error, and round trips.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Mutator, truncations } from './mutator.js';

/** A broken invariant (a round trip that does not re-parse to the same fields, a bound exceeded). */
export class FuzzInvariantError extends Error {
  override readonly name = 'FuzzInvariantError';
}

/** Throws FuzzInvariantError with `message` unless `cond`. */
export function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new FuzzInvariantError(message);
}

/** Throws FuzzInvariantError unless the two values are deeply equal (JSON view, bigint and bytes as hex). */
export function checkSame(a: unknown, b: unknown, what: string): void {
  const ja = stableJson(a);
  const jb = stableJson(b);
  if (ja === jb) return;
  // Name the first differing field in the first line: scripts/fuzz.mjs tells findings apart by it.
  let i = 0;
  while (i < ja.length && ja[i] === jb[i]) i++;
  const field = /"([^"]+)":[^"]*$/.exec(ja.slice(0, i))?.[1] ?? '?';
  throw new FuzzInvariantError(`${what} differs after the round trip (first at "${field}"):\n  ${ja.slice(0, 400)}\n  ${jb.slice(0, 400)}`);
}

/** JSON with sorted keys, Uint8Array as hex and bigint as decimal, so fields compare by value. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint8Array) return `hex:${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')}`;
    if (x && typeof x === 'object' && (x as { type?: unknown }).type === 'Buffer' && Array.isArray((x as { data?: unknown }).data)) {
      return `hex:${Buffer.from((x as { data: number[] }).data).toString('hex')}`;
    }
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(x).sort()) sorted[key] = (x as Record<string, unknown>)[key];
      return sorted;
    }
    return x;
  });
}

/** One fuzz target: a parser fed arbitrary bytes. */
export interface FuzzTarget {
  /** Name; also the corpus folder test/fuzz/corpus/<name>. */
  readonly name: string;
  /** What is parsed, for the docs and reports. */
  readonly description: string;
  /** Largest input the mutator produces for this target. */
  readonly maxLength: number;
  /** Feeds one input; throws FuzzInvariantError (or anything) when an invariant breaks. */
  run(data: Buffer): void;
  /** True for the parser's documented typed error (allowed); absent means nothing may be thrown. */
  isExpectedError?(err: unknown): boolean;
}

/** A failing input and what went wrong. */
export interface FuzzFinding {
  target: string;
  /** corpus file name, or `mutation #<i>` / `truncation <len> of <file>`. */
  origin: string;
  input: Buffer;
  error: string;
}

/** Folder of the committed seed corpora. */
export const CORPUS_ROOT = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

/** The committed corpus of a target, sorted by file name. */
export function loadCorpus(name: string): { file: string; data: Buffer }[] {
  const dir = join(CORPUS_ROOT, name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((file) => ({ file, data: readFileSync(join(dir, file)) }));
}

/** Runs one input through a target; returns the error text when the invariant broke. */
export function runOne(target: FuzzTarget, data: Buffer): string | undefined {
  try {
    target.run(data);
    return undefined;
  } catch (err) {
    if (!(err instanceof FuzzInvariantError) && target.isExpectedError?.(err)) return undefined;
    const e = err as Error;
    return `${e?.name ?? 'throw'}: ${e?.message ?? String(err)}\n${(e?.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  }
}

/** Options of a bounded fuzz run. */
export interface FuzzRunOptions {
  /** Mutator seed. */
  seed: number;
  /** Mutated inputs to try. */
  iterations: number;
  /** Also feed every prefix of every corpus file. */
  truncateCorpus?: boolean;
  /** Stop early once this many findings were collected. */
  maxFindings?: number;
  /** Called before each mutated input (a watchdog records it). */
  onInput?(data: Buffer, index: number): void;
}

/** Replays the corpus (and its truncations) and then `iterations` mutations; returns the findings. */
export function fuzzTarget(target: FuzzTarget, opts: FuzzRunOptions): FuzzFinding[] {
  const corpus = loadCorpus(target.name);
  const findings: FuzzFinding[] = [];
  const max = opts.maxFindings ?? 10;
  const note = (origin: string, input: Buffer, error: string | undefined): void => {
    if (error !== undefined) findings.push({ target: target.name, origin, input: Buffer.from(input), error });
  };
  for (const { file, data } of corpus) {
    note(file, data, runOne(target, data));
    if (opts.truncateCorpus) {
      // Every length for datagram-sized seeds; a stride on large files keeps the sweep bounded.
      for (const t of truncations(data, Math.ceil(data.length / 600))) {
        if (findings.length >= max) break;
        note(`truncation ${t.length} of ${file}`, t, runOne(target, t));
      }
    }
    if (findings.length >= max) return findings;
  }
  const mutator = new Mutator(opts.seed, corpus.map((c) => c.data), target.maxLength);
  for (let i = 0; i < opts.iterations && findings.length < max; i++) {
    const input = mutator.next();
    opts.onInput?.(input, i);
    note(`mutation #${i} (seed ${opts.seed})`, input, runOne(target, input));
  }
  return findings;
}

/**
 * Shrinks a failing input while it still fails with the same first error line: drops chunks of
 * halving size, then zeroes bytes. Bounded by `maxRuns` target calls.
 */
export function minimize(target: FuzzTarget, input: Buffer, maxRuns = 20000): Buffer {
  const signature = (d: Buffer): string | undefined => runOne(target, d)?.split('\n')[0]?.replace(/\d+/g, '#');
  const want = signature(input);
  if (want === undefined) return input;
  let best = input;
  let runs = 0;
  for (let size = Math.max(1, best.length >> 1); size >= 1 && runs < maxRuns; size >>= 1) {
    for (let at = 0; at + size <= best.length && runs < maxRuns; ) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      runs++;
      if (signature(candidate) === want) best = candidate;
      else at += size;
    }
  }
  for (let i = 0; i < best.length && runs < maxRuns; i++) {
    if (best[i] === 0) continue;
    const candidate = Buffer.from(best);
    candidate[i] = 0;
    runs++;
    if (signature(candidate) === want) best = candidate;
  }
  return best;
}
