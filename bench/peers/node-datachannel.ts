// Drives node-datachannel (libdatachannel, C++) the same way as the other adapters. Its Track API
// sends application-made RTP (libdatachannel protects it with SRTP), so e2e-rtp compares like for like.
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type MediaPair, type PeerAdapter } from './types.js';
import { packageVersion } from '../lib/report.js';

type Pc = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Track = ReturnType<Pc['addTrack']>;

let counter = 0;

/**
 * Runs `apply` now and, while libdatachannel throws, again every 5 ms, at most `tries` times: a PC
 * can get its remote description or a candidate before its ICE transport exists ("Got a remote
 * candidate without ICE transport"), or a callback can arrive after the pair was closed. Nothing is
 * thrown from here: inside a node-datachannel callback a throw reaches its C++ wrapper and ends the
 * process (std::terminate). A call that never succeeds leaves its pair to fail on its deadline,
 * where it is counted. The timers do not keep the process alive.
 */
export function applyWhenReady(apply: () => void, tries = 200): void {
  try {
    apply();
  } catch {
    if (tries > 1) setTimeout(() => applyWhenReady(apply, tries - 1), 5).unref();
  }
}

function pcPair(): [Pc, Pc] {
  const config = { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: false };
  const a = new nodeDataChannel.PeerConnection(`a${++counter}`, config);
  const b = new nodeDataChannel.PeerConnection(`b${counter}`, config);
  // In-process signaling; candidates that arrive before the remote description wait for it.
  // About half of the pairs connect only after about 1 s whatever the signaling: both sides' ICE
  // is connected within a few ms and the wait comes after it, inside libdatachannel (trickle and
  // full SDP alike: `npm run bench:ndc-setup-modes`, docs/bench/README.md "node-datachannel").
  const pending = new Map<Pc, [string, string][]>();
  const describe = (to: Pc, sdp: string, type: Parameters<Pc['setRemoteDescription']>[1]): void =>
    applyWhenReady(() => {
      to.setRemoteDescription(sdp, type);
      const queued = pending.get(to) ?? [];
      pending.delete(to);
      for (const [c, mid] of queued) candidate(to, c, mid);
    });
  const candidate = (to: Pc, c: string, mid: string): void =>
    applyWhenReady(() => {
      if (!to.remoteDescription()) pending.set(to, [...(pending.get(to) ?? []), [c, mid]]);
      else to.addRemoteCandidate(c, mid);
    });
  a.onLocalDescription((sdp, type) => describe(b, sdp, type));
  b.onLocalDescription((sdp, type) => describe(a, sdp, type));
  a.onLocalCandidate((c, mid) => candidate(b, c, mid));
  b.onLocalCandidate((c, mid) => candidate(a, c, mid));
  return [a, b];
}

function connected(pc: Pc): Promise<void> {
  if (pc.state() === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    pc.onStateChange((s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed') reject(new Error(`node-datachannel ${s}`));
    });
  });
}

function audioTrack(pc: Pc, ssrc: number): Track {
  const audio = new nodeDataChannel.Audio('0', 'SendOnly');
  audio.addOpusCodec(111);
  audio.addSSRC(ssrc, 'bench');
  return pc.addTrack(audio);
}

async function mediaPair(): Promise<MediaPair> {
  const [a, b] = pcPair();
  const ssrc = 0x1234567;
  const track = audioTrack(a, ssrc);
  let cb: () => void = () => {};
  // The received Track must stay referenced: node-datachannel closes a collected one silently.
  const remote: Track[] = [];
  b.onTrack((t) => {
    remote.push(t);
    t.onMessage((m) => {
      // RTCP shares the track (rtcp-mux): count RTP only (payload type byte outside 192..223).
      const pt = m[1]!;
      if (pt < 192 || pt > 223) cb();
    });
  });
  const opened = new Promise<void>((resolve) => track.onOpen(resolve));
  a.setLocalDescription();
  await within(Promise.all([connected(a), connected(b), opened]), 20_000, 'node-datachannel connected');
  let seq = 0;
  let ts = 0;
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 111;
  header.writeUInt32BE(ssrc, 8);
  return {
    send(payload) {
      seq = (seq + 1) & 0xffff;
      header.writeUInt16BE(seq, 2);
      header.writeUInt32BE((ts += 960) >>> 0, 4);
      track.sendMessageBinary(Buffer.concat([header, payload]));
    },
    onReceive(f) {
      cb = f;
    },
    async close() {
      for (const t of remote) t.close();
      track.close();
      a.close();
      b.close();
    },
  };
}

async function connectPairs(count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: Pc[] = [];
  const one = async (i: number): Promise<number> => {
    const [a, b] = pcPair();
    all.push(a, b);
    const t0 = performance.now();
    audioTrack(a, 1000 + i);
    a.setLocalDescription();
    try {
      await within(Promise.all([connected(a), connected(b)]), 120_000, 'node-datachannel connected');
    } catch (err) {
      // Not connected: closed at once and dropped, as the memory suite counts connected PCs only.
      all.splice(all.indexOf(a), 2);
      a.close();
      b.close();
      throw err;
    }
    return performance.now() - t0;
  };
  const { times, failed } = settle(await Promise.allSettled(Array.from({ length: count }, (_, i) => one(i))));
  const peers = {
    async close() {
      for (const p of all) p.close();
    },
  };
  if (!keep) await peers.close();
  return { times, failed, peers };
}

/** node-datachannel (libdatachannel). */
export const nodeDataChannelAdapter: PeerAdapter = {
  name: 'node-datachannel',
  version: packageVersion('node-datachannel'),
  mediaPair,
  connectPairs,
};
