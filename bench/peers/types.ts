// The interface every benchmarked WebRTC library is driven through (bench/peers/<library>.ts),
// so that e2e-rtp, setup and memory do exactly the same steps whatever the library.

/** Two connected peer connections on loopback, one sending raw RTP to the other. */
export interface MediaPair {
  /** Sends one RTP packet carrying `payload` (the library fills or we fill SSRC/PT/seq). */
  send(payload: Buffer): void;
  /** Called once per received RTP packet (after SRTP unprotect, in the receiving PC). */
  onReceive(cb: () => void): void;
  close(): Promise<void>;
}

/** A set of idle connected peer connections, kept alive until closed. */
export interface IdlePeers {
  close(): Promise<void>;
}

/** One library, driven the same way in every suite. */
export interface PeerAdapter {
  /** Subject name printed in the table. */
  readonly name: string;
  /** Library version (package.json), for the suite header. */
  readonly version: string;
  /**
   * Connects two PCs with one audio transceiver (a→b) on 127.0.0.1 and returns a sender of raw
   * RTP; undefined when the library cannot send application-made RTP packets.
   */
  mediaPair?(): Promise<MediaPair>;
  /**
   * Opens `count` pairs at once (offer with one audio m-line, in-process signaling, host
   * candidates on 127.0.0.1) and resolves with each connected pair's createOffer→connected time
   * in ms and how many pairs failed; rejects only when none connected. A pair that failed is
   * closed at once and not held; the connected pairs are then closed unless `keep` is set, in
   * which case they are returned open.
   */
  connectPairs(count: number, keep: boolean): Promise<ConnectedPairs>;
  /**
   * The library's own call that gives idle memory back to the system (ours: releaseIdleMemory(),
   * docs/architecture.md); the memory task reports the figures after it separately.
   */
  releaseIdleMemory?(): void;
  /**
   * Whether the library still has memory work scheduled after a burst (ours: a C-heap trim or the
   * JS-heap relief before it is due or running); the memory task waits for it (bounded) before its
   * forced collections, which would finish V8's incremental relief without reducing memory.
   */
  memoryWorkPending?(): boolean;
}

/** What {@link PeerAdapter.connectPairs} resolves with. */
export interface ConnectedPairs {
  times: number[];
  /** Pairs that failed or did not connect in time. */
  failed: number;
  peers: IdlePeers;
}

/** Splits settled per-pair times into the connected pairs' times and a failure count; throws when none connected. */
export function settle(results: PromiseSettledResult<number>[]): { times: number[]; failed: number } {
  const times: number[] = [];
  let firstError: unknown;
  for (const r of results) {
    if (r.status === 'fulfilled') times.push(r.value);
    else firstError ??= r.reason;
  }
  if (!times.length) throw firstError instanceof Error ? firstError : new Error(String(firstError));
  return { times, failed: results.length - times.length };
}

/** Rejects with `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}
