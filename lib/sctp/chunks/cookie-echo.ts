// COOKIE ECHO chunk (RFC 9260 section 3.3.11): returns the state cookie from INIT ACK.

/** A COOKIE ECHO chunk. */
export interface CookieEchoChunk {
  readonly type: 10;
  cookie: Uint8Array;
}

/** Chunk length. */
export function cookieEchoLength(c: CookieEchoChunk): number {
  return 4 + c.cookie.length;
}

/** Writes the chunk at `off`. */
export function writeCookieEcho(c: CookieEchoChunk, buf: Buffer, off: number): void {
  buf[off] = 10;
  buf[off + 1] = 0;
  buf.writeUInt16BE(4 + c.cookie.length, off + 2);
  buf.set(c.cookie, off + 4);
}

/** Parses a COOKIE ECHO body. */
export function parseCookieEcho(body: Buffer): CookieEchoChunk {
  return { type: 10, cookie: body };
}
