// Drives werift (pure TypeScript WebRTC) the same way as the other adapters: loopback host
// candidates only, no STUN server (iceServers empty, so no srflx gathering leaves the machine).
import * as werift from 'werift';
import { performance } from 'node:perf_hooks';
import { settle, within, type ConnectedPairs, type MediaPair, type PeerAdapter } from './types.js';
import { packageVersion } from '../lib/report.js';

/** A werift PC restricted to 127.0.0.1. */
export function weriftPc(): werift.RTCPeerConnection {
  return new werift.RTCPeerConnection({
    iceServers: [],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  });
}

/** Resolves with the local SDP once ICE gathering is complete (werift has no trickle-free mode). */
export async function weriftLocalSdp(pc: werift.RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') resolve();
      });
    });
  }
  return pc.localDescription!.sdp;
}

/** Resolves when `pc.connectionState` is connected. */
export function weriftConnected(pc: werift.RTCPeerConnection): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') resolve();
      else if (s === 'failed' || s === 'closed') reject(new Error(`werift ${s}`));
    });
  });
}

async function negotiate(a: werift.RTCPeerConnection, b: werift.RTCPeerConnection): Promise<void> {
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription({ type: 'offer', sdp: await weriftLocalSdp(a) });
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription({ type: 'answer', sdp: await weriftLocalSdp(b) });
}

async function mediaPair(): Promise<MediaPair> {
  const a = weriftPc();
  const b = weriftPc();
  const tx = a.addTransceiver('audio', { direction: 'sendonly' });
  let cb: () => void = () => {};
  b.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => cb()));
  await negotiate(a, b);
  await within(Promise.all([weriftConnected(a), weriftConnected(b)]), 20_000, 'werift connected');
  let seq = 0;
  let ts = 0;
  return {
    send(payload) {
      seq = (seq + 1) & 0xffff;
      const header = new werift.RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: (ts += 960) >>> 0, ssrc: tx.sender.ssrc, marker: false });
      tx.sender.sendRtp(new werift.RtpPacket(header, payload));
    },
    onReceive(f) {
      cb = f;
    },
    async close() {
      await Promise.all([a.close(), b.close()]);
    },
  };
}

async function connectPairs(count: number, keep: boolean): Promise<ConnectedPairs> {
  const all: werift.RTCPeerConnection[] = [];
  const one = async (): Promise<number> => {
    const a = weriftPc();
    const b = weriftPc();
    all.push(a, b);
    const t0 = performance.now();
    try {
      a.addTransceiver('audio');
      await negotiate(a, b);
      await within(Promise.all([weriftConnected(a), weriftConnected(b)]), 120_000, 'werift connected');
      return performance.now() - t0;
    } catch (err) {
      // Not connected: closed at once and dropped, as the memory suite counts connected PCs only.
      all.splice(all.indexOf(a), 2);
      await Promise.all([a.close(), b.close()]).catch(() => undefined);
      throw err;
    }
  };
  const { times, failed } = settle(await Promise.allSettled(Array.from({ length: count }, one)));
  const peers = {
    async close() {
      await Promise.all(all.map((p) => p.close()));
    },
  };
  if (!keep) await peers.close();
  return { times, failed, peers };
}

/** werift, pure TypeScript. */
export const weriftAdapter: PeerAdapter = { name: 'werift', version: packageVersion('werift'), mediaPair, connectPairs };
