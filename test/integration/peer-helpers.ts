// Helpers for the peer-connection integration tests: in-process signaling and bounded waits.
import assert from 'node:assert/strict';
import type { RTCPeerConnection } from '../../lib/peer/peer-connection.js';
import type { RTCDataChannel } from '../../lib/sctp/data-channel.js';

/** Rejects with a message naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Resolves once `cond()` holds, polling every 10 ms (the poll never holds the process open); rejects after `ms`. */
export function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const tick = (): void => {
        if (cond()) resolve();
        else setTimeout(tick, 10).unref();
      };
      tick();
    }),
    ms,
    what,
  );
}

/** One offer/answer round from `offerer` to `answerer` (descriptions carry the candidates). */
export async function negotiate(offerer: RTCPeerConnection, answerer: RTCPeerConnection): Promise<void> {
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription(offerer.localDescription!);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription(answerer.localDescription!);
}

/** A message each way on two ends of a data channel; resolves once both arrived (10 s each). */
export async function dataRoundTrip(ca: RTCDataChannel, cb: RTCDataChannel, tag: string): Promise<void> {
  const got = (c: RTCDataChannel): Promise<string> => new Promise((r) => c.once('message', (e) => r(String(e.data))));
  const atB = got(cb);
  const atA = got(ca);
  ca.send(`a:${tag}`);
  cb.send(`b:${tag}`);
  assert.equal(await within(atB, 10_000, `message a->b ${tag}`), `a:${tag}`);
  assert.equal(await within(atA, 10_000, `message b->a ${tag}`), `b:${tag}`);
}
