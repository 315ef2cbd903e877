// `node --import tsx bench/peers/fanout-one.ts <relay> <N> [seconds] [rounds] [warm-up seconds]`: one fanout measurement
// (bench/suites/fanout.ts's load) of one relay, for profiling it (PWT_FANOUT_PERF, PWT_FANOUT_PROFILE)
// without running the whole suite; prints each round's forwarded packets per server CPU-second.
import { runFanout, type FanoutServer } from './fanout-run.js';

const [server = 'ours-native', n = '200', seconds = '2', rounds = '3', warmup = '0.3'] = process.argv.slice(2);
const subscribers = Number(n);
const outcome = await runFanout(server as FanoutServer, { subscribers, offeredPps: 30_000, maxPublisherPps: 2000, payload: 1000, seconds: Number(seconds), warmupSeconds: Number(warmup), rounds: Number(rounds) }, 120_000 + subscribers * 3000 + (Number(seconds) * Number(rounds) + Number(warmup)) * 1000);
if (!outcome.ok) {
  console.log(`${server} N=${n}: no result (${outcome.error})`);
  process.exitCode = 1;
} else {
  for (const r of outcome.result) {
    console.log(`${server} N=${n}: ${(r.forwarded / (r.serverCpuUs / 1e6) / 1000).toFixed(1)}k pkt/CPU-s, ${(r.serverCpuUs / r.forwarded).toFixed(2)} µs/pkt${r.serverUserUs !== undefined ? ` (user ${(r.serverUserUs / r.forwarded).toFixed(2)})` : ''}, delivered ${((100 * r.delivered) / r.offered).toFixed(1)} %${r.socket ? `; port: ${(r.socket.packetsSent / r.socket.sendSyscalls).toFixed(1)} datagrams per send syscall, ${r.socket.gsoSends} GSO sends, ${r.socket.sendBlocked} blocked, ${(r.socket.packetsReceived / (r.wallMs / 1000)).toFixed(0)} datagrams/s received, ${(r.socket.packetsReceived / r.socket.recvSyscalls).toFixed(2)} per receive syscall, ${(r.socket.jsCalls / r.socket.recvSyscalls).toFixed(2)} JavaScript calls per receive syscall, ${(r.socket.jsCalls / (r.wallMs / 1000)).toFixed(1)} JavaScript calls/s` : ''}`);
  }
}
