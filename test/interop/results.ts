// Records interop outcomes during the test run (one JSON file per peer in test/interop/results/)
// so that render-matrix.ts builds docs/interop.md from what really ran.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of the per-peer result files. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** One cell of the matrix. */
export interface InteropResult {
  /** Peer name, e.g. `Chromium`. */
  peer: string;
  /** Peer version as the peer reports it. */
  version: string;
  /** Who does what, e.g. `our WHIP server ← their client`. */
  role: string;
  /** `audio`, `video` or `data`. */
  media: 'audio' | 'video' | 'data';
  /** Extra condition (ICE-lite, an SRTP profile...), or empty. */
  variant: string;
  pass: boolean;
  /** True when the peer does not offer this at all (shown as such, not as a failure of ours). */
  unsupportedByPeer?: boolean;
  /** What was measured (counts from getStats, messages intact...). */
  detail: string;
}

interface ResultFile {
  peer: string;
  version: string;
  results: InteropResult[];
}

function fileFor(peer: string): string {
  return join(RESULTS_DIR, `${peer.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}.json`);
}

/** Replaces the result with the same peer/role/media/variant (a re-run overwrites). */
export function recordResult(r: InteropResult): void {
  // The shared-port re-run (server-path.ts) checks; the default run's results stay the record.
  if (process.env.PWT_INTEROP_PATH === 'udp-mux') return;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = fileFor(r.peer);
  const current: ResultFile = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ResultFile) : { peer: r.peer, version: r.version, results: [] };
  current.version = r.version;
  current.results = current.results.filter((x) => !(x.role === r.role && x.media === r.media && x.variant === r.variant));
  current.results.push(r);
  const order = { audio: 0, video: 1, data: 2 };
  current.results.sort((a, b) => a.role.localeCompare(b.role) || a.variant.localeCompare(b.variant) || order[a.media] - order[b.media]);
  writeFileSync(file, `${JSON.stringify(current, null, 2)}\n`);
}

/** Every recorded result file. */
export function readResults(files: string[]): ResultFile[] {
  return files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as ResultFile);
}

/** Folder of the SDP the peers produced in the last run (offers and answers, CRLF kept). */
export const CAPTURED_SDP_DIR = join(dirname(fileURLToPath(import.meta.url)), 'captured-sdp');

/** Keeps one offer or answer a peer produced, as `<peer>-<what>.sdp`. */
export function captureSdp(peer: string, what: string, sdp: string): void {
  if (process.env.PWT_INTEROP_PATH === 'udp-mux') return;
  mkdirSync(CAPTURED_SDP_DIR, { recursive: true });
  const name = `${peer}-${what}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  writeFileSync(join(CAPTURED_SDP_DIR, `${name}.sdp`), sdp);
}
