// Drives pure-webrtc-transport's public lib/peer API for the full-stack suites, as a user would:
// `ours` with every PC on its own socket, `ours-udpmux` with every answering (receiving) PC on one
// shared UdpMux port, as an SFU runs (the offerers keep own sockets: one 5-tuple per connection).
// Both install the default policy modules (docs/policy.md); `ours-bare` installs none.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RtpPolicyFactory } from '../../lib/peer/index.js';
import '../../lib/policy/default-policies.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type MediaPair, type PeerAdapter } from './types.js';
import { packageVersion } from '../lib/report.js';

/** Policy modules of the connections made here: undefined = the defaults. */
let policies: RtpPolicyFactory[] | undefined;
let sharedPort: Promise<UdpMux> | undefined;

function pc(): RTCPeerConnection {
  return new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], ...(policies ? { rtpPolicies: policies } : {}) });
}

/** The answering PC: on the process's one shared port in `shared` mode. */
async function answerer(shared: boolean): Promise<RTCPeerConnection> {
  if (!shared) return pc();
  sharedPort ??= UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 });
  return new RTCPeerConnection({ udpMux: await sharedPort, ...(policies ? { rtpPolicies: policies } : {}) });
}

async function negotiate(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
}

async function mediaPair(shared: boolean): Promise<MediaPair> {
  const a = pc();
  const b = await answerer(shared);
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

async function connectPairs(shared: boolean, count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: RTCPeerConnection[] = [];
  if (shared) await answerer(true); // the port is bound once, outside the timed part
  const one = async (): Promise<number> => {
    const t0 = performance.now();
    const a = pc();
    const b = await answerer(shared);
    all.push(a, b);
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

/** pure-webrtc-transport, every PC on its own socket. */
export const ours: PeerAdapter = {
  name: 'ours', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => mediaPair(false), connectPairs: (count, keep) => connectPairs(false, count, keep),
};

/** Ours without any policy module (no RTCP reports, NACK, keyframe or transport-cc feedback). */
export const oursBare: PeerAdapter = {
  name: 'ours-bare', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => {
    policies = [];
    return mediaPair(false);
  },
  connectPairs: (count, keep) => {
    policies = [];
    return connectPairs(false, count, keep);
  },
};

/** pure-webrtc-transport, the answering PCs on one shared UdpMux port. */
export const oursUdpMux: PeerAdapter = {
  name: 'ours-udpmux', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => mediaPair(true), connectPairs: (count, keep) => connectPairs(true, count, keep),
};
