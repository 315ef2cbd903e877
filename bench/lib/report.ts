// Shared benchmark helpers: rounds, medians, min/max, ratios, machine facts, table + JSON output.
import { cpus, release, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured configuration (e.g. "ours batch, 1200 B, protect"), values from several rounds. */
export interface BenchSeries {
  suite: string;
  /** What was measured, e.g. "protect 1200B AES_CM_80". Rows with the same case are compared. */
  case: string;
  /** Who: "ours (batch)", "werift", "dgram", "C ceiling", ... */
  subject: string;
  unit: string;
  /** true when larger is better (packets/s); false for times and CPU per packet. */
  higherIsBetter: boolean;
  /** Empty when the case did not run for this subject (`note` says why). */
  samples: number[];
  /** How many of the units measured failed over all samples (e.g. pairs that never connected): a table column. */
  failed?: { count: number; of: number };
  /** Why there are no samples (e.g. "skipped: needs N descriptors"), or what else the row needs said: a table column. */
  note?: string;
}

/** Options every suite receives from bench/run.ts. */
export interface BenchOptions {
  quick: boolean;
  rounds: number;
  /** `--workers N`: router worker threads for the suites that take it (fanout runs the scale measurement). */
  workers?: number;
}

/** Version of an installed npm package (from node_modules), or '?' when it is not installed. */
export function packageVersion(name: string): string {
  try {
    const file = name === 'pure-webrtc-transport' ? 'package.json' : join('node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(join(process.cwd(), file), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Machine, kernel and Node facts printed at the top of every suite. */
export function machineInfo(): Record<string, string> {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: String(c.length),
    kernel: release(),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    openssl: process.versions.openssl ?? 'unknown',
  };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/**
 * Prints a table grouped by case: median, min, max and, per case, the ratio of each subject
 * to `baseline` (the first subject of the case when none is named).
 */
export function printTable(series: BenchSeries[], baselineSubject?: string): void {
  const cases = [...new Set(series.map((s) => s.case))];
  const withFailed = series.some((s) => s.failed !== undefined);
  const withNote = series.some((s) => s.note !== undefined);
  const rows: string[][] = [['case', 'subject', 'median', 'min', 'max', 'unit', 'ratio', ...(withFailed ? ['failed'] : []), ...(withNote ? ['note'] : [])]];
  for (const c of cases) {
    const group = series.filter((s) => s.case === c);
    const measured = group.filter((s) => s.samples.length > 0);
    const base = measured.find((s) => s.subject === baselineSubject) ?? measured[0];
    const baseMed = base ? median(base.samples) : NaN;
    for (const s of group) {
      const extra = [...(withFailed ? [s.failed ? `${s.failed.count}/${s.failed.of}` : ''] : []), ...(withNote ? [s.note ?? ''] : [])];
      if (s.samples.length === 0) {
        rows.push([c, s.subject, '-', '-', '-', s.unit, '-', ...extra]);
        continue;
      }
      const med = median(s.samples);
      const ratio = s.higherIsBetter ? med / baseMed : baseMed / med;
      rows.push([c, s.subject, fmt(med), fmt(Math.min(...s.samples)), fmt(Math.max(...s.samples)), s.unit,
        s === base ? '1.00 (base)' : Number.isFinite(ratio) && ratio > 0 ? `${ratio.toFixed(2)}x` : '-', ...extra]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}

/** Writes every sample of a suite to .bench-out/<suite>.json with the machine facts. */
export function writeJson(suite: string, series: BenchSeries[], extra: Record<string, unknown> = {}): string {
  const dir = join(process.cwd(), '.bench-out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.json`);
  writeFileSync(file, JSON.stringify({ suite, machine: machineInfo(), date: new Date().toISOString(), ...extra, series }, null, 2));
  return file;
}

/** Versions of the installed peer libraries the full-stack suites compare against. */
export function libraryVersions(): Record<string, string> {
  const out: Record<string, string> = { 'pure-webrtc-transport': packageVersion('pure-webrtc-transport') };
  for (const name of ['werift', '@roamhq/wrtc', 'node-datachannel']) out[name] = packageVersion(name);
  return out;
}

/**
 * Ratio of `subject`'s median to `against`'s in `caseName`, oriented so that > 1 means
 * `subject` is better; undefined when either is missing.
 */
export function ratioOf(series: readonly BenchSeries[], caseName: string, subject: string, against: string): number | undefined {
  const a = series.find((s) => s.case === caseName && s.subject === subject);
  const b = series.find((s) => s.case === caseName && s.subject === against);
  if (!a || !b || !a.samples.length || !b.samples.length) return undefined;
  const ma = median(a.samples);
  const mb = median(b.samples);
  return a.higherIsBetter ? ma / mb : mb / ma;
}

/**
 * Prints one target line: MET or MISS, the measured ratio and the target, e.g.
 * `MISS  e2e-rtp 1200B delivered, ours / werift: 8.10x (target >= 10x)`.
 */
export function printTarget(label: string, ratio: number | undefined, target: number): void {
  if (ratio === undefined || !Number.isFinite(ratio)) {
    console.log(`N/A   ${label}: not measured`);
    return;
  }
  console.log(`${ratio >= target ? 'MET ' : 'MISS'}  ${label}: ${ratio.toFixed(2)}x (target >= ${target}x)`);
}

/** Prints the suite header with the machine facts. */
export function printHeader(suite: string, libraries: Record<string, string> = {}): void {
  console.log(`\n== ${suite} ==`);
  const m = machineInfo();
  console.log(Object.entries(m).map(([k, v]) => `${k}: ${v}`).join(' | '));
  if (Object.keys(libraries).length) console.log(Object.entries(libraries).map(([k, v]) => `${k} ${v}`).join(' | '));
}
