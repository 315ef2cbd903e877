// `npm run bench -- sdp`: SDP parse and serialize of real offers (test/fixtures/sdp), ours (typed
// model, lenient lines, docs/sdp.md) vs sdp-transform (the grammar we use for a few lines) in the same run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sdpTransform from 'sdp-transform';
import { parseSdp } from '../../lib/sdp/parse.js';
import { serializeSdp } from '../../lib/sdp/serialize.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Ratios are printed against sdp-transform. */
export const baseline = 'sdp-transform';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`../../test/fixtures/sdp/${name}`, import.meta.url)), 'utf8');

// Spends roughly `ms` in `body()` calls and returns descriptions per second.
function measure(ms: number, ops: number, body: () => void): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < limit) {
    body();
    n += ops;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

let sink = 0;

/** Runs every case for both libraries and returns the samples. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader('sdp', { 'sdp-transform': '3.0.0' });
  const ms = opts.quick ? 150 : 400;
  const batch = 20;
  const chromium = fixture('offer-from-chromium.sdp');
  const pion = fixture('offer-from-pion.sdp');
  const chromiumModel = parseSdp(chromium);
  const chromiumSession = sdpTransform.parse(chromium);
  const cases: { case: string; subject: string; body: () => void }[] = [];
  for (const [label, text] of [[`parse Chromium offer (${chromium.length} B)`, chromium], [`parse pion offer (${pion.length} B, trailing spaces)`, pion]] as const) {
    cases.push(
      { case: label, subject: 'ours', body: () => { for (let i = 0; i < batch; i++) sink += parseSdp(text).media.length; } },
      { case: label, subject: 'sdp-transform', body: () => { for (let i = 0; i < batch; i++) sink += sdpTransform.parse(text).media.length; } },
    );
  }
  cases.push(
    { case: 'serialize Chromium offer', subject: 'ours', body: () => { for (let i = 0; i < batch; i++) sink += serializeSdp(chromiumModel).length; } },
    { case: 'serialize Chromium offer', subject: 'sdp-transform', body: () => { for (let i = 0; i < batch; i++) sink += sdpTransform.write(chromiumSession).length; } },
  );
  const series = new Map<string, BenchSeries>();
  for (const c of cases) measure(Math.min(ms, 100), batch, c.body); // warm up every path first
  for (let r = 0; r < opts.rounds; r++) {
    for (const c of cases) {
      const key = `${c.case}|${c.subject}`;
      let s = series.get(key);
      if (!s) {
        s = { suite: 'sdp', case: c.case, subject: c.subject, unit: 'descriptions/s', higherIsBetter: true, samples: [] };
        series.set(key, s);
      }
      s.samples.push(measure(ms, batch, c.body));
    }
  }
  if (sink === -1) console.log(sink);
  return [...series.values()];
}
