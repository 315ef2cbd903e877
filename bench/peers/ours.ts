// Drives pure-webrtc-transport's public lib/peer API for the full-stack suites, as a user would:
// `ours` with the default policy modules installed (docs/policy.md), `ours-bare` with none.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RtpPolicyFactory } from '../../lib/peer/index.js';
import '../../lib/policy/default-policies.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type MediaPair, type PeerAdapter } from './types.js';
import { packageVersion } from '../lib/report.js';

/** Policy modules of the connections made here: undefined = the defaults. */
let policies: RtpPolicyFactory[] | undefined;

function pc(): RTCPeerConnection {
  return new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], ...(policies ? { rtpPolicies: policies } : {}) });
}

async function negotiate(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
}

async function mediaPair(): Promise<MediaPair> {
  const a = pc();
  const b = pc();
  const track = new LocalStreamTrack({ kind: 'audio' });
  a.addTransceiver(track, { direction: 'sendonly' });
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 20_000, 'ours connected');
  const rt = await within(remote, 5000, 'ours track');
  let cb: () => void = () => {};
  let closed = false;
  // The public receive API: one recv() per packet (resolved synchronously while packets queue).
  void (async () => {
    try {
      for await (const _ of rt) {
        cb();
        if (closed) return;
      }
    } catch {
      // track ended with the connection
    }
  })();
  let ts = 0;
  return {
    send(payload) {
      track.send(new RtpPacket({ timestamp: (ts += 960), payload }));
    },
    onReceive(f) {
      cb = f;
    },
    async close() {
      closed = true;
      a.close();
      b.close();
    },
  };
}

async function connectPairs(count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: RTCPeerConnection[] = [];
  const one = async (): Promise<number> => {
    const a = pc();
    const b = pc();
    all.push(a, b);
    const t0 = performance.now();
    a.addTransceiver('audio');
    await negotiate(a, b);
    await within(Promise.all([a.connected(), b.connected()]), 60_000, 'ours connected');
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

/** pure-webrtc-transport. */
export const ours: PeerAdapter = { name: 'ours', version: packageVersion('pure-webrtc-transport'), mediaPair, connectPairs };

/** Ours without any policy module (no RTCP reports, NACK, keyframe or transport-cc feedback). */
export const oursBare: PeerAdapter = {
  name: 'ours-bare',
  version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => {
    policies = [];
    return mediaPair();
  },
  connectPairs: (n, keep) => {
    policies = [];
    return connectPairs(n, keep);
  },
};
