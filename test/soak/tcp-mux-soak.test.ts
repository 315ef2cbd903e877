// Short form of the ICE-TCP soak (tcp-mux-soak.ts): 300 create → connect over TCP → close cycles
// through one TcpMux port after a 300-cycle warm-up; descriptors, TCP handles, timers, the port's
// connections and transports must not grow, nor the JS heap by 10 %. Long form: `npm run soak:tcp`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { assertNothingAccumulated, describe, runCycles, snapshot } from './tcp-mux-soak.js';

const WARMUP = 300;
const CYCLES = 300;

test(`${CYCLES} create → connect over ICE-TCP → close cycles through one TcpMux port: nothing accumulates`, { timeout: 240_000 }, async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  t.after(() => mux.close());
  await runCycles(mux, 0, WARMUP);
  const b = await snapshot(mux);
  await runCycles(mux, WARMUP, WARMUP + CYCLES);
  const f = await snapshot(mux);
  console.log(describe(`tcp soak, ${CYCLES} cycles after ${WARMUP}`, b, f));
  assert.equal(mux.stats.connectionsAccepted, WARMUP + CYCLES);
  assertNothingAccumulated(mux, b, f, 0.1);
});
