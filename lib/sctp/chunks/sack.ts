// SACK chunk (RFC 9260 section 3.3.4): cumulative TSN ack, advertised receiver window,
// gap-ack blocks (offsets from the cumulative TSN) and duplicate TSNs.

/** One gap-ack block: TSNs cumTsnAck+start .. cumTsnAck+end were received. */
export interface GapAckBlock {
  start: number;
  end: number;
}

/** A SACK chunk. */
export interface SackChunk {
  readonly type: 3;
  cumTsnAck: number;
  aRwnd: number;
  gaps: GapAckBlock[];
  duplicates: number[];
}

/** Chunk length. */
export function sackLength(c: SackChunk): number {
  return 16 + 4 * c.gaps.length + 4 * c.duplicates.length;
}

/** Writes the chunk at `off`. */
export function writeSack(c: SackChunk, buf: Buffer, off: number): void {
  buf[off] = 3;
  buf[off + 1] = 0;
  buf.writeUInt16BE(sackLength(c), off + 2);
  buf.writeUInt32BE(c.cumTsnAck, off + 4);
  buf.writeUInt32BE(c.aRwnd, off + 8);
  buf.writeUInt16BE(c.gaps.length, off + 12);
  buf.writeUInt16BE(c.duplicates.length, off + 14);
  let p = off + 16;
  for (const g of c.gaps) {
    buf.writeUInt16BE(g.start, p);
    buf.writeUInt16BE(g.end, p + 2);
    p += 4;
  }
  for (const d of c.duplicates) {
    buf.writeUInt32BE(d, p);
    p += 4;
  }
}

/** Parses a SACK body; undefined when the counts do not fit or a block is inverted. */
export function parseSack(body: Buffer): SackChunk | undefined {
  if (body.length < 12) return undefined;
  const nGaps = body.readUInt16BE(8);
  const nDups = body.readUInt16BE(10);
  if (body.length < 12 + 4 * (nGaps + nDups)) return undefined;
  const gaps: GapAckBlock[] = [];
  let p = 12;
  for (let i = 0; i < nGaps; i++, p += 4) {
    const start = body.readUInt16BE(p);
    const end = body.readUInt16BE(p + 2);
    if (start === 0 || end < start) return undefined;
    gaps.push({ start, end });
  }
  const duplicates: number[] = [];
  for (let i = 0; i < nDups; i++, p += 4) duplicates.push(body.readUInt32BE(p));
  return { type: 3, cumTsnAck: body.readUInt32BE(0), aRwnd: body.readUInt32BE(4), gaps, duplicates };
}
