// ERROR chunk (RFC 9260 section 3.3.10): reports non-fatal errors such as unrecognized chunks.
import { causesLength, parseCauses, writeCauses, type ErrorCause } from './error-cause.js';

/** An ERROR chunk. */
export interface ErrorChunk {
  readonly type: 9;
  causes: ErrorCause[];
}

/** Chunk length. */
export function errorLength(c: ErrorChunk): number {
  return 4 + causesLength(c.causes);
}

/** Writes the chunk at `off`. */
export function writeError(c: ErrorChunk, buf: Buffer, off: number): void {
  buf[off] = 9;
  buf[off + 1] = 0;
  buf.writeUInt16BE(errorLength(c), off + 2);
  writeCauses(c.causes, buf, off + 4);
}

/** Parses an ERROR body; undefined when malformed. */
export function parseError(body: Buffer): ErrorChunk | undefined {
  const causes = parseCauses(body);
  return causes ? { type: 9, causes } : undefined;
}
