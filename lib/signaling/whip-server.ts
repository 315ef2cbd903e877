// WHIP/WHEP endpoint handler (RFC 9725 §4.2-§4.6; WHEP draft-ietf-wish-whep §4 has the same
// resource rules): POST of an application/sdp offer answers 201 with the answer, a Location naming
// the session, an ETag and `Link: rel="ice-server"` headers; PATCH of a trickle-ice-sdpfrag trickles
// candidates (204) or restarts ICE (200 with our new fragment and ETag), If-Match checked (412);
// DELETE ends the session; bearer tokens (401); OPTIONS answers with the allowed methods.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { SdpSyntaxError } from '../sdp/sdp-error.js';
import { ICE_FRAGMENT_TYPE, parseIceFragment, type IceFragment } from './ice-fragment.js';

/** What the application does with a WHIP (or WHEP) session. */
export interface WhipSessionHandler {
  /** Answers an SDP offer for the new session `id`; throw to reject it (the message is sent as text). */
  offer(id: string, sdp: string, request: IncomingMessage): Promise<string>;
  /** Ends session `id`; return false when there is no such session (404). */
  end(id: string): boolean | Promise<boolean>;
  /**
   * Trickle ICE (RFC 9725 §4.3.1): the client's candidates for session `id`; return false when
   * there is no such session (404). Without it, trickle PATCHes are refused (405 or 422).
   */
  trickle?(id: string, fragment: IceFragment): boolean | Promise<boolean>;
  /**
   * ICE restart (RFC 9725 §4.3.2): apply the client's new credentials and candidates and resolve
   * with our new fragment (formatIceFragment text), or undefined when there is no such session.
   */
  restartIce?(id: string, fragment: IceFragment): Promise<string | undefined>;
}

/** A STUN or TURN server announced with a `Link: rel="ice-server"` header (RFC 9725 §4.6). */
export interface WhipIceServer {
  /** `stun:`, `turn:` or `turns:` URI. */
  urls: string;
  username?: string;
  credential?: string;
}

/** Options of {@link createWhipHandler}. */
export interface WhipHandlerOptions {
  /** Path of the endpoint (default `/whip`); sessions live under `<path>/<id>`. */
  path?: string;
  /** Largest offer accepted, in bytes (default 128 KiB); larger is 413. */
  maxOfferBytes?: number;
  /**
   * Bearer token every request but OPTIONS must carry (RFC 9725 §4.5): a fixed string, or a
   * function that checks one (it gets undefined when the request has none). Absent: no check.
   */
  token?: string | ((token: string | undefined, request: IncomingMessage) => boolean | Promise<boolean>);
  /** STUN/TURN servers announced in the 201 response (RFC 9725 §4.6). */
  iceServers?: WhipIceServer[];
}

/** An error whose message and HTTP status go back to the client (e.g. 400 for an unusable offer). */
export class WhipRejection extends Error {
  /** `status` is the HTTP status to answer with; `message` becomes the response text. */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'WhipRejection';
  }
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, if-match',
  'access-control-expose-headers': 'location, link, etag',
};
const MAX_FRAGMENT_BYTES = 64 * 1024;

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...CORS, 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body.endsWith('\n') ? body : `${body}\n`);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function contentType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** `"<uuid>"`: a strong entity-tag (RFC 9110 §8.8.3). */
function newEtag(): string {
  return `"${randomUUID()}"`;
}

/** A quoted-string for a Link parameter (RFC 8288 §3, RFC 9110 §5.6.4). */
function quoted(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `Link` header values for `servers` (RFC 9725 §4.6: credential-type "password" with a credential). */
export function iceServerLinks(servers: readonly WhipIceServer[]): string[] {
  return servers.map((s) => {
    let v = `<${s.urls}>; rel="ice-server"`;
    if (s.username !== undefined) v += `; username=${quoted(s.username)}`;
    if (s.credential !== undefined) v += `; credential=${quoted(s.credential)}; credential-type="password"`;
    return v;
  });
}

function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The bearer token of a request (RFC 6750 §2.1), or undefined. */
function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer +(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}

/** The client's ufrag in an offer: the first `a=ice-ufrag` (how a restart is told from a trickle). */
function offerUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:[ \t]*(\S+)/m.exec(sdp)?.[1];
}

interface SessionState {
  etag: string;
  clientUfrag: string | undefined;
}

/** The request listener {@link createWhipHandler} returns. */
export interface WhipRequestListener {
  /** Handles a request; resolves false (writing nothing) when it is outside the endpoint's path. */
  (req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** Drops the entity-tag kept for session `id` (call it when the application ends a session itself). */
  forget(id: string): void;
}

/**
 * Returns a request listener for the WHIP endpoint. It returns false (and writes nothing) for a
 * request outside `path`, so it can sit in front of other routes.
 */
export function createWhipHandler(handler: WhipSessionHandler, options: WhipHandlerOptions = {}): WhipRequestListener {
  const base = (options.path ?? '/whip').replace(/\/+$/, '');
  const limit = options.maxOfferBytes ?? 128 * 1024;
  const links = iceServerLinks(options.iceServers ?? []);
  const sessions = new Map<string, SessionState>();
  const patchable = handler.trickle !== undefined || handler.restartIce !== undefined;
  const sessionMethods = patchable ? 'PATCH, DELETE, OPTIONS' : 'DELETE, OPTIONS';

  const authorized = async (req: IncomingMessage): Promise<boolean> => {
    const want = options.token;
    if (want === undefined) return true;
    const got = bearer(req);
    if (typeof want === 'string') return got !== undefined && equalSecret(got, want);
    try {
      return await want(got, req);
    } catch {
      return false;
    }
  };

  const post = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const type = contentType(req);
    if (type !== 'application/sdp') {
      text(res, 415, `expected content-type application/sdp, got '${type}'`, { 'accept-post': 'application/sdp' });
      return;
    }
    const body = await readBody(req, limit);
    if (body === null) {
      text(res, 413, `offer larger than ${limit} bytes`);
      return;
    }
    const id = randomUUID();
    let answer: string;
    try {
      answer = await handler.offer(id, body, req);
    } catch (error) {
      const status = error instanceof WhipRejection ? error.status : 400;
      text(res, status, `offer rejected: ${(error as Error).message}`);
      return;
    }
    const state: SessionState = { etag: newEtag(), clientUfrag: offerUfrag(body) };
    sessions.set(id, state);
    const headers: Record<string, string | string[]> = { ...CORS, 'content-type': 'application/sdp', location: `${base}/${id}`, etag: state.etag };
    if (links.length > 0) headers.link = links;
    res.writeHead(201, headers);
    res.end(answer);
  };

  const patch = async (id: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!patchable) {
      text(res, 405, 'this endpoint supports neither trickle ICE nor ICE restarts', { allow: sessionMethods });
      return;
    }
    const state = sessions.get(id);
    if (state === undefined) {
      text(res, 404, `no session ${id}`);
      return;
    }
    const type = contentType(req);
    if (type !== ICE_FRAGMENT_TYPE) {
      text(res, 415, `expected content-type ${ICE_FRAGMENT_TYPE}, got '${type}'`, { 'accept-patch': ICE_FRAGMENT_TYPE });
      return;
    }
    const body = await readBody(req, MAX_FRAGMENT_BYTES);
    if (body === null) {
      text(res, 413, `fragment larger than ${MAX_FRAGMENT_BYTES} bytes`);
      return;
    }
    let fragment: IceFragment;
    try {
      fragment = parseIceFragment(body);
    } catch (error) {
      text(res, 400, `bad fragment: ${(error as SdpSyntaxError).message}`);
      return;
    }
    // RFC 9725 §4.3: If-Match carries the session's entity-tag, or "*" for an ICE restart. Clients
    // that send none are accepted (be liberal); a stale tag is 412.
    const ifMatch = req.headers['if-match']?.trim();
    if (ifMatch !== undefined && ifMatch !== '*' && !ifMatch.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(state.etag)) {
      text(res, 412, 'If-Match does not match the session entity-tag', { etag: state.etag });
      return;
    }
    const restart = fragment.iceUfrag !== undefined && fragment.iceUfrag !== state.clientUfrag;
    if (restart) {
      if (handler.restartIce === undefined) {
        text(res, 422, 'ICE restarts are not supported here');
        return;
      }
      if (fragment.icePwd === undefined) {
        text(res, 400, 'an ICE restart fragment needs a=ice-pwd with the new a=ice-ufrag');
        return;
      }
      let ours: string | undefined;
      try {
        ours = await handler.restartIce(id, fragment);
      } catch (error) {
        text(res, error instanceof WhipRejection ? error.status : 400, `ICE restart failed: ${(error as Error).message}`);
        return;
      }
      if (ours === undefined) {
        sessions.delete(id);
        text(res, 404, `no session ${id}`);
        return;
      }
      state.clientUfrag = fragment.iceUfrag;
      state.etag = newEtag();
      res.writeHead(200, { ...CORS, 'content-type': ICE_FRAGMENT_TYPE, etag: state.etag });
      res.end(ours);
      return;
    }
    if (handler.trickle === undefined) {
      text(res, 422, 'trickle ICE is not supported here');
      return;
    }
    let known: boolean;
    try {
      known = await handler.trickle(id, fragment);
    } catch (error) {
      text(res, 400, `trickle failed: ${(error as Error).message}`);
      return;
    }
    if (!known) {
      sessions.delete(id);
      text(res, 404, `no session ${id}`);
      return;
    }
    res.writeHead(204, CORS);
    res.end();
  };

  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const atBase = path === base;
    if (!atBase && !path.startsWith(`${base}/`)) return false;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, atBase ? { ...CORS, 'accept-post': 'application/sdp' } : { ...CORS, ...(patchable ? { 'accept-patch': ICE_FRAGMENT_TYPE } : {}) });
      res.end();
      return true;
    }
    if (!(await authorized(req))) {
      text(res, 401, 'a valid bearer token is required', { 'www-authenticate': 'Bearer' });
      return true;
    }
    if (atBase) {
      if (req.method === 'POST') await post(req, res);
      else text(res, 405, `method ${req.method ?? ''} not allowed on the endpoint`, { allow: 'POST, OPTIONS' });
      return true;
    }
    const id = decodeURIComponent(path.slice(base.length + 1));
    if (req.method === 'DELETE') {
      sessions.delete(id);
      if (await handler.end(id)) {
        res.writeHead(200, CORS);
        res.end();
      } else text(res, 404, `no session ${id}`);
      return true;
    }
    if (req.method === 'PATCH') {
      await patch(id, req, res);
      return true;
    }
    text(res, 405, `method ${req.method ?? ''} not allowed on a session`, { allow: sessionMethods });
    return true;
  };
  return Object.assign(listener, { forget: (id: string) => void sessions.delete(id) });
}
