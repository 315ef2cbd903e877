// Error causes carried by ABORT and ERROR chunks (RFC 9260 section 3.3.10).
import { pad4 } from './chunk-type.js';

/** Cause codes this implementation sends or recognises. */
export const CauseCode = {
  INVALID_STREAM_ID: 1,
  MISSING_MANDATORY_PARAMETER: 2,
  STALE_COOKIE: 3,
  OUT_OF_RESOURCE: 4,
  UNRECOGNIZED_CHUNK_TYPE: 6,
  NO_USER_DATA: 9,
  UNRECOGNIZED_PARAMETERS: 8,
  USER_INITIATED_ABORT: 12,
  PROTOCOL_VIOLATION: 13,
} as const;

/** One error cause: code plus its raw information field. */
export interface ErrorCause {
  code: number;
  info: Uint8Array;
}

/** Encoded length of a cause list. */
export function causesLength(causes: readonly ErrorCause[]): number {
  let n = 0;
  for (const c of causes) n += pad4(4 + c.info.length);
  return n;
}

/** Writes a cause list at `off`. */
export function writeCauses(causes: readonly ErrorCause[], buf: Buffer, off: number): void {
  for (const c of causes) {
    buf.writeUInt16BE(c.code, off);
    buf.writeUInt16BE(4 + c.info.length, off + 2);
    buf.set(c.info, off + 4);
    const end = off + pad4(4 + c.info.length);
    buf.fill(0, off + 4 + c.info.length, end);
    off = end;
  }
}

/** Parses a cause list; undefined when a length is invalid. */
export function parseCauses(body: Buffer): ErrorCause[] | undefined {
  const out: ErrorCause[] = [];
  let p = 0;
  while (p + 4 <= body.length) {
    const len = body.readUInt16BE(p + 2);
    if (len < 4 || p + len > body.length) return undefined;
    out.push({ code: body.readUInt16BE(p), info: body.subarray(p + 4, p + len) });
    p += pad4(len);
  }
  return out;
}

/** A short human-readable description of a cause list, for close reasons. */
export function describeCauses(causes: readonly ErrorCause[]): string {
  if (causes.length === 0) return 'no cause given';
  return causes
    .map((c) => {
      const name = Object.entries(CauseCode).find(([, v]) => v === c.code)?.[0] ?? `cause ${c.code}`;
      const text = c.code === CauseCode.USER_INITIATED_ABORT || c.code === CauseCode.PROTOCOL_VIOLATION
        ? Buffer.from(c.info).toString('utf8').replace(/[^\x20-\x7e]/g, '')
        : '';
      return text ? `${name}: ${text}` : name;
    })
    .join('; ');
}
