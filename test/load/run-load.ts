// Long form of the echo-server load (whip-load.ts), part of `npm run soak`: 500 concurrent WHIP
// sessions (`node --import tsx test/load/run-load.ts [sessions] [seconds] [--cpu-prof=DIR]
// [--generator-nice=N]`; with --cpu-prof the server process writes a V8 CPU profile into DIR; the
// generator's threads run GENERATOR_NICE nice steps below the server unless N says otherwise, 0 for
// the same priority). Exits non-zero when a session did not echo, the page answered slower than
// 100 ms, or memory did not return.
import { describeLoad, runWhipLoad } from './whip-load.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const profDir = process.argv.find((a) => a.startsWith('--cpu-prof='))?.slice('--cpu-prof='.length);
const sessions = Number(args[0] ?? 500);
const seconds = Number(args[1] ?? 5);
const niceArg = process.argv.find((a) => a.startsWith('--generator-nice='))?.slice('--generator-nice='.length);
if (niceArg !== undefined && !/^\d+$/.test(niceArg)) {
  console.error(`--generator-nice takes a whole number of nice steps (0 for the same priority), not "${niceArg}"`);
  process.exit(2);
}
const r = await runWhipLoad({
  sessions,
  seconds,
  serverExecArgv: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  ...(niceArg === undefined ? {} : { generatorNice: Number(niceArg) }),
});
console.log(describeLoad(r));
const problems: string[] = [];
if (r.failures.length > 0) problems.push(`${r.failures.length} sessions did not echo, e.g. ${r.failures.slice(0, 3).join(' | ')}`);
if (r.pageMaxMs > 100) problems.push(`the page answered in ${r.pageMaxMs.toFixed(1)} ms at worst (limit 100 ms)`);
if (r.afterSessions !== 0 || r.afterMuxTransports !== 0) problems.push('sessions or transports left on the server');
if (r.afterHeap > r.baselineHeap * 1.1) problems.push(`JS heap did not return (${r.baselineHeap} → ${r.afterHeap})`);
if (r.afterRss > r.baselineRss * 1.1) problems.push(`RSS did not return (${r.baselineRss} → ${r.afterRss})`);
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('load: every session echoed, the page stayed responsive, memory returned');
