// Helpers for the peer-connection integration tests: in-process signaling and bounded waits.
import type { RTCPeerConnection } from '../../lib/peer/peer-connection.js';

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
