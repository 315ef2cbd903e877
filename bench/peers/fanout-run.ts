// Starts a fanout server process (one library's relay) and the client process, bridges their
// IPC messages and returns the clients' measured rounds. Either process failing or hanging fails
// only this measurement: both are killed by pid and the error is returned. The pion row's server
// is a Go process (bench/peers/pion-fanout/main.go) that speaks the same messages as JSON lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildWithDebianPion, type PionBuild } from '../../test/interop/pion-peer.js';
import type { ChildOutcome } from './spawn.js';
import type { FanoutRound, FanoutTask } from './fanout-protocol.js';

const here = dirname(fileURLToPath(import.meta.url));

function start(script: string, ...args: string[]): ChildProcess {
  // Diagnostics (not for measured runs): PWT_FANOUT_NODE_FLAGS adds V8/Node flags that NODE_OPTIONS refuses
  // (--trace-opt, --trace-deopt), and PWT_FANOUT_STDOUT=1 shows the children's stdout, where V8 traces go.
  const flags = (process.env['PWT_FANOUT_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');
  return spawn(process.execPath, [...flags, '--import', 'tsx', join(here, script), ...args], { stdio: ['ignore', process.env['PWT_FANOUT_STDOUT'] ? 'inherit' : 'ignore', 'pipe', 'ipc'] });
}

/** The relays the fanout suite measures (see fanout-server.ts; pion: pion-fanout/main.go). */
export type FanoutServer = 'ours' | 'ours-udpmux' | 'ours-native' | 'ours-native-pipe' | 'ours-native-pipe-srtp' | 'werift' | 'pion';

let pionBuild: PionBuild | undefined;

/** Builds the pion forwarder once per run; `skip` says why it cannot run here. */
export function buildPionFanout(): PionBuild {
  return (pionBuild ??= buildWithDebianPion(join(here, 'pion-fanout'), join(tmpdir(), 'pwt-bench-fanout-pion'), 'pion-fanout'));
}

/** The pion forwarder, with the IPC-shaped `send` and `message` the bridge below uses. */
function startPion(binary: string): ChildProcess {
  const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', (line) => child.emit('message', JSON.parse(line)));
  child.send = ((m: object) => child.stdin!.write(`${JSON.stringify(m)}\n`)) as ChildProcess['send'];
  return child;
}

/** Runs one fanout measurement with `server` relaying. */
export function runFanout(server: FanoutServer, task: FanoutTask, timeoutMs: number): Promise<ChildOutcome<FanoutRound[]>> {
  return new Promise((resolve) => {
    let srv: ChildProcess;
    if (server === 'pion') {
      if (task.kind === 'video') return resolve({ ok: false, error: 'the pion forwarder relays audio only' });
      const build = buildPionFanout();
      if ('skip' in build) return resolve({ ok: false, error: build.skip });
      srv = startPion(build.binary);
    } else {
      srv = start('fanout-server.ts', server, task.kind ?? 'audio');
    }
    // The native load generator (docs/bench/README.md "fanout load generator"); PWT_FANOUT_JS_CLIENT=1 (diagnostics,
    // not for published runs) puts back the JavaScript client, which limits what can be offered near capacity.
    const cli = start(process.env['PWT_FANOUT_JS_CLIENT'] === '1' ? 'fanout-clients.ts' : 'fanout-native-clients.ts', JSON.stringify(task));
    let stderr = '';
    for (const c of [srv, cli]) c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    // PWT_FANOUT_STDERR=1: the server's and the clients' stderr are also copied to ours (diagnostics while profiling).
    if (process.env['PWT_FANOUT_STDERR']) {
      srv.stderr!.on('data', (d: string) => process.stderr.write(`[server] ${d}`));
      cli.stderr!.on('data', (d: string) => process.stderr.write(`[clients] ${d}`));
    }
    let done = false;
    const finish = (outcome: ChildOutcome<FanoutRound[]>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const c of [srv, cli]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `timed out after ${timeoutMs} ms${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}` }), timeoutMs);
    cli.on('message', (m: { result?: FanoutRound[] }) => {
      if (m.result) finish({ ok: true, result: m.result });
      else srv.send(m);
    });
    srv.on('message', (m) => cli.send(m as object));
    for (const [name, c] of [['server', srv], ['clients', cli]] as const) {
      c.on('exit', (code, signal) => {
        if (!done) finish({ ok: false, error: `${name} exited (${signal ?? code})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}` });
      });
    }
  });
}
