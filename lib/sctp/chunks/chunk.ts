// The chunk union and its codec dispatch: length, write and parse for every chunk type this
// implementation understands (RFC 9260 section 3.2); unknown types surface as UnknownChunk.
import { pad4 } from './chunk-type.js';
import { abortLength, parseAbort, writeAbort, type AbortChunk } from './abort.js';
import { cookieEchoLength, parseCookieEcho, writeCookieEcho, type CookieEchoChunk } from './cookie-echo.js';
import { writeCookieAck, type CookieAckChunk } from './cookie-ack.js';
import { dataLength, parseData, writeData, type DataChunk } from './data.js';
import { errorLength, parseError, writeError, type ErrorChunk } from './error.js';
import { forwardTsnLength, parseForwardTsn, writeForwardTsn, type ForwardTsnChunk } from './forward-tsn.js';
import { heartbeatLength, parseHeartbeat, writeHeartbeat, type HeartbeatChunk } from './heartbeat.js';
import { iDataLength, parseIData, writeIData, type IDataChunk } from './i-data.js';
import { iForwardTsnLength, parseIForwardTsn, writeIForwardTsn, type IForwardTsnChunk } from './i-forward-tsn.js';
import { initLength, parseInit, writeInit, type InitChunk } from './init.js';
import { parseReConfig, reConfigLength, writeReConfig, type ReConfigChunk } from './re-config.js';
import { parseSack, sackLength, writeSack, type SackChunk } from './sack.js';
import { writeShutdownAck, type ShutdownAckChunk } from './shutdown-ack.js';
import { writeShutdownComplete, type ShutdownCompleteChunk } from './shutdown-complete.js';
import { parseShutdown, shutdownLength, writeShutdown, type ShutdownChunk } from './shutdown.js';

/** A chunk type we do not implement, kept raw so the high-bit rules can be applied. */
export interface UnknownChunk {
  readonly type: -1;
  chunkType: number;
  flags: number;
  /** The whole chunk including its header (for the Unrecognized Chunk Type cause). */
  raw: Uint8Array;
}

/** Every chunk this implementation encodes or decodes. */
export type Chunk =
  | DataChunk
  | InitChunk
  | SackChunk
  | HeartbeatChunk
  | AbortChunk
  | ShutdownChunk
  | ShutdownAckChunk
  | ErrorChunk
  | CookieEchoChunk
  | CookieAckChunk
  | ShutdownCompleteChunk
  | IDataChunk
  | ReConfigChunk
  | ForwardTsnChunk
  | IForwardTsnChunk;

/** Encoded length of a chunk including its padding. */
export function chunkPaddedLength(c: Chunk): number {
  switch (c.type) {
    case 0:
      return pad4(dataLength(c));
    case 1:
    case 2:
      return pad4(initLength(c));
    case 3:
      return sackLength(c);
    case 4:
    case 5:
      return pad4(heartbeatLength(c));
    case 6:
      return abortLength(c);
    case 7:
      return shutdownLength();
    case 9:
      return errorLength(c);
    case 10:
      return pad4(cookieEchoLength(c));
    case 8:
    case 11:
    case 14:
      return 4;
    case 64:
      return pad4(iDataLength(c));
    case 130:
      return reConfigLength(c);
    case 192:
      return forwardTsnLength(c);
    case 194:
      return iForwardTsnLength(c);
  }
}

/** Writes a chunk at `off` (padding zeroed); `buf` must hold chunkPaddedLength(c) bytes there. */
export function writeChunk(c: Chunk, buf: Buffer, off: number): void {
  switch (c.type) {
    case 0:
      writeData(c, buf, off);
      buf.fill(0, off + dataLength(c), off + pad4(dataLength(c)));
      return;
    case 1:
    case 2:
      writeInit(c, buf, off);
      return;
    case 3:
      writeSack(c, buf, off);
      return;
    case 4:
    case 5:
      writeHeartbeat(c, buf, off);
      return;
    case 6:
      writeAbort(c, buf, off);
      return;
    case 7:
      writeShutdown(c, buf, off);
      return;
    case 8:
      writeShutdownAck(buf, off);
      return;
    case 9:
      writeError(c, buf, off);
      return;
    case 10:
      writeCookieEcho(c, buf, off);
      buf.fill(0, off + cookieEchoLength(c), off + pad4(cookieEchoLength(c)));
      return;
    case 11:
      writeCookieAck(buf, off);
      return;
    case 14:
      writeShutdownComplete(c, buf, off);
      return;
    case 64:
      writeIData(c, buf, off);
      buf.fill(0, off + iDataLength(c), off + pad4(iDataLength(c)));
      return;
    case 130:
      writeReConfig(c, buf, off);
      return;
    case 192:
      writeForwardTsn(c, buf, off);
      return;
    case 194:
      writeIForwardTsn(c, buf, off);
      return;
  }
}

/**
 * Parses one chunk from its type, flags and body. Returns the chunk, an UnknownChunk for a
 * type we do not implement, or undefined when a known chunk is malformed. `raw` yields the whole
 * chunk; it is only called for unknown types (a view per chunk would cost on the hot path).
 */
export function parseChunk(type: number, flags: number, body: Buffer, raw: () => Uint8Array): Chunk | UnknownChunk | undefined {
  switch (type) {
    case 0:
      return parseData(flags, body);
    case 1:
    case 2:
      return parseInit(type, body);
    case 3:
      return parseSack(body);
    case 4:
    case 5:
      return parseHeartbeat(type, body);
    case 6:
      return parseAbort(flags, body);
    case 7:
      return parseShutdown(body);
    case 8:
      return { type: 8 };
    case 9:
      return parseError(body);
    case 10:
      return parseCookieEcho(body);
    case 11:
      return { type: 11 };
    case 14:
      return { type: 14, reflected: (flags & 1) !== 0 };
    case 64:
      return parseIData(flags, body);
    case 130:
      return parseReConfig(body);
    case 192:
      return parseForwardTsn(body);
    case 194:
      return parseIForwardTsn(body);
    default:
      return { type: -1, chunkType: type, flags, raw: raw() };
  }
}
