// FORWARD TSN chunk (RFC 3758 section 3.2): moves the receiver's cumulative TSN past
// abandoned messages and names, per ordered stream, the last skipped stream sequence number.

/** One (stream, SSN) pair of a FORWARD TSN. */
export interface ForwardTsnStream {
  streamId: number;
  ssn: number;
}

/** A FORWARD TSN chunk. */
export interface ForwardTsnChunk {
  readonly type: 192;
  newCumTsn: number;
  streams: ForwardTsnStream[];
}

/** Chunk length. */
export function forwardTsnLength(c: ForwardTsnChunk): number {
  return 8 + 4 * c.streams.length;
}

/** Writes the chunk at `off`. */
export function writeForwardTsn(c: ForwardTsnChunk, buf: Buffer, off: number): void {
  buf[off] = 192;
  buf[off + 1] = 0;
  buf.writeUInt16BE(forwardTsnLength(c), off + 2);
  buf.writeUInt32BE(c.newCumTsn, off + 4);
  let p = off + 8;
  for (const s of c.streams) {
    buf.writeUInt16BE(s.streamId, p);
    buf.writeUInt16BE(s.ssn, p + 2);
    p += 4;
  }
}

/** Parses a FORWARD TSN body; undefined when malformed. */
export function parseForwardTsn(body: Buffer): ForwardTsnChunk | undefined {
  if (body.length < 4 || (body.length - 4) % 4 !== 0) return undefined;
  const streams: ForwardTsnStream[] = [];
  for (let p = 4; p < body.length; p += 4) streams.push({ streamId: body.readUInt16BE(p), ssn: body.readUInt16BE(p + 2) });
  return { type: 192, newCumTsn: body.readUInt32BE(0), streams };
}
