// INIT and INIT ACK chunks (RFC 9260 sections 3.3.2 and 3.3.3): the fixed fields plus a list
// of TLV parameters (state cookie, supported extensions, zero checksum, ...).
import { parseParameters, parametersLength, writeParameters, type Parameter } from '../parameters/tlv.js';

/** An INIT (type 1) or INIT ACK (type 2) chunk. */
export interface InitChunk {
  readonly type: 1 | 2;
  initiateTag: number;
  aRwnd: number;
  outboundStreams: number;
  inboundStreams: number;
  initialTsn: number;
  params: Parameter[];
}

/** Chunk length (without padding). */
export function initLength(c: InitChunk): number {
  return 20 + parametersLength(c.params);
}

/** Writes the chunk at `off`. */
export function writeInit(c: InitChunk, buf: Buffer, off: number): void {
  buf[off] = c.type;
  buf[off + 1] = 0;
  buf.writeUInt16BE(initLength(c), off + 2);
  buf.writeUInt32BE(c.initiateTag, off + 4);
  buf.writeUInt32BE(c.aRwnd, off + 8);
  buf.writeUInt16BE(c.outboundStreams, off + 12);
  buf.writeUInt16BE(c.inboundStreams, off + 14);
  buf.writeUInt32BE(c.initialTsn, off + 16);
  writeParameters(c.params, buf, off + 20);
}

/** Parses an INIT or INIT ACK body; undefined when malformed (including a zero tag or stream count). */
export function parseInit(type: 1 | 2, body: Buffer): InitChunk | undefined {
  if (body.length < 16) return undefined;
  const params = parseParameters(body.subarray(16));
  if (!params) return undefined;
  const c: InitChunk = {
    type,
    initiateTag: body.readUInt32BE(0),
    aRwnd: body.readUInt32BE(4),
    outboundStreams: body.readUInt16BE(8),
    inboundStreams: body.readUInt16BE(10),
    initialTsn: body.readUInt32BE(12),
    params,
  };
  // Section 3.3.2: a zero Initiate Tag or zero stream counts are protocol violations.
  if (c.initiateTag === 0 || c.outboundStreams === 0 || c.inboundStreams === 0) return undefined;
  return c;
}
