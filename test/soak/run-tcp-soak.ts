// `npm run soak:tcp`: the long form of the ICE-TCP soak (tcp-mux-soak.ts): 2,000 cycles by default
// (`npm run soak:tcp -- <cycles>`) after a 500-cycle warm-up, a snapshot every 500; exits non-zero
// when anything accumulated.
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { assertNothingAccumulated, describe, runCycles, snapshot } from './tcp-mux-soak.js';

const cycles = Number(process.argv[2] ?? 2000);
const warmup = 500;
const mux = await TcpMux.listen({ address: '127.0.0.1' });
try {
  const started = Date.now();
  await runCycles(mux, 0, warmup);
  const b = await snapshot(mux);
  console.log(describe(`after ${warmup} warm-up cycles`, b, b));
  let last = b;
  for (let done = 0; done < cycles; done += 500) {
    await runCycles(mux, warmup + done, warmup + Math.min(cycles, done + 500));
    last = await snapshot(mux);
    console.log(describe(`${Math.min(cycles, done + 500)} cycles`, b, last));
  }
  console.log(`tcp soak: ${cycles} cycles in ${((Date.now() - started) / 1000).toFixed(0)} s; port ${JSON.stringify(mux.stats)}`);
  assertNothingAccumulated(mux, b, last, 0.05);
  console.log('tcp soak: nothing accumulated');
} finally {
  mux.close();
}
