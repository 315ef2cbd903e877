// Drives pure-webrtc-transport's public lib/peer API for the full-stack suites, as a user would:
// `ours` with every PC on its own socket, `ours-udpmux` with every answering (receiving) PC on one
// shared UdpMux port, as an SFU runs (the offerers keep own sockets: one 5-tuple per connection),
// `ours-turn` with every answering PC relay-only through a coturn on loopback (TURN over UDP: its
// media arrives as ChannelData, unframed natively once the channel is bound; docs/udp.md), `ours-tcp`
// with every answering PC on one passive ICE-TCP port only and the offerers on active ICE-TCP
// candidates (RFC 6544; the port frames and unprotects natively, docs/udp.md "TCP framing").
// Both install the default policy modules (docs/policy.md); `ours-bare` installs none but still
// negotiates the transport-wide-cc extension (the sender stamps it), as every connection did before
// the modules existed: the baseline their cost is measured against.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RtpPolicyFactory } from '../../lib/peer/index.js';
import '../../lib/policy/default-policies.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { HeaderExtensionUri } from '../../lib/sdp/capabilities.js';
import { defaultHeaderExtensions } from '../../lib/sdp/default-capabilities.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { releaseIdleMemory } from '../../lib/native/release-idle-memory.js';
import { nativeHeapTrimmer } from '../../lib/transport/native-heap-trimmer.js';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type MediaPair, type PeerAdapter } from './types.js';
import { startCoturn, type Coturn } from '../../test/integration/coturn.js';
import { packageVersion } from '../lib/report.js';

/** Policy modules of the connections made here: undefined = the defaults. */
let policies: RtpPolicyFactory[] | undefined;
let sharedPort: Promise<UdpMux> | undefined;
let turnServer: Promise<Coturn> | undefined;
let tcpPort: Promise<TcpMux> | undefined;

/** Where the answering (receiving) PCs are: own sockets, one shared UdpMux port, or relay-only through TURN. */
type AnswererMode = 'own' | 'shared' | 'turn' | 'tcp';

/** The process's coturn, started once and stopped when the process exits. */
function coturn(): Promise<Coturn> {
  turnServer ??= startCoturn().then((c) => {
    process.once('exit', () => c.close());
    return c;
  });
  return turnServer;
}

/** Options for `policies`: with none installed, the transport-wide-cc extension is still negotiated. */
function policyOptions(): { rtpPolicies?: RtpPolicyFactory[]; headerExtensions?: ReturnType<typeof defaultHeaderExtensions> } {
  if (!policies) return {};
  const twcc = [HeaderExtensionUri.transportWideCc];
  return { rtpPolicies: policies, headerExtensions: [...defaultHeaderExtensions('audio', twcc), ...defaultHeaderExtensions('video', twcc)] };
}

function pc(mode: AnswererMode = 'own'): RTCPeerConnection {
  // Against a TCP-only answerer the offerer announces active ICE-TCP candidates (RFC 6544 §4.5).
  return new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], ...(mode === 'tcp' ? { iceTcpActive: true } : {}), ...policyOptions() });
}

/** The answering PC: on the process's one shared port in `shared` mode, relay-only through coturn in `turn` mode. */
async function answerer(mode: AnswererMode): Promise<RTCPeerConnection> {
  if (mode === 'own') return pc();
  if (mode === 'tcp') {
    tcpPort ??= TcpMux.listen({ address: '127.0.0.1' });
    return new RTCPeerConnection({ hostAddresses: [], tcpMux: await tcpPort, ...policyOptions() });
  }
  if (mode === 'turn') {
    const turn = await coturn();
    return new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [turn.iceServer('udp')], iceTransportPolicy: 'relay', ...policyOptions() });
  }
  sharedPort ??= UdpMux.bind({ address: '127.0.0.1', recvBufferSize: 16 * 1024 * 1024, sendBufferSize: 16 * 1024 * 1024 });
  return new RTCPeerConnection({ udpMux: await sharedPort, ...policyOptions() });
}

async function negotiate(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  // The answerer's relay candidates trickle once its allocation exists: queued until the offerer
  // has the answer, then passed on as they come.
  const queued: string[] = [];
  let ready = false;
  b.onicecandidate = (e) => {
    const c = e.candidate?.candidate;
    if (!c) return;
    if (ready) void a.addIceCandidate({ candidate: c }).catch(() => undefined);
    else queued.push(c);
  };
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  ready = true;
  for (const c of queued) await a.addIceCandidate({ candidate: c }).catch(() => undefined);
}

async function mediaPair(mode: AnswererMode): Promise<MediaPair> {
  const a = pc(mode);
  const b = await answerer(mode);
  const track = new LocalStreamTrack({ kind: 'audio' });
  a.addTransceiver(track, { direction: 'sendonly' });
  const remote = new Promise<MediaStreamTrack>((resolve) => b.on('track', (e) => resolve(e.track)));
  await negotiate(a, b);
  await within(Promise.all([a.connected(), b.connected()]), 20_000, 'ours connected');
  if (mode === 'turn') await waitFor(() => b.mediaTransport?.relayRouted === true, 10_000, 'the native TURN channel route');
  if (mode === 'tcp') await waitFor(() => b.mediaTransport?.srtpRouted === true, 10_000, 'the native ICE-TCP route');
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

/** Resolves once `cond()` holds, polling every 10 ms; rejects after `ms`. */
function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const tick = (): void => (cond() ? resolve() : void setTimeout(tick, 10));
      tick();
    }),
    ms,
    what,
  );
}

async function connectPairs(mode: AnswererMode, count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: RTCPeerConnection[] = [];
  if (mode === 'shared') await answerer(mode); // the port is bound once, outside the timed part
  if (mode === 'turn') await coturn(); // so is the TURN server started
  if (mode === 'tcp') await answerer(mode).then((p) => p.close()); // and the TCP port listening
  const one = async (): Promise<number> => {
    const t0 = performance.now();
    const a = pc(mode);
    let b: RTCPeerConnection | undefined;
    try {
      b = await answerer(mode);
      all.push(a, b);
      a.addTransceiver('audio');
      await negotiate(a, b);
      await within(Promise.all([a.connected(), b.connected()]), 60_000, 'ours connected');
      return performance.now() - t0;
    } catch (err) {
      // A pair that did not connect is closed at once and dropped (so its objects can be
      // collected): the memory suite counts connected PCs only.
      if (b) all.splice(all.indexOf(a), 2);
      a.close();
      b?.close();
      throw err;
    }
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
  mediaPair: () => mediaPair('own'), connectPairs: (count, keep) => connectPairs('own', count, keep),
  releaseIdleMemory: () => void releaseIdleMemory(),
  memoryWorkPending: () => nativeHeapTrimmer.pending,
};

/** Ours without any policy module (no RTCP reports, NACK, keyframe or transport-cc feedback), transport-wide-cc still stamped. */
export const oursBare: PeerAdapter = {
  name: 'ours-bare', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => {
    policies = [];
    return mediaPair('own');
  },
  connectPairs: (count, keep) => {
    policies = [];
    return connectPairs('own', count, keep);
  },
  releaseIdleMemory: () => void releaseIdleMemory(),
  memoryWorkPending: () => nativeHeapTrimmer.pending,
};

/** pure-webrtc-transport, the answering PCs on one shared UdpMux port. */
export const oursUdpMux: PeerAdapter = {
  name: 'ours-udpmux', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => mediaPair('shared'), connectPairs: (count, keep) => connectPairs('shared', count, keep),
  releaseIdleMemory: () => void releaseIdleMemory(),
  memoryWorkPending: () => nativeHeapTrimmer.pending,
};

/** pure-webrtc-transport, the answering PCs relay-only through a coturn on loopback (TURN over UDP). */
export const oursTurn: PeerAdapter = {
  name: 'ours-turn', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => mediaPair('turn'), connectPairs: (count, keep) => connectPairs('turn', count, keep),
  releaseIdleMemory: () => void releaseIdleMemory(),
  memoryWorkPending: () => nativeHeapTrimmer.pending,
};

/** pure-webrtc-transport, the answering PCs on one passive ICE-TCP port only, the offerers active ICE-TCP. */
export const oursTcp: PeerAdapter = {
  name: 'ours-tcp', version: packageVersion('pure-webrtc-transport'),
  mediaPair: () => mediaPair('tcp'), connectPairs: (count, keep) => connectPairs('tcp', count, keep),
  releaseIdleMemory: () => void releaseIdleMemory(),
  memoryWorkPending: () => nativeHeapTrimmer.pending,
};
