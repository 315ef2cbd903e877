// Shared setup of the lib/sfu loopback tests (router auto-layer tests): connect two peers of ours,
// wait for a condition with a generous deadline, build VP8 payloads (RFC 7741 §4.2 descriptor).
import { RTCPeerConnection } from '../../../lib/peer/index.js';
import { within } from '../../integration/peer-helpers.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for `cond`, polling every 10 ms; throws after `ms`. Generous by default: on a loaded machine
 * frame timers and the router's looks run late. The poll stops at its deadline (a poll left running
 * would keep the test process alive).
 */
export async function until(cond: () => boolean, what: string, ms = 40_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

/** Offer/answer between two peers of ours and both connected (15 s). */
export async function connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
  await within(Promise.all([offerer.connected(), answerer.connected()]), 15_000, 'connected');
}

/** VP8 payload: descriptor (X, S, I with a 15-bit PictureID) and payload header (P bit), `size` bytes. */
export function vp8(pid: number, key: boolean, start: boolean, size: number): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b[0] = 0x80 | (start ? 0x10 : 0);
  b[1] = 0x80;
  b[2] = 0x80 | ((pid >> 8) & 0x7f);
  b[3] = pid & 0xff;
  b[4] = start ? (key ? 0x10 : 0x11) : 0x42;
  return b;
}
