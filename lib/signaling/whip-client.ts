// WHIP client (RFC 9725 §4.2, §4.4): POSTs the local offer as application/sdp, applies the 201
// answer, remembers the session URL from Location and DELETEs it to end the session.

/** The part of a peer connection WHIP needs (lib/peer's RTCPeerConnection fits). */
export interface WhipPeer {
  setLocalDescription(description?: { type: 'offer'; sdp: string }): Promise<void>;
  createOffer(): Promise<{ type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp: string }>;
  readonly localDescription: { sdp: string } | null;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<void>;
}

/** Raised when the endpoint does not answer 201 with an SDP answer. */
export class WhipError extends Error {
  /** `status` is the HTTP status the endpoint answered (0 when none). */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'WhipError';
  }
}

/** Options of {@link whipConnect}. */
export interface WhipConnectOptions {
  /** Bearer token (RFC 9725 §4.5). */
  token?: string;
  /** Give up after this many ms (default 10000). */
  timeoutMs?: number;
}

/** A WHIP session: its resource URL and the way to end it. */
export interface WhipSession {
  /** Absolute URL of the session resource (from Location). */
  readonly resource: string;
  /** The answer the endpoint returned. */
  readonly answer: string;
  /** DELETEs the resource; resolves with the HTTP status. */
  end(): Promise<number>;
}

/**
 * Offers `pc`'s local description to `endpoint` and applies the answer. The offer is created
 * here when `pc` has none yet; lib/peer gathers host candidates synchronously, so the offer
 * already carries them (no trickle needed).
 */
export async function whipConnect(endpoint: string, pc: WhipPeer, options: WhipConnectOptions = {}): Promise<WhipSession> {
  if (!pc.localDescription) await pc.setLocalDescription((await pc.createOffer()) as { type: 'offer'; sdp: string });
  const headers: Record<string, string> = { 'content-type': 'application/sdp' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const res = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription!.sdp, signal });
  const body = await res.text();
  if (res.status !== 201) throw new WhipError(res.status, `WHIP endpoint answered ${res.status}: ${body.trim()}`);
  const location = res.headers.get('location');
  if (!location) throw new WhipError(res.status, 'WHIP endpoint answered 201 without a Location header');
  const resource = new URL(location, endpoint).toString();
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  return {
    resource,
    answer: body,
    async end(): Promise<number> {
      const r = await fetch(resource, { method: 'DELETE', headers: options.token ? { authorization: `Bearer ${options.token}` } : {}, signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      return r.status;
    },
  };
}
