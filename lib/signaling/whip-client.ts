// WHIP client (RFC 9725 §4.2-§4.6; WHEP uses the same exchange): POSTs the local offer as
// application/sdp, applies the 201 answer, keeps the session URL (Location), its entity-tag (ETag)
// and the announced ICE servers (Link rel="ice-server"); trickles candidates and restarts ICE by
// PATCH with trickle-ice-sdpfrag bodies (RFC 8840) and If-Match; DELETEs the session to end it.
import { applyIceFragment, formatIceFragment, ICE_FRAGMENT_TYPE, iceFragmentOf, parseIceFragment } from './ice-fragment.js';
import type { WhipIceServer } from './whip-server.js';
import { checkIceServer } from '../peer/configuration.js';

/** The part of a peer connection WHIP needs (lib/peer's RTCPeerConnection fits). */
export interface WhipPeer {
  setLocalDescription(description?: { type: 'offer'; sdp: string }): Promise<void>;
  createOffer(options?: { iceRestart?: boolean }): Promise<{ type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp: string }>;
  readonly localDescription: { sdp: string } | null;
  setRemoteDescription(description: { type: 'answer'; sdp: string }): Promise<void>;
}

/** Raised when the endpoint does not answer as RFC 9725 says (the status is kept). */
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

/** A candidate to trickle: its `candidate:...` value and the mid of its m-section. */
export interface WhipCandidate {
  candidate: string;
  sdpMid?: string | null;
}

/** A WHIP session: its resource URL and the ways to trickle, restart ICE and end it. */
export interface WhipSession {
  /** Absolute URL of the session resource (from Location). */
  readonly resource: string;
  /** The answer the endpoint returned (updated by {@link WhipSession.restartIce}). */
  readonly answer: string;
  /** The session's entity-tag (ETag), if the endpoint sent one. */
  readonly etag: string | undefined;
  /**
   * STUN/TURN servers from the 201 response's `Link: rel="ice-server"` headers (RFC 9725 §4.6)
   * that `new RTCPeerConnection({ iceServers })` accepts, so they can be passed on as they are.
   */
  readonly iceServers: WhipIceServer[];
  /**
   * Link-header servers left out of {@link WhipSession.iceServers} because the RTCPeerConnection
   * constructor would refuse them (webrtc-pc §4.4.1.1), each with the error code it would throw:
   * a `turn:`/`turns:` server announced without `username` and `credential`
   * (`ERR_PEER_ICE_SERVER_CREDENTIALS`) or a URL that is not `stun:`/`stuns:`/`turn:`/`turns:`
   * (`ERR_PEER_ICE_SERVER_URL`). Empty when every announced server is usable.
   */
  readonly skippedIceServers: { server: WhipIceServer; code: string }[];
  /**
   * PATCHes candidates (and end-of-candidates) with If-Match set to the entity-tag (RFC 9725
   * §4.3.1); resolves with the HTTP status (204 when accepted).
   */
  trickle(candidates: readonly WhipCandidate[], endOfCandidates?: boolean): Promise<number>;
  /**
   * ICE restart over PATCH (RFC 9725 §4.3.2): a new local offer with fresh credentials, its ICE
   * fragment sent with `If-Match: *`, the endpoint's fragment applied as the new answer.
   * @throws WhipError unless the endpoint answers 200 with a fragment.
   */
  restartIce(): Promise<void>;
  /** DELETEs the resource; resolves with the HTTP status. */
  end(): Promise<number>;
}

/** Parses `Link` header values into the ICE servers they announce (RFC 8288 §3, RFC 9725 §4.6). */
export function parseIceServerLinks(header: string | null): WhipIceServer[] {
  if (!header) return [];
  const servers: WhipIceServer[] = [];
  // Links are separated by commas outside <...> and quoted strings.
  const links = header.match(/<[^>]*>(?:\s*;\s*[^;,=]+(?:=(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*/g) ?? [];
  for (const link of links) {
    const url = /^<([^>]*)>/.exec(link)![1]!;
    const params = new Map<string, string>();
    for (const m of link.matchAll(/;\s*([^;,=\s]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?/g)) {
      params.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1').trim());
    }
    if (!(params.get('rel') ?? '').split(/\s+/).includes('ice-server')) continue;
    const server: WhipIceServer = { urls: url };
    if (params.has('username')) server.username = params.get('username')!;
    if (params.has('credential')) server.credential = params.get('credential')!;
    servers.push(server);
  }
  return servers;
}

/**
 * Splits ICE servers (from {@link parseIceServerLinks}) into those the RTCPeerConnection
 * constructor accepts and those it would refuse, with the refusal's error code. An endpoint may
 * announce a TURN server without credentials (RFC 9725 §4.6 leaves them optional); browsers and
 * this library refuse such an entry with an InvalidAccessError, so it is reported, not passed on.
 */
export function splitIceServers(servers: readonly WhipIceServer[]): { usable: WhipIceServer[]; skipped: { server: WhipIceServer; code: string }[] } {
  const usable: WhipIceServer[] = [];
  const skipped: { server: WhipIceServer; code: string }[] = [];
  for (const server of servers) {
    try {
      checkIceServer(server);
      usable.push(server);
    } catch (err) {
      skipped.push({ server, code: (err as { code?: string }).code ?? 'ERR_PEER_ICE_SERVER' });
    }
  }
  return { usable, skipped };
}

/**
 * Offers `pc`'s local description to `endpoint` and applies the answer. The offer is created
 * here when `pc` has none yet; lib/peer gathers host candidates synchronously, so the offer
 * already carries them (trickle is for later candidates).
 */
export async function whipConnect(endpoint: string, pc: WhipPeer, options: WhipConnectOptions = {}): Promise<WhipSession> {
  if (!pc.localDescription) await pc.setLocalDescription((await pc.createOffer()) as { type: 'offer'; sdp: string });
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const timeout = (): AbortSignal => AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth }, body: pc.localDescription!.sdp, signal: timeout() });
  const body = await res.text();
  if (res.status !== 201) throw new WhipError(res.status, `endpoint answered ${res.status}: ${body.trim()}`);
  const location = res.headers.get('location');
  if (!location) throw new WhipError(res.status, 'endpoint answered 201 without a Location header');
  const resource = new URL(location, endpoint).toString();
  const linkServers = splitIceServers(parseIceServerLinks(res.headers.get('link')));
  await pc.setRemoteDescription({ type: 'answer', sdp: body });
  let answer = body;
  let etag = res.headers.get('etag') ?? undefined;
  const patch = (fragment: string, ifMatch: string | undefined): Promise<Response> =>
    fetch(resource, {
      method: 'PATCH',
      headers: { 'content-type': ICE_FRAGMENT_TYPE, ...(ifMatch !== undefined ? { 'if-match': ifMatch } : {}), ...auth },
      body: fragment,
      signal: timeout(),
    });
  return {
    resource,
    get answer() {
      return answer;
    },
    get etag() {
      return etag;
    },
    iceServers: linkServers.usable,
    skippedIceServers: linkServers.skipped,
    async trickle(candidates, endOfCandidates = false): Promise<number> {
      const local = iceFragmentOf(pc.localDescription!.sdp);
      const tag = local.media[0];
      const byMid = new Map<string, string[]>();
      for (const c of candidates) {
        const mid = c.sdpMid ?? tag?.mid ?? '';
        byMid.set(mid, [...(byMid.get(mid) ?? []), c.candidate.replace(/^a=/, '')]);
      }
      if (byMid.size === 0 && tag) byMid.set(tag.mid ?? '', []);
      const fragment = formatIceFragment({
        iceUfrag: local.iceUfrag, icePwd: local.icePwd, iceOptions: [],
        media: [...byMid].map(([mid, cs]) => ({ mLine: tag?.mLine ?? 'audio 9 UDP/TLS/RTP/SAVPF 0', mid, candidates: cs, endOfCandidates })),
      });
      const r = await patch(fragment, etag);
      await r.arrayBuffer();
      return r.status;
    },
    async restartIce(): Promise<void> {
      await pc.setLocalDescription((await pc.createOffer({ iceRestart: true })) as { type: 'offer'; sdp: string });
      const offer = iceFragmentOf(pc.localDescription!.sdp);
      const r = await patch(formatIceFragment(offer), '*');
      const text = await r.text();
      if (r.status !== 200) throw new WhipError(r.status, `ICE restart: endpoint answered ${r.status}: ${text.trim()}`);
      const theirs = parseIceFragment(text);
      answer = applyIceFragment(answer, theirs);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      etag = r.headers.get('etag') ?? etag;
    },
    async end(): Promise<number> {
      const r = await fetch(resource, { method: 'DELETE', headers: auth, signal: AbortSignal.timeout(5000) });
      await r.arrayBuffer();
      return r.status;
    },
  };
}
