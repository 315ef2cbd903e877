// SVG bar charts of a suite's results, written by our own code (no chart library): per case, one
// horizontal bar per subject at the median with a whisker from min to max, ours highlighted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, type BenchSeries } from './report.js';

const WIDTH = 820;
const LABEL_W = 190;
const BAR_W = 470;
const ROW_H = 20;
const CASE_GAP = 14;
const TITLE_H = 18;
const HEADER_H = 44;

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Short number for labels: 3 significant digits with k/M suffixes. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  if (a === 0) return '0';
  return v.toPrecision(3);
}

function colour(subject: string): string {
  if (subject.startsWith('ours')) return '#1f77b4';
  const palette = ['#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  let h = 0;
  for (let i = 0; i < subject.length; i++) h = (h * 31 + subject.charCodeAt(i)) >>> 0;
  return palette[h % palette.length]!;
}

/**
 * Renders `series` as one SVG document: a block per case (in first-seen order) with a bar per
 * subject scaled to the largest max of that case. `subtitle` carries the machine facts.
 */
export function renderChart(title: string, series: readonly BenchSeries[], subtitle = ''): string {
  const cases = [...new Set(series.map((s) => s.case))];
  const blocks = cases.map((c) => series.filter((s) => s.case === c && s.samples.length > 0));
  const height = HEADER_H + blocks.reduce((h, b) => h + TITLE_H + b.length * ROW_H + CASE_GAP, 0) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="36" fill="#555555">${escapeXml(subtitle)}</text>`,
  ];
  let y = HEADER_H;
  blocks.forEach((group, i) => {
    const first = group[0];
    if (!first) return;
    const better = first.higherIsBetter ? 'higher is better' : 'lower is better';
    out.push(`<text x="10" y="${y + 13}" font-weight="bold">${escapeXml(`${cases[i]} (${first.unit}, ${better})`)}</text>`);
    y += TITLE_H;
    const scale = Math.max(...group.map((s) => Math.max(...s.samples)), Number.MIN_VALUE);
    for (const s of group) {
      const med = median(s.samples);
      const lo = Math.min(...s.samples);
      const hi = Math.max(...s.samples);
      const x = (v: number): number => LABEL_W + (Math.max(0, v) / scale) * BAR_W;
      const mid = y + ROW_H / 2;
      out.push(`<text x="${LABEL_W - 6}" y="${mid + 4}" text-anchor="end">${escapeXml(s.subject)}</text>`);
      out.push(`<rect x="${LABEL_W}" y="${y + 3}" width="${(x(med) - LABEL_W).toFixed(1)}" height="${ROW_H - 6}" fill="${colour(s.subject)}"/>`);
      out.push(
        `<path d="M${x(lo).toFixed(1)} ${mid}H${x(hi).toFixed(1)}M${x(lo).toFixed(1)} ${mid - 4}V${mid + 4}M${x(hi).toFixed(1)} ${mid - 4}V${mid + 4}" stroke="#000000" stroke-width="1" fill="none"/>`,
      );
      out.push(`<text x="${(Math.max(x(hi), x(med)) + 6).toFixed(1)}" y="${mid + 4}">${escapeXml(`${formatValue(med)} ${s.unit}`)}</text>`);
      y += ROW_H;
    }
    y += CASE_GAP;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Writes `<dir>/<suite>.svg` and returns its path. */
export function writeChart(dir: string, suite: string, series: readonly BenchSeries[], subtitle: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.svg`);
  writeFileSync(file, renderChart(`npm run bench -- ${suite}`, series, subtitle));
  return file;
}
