// `npm run bench -- datachannel`: one-way throughput (MB/s) of a reliable ordered data channel
// with 16 KiB and 64 KiB messages, and the round-trip time of 64-byte messages, on loopback.
//
// Subjects (all in this one process, measured in the same run):
// - "ours sctp in-process": two SctpAssociations + DataChannelManagers joined by function calls;
//   no DTLS, no sockets (the CPU cost of our SCTP + data-channel layer alone; timers fire as soon
//   as nothing else is pending, so delayed-SACK waits cost no wall time).
// - "ours sctp+dtls+udp": the same managers over our DtlsTransport (OpenSSL, DTLS 1.2) over our
//   native UdpSocket on 127.0.0.1, driven by real timers: the full data-channel path minus ICE
//   (no peer connection exists yet; ICE does not touch data after connectivity checks). SCTP
//   checksums are computed, as werift and node-datachannel do.
// - "ours sctp+dtls+udp zero-checksum": the same with RFC 9653 zero checksum, which two of our
//   endpoints negotiate over DTLS (the others do not offer it).
// - "werift": two werift RTCPeerConnections (ICE host candidates only, DTLS, SCTP in TypeScript).
// - "node-datachannel": two libdatachannel PeerConnections (usrsctp + OpenSSL/GnuTLS DTLS in C++).
// Each throughput case is also reported per CPU-second (bytes moved per second of user+system
// CPU of this whole process, all threads: both ends of every subject run here), which is steadier
// than wall-clock rates on a shared machine. Rounds interleave the subjects for the same reason.
// Ratios in the table are against werift; a summary line also gives them against node-datachannel.
import { performance } from 'node:perf_hooks';
import { SeededRng } from '../../lib/common/rng.js';
import { SctpAssociation } from '../../lib/sctp/association.js';
import { DataChannelManager } from '../../lib/sctp/data-channel-manager.js';
import type { RTCDataChannel } from '../../lib/sctp/data-channel.js';
import type { RTCDataChannel as WeriftDataChannel } from 'werift';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, printHeader, type BenchOptions, type BenchSeries } from '../lib/report.js';

/** Subject the table's ratios are computed against. */
export const baseline = 'werift';

const SUITE = 'datachannel';
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const PING_SIZE = 64;

/** A connected pair of channels from any implementation, reduced to what the benchmark needs. */
interface ChannelPair {
  /** Sends `total` bytes in `size`-byte messages from a to b; resolves with wall and CPU seconds. */
  transfer(total: number, size: number): Promise<Elapsed>;
  /** Mean round-trip time in ms over `count` ping-pongs of PING_SIZE bytes. */
  rtt(count: number): Promise<number>;
  close(): Promise<void>;
}

/** Wall-clock seconds and CPU seconds (user + system, every thread of this process). */
interface Elapsed {
  wall: number;
  cpu: number;
}

/** Shared flow-controlled transfer: keep the sender's buffer between LOW and HIGH water. */
function transferWith(
  send: (b: Buffer) => void,
  buffered: () => number,
  onLow: (cb: () => void) => void,
  onReceive: (cb: (n: number) => void) => void,
  total: number,
  size: number,
): Promise<Elapsed> {
  return new Promise((resolve) => {
    const payload = Buffer.alloc(size, 0x5a);
    let sent = 0;
    let received = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const pump = (): void => {
      while (sent < total && buffered() < HIGH_WATER) {
        send(payload);
        sent += size;
      }
    };
    onLow(pump);
    onReceive((n) => {
      received += n;
      if (received >= total) {
        const c = process.cpuUsage(c0);
        resolve({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 });
      }
    });
    pump();
  });
}

// ---------------------------------------------------------------- ours, in-process

async function oursInProcess(): Promise<ChannelPair> {
  let now = 0;
  const clock = { now: () => now };
  const a = new DataChannelManager(new SctpAssociation({ rng: new SeededRng(1), remoteMaxMessageSize: 256 * 1024 }), { clock, role: 'client' });
  const b = new DataChannelManager(new SctpAssociation({ rng: new SeededRng(2), remoteMaxMessageSize: 256 * 1024 }), { clock, role: 'server' });
  let pumping = false;
  const pump = (): void => {
    if (pumping) return;
    pumping = true;
    try {
      for (let guard = 0; guard < 1e7; guard++) {
        now = Math.max(now, performance.now());
        let moved = false;
        for (let p = a.pollTransmit(); p; p = a.pollTransmit()) {
          b.handleInput(now, p);
          moved = true;
        }
        for (let p = b.pollTransmit(); p; p = b.pollTransmit()) {
          a.handleInput(now, p);
          moved = true;
        }
        if (moved) continue;
        // Idle: fire the earliest timer at once (delayed SACK etc.); stop when only heartbeats remain.
        const t = Math.min(a.pollTimeout() ?? Infinity, b.pollTimeout() ?? Infinity);
        if (!Number.isFinite(t) || t > now + 1000) break;
        now = Math.max(now, t);
        a.handleTimeout(now);
        b.handleTimeout(now);
      }
    } finally {
      pumping = false;
    }
  };
  a.on('wakeup', () => queueMicrotask(pump));
  b.on('wakeup', () => queueMicrotask(pump));
  const ch = a.createDataChannel('bench');
  const remote = new Promise<RTCDataChannel>((resolve) => b.once('datachannel', (e) => resolve(e.channel)));
  a.association.connect(now);
  pump();
  return oursPair(ch, await remote, async () => {
    a.association.abort(now, 'done');
    pump();
  });
}

function oursPair(ch: RTCDataChannel, remote: RTCDataChannel, close: () => Promise<void>): ChannelPair {
  remote.binaryType = 'nodebuffer';
  ch.binaryType = 'nodebuffer';
  ch.bufferedAmountLowThreshold = LOW_WATER;
  return {
    transfer: (total, size) =>
      transferWith(
        (buf) => ch.send(buf),
        () => ch.bufferedAmount,
        (cb) => (ch.onbufferedamountlow = cb),
        (cb) => (remote.onmessage = (ev) => cb((ev.data as Buffer).length)),
        total,
        size,
      ),
    rtt: (count) =>
      new Promise((resolve) => {
        const ping = Buffer.alloc(PING_SIZE, 1);
        remote.onmessage = (ev) => remote.send(ev.data as Buffer);
        let left = count;
        const t0 = performance.now();
        ch.onmessage = () => {
          if (--left === 0) resolve((performance.now() - t0) / count);
          else ch.send(ping);
        };
        ch.send(ping);
      }),
    close,
  };
}

// ---------------------------------------------------------------- ours, DTLS over UDP

async function oursOverUdp(zeroChecksum: boolean): Promise<ChannelPair> {
  // Loaded lazily: a missing or stale native addon skips only this subject. The pair is the
  // same driver the SCTP-over-DTLS-over-UDP tests use.
  const { UdpDtlsPair } = await import('../../test/unit/sctp/udp-dtls-pair.js');
  const pair = new UdpDtlsPair(
    { remoteMaxMessageSize: 256 * 1024, zeroChecksum },
    { recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 },
  );
  const ch = pair.a.createDataChannel('bench');
  const remote = new Promise<RTCDataChannel>((resolve) => pair.b.once('datachannel', (e) => resolve(e.channel)));
  const opened = new Promise<void>((resolve) => ch.once('open', () => resolve()));
  const r = await withTimeout(remote, 10_000, 'ours over UDP did not connect');
  await opened;
  return oursPair(ch, r, async () => {
    for (const m of [pair.a, pair.b]) m.association.abort(performance.now(), 'done');
    pair.close();
  });
}

// ---------------------------------------------------------------- werift

async function weriftPair(): Promise<ChannelPair> {
  const { RTCPeerConnection } = await import('werift');
  const pa = new RTCPeerConnection({ iceServers: [] });
  const pb = new RTCPeerConnection({ iceServers: [] });
  const dc = pa.createDataChannel('bench');
  const remote = new Promise<WeriftDataChannel>((resolve) => pb.onDataChannel.subscribe((c) => resolve(c)));
  const gathered = (pc: InstanceType<typeof RTCPeerConnection>): Promise<void> =>
    pc.iceGatheringState === 'complete' ? Promise.resolve() : new Promise((r) => pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()));
  await pa.setLocalDescription(await pa.createOffer());
  await gathered(pa);
  await pb.setRemoteDescription(pa.localDescription!);
  await pb.setLocalDescription(await pb.createAnswer());
  await gathered(pb);
  await pa.setRemoteDescription(pb.localDescription!);
  const r = await withTimeout(remote, 20_000, 'werift did not connect');
  if (dc.readyState !== 'open') await new Promise<void>((res) => dc.stateChanged.subscribe((s) => s === 'open' && res()));
  dc.bufferedAmountLowThreshold = LOW_WATER;
  return {
    transfer: (total, size) =>
      transferWith(
        (b) => dc.send(b),
        () => dc.bufferedAmount,
        (cb) => dc.bufferedAmountLow.subscribe(cb),
        (cb) => r.onMessage.subscribe((m) => cb(m.length)),
        total,
        size,
      ),
    rtt: (count) =>
      new Promise((resolve) => {
        const ping = Buffer.alloc(PING_SIZE, 1);
        const subs = [r.onMessage.subscribe((m) => r.send(m as Buffer))];
        let left = count;
        const t0 = performance.now();
        subs.push(
          dc.onMessage.subscribe(() => {
            if (--left === 0) {
              for (const s of subs) s.unSubscribe();
              resolve((performance.now() - t0) / count);
            } else dc.send(ping);
          }),
        );
        dc.send(ping);
      }),
    close: async () => {
      await pa.close();
      await pb.close();
    },
  };
}

// ---------------------------------------------------------------- node-datachannel

async function nodeDataChannelPair(): Promise<ChannelPair> {
  const nodeDataChannel = (await import('node-datachannel')).default;
  const pa = new nodeDataChannel.PeerConnection('a', { iceServers: [] });
  const pb = new nodeDataChannel.PeerConnection('b', { iceServers: [] });
  // libdatachannel aborts the process on a candidate before the remote description: queue them.
  type Pc = InstanceType<typeof nodeDataChannel.PeerConnection>;
  const pending = new Map<Pc, [string, string][] | undefined>([[pa, []], [pb, []]]);
  const describe = (to: Pc, sdp: string, type: Parameters<Pc['setRemoteDescription']>[1]): void => {
    to.setRemoteDescription(sdp, type);
    for (const [c, mid] of pending.get(to) ?? []) to.addRemoteCandidate(c, mid);
    pending.set(to, undefined);
  };
  const candidate = (to: Pc, c: string, mid: string): void => {
    const q = pending.get(to);
    if (q) q.push([c, mid]);
    else to.addRemoteCandidate(c, mid);
  };
  pa.onLocalDescription((sdp, type) => describe(pb, sdp, type));
  pb.onLocalDescription((sdp, type) => describe(pa, sdp, type));
  pa.onLocalCandidate((c, mid) => candidate(pb, c, mid));
  pb.onLocalCandidate((c, mid) => candidate(pa, c, mid));
  const remote = new Promise<ReturnType<typeof pb.createDataChannel>>((resolve) => pb.onDataChannel((c) => resolve(c)));
  const dc = pa.createDataChannel('bench');
  const opened = new Promise<void>((resolve) => dc.onOpen(() => resolve()));
  const r = await withTimeout(remote, 20_000, 'node-datachannel did not connect');
  await withTimeout(opened, 20_000, 'node-datachannel channel did not open');
  dc.setBufferedAmountLowThreshold(LOW_WATER);
  return {
    transfer: (total, size) =>
      transferWith(
        (b) => dc.sendMessageBinary(b),
        () => dc.bufferedAmount(),
        (cb) => dc.onBufferedAmountLow(cb),
        (cb) => r.onMessage((m) => cb(typeof m === 'string' ? Buffer.byteLength(m) : m.byteLength)),
        total,
        size,
      ),
    rtt: (count) =>
      new Promise((resolve) => {
        const ping = Buffer.alloc(PING_SIZE, 1);
        r.onMessage((m) => r.sendMessageBinary(m as Buffer));
        let left = count;
        const t0 = performance.now();
        dc.onMessage(() => {
          if (--left === 0) resolve((performance.now() - t0) / count);
          else dc.sendMessageBinary(ping);
        });
        dc.sendMessageBinary(ping);
      }),
    close: async () => {
      dc.close();
      pa.close();
      pb.close();
    },
  };
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------- suite

/** Runs every subject for `rounds` rounds; a subject that fails to start is reported and skipped. */
export async function run(opts: BenchOptions): Promise<BenchSeries[]> {
  printHeader(SUITE, { werift: packageVersion('werift'), 'node-datachannel': packageVersion('node-datachannel') });
  const total = opts.quick ? 4 * 1024 * 1024 : 16 * 1024 * 1024;
  const pings = opts.quick ? 50 : 200;
  const subjects: [string, () => Promise<ChannelPair>][] = [
    ['ours sctp in-process', oursInProcess],
    ['ours sctp+dtls+udp', () => oursOverUdp(false)],
    ['ours sctp+dtls+udp zero-checksum', () => oursOverUdp(true)],
    ['werift', weriftPair],
    ['node-datachannel', nodeDataChannelPair],
  ];
  // PWT_BENCH_ONLY=<subject> limits the run to one subject (for profiling).
  const only = process.env.PWT_BENCH_ONLY;
  const series: BenchSeries[] = [];
  const add = (c: string, subject: string, unit: string, higherIsBetter: boolean): BenchSeries => {
    const x: BenchSeries = { suite: SUITE, case: c, subject, unit, higherIsBetter, samples: [] };
    series.push(x);
    return x;
  };
  // All pairs are connected first and the rounds interleave the subjects, so that load from
  // other processes on a shared machine spreads over every subject instead of hitting one.
  const running: { name: string; pair: ChannelPair; s: BenchSeries[] }[] = [];
  for (const [name, make] of subjects) {
    if (only && name !== only) continue;
    try {
      const pair = await make();
      running.push({ name, pair, s: [] });
    } catch (err) {
      console.log(`${name}: skipped (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const cases = [
    ['throughput 16 KiB msgs', 16 * 1024],
    ['throughput 64 KiB msgs', 64 * 1024],
  ] as const;
  for (const r of running) {
    for (const [c] of cases) r.s.push(add(c, r.name, 'MB/s', true), add(`${c} per CPU-second`, r.name, 'MB/cpu-s', true));
    r.s.push(add(`rtt ${PING_SIZE} B ping-pong`, r.name, 'ms', false));
  }
  for (let round = 0; round < opts.rounds; round++) {
    for (const r of [...running]) {
      try {
        for (const [i, [, size]] of cases.entries()) {
          const e = await withTimeout(r.pair.transfer(total, size), 120_000, 'transfer timed out');
          r.s[2 * i]!.samples.push(total / 1e6 / e.wall);
          r.s[2 * i + 1]!.samples.push(total / 1e6 / e.cpu);
        }
        r.s[4]!.samples.push(await withTimeout(r.pair.rtt(pings), 60_000, 'rtt timed out'));
      } catch (err) {
        console.log(`${r.name}: stopped (${err instanceof Error ? err.message : String(err)})`);
        running.splice(running.indexOf(r), 1);
        for (const x of r.s) if (x.samples.length === 0) series.splice(series.indexOf(x), 1);
      }
    }
  }
  for (const r of running) await r.pair.close().catch(() => undefined);
  const med = (c: string, subject: string): number | undefined => {
    const s = series.find((x) => x.case === c && x.subject === subject);
    return s && s.samples.length ? median(s.samples) : undefined;
  };
  for (const c of [...new Set(series.map((s) => s.case))]) {
    const ndc = med(c, 'node-datachannel');
    const wer = med(c, 'werift');
    const lower = c.startsWith('rtt');
    for (const ours of ['ours sctp in-process', 'ours sctp+dtls+udp', 'ours sctp+dtls+udp zero-checksum']) {
      const o = med(c, ours);
      if (o === undefined) continue;
      const vs = (b: number | undefined): string => (b === undefined ? 'n/a' : `${(lower ? b / o : o / b).toFixed(2)}x`);
      console.log(`${c}: ${ours} vs werift ${vs(wer)}, vs node-datachannel ${vs(ndc)}`);
    }
  }
  return series;
}
