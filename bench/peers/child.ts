// Child-process entry of the full-stack suites: `node --import tsx bench/peers/child.ts '<task json>'`
// runs one library's measurement and prints one result line (see spawn.ts), then exits.
import { loadAdapter, type LibraryName } from './registry.js';
import { measureMemory, measureRtp, measureSetup } from './measure.js';
import { reportPartial, reportResult } from './spawn.js';

/** A task the parent hands to a child. */
export type ChildTask =
  | { task: 'e2e'; lib: LibraryName; payloads: number[]; seconds: number; rounds: number }
  | { task: 'setup'; lib: LibraryName; counts: number[]; rounds: number }
  | { task: 'memory'; lib: LibraryName; pcs: number; idleMs?: number[] };

// A library that throws from its own callbacks (werift under hundreds of concurrent handshakes)
// must not end the measurement: the pairs concerned time out and the task reports the error.
process.on('uncaughtException', (err) => console.error('uncaught in library:', err));

const task = JSON.parse(process.argv[2] ?? '{}') as ChildTask;
const adapter = await loadAdapter(task.lib);
try {
  switch (task.task) {
    case 'e2e':
      reportResult(await measureRtp(adapter, task.payloads, task.seconds, task.rounds));
      break;
    case 'setup':
      reportResult(await measureSetup(adapter, task.counts, task.rounds, reportPartial));
      break;
    case 'memory':
      reportResult(await measureMemory(adapter, task.pcs, task.idleMs));
      break;
  }
} catch (err) {
  // The uncaughtException handler above would keep a failed task alive until its time limit.
  console.error(`${task.task} failed:`, err);
  process.exit(1);
}
