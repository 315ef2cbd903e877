// Fanout client process: the SDP side of the native load generator (bench/loadgen/fanout_loadgen.cpp),
// which holds the publisher's and the N subscribers' connections (real ICE, DTLS-SRTP, RTCP) and
// sends, receives and counts in C++; this process only signals with the server over IPC through the
// suite and reads the counts (docs/bench/README.md "fanout load generator"). The same client for every relay.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseSdp } from '../../lib/sdp/parse.js';
import type { SdpMediaSection, SdpSessionDescription } from '../../lib/sdp/model.js';
import { buildFanoutLoadgen } from './fanout-loadgen-build.js';
import { within } from './types.js';
import type { FanoutRound, FanoutStep, FanoutTask } from './fanout-protocol.js';
import { fanoutServerCall } from './fanout-server-call.js';

const task = JSON.parse(process.argv[2] ?? '{}') as FanoutTask;
const call = fanoutServerCall();

// The load generator: commands on stdin, one answer or event per stdout line.
const tool = spawn(buildFanoutLoadgen(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
tool.on('exit', (code, signal) => {
  process.stderr.write(`fanout load generator exited (${signal ?? code})\n`);
  process.exit(1);
});
const lineWaiters: { prefix: string; resolve: (fields: string[]) => void }[] = [];
// PWT_FANOUT_LOADGEN_TRACE=1 (diagnostics): the load generator's lines and our commands on stderr.
const trace = process.env['PWT_FANOUT_LOADGEN_TRACE'] === '1';
createInterface({ input: tool.stdout! }).on('line', (line) => {
  if (trace) process.stderr.write(`loadgen> ${line}\n`);
  if (line.startsWith('error ') || line.startsWith('failed ')) {
    process.stderr.write(`fanout load generator: ${line}\n`);
    process.exit(1);
  }
  const i = lineWaiters.findIndex((w) => line === w.prefix || line.startsWith(`${w.prefix} `));
  if (i >= 0) lineWaiters.splice(i, 1)[0]!.resolve(line.split(' '));
});
/** Resolves with the fields of the next line that starts with `prefix` (a command's answer or an event). */
function expect(prefix: string): Promise<string[]> {
  return new Promise((resolve) => lineWaiters.push({ prefix, resolve }));
}
function command(line: string): void {
  if (trace) process.stderr.write(`loadgen< ${line}\n`);
  tool.stdin!.write(`${line}\n`);
}

const fingerprint = (await within(expect('ready'), 60_000, 'load generator ready'))[1]!;

interface Opened {
  id: number;
  port: number;
  ufrag: string;
  pwd: string;
}
async function open(id: number, kind: 'pub' | 'sub'): Promise<Opened> {
  const answer = expect(`opened ${id}`);
  command(`open ${id} ${kind}`);
  const f = await answer;
  return { id, port: Number(f[2]), ufrag: f[3]!, pwd: f[4]! };
}

/** The peer's transport parameters from its description (media level first, then session level). */
function transportOf(desc: SdpSessionDescription, m: SdpMediaSection): { ufrag: string; pwd: string; fingerprint: string; setup: string; address: string; port: number } {
  const ufrag = m.iceUfrag ?? desc.iceUfrag;
  const pwd = m.icePwd ?? desc.icePwd;
  const fp = [...m.fingerprints, ...desc.fingerprints].find((f) => f.algorithm === 'sha-256');
  const udp4 = m.candidates.filter((c) => c.transport === 'udp' && c.component === 1 && /^\d+\.\d+\.\d+\.\d+$/.test(c.address));
  const cand = udp4.find((c) => c.address === '127.0.0.1') ?? udp4[0];
  if (!ufrag || !pwd || !fp || !cand) throw new Error('the server description lacks ICE credentials, a sha-256 fingerprint or an IPv4 UDP candidate');
  return { ufrag, pwd, fingerprint: fp.value, setup: m.setup ?? desc.setup ?? 'actpass', address: cand.address, port: cand.port };
}

function sdpLines(lines: string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

// The publisher: our offer (sendonly Opus-shaped audio, or VP8 video with NACK and RTX; payloads of
// task.payload bytes regardless), the server's answer.
const video = task.kind === 'video';
const codecName = video ? 'vp8' : 'opus';
const clockRate = video ? 90_000 : 48_000;
const pubSsrc = randomInt(1, 0xffffffff);
const pub = await open(0, 'pub');
const media = video
  ? ['m=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli', 'a=rtcp-fb:96 ccm fir', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96']
  : ['m=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 nack', 'a=fmtp:111 minptime=10;useinbandfec=1'];
const offer = sdpLines([
  'v=0', `o=- ${randomInt(1, 2 ** 47)} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS loadgen',
  media[0]!, 'c=IN IP4 127.0.0.1', 'a=rtcp:9 IN IP4 0.0.0.0',
  `a=ice-ufrag:${pub.ufrag}`, `a=ice-pwd:${pub.pwd}`, `a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:actpass',
  'a=mid:0', 'a=sendonly', 'a=msid:loadgen track0', 'a=rtcp-mux', ...media.slice(1),
  `a=ssrc:${pubSsrc} cname:loadgen`, `a=ssrc:${pubSsrc} msid:loadgen track0`,
  `a=candidate:1 1 udp 2130706431 127.0.0.1 ${pub.port} typ host`, 'a=end-of-candidates',
]);
const answer = parseSdp((await call({ op: 'publish', sdp: offer })).sdp!);
let pubConnected: Promise<string[]>;
{
  const m = answer.media[0]!;
  const t = transportOf(answer, m);
  const codec = m.codecs.find((c) => c.name.toLowerCase() === codecName);
  if (!codec) throw new Error(`the server did not accept ${codecName}`);
  // Our offer said actpass: the answer's setup decides (RFC 5763 §5: active is the DTLS client).
  pubConnected = expect('connected 0');
  command(`start 0 ${t.ufrag} ${t.pwd} ${t.address} ${t.port} ${t.fingerprint} ${t.setup === 'passive' ? 1 : 0} 0 ${codec.payloadType} -1 ${clockRate} 0 ${pubSsrc} ${codecName}`);
}

const nackers = task.nackShare ? Math.max(1, Math.round(task.subscribers * task.nackShare)) : 0;
const NACK_EVERY = 50;
const viewers: Promise<unknown>[] = [];
// Subscribers join a few at a time so that a slow server is not handed all its handshakes at once.
for (let i = 0; i < task.subscribers; i += 10) {
  await Promise.all(
    Array.from({ length: Math.min(10, task.subscribers - i) }, async (_, j) => {
      const id = 1 + i + j;
      const o = await call({ op: 'subscribe' });
      const desc = parseSdp(o.sdp!);
      const m = desc.media.find((s) => s.kind === (video ? 'video' : 'audio'));
      if (!m) throw new Error(`the server offered no ${video ? 'video' : 'audio'} section`);
      const t = transportOf(desc, m);
      const codec = m.codecs.find((c) => c.name.toLowerCase() === codecName);
      if (!codec) throw new Error(`the server did not offer ${codecName}`);
      const rtx = m.codecs.find((c) => c.name.toLowerCase() === 'rtx' && c.parameters['apt'] === String(codec.payloadType));
      const nack = codec.rtcpFeedback.some((f) => f.type === 'nack' && f.parameter === undefined);
      const sub = await open(id, 'sub');
      const ssrc = randomInt(1, 0xffffffff);
      const mid = m.mid ?? '0';
      const pts = [codec.payloadType, ...(rtx ? [rtx.payloadType] : [])];
      const ans = sdpLines([
        'v=0', `o=- ${randomInt(1, 2 ** 47)} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', `a=group:BUNDLE ${mid}`, 'a=msid-semantic: WMS',
        `m=${m.kind} 9 UDP/TLS/RTP/SAVPF ${pts.join(' ')}`, 'c=IN IP4 127.0.0.1', 'a=rtcp:9 IN IP4 0.0.0.0',
        `a=ice-ufrag:${sub.ufrag}`, `a=ice-pwd:${sub.pwd}`, `a=fingerprint:sha-256 ${fingerprint}`,
        // RFC 5763 §5: answer active to actpass/passive (we are the DTLS client), passive to active.
        `a=setup:${t.setup === 'active' ? 'passive' : 'active'}`, `a=mid:${mid}`, 'a=recvonly', 'a=rtcp-mux',
        ...(video ? [`a=rtpmap:${codec.payloadType} VP8/90000`] : [`a=rtpmap:${codec.payloadType} opus/48000/2`, `a=fmtp:${codec.payloadType} minptime=10;useinbandfec=1`]),
        ...(nack ? [`a=rtcp-fb:${codec.payloadType} nack`] : []),
        ...(rtx ? [`a=rtpmap:${rtx.payloadType} rtx/${clockRate}`, `a=fmtp:${rtx.payloadType} apt=${codec.payloadType}`] : []),
        `a=ssrc:${ssrc} cname:loadgen-${id}`,
        `a=candidate:1 1 udp 2130706431 127.0.0.1 ${sub.port} typ host`, 'a=end-of-candidates',
      ]);
      const connected = expect(`connected ${id}`);
      const nackEvery = id <= nackers && nack ? NACK_EVERY : 0;
      // The offerer controls ICE unless it is ICE-lite (RFC 8445 §6.1.1).
      command(`start ${id} ${t.ufrag} ${t.pwd} ${t.address} ${t.port} ${t.fingerprint} ${t.setup === 'active' ? 0 : 1} ${desc.iceLite ? 0 : 1} ${codec.payloadType} ${rtx ? rtx.payloadType : -1} ${clockRate} ${nackEvery} ${ssrc} ${codecName}`);
      viewers.push(within(connected, 120_000, `subscriber ${id} connected`).catch(async (err: unknown) => {
        const d = expect(`described ${id}`);
        command(`describe ${id}`);
        throw new Error(`${String(err)} (${(await within(d, 5000, 'describe')).slice(2).join(' ')})`);
      }));
      await call({ op: 'answer', sub: o.sub!, sdp: ans });
    }),
  );
}
await within(pubConnected, 60_000, 'publisher connected').catch(async (err: unknown) => {
  const d = expect('described 0');
  command('describe 0');
  throw new Error(`${String(err)} (${(await within(d, 5000, 'describe')).slice(2).join(' ')})`);
});
await Promise.all(viewers);

interface Counts {
  unique: number;
  minUnique: number;
  duplicates: number;
  outOfOrder: number;
  foreign: number;
  unauthenticated: number;
  droppedOnPurpose: number;
  nacksSent: number;
  retransmissionsReceived: number;
  publisherNacks: number;
  publisherNackedSequences: number;
  cpuUs: number;
}
async function counts(round: number): Promise<Counts> {
  const line = expect(`counts ${round}`);
  command(`counts ${round}`);
  const out: Record<string, number> = {};
  for (const kv of (await line).slice(2)) {
    const [k, v] = kv.split('=');
    out[k!] = Number(v);
  }
  return out as unknown as Counts;
}

/**
 * The counts once round `round` has settled: late packets and retransmissions still count (each
 * carries its round), so this waits until every subscriber holds the round's `sent` packets, or at
 * most 1 s for those that will not come (then the next round starts from a quiet link).
 */
async function settle(round: number, sent: number): Promise<Counts> {
  let c = await counts(round);
  for (const until = performance.now() + 1000; c.unique < sent * task.subscribers && performance.now() < until;) {
    await new Promise((r) => setTimeout(r, 50));
    c = await counts(round);
  }
  return c;
}

/** Publishes round `round` at `rate` packets/s for `seconds`; resolves with the packets sent and the bursts they left in. */
async function publish(round: number, seconds: number, rate: number, pattern: string): Promise<{ sent: number; bursts: number }> {
  const done = expect(`published ${round}`);
  command(`publish ${round} ${seconds} ${rate} ${pattern} ${task.payload}`);
  const f = await within(done, seconds * 1000 + 60_000, `round ${round} published`);
  return { sent: Number(f[2]), bursts: Number(f[4] ?? 0) };
}

const steps: (FanoutStep | undefined)[] = task.steps ?? [undefined];
const stepRate = (step: FanoutStep | undefined): number => step?.publisherPps ?? Math.min(task.maxPublisherPps, task.offeredPps / task.subscribers);
const { sent: warmupSent } = await publish(0, task.warmupSeconds ?? Math.min(0.3, task.seconds), stepRate(steps[0]), steps[0]?.pattern ?? 'paced'); // warm-up (docs/bench/README.md "fanout warm-up")
const rounds: FanoutRound[] = [];
let round = 0;
let before = await settle(0, warmupSent);
for (const step of steps) {
  for (let r = 0; r < task.rounds; r++) {
    round++;
    await call({ op: 'mark' });
    const { sent, bursts } = await publish(round, task.seconds, stepRate(step), step?.pattern ?? 'paced');
    const m = await call({ op: 'mark' });
    const c = await settle(round, sent);
    const socket = m.sendSyscalls === undefined ? undefined : { sendSyscalls: m.sendSyscalls, packetsSent: m.packetsSent!, gsoSends: m.gsoSends!, sendBlocked: m.sendBlocked!, recvSyscalls: m.recvSyscalls!, packetsReceived: m.packetsReceived!, jsCalls: m.jsCalls ?? 0 };
    rounds.push({
      forwarded: m.forwarded!, serverCpuUs: m.cpuUs!, ...(m.userUs !== undefined ? { serverUserUs: m.userUs } : {}), wallMs: m.wallMs!,
      delivered: c.unique, offered: sent * task.subscribers, published: sent, ...(bursts > 0 ? { publishedBursts: bursts } : {}), loadAverage: loadavg()[0]!,
      client: {
        minDelivered: c.minUnique, duplicates: c.duplicates, outOfOrder: c.outOfOrder, cpuUs: c.cpuUs - before.cpuUs,
        foreign: c.foreign - before.foreign, unauthenticated: c.unauthenticated - before.unauthenticated,
        droppedOnPurpose: c.droppedOnPurpose - before.droppedOnPurpose, retransmissionsReceived: c.retransmissionsReceived - before.retransmissionsReceived,
        askedUpstream: c.publisherNackedSequences - before.publisherNackedSequences,
      },
      nacksSent: c.nacksSent, retransmitted: m.retransmitted, ...(m.nacked !== undefined ? { nacked: m.nacked, nackMisses: m.nackMisses } : {}),
      ...(step ? { step } : {}), ...(socket ? { socket } : {}),
    });
    before = c;
  }
}
command('quit');
tool.removeAllListeners('exit');
process.send!({ result: rounds }, () => process.exit(0));
