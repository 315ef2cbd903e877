// I-DATA chunk (RFC 8260 section 2.1): a DATA chunk carrying a Message Identifier and a
// Fragment Sequence Number so that fragments of different messages may interleave.

/** An I-DATA chunk. `ppid` is meaningful on the first fragment, `fsn` on the others. */
export interface IDataChunk {
  readonly type: 64;
  tsn: number;
  streamId: number;
  mid: number;
  /** Fragment sequence number; 0 on the first fragment (which carries the PPID instead). */
  fsn: number;
  ppid: number;
  unordered: boolean;
  beginning: boolean;
  ending: boolean;
  immediate: boolean;
  userData: Uint8Array;
}

/** Fixed I-DATA header size including the 4-byte chunk header. */
export const I_DATA_HEADER_LENGTH = 20;

/** Chunk length (without padding). */
export function iDataLength(c: IDataChunk): number {
  return I_DATA_HEADER_LENGTH + c.userData.length;
}

/** Writes the chunk at `off`. */
export function writeIData(c: IDataChunk, buf: Buffer, off: number): void {
  buf[off] = 64;
  buf[off + 1] = (c.immediate ? 8 : 0) | (c.unordered ? 4 : 0) | (c.beginning ? 2 : 0) | (c.ending ? 1 : 0);
  buf.writeUInt16BE(I_DATA_HEADER_LENGTH + c.userData.length, off + 2);
  buf.writeUInt32BE(c.tsn, off + 4);
  buf.writeUInt16BE(c.streamId, off + 8);
  buf.writeUInt16BE(0, off + 10);
  buf.writeUInt32BE(c.mid, off + 12);
  buf.writeUInt32BE(c.beginning ? c.ppid : c.fsn, off + 16);
  buf.set(c.userData, off + 20);
}

/** Parses an I-DATA chunk body; undefined when malformed. */
export function parseIData(flags: number, body: Buffer): IDataChunk | undefined {
  if (body.length < 16) return undefined;
  const beginning = (flags & 2) !== 0;
  const field = body.readUInt32BE(12);
  return {
    type: 64,
    tsn: body.readUInt32BE(0),
    streamId: body.readUInt16BE(4),
    mid: body.readUInt32BE(8),
    fsn: beginning ? 0 : field,
    ppid: beginning ? field : 0,
    unordered: (flags & 4) !== 0,
    beginning,
    ending: (flags & 1) !== 0,
    immediate: (flags & 8) !== 0,
    userData: body.subarray(16),
  };
}
