// RE-CONFIG chunk (RFC 6525 section 3.1): one or two re-configuration parameters.
import { parametersLength, parseParameters, writeParameters, type Parameter } from '../parameters/tlv.js';

/** A RE-CONFIG chunk. */
export interface ReConfigChunk {
  readonly type: 130;
  params: Parameter[];
}

/** Chunk length. */
export function reConfigLength(c: ReConfigChunk): number {
  return 4 + parametersLength(c.params);
}

/** Writes the chunk at `off`. */
export function writeReConfig(c: ReConfigChunk, buf: Buffer, off: number): void {
  buf[off] = 130;
  buf[off + 1] = 0;
  buf.writeUInt16BE(reConfigLength(c), off + 2);
  writeParameters(c.params, buf, off + 4);
}

/** Parses a RE-CONFIG body; undefined unless it holds one or two parameters. */
export function parseReConfig(body: Buffer): ReConfigChunk | undefined {
  const params = parseParameters(body);
  if (!params || params.length === 0 || params.length > 2) return undefined;
  return { type: 130, params };
}
