// Offer/answer over a signalling channel (RFC 8829 §5) with trickled candidates (RFC 8838 §4):
// each side sends its description and every candidate as it is gathered, and applies the other
// side's candidates once its remote description is set.
import type { RTCPeerConnection } from '../peer/index.js';
import type { SignalingChannel } from './socket-signaling.js';
import type { SignalingMessage } from './signaling-message.js';

/** Options of the negotiate helpers. */
export interface NegotiateOptions {
  /** Give up waiting for the other side's description after this many ms (default 30000). */
  timeoutMs?: number;
}

function trickle(pc: RTCPeerConnection, channel: SignalingChannel): void {
  pc.on('icecandidate', (e) => {
    channel.send({ type: 'candidate', candidate: e.candidate ? { ...e.candidate.toJSON(), candidate: e.candidate.candidate } : null });
  });
}

/** Applies candidates that arrive after the description, until the channel closes or says bye. */
function applyLaterCandidates(pc: RTCPeerConnection, channel: SignalingChannel): void {
  void (async () => {
    for (;;) {
      let m: SignalingMessage;
      try {
        m = await channel.receive();
      } catch {
        return;
      }
      if (m.type === 'bye') return;
      if (m.type === 'candidate') await pc.addIceCandidate(m.candidate ?? undefined).catch(() => {});
    }
  })();
}

async function waitFor(pc: RTCPeerConnection, channel: SignalingChannel, type: 'offer' | 'answer', timeoutMs: number): Promise<string> {
  const early: SignalingMessage[] = [];
  for (;;) {
    const m = await channel.receive(timeoutMs);
    if (m.type === type) {
      await pc.setRemoteDescription({ type, sdp: m.sdp });
      for (const c of early) if (c.type === 'candidate') await pc.addIceCandidate(c.candidate ?? undefined).catch(() => {});
      return m.sdp;
    }
    if (m.type === 'candidate') early.push(m);
    if (m.type === 'bye') throw new Error(`the other peer left before sending its ${type}`);
  }
}

/** Sends our offer, applies the answer and keeps applying trickled candidates. */
export async function negotiateAsOfferer(pc: RTCPeerConnection, channel: SignalingChannel, options: NegotiateOptions = {}): Promise<void> {
  trickle(pc, channel);
  await pc.setLocalDescription();
  channel.send({ type: 'offer', sdp: pc.localDescription!.sdp });
  await waitFor(pc, channel, 'answer', options.timeoutMs ?? 30_000);
  applyLaterCandidates(pc, channel);
}

/** Waits for an offer, sends our answer and keeps applying trickled candidates. */
export async function negotiateAsAnswerer(pc: RTCPeerConnection, channel: SignalingChannel, options: NegotiateOptions = {}): Promise<void> {
  trickle(pc, channel);
  await waitFor(pc, channel, 'offer', options.timeoutMs ?? 30_000);
  await pc.setLocalDescription();
  channel.send({ type: 'answer', sdp: pc.localDescription!.sdp });
  applyLaterCandidates(pc, channel);
}
