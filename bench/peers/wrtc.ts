// Drives @roamhq/wrtc (libwebrtc) for setup and memory. It sends only media it encodes itself
// (RTCAudioSource/RTCVideoSource), never application-made RTP, so it has no mediaPair: e2e-rtp
// and fanout leave it out. Run it in a child process only: it may crash at process exit.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type PeerAdapter } from './types.js';
import { packageVersion } from '../lib/report.js';

/** The slice of libwebrtc's W3C API the benchmark uses. */
interface WrtcPc {
  createOffer(): Promise<{ type: string; sdp: string }>;
  createAnswer(): Promise<{ type: string; sdp: string }>;
  setLocalDescription(d: { type: string; sdp: string }): Promise<void>;
  setRemoteDescription(d: { type: string; sdp: string }): Promise<void>;
  addIceCandidate(c: unknown): Promise<void>;
  addTransceiver(kind: string, init?: { direction: string }): unknown;
  connectionState: string;
  onicecandidate: ((e: { candidate: unknown }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  close(): void;
}

const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc') as { RTCPeerConnection: new (config: object) => WrtcPc };

function connected(pc: WrtcPc): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pc.connectionState === 'connected') resolve();
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') reject(new Error(`wrtc ${pc.connectionState}`));
    };
    pc.onconnectionstatechange = check;
    check();
  });
}

async function connectPairs(count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: WrtcPc[] = [];
  const one = async (): Promise<number> => {
    const a = new wrtc.RTCPeerConnection({ iceServers: [] });
    const b = new wrtc.RTCPeerConnection({ iceServers: [] });
    all.push(a, b);
    // Trickle: candidates go to the other side as soon as its remote description is set.
    const trickle = (from: WrtcPc, to: WrtcPc, ready: Promise<void>): void => {
      from.onicecandidate = (e) => {
        if (e.candidate) void ready.then(() => to.addIceCandidate(e.candidate).catch(() => undefined));
      };
    };
    let bReady!: () => void;
    let aReady!: () => void;
    trickle(a, b, new Promise<void>((r) => (bReady = r)));
    trickle(b, a, new Promise<void>((r) => (aReady = r)));
    const t0 = performance.now();
    a.addTransceiver('audio', { direction: 'sendrecv' });
    const up = Promise.all([connected(a), connected(b)]);
    const offer = await a.createOffer();
    await a.setLocalDescription(offer);
    await b.setRemoteDescription(offer);
    bReady();
    const answer = await b.createAnswer();
    await b.setLocalDescription(answer);
    await a.setRemoteDescription(answer);
    aReady();
    try {
      await within(up, 120_000, 'wrtc connected');
    } catch (err) {
      // Not connected: closed at once and dropped, as the memory suite counts connected PCs only.
      all.splice(all.indexOf(a), 2);
      a.close();
      b.close();
      throw err;
    }
    return performance.now() - t0;
  };
  const { times, failed } = settle(await Promise.allSettled(Array.from({ length: count }, one)));
  const peers = {
    async close() {
      for (const p of all) p.close();
    },
  };
  if (!keep) await peers.close();
  return { times, failed, peers };
}

/** @roamhq/wrtc (libwebrtc). */
export const wrtcAdapter: PeerAdapter = { name: 'wrtc', version: packageVersion('@roamhq/wrtc'), connectPairs };
