// `npm run bench -- ice`: ICE connection setup on loopback. (1) One pair: milliseconds from
// creating the transports to both sides connected, ours (native batch socket and the dgram
// stand-in) against werift's ICE Connection. (2) Many concurrent pairs: connections per second
// with all server transports on ONE UdpMux port (clients on their own dgram sockets), against
// werift doing the same number of pairs with a socket per agent (it has no one-port mode).
// Nothing leaves the machine: no STUN/TURN servers are configured for either side.
import { Connection } from 'werift';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { dgramUdpSocketFactory } from '../../lib/transport/source/datagram-socket.js';
import type { IceUdpSocketFactory } from '../../lib/transport/source/datagram-socket.js';
import { printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

export const baseline = 'werift';

const LOOPBACK = { addresses: ['127.0.0.1'] };
const up = (t: IceTransport): boolean => t.state === 'connected' || t.state === 'completed';

function until(cond: () => boolean, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const start = performance.now();
    const tick = (): void => {
      if (cond()) resolve(true);
      else if (performance.now() - start > ms) resolve(false);
      else setImmediate(tick);
    };
    tick();
  });
}

function signal(a: IceTransport, b: IceTransport): void {
  a.on('icecandidate', (c) => b.addRemoteCandidate(c));
  b.on('icecandidate', (c) => a.addRemoteCandidate(c));
  a.setRemoteParameters(b.localParameters);
  b.setRemoteParameters(a.localParameters);
}

async function oursPair(factory: IceUdpSocketFactory | undefined): Promise<number> {
  const t0 = performance.now();
  const a = new IceTransport({ role: 'controlling', gather: LOOPBACK, ...(factory ? { socketFactory: factory } : {}) });
  const b = new IceTransport({ role: 'controlled', gather: LOOPBACK, ...(factory ? { socketFactory: factory } : {}) });
  signal(a, b);
  await Promise.all([a.gather(), b.gather()]);
  const ok = await until(() => up(a) && up(b), 10_000);
  const ms = performance.now() - t0;
  a.close();
  b.close();
  if (!ok) throw new Error('ours: pair did not connect');
  return ms;
}

// werift advertises interface addresses, not the bound one: add 127.0.0.1 as a host address and
// exchange only the loopback candidates, so that both stacks check exactly one loopback pair.
const weriftOptions = { useIpv4: true, useIpv6: false, interfaceAddresses: { udp4: '127.0.0.1' }, additionalHostAddresses: ['127.0.0.1'] };

async function weriftConnect(a: Connection, b: Connection): Promise<void> {
  await Promise.all([a.gatherCandidates(), b.gatherCandidates()]);
  a.setRemoteParams({ iceLite: false, usernameFragment: b.localUsername, password: b.localPassword });
  b.setRemoteParams({ iceLite: false, usernameFragment: a.localUsername, password: a.localPassword });
  for (const c of b.localCandidates) if (c.host === '127.0.0.1') await a.addRemoteCandidate(c);
  for (const c of a.localCandidates) if (c.host === '127.0.0.1') await b.addRemoteCandidate(c);
  await a.addRemoteCandidate(undefined);
  await b.addRemoteCandidate(undefined);
  await Promise.all([a.connect(), b.connect()]);
}

async function weriftPair(): Promise<number> {
  const t0 = performance.now();
  const a = new Connection(true, weriftOptions);
  const b = new Connection(false, weriftOptions);
  await weriftConnect(a, b);
  const ms = performance.now() - t0;
  await Promise.all([a.close(), b.close()]);
  return ms;
}

async function oursMany(n: number): Promise<number> {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const servers: IceTransport[] = [];
  const clients: IceTransport[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = mux.createTransport({ role: 'controlled' });
    const c = new IceTransport({ role: 'controlling', gather: LOOPBACK, socketFactory: dgramUdpSocketFactory });
    signal(c, s);
    servers.push(s);
    clients.push(c);
  }
  await Promise.all([...servers.map((s) => s.gather()), ...clients.map((c) => c.gather())]);
  const ok = await until(() => servers.every(up) && clients.every(up), 120_000);
  const seconds = (performance.now() - t0) / 1000;
  const dropped = mux.stats.drops;
  for (const c of clients) c.close();
  mux.close();
  if (!ok) throw new Error(`ours: not all ${n} pairs connected`);
  if (dropped['unknown-sender'] + dropped['unknown-ufrag'] > 0) throw new Error('ours: mux dropped datagrams');
  return n / seconds;
}

async function weriftMany(n: number): Promise<number> {
  const t0 = performance.now();
  const pairs: [Connection, Connection][] = [];
  for (let i = 0; i < n; i++) pairs.push([new Connection(true, weriftOptions), new Connection(false, weriftOptions)]);
  await Promise.all(pairs.map(([a, b]) => weriftConnect(a, b)));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(pairs.flatMap(([a, b]) => [a.close(), b.close()]));
  return n / seconds;
}

/** Runs the ICE suite. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader('ice', { werift: '0.24' });
  const rounds = opts.rounds;
  const many = opts.quick ? 100 : 1000;
  const pair = { ours: [] as number[], oursDgram: [] as number[], werift: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    pair.ours.push(await oursPair(undefined));
    pair.oursDgram.push(await oursPair(dgramUdpSocketFactory));
    pair.werift.push(await weriftPair());
  }
  const manyOurs: number[] = [];
  const manyWerift: number[] = [];
  const manyRounds = Math.max(1, Math.min(rounds, 3));
  for (let r = 0; r < manyRounds; r++) {
    manyOurs.push(await oursMany(many));
    manyWerift.push(await weriftMany(many));
  }
  const single = 'one pair, start→connected';
  const multi = `${many} concurrent pairs, setup rate`;
  return [
    { suite: 'ice', case: single, subject: 'werift', unit: 'ms', higherIsBetter: false, samples: pair.werift },
    { suite: 'ice', case: single, subject: 'ours (native socket)', unit: 'ms', higherIsBetter: false, samples: pair.ours },
    { suite: 'ice', case: single, subject: 'ours (dgram)', unit: 'ms', higherIsBetter: false, samples: pair.oursDgram },
    { suite: 'ice', case: multi, subject: 'werift', unit: 'conn/s', higherIsBetter: true, samples: manyWerift },
    { suite: 'ice', case: multi, subject: 'ours (one server port)', unit: 'conn/s', higherIsBetter: true, samples: manyOurs },
  ];
}
