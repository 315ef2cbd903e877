// COOKIE ACK chunk (RFC 9260 section 3.3.12): completes the four-way handshake.

/** A COOKIE ACK chunk (no body). */
export interface CookieAckChunk {
  readonly type: 11;
}

/** Writes the chunk at `off`. */
export function writeCookieAck(buf: Buffer, off: number): void {
  buf[off] = 11;
  buf[off + 1] = 0;
  buf.writeUInt16BE(4, off + 2);
}
