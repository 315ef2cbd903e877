// `npm run bench:ndc-setup-modes [-- --pairs N]`: where node-datachannel's one-pair setup time goes,
// with trickled candidates and with full SDP after gathering completes (non-trickle). Per pair it
// stamps each side's ICE `connected` and PC `connected`, so a wait after ICE (DTLS) shows apart
// from ICE and signaling (issue 14; the result is in docs/bench/README.md "node-datachannel").
import nodeDataChannel from 'node-datachannel';
import { performance } from 'node:perf_hooks';
import { applyWhenReady } from './peers/node-datachannel.js';

type Pc = InstanceType<typeof nodeDataChannel.PeerConnection>;
type Mode = 'trickle' | 'full SDP';

const args = process.argv.slice(2);
const pairsArg = args.indexOf('--pairs');
const PAIRS = pairsArg >= 0 ? Number(args[pairsArg + 1]) : 20;
/** A pair that has not connected by then is counted as failed. */
const PAIR_DEADLINE_MS = 30_000;

interface PairTimes {
  /** Later of the two sides' ICE `connected`, ms after setLocalDescription. */
  ice: number;
  /** Later of the two PCs' `connected` (ICE and DTLS done). */
  connected: number;
}

let counter = 0;

/** Signals `a` → `b` in-process in the given mode. */
function signal(mode: Mode, a: Pc, b: Pc): void {
  if (mode === 'trickle') {
    a.onLocalDescription((sdp, type) => applyWhenReady(() => b.setRemoteDescription(sdp, type)));
    b.onLocalDescription((sdp, type) => applyWhenReady(() => a.setRemoteDescription(sdp, type)));
    const add = (to: Pc, c: string, mid: string): void => {
      try {
        to.addRemoteCandidate(c, mid);
      } catch {
        // libdatachannel rejects a candidate before its ICE transport exists: dropped here (each
        // side's checks still reach the other), and a pair that cannot connect counts as failed.
      }
    };
    a.onLocalCandidate((c, mid) => add(b, c, mid));
    b.onLocalCandidate((c, mid) => add(a, c, mid));
    return;
  }
  const whenGathered = (from: Pc, to: Pc): void => {
    from.onGatheringStateChange((s) => {
      if (s !== 'complete') return;
      applyWhenReady(() => {
        const d = from.localDescription();
        if (d) to.setRemoteDescription(d.sdp, d.type as Parameters<Pc['setRemoteDescription']>[1]);
      });
    });
  };
  whenGathered(a, b);
  whenGathered(b, a);
}

async function onePair(mode: Mode, ssrc: number): Promise<PairTimes | undefined> {
  const config = { iceServers: [], bindAddress: '127.0.0.1', enableIceUdpMux: false };
  const a = new nodeDataChannel.PeerConnection(`a${++counter}`, config);
  const b = new nodeDataChannel.PeerConnection(`b${counter}`, config);
  signal(mode, a, b);
  const ice: number[] = [];
  const pc: number[] = [];
  let t0 = 0;
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), PAIR_DEADLINE_MS);
    for (const p of [a, b]) {
      p.onIceStateChange((s) => {
        if (s === 'connected') ice.push(performance.now() - t0);
      });
      p.onStateChange((s) => {
        if (s !== 'connected') return;
        pc.push(performance.now() - t0);
        if (pc.length === 2) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    }
  });
  const audio = new nodeDataChannel.Audio('0', 'SendOnly');
  audio.addOpusCodec(111);
  audio.addSSRC(ssrc, 'bench');
  a.addTrack(audio);
  t0 = performance.now();
  a.setLocalDescription();
  const ok = await done;
  a.close();
  b.close();
  if (!ok || ice.length < 2) return undefined;
  return { ice: Math.max(...ice), connected: Math.max(...pc) };
}

/** Median of `xs` in ms with `digits` decimals, or "-" for none. */
function median(xs: number[], digits = 1): string {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? '-' : s[Math.floor((s.length - 1) / 2)]!.toFixed(digits);
}

console.log(`node-datachannel one pair, ${PAIRS} pairs one after another per mode (loopback, host candidates)`);
for (const mode of ['trickle', 'full SDP'] as const) {
  const times: PairTimes[] = [];
  let failed = 0;
  for (let i = 0; i < PAIRS; i++) {
    const t = await onePair(mode, 1000 + i);
    if (t) times.push(t);
    else failed++;
  }
  const afterIce = times.map((t) => t.connected - t.ice);
  const slow = afterIce.filter((ms) => ms > 500).length;
  const fast = times.filter((t) => t.connected - t.ice <= 500).map((t) => t.connected);
  console.log(
    `${mode}: ICE connected median ${median(times.map((t) => t.ice))} ms (max ${median(times.map((t) => t.ice).sort((x, y) => y - x).slice(0, 1))}); ` +
      `PC connected median ${median(times.map((t) => t.connected))} ms; ` +
      `${slow} of ${times.length} pairs waited > 500 ms after ICE connected (median wait ${median(afterIce.filter((ms) => ms > 500), 0)} ms); ` +
      `the other pairs' median ${median(fast)} ms; ${failed} failed`,
  );
}
// Exit at once: node-datachannel 0.33.4's cleanup() crashed (SIGSEGV) after closed PCs here.
process.exit(0);
