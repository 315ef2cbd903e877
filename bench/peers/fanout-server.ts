// Fanout server process: the relay of one library (ours: examples/relay.ts, JavaScript per packet, on own sockets; ours-udpmux: the same relay
// with every connection on one shared UdpMux port; ours-native: lib/sfu's Router, every connection on one UdpMux port, forwarding in the native
// engine; werift: the same forwarding written with werift's API), driven over IPC by
// fanout-clients.ts through the suite. It measures its own process CPU between two `mark` requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import * as werift from 'werift';
import { Relay } from '../../examples/relay.js';
import { LocalStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from '../../lib/peer/index.js';
import '../../lib/policy/default-policies.js';
import { Router, type Producer } from '../../lib/sfu/index.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { weriftConnected, weriftLocalSdp, weriftPc } from './werift.js';
import { oursPipeRelay } from './fanout-pipe-relay.js';
import { allocationSites, type SampledNode } from './allocation-sites.js';
import type { FanoutRequest, FanoutReply } from './fanout-protocol.js';

/** What the suite needs from a relay, whatever library runs it. */
interface ServerRelay {
  forwarded(): number;
  /** The shared port's socket counters, where the relay has one (ours-native): sends per syscall. */
  socket?(): { packetsSent: number; sendSyscalls: number; gsoSends: number; sendBlocked: number; packetsReceived: number; recvSyscalls: number; jsCalls: number };
  /** Packets resent in answer to NACKs (undefined where the relay does not count them). */
  retransmitted?(): number;
  /** Sequence numbers NACKed by consumers, and of those not found in the cache (relays that count them). */
  nacks?(): { nacked: number; misses: number };
  publish(sdp: string): Promise<string>;
  subscribe(): Promise<{ sdp: string; accept(sdp: string): Promise<void> }>;
}

/** Ours; with `udpMux` every relay connection shares one UDP port (the SFU setup). */
function oursRelay(udpMux?: UdpMux): ServerRelay {
  const relay = new Relay(kind, udpMux ? { udpMux } : { hostAddresses: ['127.0.0.1'] });
  return {
    forwarded: () => relay.forwarded,
    async publish(sdp) {
      return (await relay.acceptPublisher({ type: 'offer', sdp })).sdp!;
    },
    async subscribe() {
      const { offer, accept } = await relay.addSubscriber();
      return { sdp: offer.sdp!, accept: (answer) => accept({ type: 'answer', sdp: answer }) };
    },
  };
}

async function oursNativeRelay(): Promise<ServerRelay> {
  // PWT_FANOUT_GRO=0 (diagnostics, not for published runs): the shared port without UDP_GRO, to
  // measure what receiving a publisher's burst as one buffer saves. PWT_FANOUT_NATIVE_CONSENT=0 (the
  // same): consent checks answered by the ICE agents in JavaScript (docs/ice.md "Consent checks answered natively").
  const mux = await UdpMux.bind({
    address: '127.0.0.1',
    ...(process.env['PWT_FANOUT_GRO'] === '0' ? { gro: false } : {}),
    ...(process.env['PWT_FANOUT_NATIVE_CONSENT'] === '0' ? { nativeConsent: false } : {}),
  });
  const router = Router.create(mux);
  let producer: Promise<Producer> | undefined;
  const keep: RTCPeerConnection[] = [];
  return {
    forwarded: () => router.stats.packetsForwarded,
    socket: () => mux.nativeSocket!.stats,
    retransmitted: () => router.stats.retransmittedPackets,
    nacks: () => ({ nacked: router.stats.nackedPackets, misses: router.stats.nackMisses }),
    async publish(sdp) {
      const pc = new RTCPeerConnection({ udpMux: mux });
      keep.push(pc);
      const transceiver = new Promise<RTCRtpTransceiver>((r) => pc.once('track', (e) => r(e.transceiver)));
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      // A cache for the audio stream too, so that the nackShare runs show the cost of answering.
      producer = transceiver.then((t) => router.produce(pc, t, { cachePackets: 512 }));
      producer.catch(() => undefined);
      return pc.localDescription!.sdp;
    },
    async subscribe() {
      const pc = new RTCPeerConnection({ udpMux: mux });
      keep.push(pc);
      const t = pc.addTransceiver(new LocalStreamTrack({ kind }), { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      return {
        sdp: pc.localDescription!.sdp,
        accept: async (answer) => {
          await pc.setRemoteDescription({ type: 'answer', sdp: answer });
          if (!producer) throw new Error('subscribe before publish');
          await router.consume(await producer, pc, t);
        },
      };
    },
  };
}

function weriftRelay(): ServerRelay {
  let forwarded = 0;
  const senders: werift.RTCRtpSender[] = [];
  const keep: werift.RTCPeerConnection[] = [];
  return {
    forwarded: () => forwarded,
    async publish(sdp) {
      const pc = weriftPc();
      keep.push(pc);
      pc.onTrack.subscribe((track) =>
        track.onReceiveRtp.subscribe((rtp) => {
          for (const s of senders) {
            s.sendRtp(rtp);
            forwarded++;
          }
        }),
      );
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return weriftLocalSdp(pc);
    },
    async subscribe() {
      const pc = weriftPc();
      keep.push(pc);
      const t = pc.addTransceiver(kind, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      return {
        sdp: await weriftLocalSdp(pc),
        accept: async (answer) => {
          await pc.setRemoteDescription({ type: 'answer', sdp: answer });
          await weriftConnected(pc);
          senders.push(t.sender);
        },
      };
    },
  };
}

const which = process.argv[2];
/** The media of the subscribers' transceivers (the publisher's offer decides its own). */
const kind = process.argv[3] === 'video' ? 'video' : 'audio';
const relay = which === 'werift'
  ? weriftRelay()
  : which === 'ours-native-pipe' || which === 'ours-native-pipe-srtp'
    ? await oursPipeRelay(which === 'ours-native-pipe-srtp')
  : which === 'ours-native'
    ? await oursNativeRelay()
    : oursRelay(which === 'ours-udpmux' ? await UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 }) : undefined);
const pending = new Map<number, (sdp: string) => Promise<void>>();
let nextId = 0;
const socketZero = { packetsSent: 0, sendSyscalls: 0, gsoSends: 0, sendBlocked: 0, packetsReceived: 0, recvSyscalls: 0, jsCalls: 0 };
let mark = { cpu: process.cpuUsage(), forwarded: 0, at: performance.now(), socket: socketZero };

async function handle(req: FanoutRequest): Promise<FanoutReply> {
  switch (req.op) {
    case 'publish':
      return { id: req.id, sdp: await relay.publish(req.sdp) };
    case 'subscribe': {
      const s = await relay.subscribe();
      const sub = ++nextId;
      pending.set(sub, s.accept);
      return { id: req.id, sdp: s.sdp, sub };
    }
    case 'answer':
      await pending.get(req.sub)!(req.sdp);
      pending.delete(req.sub);
      return { id: req.id };
    case 'mark': {
      await profileMark();
      const cpu = process.cpuUsage(mark.cpu);
      const now = performance.now();
      const sample = 'socket' in relay ? relay.socket : undefined;
      const socket = sample?.() ?? socketZero;
      const out: FanoutReply = { id: req.id, forwarded: relay.forwarded() - mark.forwarded, cpuUs: cpu.user + cpu.system, userUs: cpu.user, wallMs: now - mark.at, retransmitted: relay.retransmitted?.() };
      const nacks = 'nacks' in relay ? relay.nacks?.() : undefined;
      if (nacks) {
        out.nacked = nacks.nacked;
        out.nackMisses = nacks.misses;
      }
      if (sample) {
        out.sendSyscalls = socket.sendSyscalls - mark.socket.sendSyscalls;
        out.packetsSent = socket.packetsSent - mark.socket.packetsSent;
        out.gsoSends = socket.gsoSends - mark.socket.gsoSends;
        out.sendBlocked = socket.sendBlocked - mark.socket.sendBlocked;
        out.recvSyscalls = socket.recvSyscalls - mark.socket.recvSyscalls;
        out.packetsReceived = socket.packetsReceived - mark.socket.packetsReceived;
        out.jsCalls = socket.jsCalls - mark.socket.jsCalls;
      }
      mark = { cpu: process.cpuUsage(), forwarded: relay.forwarded(), at: now, socket };
      return out;
    }
  }
}

// PWT_FANOUT_PROFILE=<dir>: a V8 CPU profile of the server between its first two marks (the first
// measured round) is written to <dir>/fanout-<relay>-<pid>.cpuprofile, for `node --cpu-prof`-style
// analysis (the server is killed, not exited, so --cpu-prof itself would write nothing); that
// round's figures then include the profiler's cost.
const profileDir = process.env['PWT_FANOUT_PROFILE'];
// PWT_FANOUT_PERF=<dir>: `perf record -g` of this server process over its first measured round, written
// to <dir>/fanout-<relay>-<pid>.perf.data (run the server with --perf-basic-prof for JavaScript names).
const perfDir = process.env['PWT_FANOUT_PERF'];

// PWT_FANOUT_HEAP=<dir>: V8's sampling heap profile of the server over its first measured round (every
// 512th byte sampled, objects collected by minor and major GC included, so it counts what was allocated,
// not what survived), written to <dir>/fanout-<relay>-<pid>.heap.txt as bytes per second by allocation
// site (bench/peers/allocation-sites.ts) with the round's forwarded packets, for allocation per packet.
const heapDir = process.env['PWT_FANOUT_HEAP'];
let heapFrom: { at: number; forwarded: number } | undefined;

let perf: ChildProcess | undefined;
let profiler: Session | undefined;
let marks = 0;
async function profileMark(): Promise<void> {
  if (!profileDir && !perfDir && !heapDir) return;
  marks++;
  if (heapDir) {
    if (marks === 1) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('HeapProfiler.enable');
      await profiler.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
      heapFrom = { at: performance.now(), forwarded: relay.forwarded() };
    } else if (marks === 2 && profiler && heapFrom) {
      const { profile } = (await profiler.post('HeapProfiler.stopSampling')) as { profile: { head: SampledNode } };
      const seconds = (performance.now() - heapFrom.at) / 1000;
      const forwarded = relay.forwarded() - heapFrom.forwarded;
      const { total, sites } = allocationSites(profile.head, true);
      const lines = [`${(total / seconds).toFixed(0)} B/s sampled over ${seconds.toFixed(1)} s, ${forwarded} forwarded: ${(total / Math.max(1, forwarded)).toFixed(2)} B per forwarded packet`];
      for (const [k, v] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 40)) lines.push(`${(v / seconds).toFixed(0).padStart(9)} B/s  ${k}`);
      writeFileSync(join(heapDir, `fanout-${which ?? 'ours'}-${process.pid}.heap.txt`), lines.join('\n') + '\n');
      profiler.disconnect();
    }
    return;
  }
  if (perfDir) {
    if (marks === 1) {
      const file = join(perfDir, `fanout-${which ?? 'ours'}-${process.pid}`);
      perf = spawn('perf', ['record', '-q', '-g', '-o', `${file}.perf.data`, '-p', String(process.pid)], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 300));
    } else if (marks === 2 && perf) {
      const exited = new Promise((r) => perf!.once('exit', r));
      perf.kill('SIGINT');
      await exited;
    }
    return;
  }
  if (!profileDir) return;
  if (marks === 1) {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  } else if (marks === 2 && profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(join(profileDir, `fanout-${which}-${process.pid}.cpuprofile`), JSON.stringify(profile));
    profiler.disconnect();
  }
}

process.on('message', (req: FanoutRequest) => {
  handle(req).then(
    (reply) => process.send!(reply),
    (err: unknown) => process.send!({ id: req.id, error: String(err) }),
  );
});
