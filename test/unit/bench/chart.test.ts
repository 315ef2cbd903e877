// bench/lib/chart.ts: bars at the median scaled per case, whiskers from min to max, ours in its
// own colour, text escaped, one block per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatValue, renderChart } from '../../../bench/lib/chart.js';
import type { BenchSeries } from '../../../bench/lib/report.js';

const series: BenchSeries[] = [
  { suite: 's', case: 'rate', subject: 'ours', unit: 'pkt/s', higherIsBetter: true, samples: [100, 80, 120] },
  { suite: 's', case: 'rate', subject: 'werift', unit: 'pkt/s', higherIsBetter: true, samples: [50, 40, 60] },
  { suite: 's', case: 'cpu <&>', subject: 'ours', unit: 'µs', higherIsBetter: false, samples: [2] },
];

function bars(svg: string): { width: number; fill: string }[] {
  return [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="\d+" fill="(#[0-9a-f]{6})"\/>/g)].map((m) => ({ width: Number(m[1]), fill: m[2]! }));
}

test('bar lengths are medians scaled to the largest max of their case', () => {
  const svg = renderChart('t', series);
  const [ours, werift, cpu] = bars(svg);
  // Case "rate": max is 120, so ours (median 100) is 100/120 of 470 px, werift (50) 50/120.
  assert.ok(Math.abs(ours!.width - (470 * 100) / 120) < 0.1);
  assert.ok(Math.abs(werift!.width - (470 * 50) / 120) < 0.1);
  // A single-sample case fills the full width.
  assert.ok(Math.abs(cpu!.width - 470) < 0.1);
  assert.notEqual(ours!.fill, werift!.fill);
  assert.equal(ours!.fill, cpu!.fill);
});

test('whiskers run from min to max', () => {
  const svg = renderChart('t', series);
  const paths = [...svg.matchAll(/<path d="M([\d.]+) [\d.]+H([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.equal(paths.length, 3);
  const [lo, hi] = paths[0]!;
  assert.ok(Math.abs(lo! - (190 + (470 * 80) / 120)) < 0.1);
  assert.ok(Math.abs(hi! - (190 + 470)) < 0.1);
});

test('case titles carry unit and direction, text is escaped, document is closed', () => {
  const svg = renderChart('a & b', series, 'machine <x>');
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.ok(svg.includes('rate (pkt/s, higher is better)'));
  assert.ok(svg.includes('cpu &lt;&amp;&gt; (µs, lower is better)'));
  assert.ok(svg.includes('a &amp; b'));
  assert.ok(svg.includes('machine &lt;x&gt;'));
});

test('values are labelled with three significant digits', () => {
  assert.equal(formatValue(61_900), '61.9k');
  assert.equal(formatValue(1_234_567), '1.23M');
  assert.equal(formatValue(9.537), '9.54');
  assert.equal(formatValue(0), '0');
});
