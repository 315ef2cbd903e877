// DATA chunk (RFC 9260 section 3.3.1): one fragment of a user message with its TSN, stream,
// stream sequence number and payload protocol identifier.

/** A DATA chunk. `userData` is a view into the received packet (no copy). */
export interface DataChunk {
  readonly type: 0;
  tsn: number;
  streamId: number;
  ssn: number;
  ppid: number;
  unordered: boolean;
  beginning: boolean;
  ending: boolean;
  /** The I bit (RFC 7053): ask the receiver to SACK without delay. */
  immediate: boolean;
  userData: Uint8Array;
}

/** Fixed DATA header size including the 4-byte chunk header. */
export const DATA_HEADER_LENGTH = 16;

/** Chunk length (without padding). */
export function dataLength(c: DataChunk): number {
  return DATA_HEADER_LENGTH + c.userData.length;
}

/** Writes the chunk at `off`; `buf` has room for the padded length. */
export function writeData(c: DataChunk, buf: Buffer, off: number): void {
  buf[off] = 0;
  buf[off + 1] = (c.immediate ? 8 : 0) | (c.unordered ? 4 : 0) | (c.beginning ? 2 : 0) | (c.ending ? 1 : 0);
  buf.writeUInt16BE(DATA_HEADER_LENGTH + c.userData.length, off + 2);
  buf.writeUInt32BE(c.tsn, off + 4);
  buf.writeUInt16BE(c.streamId, off + 8);
  buf.writeUInt16BE(c.ssn, off + 10);
  buf.writeUInt32BE(c.ppid, off + 12);
  buf.set(c.userData, off + 16);
}

/** Parses a DATA chunk body (after the 4-byte header); undefined when malformed. */
export function parseData(flags: number, body: Buffer): DataChunk | undefined {
  if (body.length < 12) return undefined;
  return {
    type: 0,
    tsn: body.readUInt32BE(0),
    streamId: body.readUInt16BE(4),
    ssn: body.readUInt16BE(6),
    ppid: body.readUInt32BE(8),
    unordered: (flags & 4) !== 0,
    beginning: (flags & 2) !== 0,
    ending: (flags & 1) !== 0,
    immediate: (flags & 8) !== 0,
    userData: body.subarray(12),
  };
}
