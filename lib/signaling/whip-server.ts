// WHIP endpoint handler (RFC 9725 §4.2-4.4, §4.6): POST of an application/sdp offer answers 201
// with the SDP answer and a Location naming the session; DELETE of that URL ends it; OPTIONS
// answers with the allowed methods; a wrong content type is 415; a rejected offer is a 4xx text.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

/** What the application does with a WHIP session. */
export interface WhipSessionHandler {
  /** Answers an SDP offer for the new session `id`; throw to reject it (the message is sent as text). */
  offer(id: string, sdp: string, request: IncomingMessage): Promise<string>;
  /** Ends session `id`; return false when there is no such session (404). */
  end(id: string): boolean | Promise<boolean>;
}

/** Options of {@link createWhipHandler}. */
export interface WhipHandlerOptions {
  /** Path of the endpoint (default `/whip`); sessions live under `<path>/<id>`. */
  path?: string;
  /** Largest offer accepted, in bytes (default 128 KiB); larger is 413. */
  maxOfferBytes?: number;
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
  'access-control-allow-methods': 'POST, DELETE, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization, if-match',
  'access-control-expose-headers': 'location, link',
};

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

/**
 * Returns a request listener for the WHIP endpoint. It returns false (and writes nothing) for a
 * request outside `path`, so it can sit in front of other routes.
 */
export function createWhipHandler(handler: WhipSessionHandler, options: WhipHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const base = (options.path ?? '/whip').replace(/\/+$/, '');
  const limit = options.maxOfferBytes ?? 128 * 1024;
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === base) {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { ...CORS, 'accept-post': 'application/sdp' });
        res.end();
        return true;
      }
      if (req.method !== 'POST') {
        text(res, 405, `method ${req.method ?? ''} not allowed on the WHIP endpoint`, { allow: 'POST, OPTIONS' });
        return true;
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/sdp') {
        text(res, 415, `expected content-type application/sdp, got '${type}'`, { 'accept-post': 'application/sdp' });
        return true;
      }
      const body = await readBody(req, limit);
      if (body === null) {
        text(res, 413, `offer larger than ${limit} bytes`);
        return true;
      }
      const id = randomUUID();
      let answer: string;
      try {
        answer = await handler.offer(id, body, req);
      } catch (error) {
        const status = error instanceof WhipRejection ? error.status : 400;
        text(res, status, `offer rejected: ${(error as Error).message}`);
        return true;
      }
      res.writeHead(201, { ...CORS, 'content-type': 'application/sdp', location: `${base}/${id}`, etag: `"${id}"` });
      res.end(answer);
      return true;
    }
    if (!path.startsWith(`${base}/`)) return false;
    const id = decodeURIComponent(path.slice(base.length + 1));
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      res.end();
      return true;
    }
    if (req.method === 'DELETE') {
      if (await handler.end(id)) {
        res.writeHead(200, CORS);
        res.end();
      } else text(res, 404, `no WHIP session ${id}`);
      return true;
    }
    // Trickle and ICE restart by PATCH (RFC 9725 §4.3) are not offered: answers carry every
    // candidate, and an ICE-lite or full server learns the client's address from its checks.
    text(res, 405, `method ${req.method ?? ''} not allowed on a WHIP session`, { allow: 'DELETE, OPTIONS' });
    return true;
  };
}
