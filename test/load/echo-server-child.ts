// The echo server under load, in its own process (whip-load.ts drives it over IPC): every WHIP
// session on one shared UdpMux port. Answers `mem` (after GC), `loop` (the event loop's delay
// since the last `loop`) and `sessions` requests.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startEchoServer } from '../../lib/echo/echo-server.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const maxSessions = Number(process.argv[2] ?? 600);
const mux = await UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 });
const server = await startEchoServer({ port: 0, hostAddresses: ['127.0.0.1'], udpMux: mux, maxSessions });

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.on('message', (m: { op: 'mem' | 'loop' | 'sessions' | 'close' | 'snap' }) => {
  if (m.op === 'snap' && process.env.PWT_LOAD_SNAPSHOT) {
    gc();
    process.send!({ op: 'snap', file: writeHeapSnapshot(`${process.env.PWT_LOAD_SNAPSHOT}-${Date.now()}.heapsnapshot`) });
  } else if (m.op === 'mem') {
    gc();
    gc();
    const u = process.memoryUsage();
    process.send!({ op: 'mem', rss: u.rss, heapUsed: u.heapUsed, muxTransports: mux.stats.transports, sessions: server.sessions.size });
  } else if (m.op === 'loop') {
    process.send!({ op: 'loop', maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 });
    loopDelay.reset();
  } else if (m.op === 'sessions') {
    process.send!({ op: 'sessions', sessions: server.sessions.size, muxTransports: mux.stats.transports });
  } else {
    void server.close().then(() => {
      mux.close();
      process.exit(0);
    });
  }
});
process.send!({ op: 'ready', url: server.url, whipUrl: server.whipUrl });
