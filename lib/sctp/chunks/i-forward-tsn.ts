// I-FORWARD-TSN chunk (RFC 8260 section 2.3.1): FORWARD TSN for I-DATA, naming skipped
// messages by (stream, unordered flag, message identifier).

/** One skipped message of an I-FORWARD-TSN. */
export interface IForwardTsnEntry {
  streamId: number;
  unordered: boolean;
  mid: number;
}

/** An I-FORWARD-TSN chunk. */
export interface IForwardTsnChunk {
  readonly type: 194;
  newCumTsn: number;
  entries: IForwardTsnEntry[];
}

/** Chunk length. */
export function iForwardTsnLength(c: IForwardTsnChunk): number {
  return 8 + 8 * c.entries.length;
}

/** Writes the chunk at `off`. */
export function writeIForwardTsn(c: IForwardTsnChunk, buf: Buffer, off: number): void {
  buf[off] = 194;
  buf[off + 1] = 0;
  buf.writeUInt16BE(iForwardTsnLength(c), off + 2);
  buf.writeUInt32BE(c.newCumTsn, off + 4);
  let p = off + 8;
  for (const e of c.entries) {
    buf.writeUInt16BE(e.streamId, p);
    buf.writeUInt16BE(e.unordered ? 1 : 0, p + 2);
    buf.writeUInt32BE(e.mid, p + 4);
    p += 8;
  }
}

/** Parses an I-FORWARD-TSN body; undefined when malformed. */
export function parseIForwardTsn(body: Buffer): IForwardTsnChunk | undefined {
  if (body.length < 4 || (body.length - 4) % 8 !== 0) return undefined;
  const entries: IForwardTsnEntry[] = [];
  for (let p = 4; p < body.length; p += 8) {
    entries.push({ streamId: body.readUInt16BE(p), unordered: (body.readUInt16BE(p + 2) & 1) !== 0, mid: body.readUInt32BE(p + 4) });
  }
  return { type: 194, newCumTsn: body.readUInt32BE(0), entries };
}
