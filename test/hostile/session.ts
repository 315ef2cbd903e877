// The session under attack: two RTCPeerConnections over UDP loopback with audio + video + a data
// channel (public API only) and traffic that keeps flowing both ways, checked end to end (every
// packet and message numbered, its bytes verified), plus the process-wide fault watch and the
// getStats() drop counters, flattened to `layer.reason` keys.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../../lib/rtp/rtcp/picture-loss-indication.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import type { Endpoint } from './raw-udp.js';

/**
 * `PWT_HOSTILE_PATH=udp-mux` runs the same suite with each connection on a shared UDP port
 * (lib/transport/source/udp-mux.ts, the server mode) instead of its own socket; test/hostile/shared-port.test.ts
 * does that for `npm test`.
 */
export const SHARED_PORT = process.env.PWT_HOSTILE_PATH === 'udp-mux';

/** Rejects with `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Waits `ms` (bounded pauses only; never a timing assert). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Everything the process reports that must never happen: uncaught exceptions, unhandled rejections, listener errors. */
export class FaultWatch {
  readonly faults: string[] = [];
  private readonly onException = (err: unknown): void => {
    this.faults.push(`uncaughtException: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  };
  private readonly onRejection = (reason: unknown): void => {
    this.faults.push(`unhandledRejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`);
  };
  private readonly onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'PWT_LISTENER_ERROR') this.faults.push(`listener error: ${w.message}`);
  };

  /** Starts listening on `process`. */
  constructor() {
    process.on('uncaughtException', this.onException);
    process.on('unhandledRejection', this.onRejection);
    process.on('warning', this.onWarning);
  }

  /** Fails when any fault was seen since `from` (an index into `faults`). */
  assertNone(from: number, what: string): void {
    assert.deepEqual(this.faults.slice(from), [], `${what}: the process reported faults`);
  }

  /** Removes the process listeners. */
  dispose(): void {
    process.off('uncaughtException', this.onException);
    process.off('unhandledRejection', this.onRejection);
    process.off('warning', this.onWarning);
  }
}

/** Drop counters (and the other numeric counters beside them) as `layer.reason` → value. */
export type Counters = Record<string, number>;

/** The transport entry of getStats(), flattened. */
export async function counters(pc: RTCPeerConnection): Promise<{ counters: Counters; transport: Record<string, unknown> }> {
  const t = [...(await pc.getStats()).values()].find((s) => s.type === 'transport');
  assert.ok(t, 'getStats() has a transport entry');
  const out: Counters = {};
  const drops = (t.pwtDrops ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [layer, group] of Object.entries(drops)) {
    for (const [reason, v] of Object.entries(group ?? {})) if (typeof v === 'number') out[`${layer}.${reason}`] = v;
  }
  return { counters: out, transport: t };
}

/** Counters that move with normal traffic (not drops): left out of settling and of reports. */
export const TRAFFIC_COUNTERS = /^dtls\.(datagramsIn|datagramsOut|dataRecordsIn|dataRecordsOut)$/;

/** The drop counters of `c` (traffic counters removed). */
export function dropsOnly(c: Counters): Counters {
  return Object.fromEntries(Object.entries(c).filter(([k]) => !TRAFFIC_COUNTERS.test(k)));
}

/** What moved between two snapshots (only counters that changed). */
export function delta(before: Counters, after: Counters): Counters {
  const d: Counters = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) d[k] = v - (before[k] ?? 0);
  return d;
}

const PATTERN_LEN = 48;

function body(tag: string, n: number): Buffer {
  const b = Buffer.alloc(8 + PATTERN_LEN);
  b.writeUInt32BE(n, 0);
  b.write(tag.padEnd(4, '_').slice(0, 4), 4, 'latin1');
  for (let i = 0; i < PATTERN_LEN; i++) b[8 + i] = (n * 7 + i * 13 + tag.charCodeAt(0)) & 0xff;
  return b;
}

/** One numbered stream: what was sent, what arrived, what arrived damaged or out of order. */
class Flow {
  sent = 0;
  readonly got = new Set<number>();
  readonly anomalies: string[] = [];
  /** Lost inside an earlier attack's window where loss was allowed: not counted again later. */
  readonly forgiven = new Set<number>();
  highest = -1;
  constructor(readonly tag: string, readonly ordered: boolean) {}

  receive(data: Buffer): void {
    if (data.length !== 8 + PATTERN_LEN) {
      this.anomalies.push(`${this.tag}: ${data.length}-byte payload`);
      return;
    }
    const n = data.readUInt32BE(0);
    if (!body(this.tag, n).equals(data)) this.anomalies.push(`${this.tag}: payload ${n} damaged`);
    else if (this.got.has(n)) this.anomalies.push(`${this.tag}: ${n} delivered twice`);
    else if (this.ordered && n !== this.highest + 1) this.anomalies.push(`${this.tag}: ${n} after ${this.highest}`);
    this.got.add(n);
    if (n > this.highest) this.highest = n;
  }

  /** Indexes in [from, to) that never arrived. */
  missing(from: number, to: number): number[] {
    const m: number[] = [];
    for (let i = from; i < to; i++) if (!this.got.has(i)) m.push(i);
    return m;
  }
}

/** Result of one traffic check. */
export interface FlowReport {
  /** Media packets sent during the attack window that never arrived, per stream. */
  lostDuringAttack: Record<string, number>;
}

/** Two connected peer connections with traffic running (see the file header). */
export class HostileSession {
  readonly pc1: RTCPeerConnection;
  readonly pc2: RTCPeerConnection;
  /** pc1's and pc2's host candidate (127.0.0.1:port). */
  readonly addr1: Endpoint;
  readonly addr2: Endpoint;
  /** ICE credentials as both SDPs announced them (an attacker on the signaling path knows them). */
  readonly ice1: { ufrag: string; pwd: string };
  readonly ice2: { ufrag: string; pwd: string };
  /** SSRCs of pc1's audio and video senders and of pc2's audio sender. */
  readonly ssrcs: { audio1: number; video1: number; audio2: number };
  /** connection/ICE state events seen, with the phase they happened in. */
  readonly stateEvents: string[] = [];
  private phase = 'setup';
  private readonly flows: Record<'a1' | 'v1' | 'a2' | 'd1' | 'd2', Flow>;
  private timer: NodeJS.Timeout | undefined;
  private attackStart: Record<string, number> = {};
  private attackEnd: Record<string, number> = {};
  private closed = false;
  /** The shared ports of pc1 and pc2 on the udp-mux path. */
  private muxes: UdpMux[] = [];

  private constructor(
    pc1: RTCPeerConnection, pc2: RTCPeerConnection,
    private readonly tracks: { audio1: LocalStreamTrack; video1: LocalStreamTrack; audio2: LocalStreamTrack },
    private readonly channels: { dc1: RTCDataChannel; dc2: RTCDataChannel },
    remote: { a1: MediaStreamTrack; v1: MediaStreamTrack; a2: MediaStreamTrack },
  ) {
    this.pc1 = pc1;
    this.pc2 = pc2;
    const port = (sdp: string): number => Number(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(sdp)![1]);
    const creds = (sdp: string): { ufrag: string; pwd: string } => ({ ufrag: /a=ice-ufrag:(\S+)/.exec(sdp)![1]!, pwd: /a=ice-pwd:(\S+)/.exec(sdp)![1]! });
    const sdp1 = pc1.localDescription!.sdp;
    const sdp2 = pc2.localDescription!.sdp;
    this.addr1 = { address: '127.0.0.1', port: port(sdp1) };
    this.addr2 = { address: '127.0.0.1', port: port(sdp2) };
    this.ice1 = creds(sdp1);
    this.ice2 = creds(sdp2);
    const [ta, tv] = pc1.getTransceivers();
    this.ssrcs = { audio1: ta!.sender.ssrc, video1: tv!.sender.ssrc, audio2: pc2.getTransceivers().find((t) => t.kind === 'audio')!.sender.ssrc };
    this.flows = { a1: new Flow('a1', false), v1: new Flow('v1', false), a2: new Flow('a2', false), d1: new Flow('d1', true), d2: new Flow('d2', true) };
    for (const [name, pc] of [['pc1', pc1], ['pc2', pc2]] as const) {
      pc.on('connectionstatechange', () => this.stateEvents.push(`${this.phase}: ${name} connectionState=${pc.connectionState}`));
      pc.on('iceconnectionstatechange', () => this.stateEvents.push(`${this.phase}: ${name} iceConnectionState=${pc.iceConnectionState}`));
    }
    for (const [name, ch] of Object.entries(channels)) {
      ch.on('close', () => this.stateEvents.push(`${this.phase}: ${name} closed`));
      ch.on('error', (e) => this.stateEvents.push(`${this.phase}: ${name} error ${String(e.error)}`));
    }
    this.read(remote.a1, this.flows.a1);
    this.read(remote.v1, this.flows.v1);
    this.read(remote.a2, this.flows.a2);
    channels.dc2.on('message', (e) => this.flows.d1.receive(Buffer.from(e.data as string, 'latin1')));
    channels.dc1.on('message', (e) => this.flows.d2.receive(Buffer.from(e.data as string, 'latin1')));
    this.timer = setInterval(() => this.pump(), 10);
  }

  /** Connects two peer connections (audio + video pc1→pc2, audio pc2→pc1, one data channel) and starts the traffic. */
  static async open(): Promise<HostileSession> {
    const muxes = SHARED_PORT ? [await UdpMux.bind({ address: '127.0.0.1' }), await UdpMux.bind({ address: '127.0.0.1' })] : [];
    const pc1 = new RTCPeerConnection(muxes[0] ? { udpMux: muxes[0] } : { hostAddresses: ['127.0.0.1'] });
    const pc2 = new RTCPeerConnection(muxes[1] ? { udpMux: muxes[1] } : { hostAddresses: ['127.0.0.1'] });
    try {
      const audio1 = new LocalStreamTrack({ kind: 'audio' });
      const video1 = new LocalStreamTrack({ kind: 'video' });
      pc1.addTransceiver(audio1, { streams: ['s1'] });
      pc1.addTransceiver(video1, { streams: ['s1'] });
      const dc1 = pc1.createDataChannel('hostile', { ordered: true });
      const remote2 = new Map<string, MediaStreamTrack>();
      const gotTracks = new Promise<void>((resolve) => pc2.on('track', (e) => {
        remote2.set(e.track.kind, e.track);
        if (remote2.size === 2) resolve();
      }));
      const gotChannel = new Promise<RTCDataChannel>((resolve) => pc2.on('datachannel', (e) => resolve(e.channel)));
      const track1 = new Promise<MediaStreamTrack>((resolve) => pc1.on('track', (e) => resolve(e.track)));
      await pc1.setLocalDescription(await pc1.createOffer());
      await pc2.setRemoteDescription(pc1.localDescription!);
      const audio2 = new LocalStreamTrack({ kind: 'audio' });
      pc2.addTrack(audio2);
      await pc2.setLocalDescription(await pc2.createAnswer());
      await pc1.setRemoteDescription(pc2.localDescription!);
      await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
      await within(gotTracks, 5000, 'pc2 tracks');
      const a2 = await within(track1, 5000, 'pc1 track');
      const dc2 = await within(gotChannel, 10_000, 'datachannel');
      if (dc1.readyState !== 'open') await within(new Promise((r) => dc1.once('open', r)), 5000, 'dc1 open');
      if (dc2.readyState !== 'open') await within(new Promise((r) => dc2.once('open', r)), 5000, 'dc2 open');
      const s = new HostileSession(pc1, pc2, { audio1, video1, audio2 }, { dc1, dc2 }, { a1: remote2.get('audio')!, v1: remote2.get('video')!, a2 });
      s.muxes = muxes;
      s.phase = 'warm-up';
      await s.verifyFlow({ lossAllowed: false, what: 'before any attack' });
      if (SHARED_PORT) {
        // The shared port's session table carried the media: nothing was unprotected in JavaScript.
        for (const pc of [pc1, pc2]) {
          const c = pc.mediaTransport!.srtpCounters;
          assert.equal(c.unprotectedInJs, 0, 'udp-mux path: SRTP unprotected in JavaScript');
          assert.ok(c.unprotectedNatively > 0, 'udp-mux path: no SRTP unprotected by the session table');
        }
      }
      return s;
    } catch (err) {
      pc1.close();
      pc2.close();
      for (const m of muxes) m.close();
      throw err;
    }
  }

  /** True while both sides are connected and no state event happened since setup. */
  get healthy(): boolean {
    return !this.closed && this.pc1.connectionState === 'connected' && this.pc2.connectionState === 'connected' &&
      this.pc1.signalingState === 'stable' && this.pc2.signalingState === 'stable' && this.stateEvents.length === 0;
  }

  /** Marks the start of an attack (counts sent so far). */
  beginAttack(name: string): void {
    this.phase = `attack ${name}`;
    // A packet sent but not yet received may still sit in a send batch or a socket buffer when the
    // attack starts, so a flood that overflows the receive buffer can take it: it counts as sent
    // during the attack, not before.
    this.attackStart = Object.fromEntries(Object.entries(this.flows).map(([k, f]) => [k, Math.min(f.sent, f.highest + 1)]));
  }

  /** Marks the end of the attack. */
  endAttack(): void {
    this.attackEnd = Object.fromEntries(Object.entries(this.flows).map(([k, f]) => [k, f.sent]));
    this.phase = 'after attack';
  }

  /**
   * Checks that traffic flows: keeps sending until every stream has delivered 20 packets sent
   * after this call (bounded), then fails on damaged, duplicated or reordered data, on any lost
   * data-channel message, and on media lost outside the attack window (or inside it unless
   * `lossAllowed`: a flood may overflow the kernel's receive buffer). RTCP both ways too.
   */
  async verifyFlow(o: { lossAllowed: boolean; what: string }): Promise<FlowReport> {
    const target = Object.fromEntries(Object.entries(this.flows).map(([k, f]) => [k, f.sent + 20]));
    const deadline = Date.now() + 10_000;
    while (Object.entries(this.flows).some(([k, f]) => !f.got.has(target[k]! - 1))) {
      if (Date.now() > deadline) {
        const stuck = Object.entries(this.flows).filter(([k, f]) => !f.got.has(target[k]! - 1)).map(([k, f]) => `${k} sent ${f.sent} got ${f.got.size} highest ${f.highest}`);
        assert.fail(`${o.what}: traffic stopped flowing (${stuck.join('; ')})`);
      }
      await pause(20);
    }
    const report: FlowReport = { lostDuringAttack: {} };
    for (const [k, f] of Object.entries(this.flows)) {
      assert.deepEqual(f.anomalies, [], `${o.what}: ${k} delivered bad data`);
      const end = target[k]!;
      if (f.ordered) {
        assert.deepEqual(f.missing(0, end), [], `${o.what}: data-channel messages lost on ${k}`);
        continue;
      }
      const from = this.attackStart[k] ?? 0;
      const to = this.attackEnd[k] ?? 0;
      const inWindow = f.missing(from, to);
      report.lostDuringAttack[k] = inWindow.length;
      // Attacks share a session: what an earlier attack was allowed to lose stays missing.
      const outside = f.missing(0, end).filter((n) => (n < from || n >= to) && !f.forgiven.has(n));
      assert.deepEqual(outside, [], `${o.what}: ${k} lost media sent outside the attack`);
      if (!o.lossAllowed) assert.deepEqual(inWindow, [], `${o.what}: ${k} lost media sent during the attack`);
      for (const n of inWindow) f.forgiven.add(n);
    }
    await this.rtcpBothWays(o.what);
    return report;
  }

  /** Fails unless both sides are still connected with ICE and DTLS unchanged and no state event fired. */
  async assertConnected(what: string): Promise<void> {
    assert.deepEqual(this.stateEvents, [], `${what}: connection state changed`);
    for (const pc of [this.pc1, this.pc2]) {
      assert.equal(pc.connectionState, 'connected', what);
      assert.ok(['connected', 'completed'].includes(pc.iceConnectionState), `${what}: ice ${pc.iceConnectionState}`);
      const { transport } = await counters(pc);
      assert.equal(transport.dtlsState, 'connected', `${what}: DTLS state`);
    }
  }

  /** Stops the traffic and closes both sides. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.pc1.close();
    this.pc2.close();
    for (const m of this.muxes) m.close();
  }

  private async rtcpBothWays(what: string): Promise<void> {
    const [, v1] = this.pc1.getTransceivers();
    const a2 = this.pc2.getTransceivers().find((t) => t.kind === 'audio')!;
    const pli1 = new Promise<unknown>((r) => v1!.sender.once('rtcp', (e) => r(e.packet)));
    const pli2 = new Promise<unknown>((r) => a2.sender.once('rtcp', (e) => r(e.packet)));
    a2.sender.sendRtcp([new RtcpPictureLossIndication(this.ssrcs.audio2, this.ssrcs.video1)]);
    this.pc1.getTransceivers()[0]!.sender.sendRtcp([new RtcpPictureLossIndication(this.ssrcs.audio1, this.ssrcs.audio2)]);
    assert.ok((await within(pli1, 5000, `${what}: RTCP pc2→pc1`)) instanceof RtcpPictureLossIndication);
    assert.ok((await within(pli2, 5000, `${what}: RTCP pc1→pc2`)) instanceof RtcpPictureLossIndication);
  }

  private pump(): void {
    if (this.closed) return;
    const send = (track: LocalStreamTrack, f: Flow, ts: number): void => {
      track.send(new RtpPacket({ timestamp: f.sent * ts, payload: body(f.tag, f.sent) }));
      f.sent++;
    };
    send(this.tracks.audio1, this.flows.a1, 960);
    send(this.tracks.video1, this.flows.v1, 3000);
    send(this.tracks.audio2, this.flows.a2, 960);
    for (const [ch, f] of [[this.channels.dc1, this.flows.d1], [this.channels.dc2, this.flows.d2]] as const) {
      if (ch.readyState !== 'open') continue;
      ch.send(body(f.tag, f.sent).toString('latin1'));
      f.sent++;
    }
  }

  private read(track: MediaStreamTrack, f: Flow): void {
    void (async () => {
      for await (const p of track) f.receive(Buffer.from(p.payload));
    })().catch((err: unknown) => f.anomalies.push(`${f.tag}: reader failed ${String(err)}`));
  }
}

/** What one attack did to both sides. */
export interface AttackResult {
  /** Counters of pc1 / pc2 that moved during the attack. */
  moved1: Counters;
  moved2: Counters;
  flow: FlowReport;
}

/**
 * Runs one attack against a live session: snapshot counters, send, let the target drain its
 * socket (until its counters stop moving, bounded), then check that the session is still
 * connected, that traffic flows (see verifyFlow) and that the process saw no fault.
 */
export async function runAttack(
  s: HostileSession,
  watch: FaultWatch,
  name: string,
  send: () => Promise<void>,
  o: { lossAllowed?: boolean; target?: 'pc1' | 'pc2' } = {},
): Promise<AttackResult> {
  const faultsFrom = watch.faults.length;
  const b1 = (await counters(s.pc1)).counters;
  const b2 = (await counters(s.pc2)).counters;
  s.beginAttack(name);
  await send();
  // Settle: the target (pc2 unless told) has read everything once two snapshots 50 ms apart agree
  // and the kernel holds nothing more for its socket (at most 5 s). Counters alone are not enough
  // on a loaded machine: a stalled event loop leaves them still while the socket's queue is full,
  // and packets sent then would be lost after the attack's end.
  const target = o.target === 'pc1' ? s.pc1 : s.pc2;
  const port = o.target === 'pc1' ? s.addr1.port : s.addr2.port;
  let last = JSON.stringify(dropsOnly((await counters(target)).counters));
  for (let i = 0; i < 100 && s.healthy; i++) {
    await pause(50);
    const now = JSON.stringify(dropsOnly((await counters(target)).counters));
    if (now === last && kernelReceiveQueue(port) === 0) break;
    last = now;
  }
  s.endAttack();
  await s.assertConnected(name);
  const flow = await s.verifyFlow({ lossAllowed: o.lossAllowed ?? false, what: name });
  await s.assertConnected(`${name} (after traffic check)`);
  watch.assertNone(faultsFrom, name);
  const moved1 = delta(b1, (await counters(s.pc1)).counters);
  const moved2 = delta(b2, (await counters(s.pc2)).counters);
  return { moved1, moved2, flow };
}

/** Sends datagrams in paced chunks so that a bounded attack cannot overflow the receive buffer. */
export async function paced(items: readonly Buffer[], sendChunk: (chunk: readonly Buffer[]) => Promise<void>, chunk = 16): Promise<void> {
  for (let i = 0; i < items.length; i += chunk) {
    await sendChunk(items.slice(i, i + chunk));
    await pause(3);
  }
}

/** Fails unless every `layer.reason` key in `keys` moved by at least `min` in total. */
export function assertMoved(moved: Counters, keys: string[], min: number, what: string): void {
  const total = keys.reduce((n, k) => n + (moved[k] ?? 0), 0);
  assert.ok(total >= min, `${what}: expected ${keys.join(' + ')} to grow by >= ${min}, moved: ${JSON.stringify(moved)}`);
}

/**
 * Bytes the kernel holds for the UDP socket bound to `port` (the rx_queue column of /proc/net/udp
 * and udp6); 0 when not found or where /proc is not Linux's.
 */
function kernelReceiveQueue(port: number): number {
  let queued = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || parseInt(f[1]!.split(':')[1] ?? '', 16) !== port) continue;
      queued += parseInt(f[4]!.split(':')[1] ?? '0', 16) || 0;
    }
  }
  return queued;
}
