// ABORT chunk (RFC 9260 section 3.3.7): tears the association down at once, with causes.
import { causesLength, parseCauses, writeCauses, type ErrorCause } from './error-cause.js';

/** An ABORT chunk. `reflected` is the T bit: the verification tag is the sender's own. */
export interface AbortChunk {
  readonly type: 6;
  reflected: boolean;
  causes: ErrorCause[];
}

/** Chunk length. */
export function abortLength(c: AbortChunk): number {
  return 4 + causesLength(c.causes);
}

/** Writes the chunk at `off`. */
export function writeAbort(c: AbortChunk, buf: Buffer, off: number): void {
  buf[off] = 6;
  buf[off + 1] = c.reflected ? 1 : 0;
  buf.writeUInt16BE(abortLength(c), off + 2);
  writeCauses(c.causes, buf, off + 4);
}

/** Parses an ABORT body; a malformed cause list still aborts, with no causes. */
export function parseAbort(flags: number, body: Buffer): AbortChunk {
  return { type: 6, reflected: (flags & 1) !== 0, causes: parseCauses(body) ?? [] };
}
