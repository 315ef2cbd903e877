// Generic SCTP TLV parameters (RFC 9260 section 3.2.1) and the action for an unrecognized
// parameter type, encoded in its two high bits (section 3.2.1).
import { pad4, UNRECOGNIZED_TYPE_ACTIONS, type UnrecognizedTypeAction } from '../chunks/chunk-type.js';

/** One parameter: its type and value (a view, not a copy, when parsed). */
export interface Parameter {
  type: number;
  value: Uint8Array;
}

/** Parameter type codes used in INIT/INIT ACK, HEARTBEAT and RE-CONFIG. */
export const ParamType = {
  HEARTBEAT_INFO: 1,
  STATE_COOKIE: 7,
  UNRECOGNIZED_PARAMETER: 8,
  OUTGOING_SSN_RESET_REQUEST: 13,
  RECONFIG_RESPONSE: 16,
  /** RFC 9653 section 5.1. */
  ZERO_CHECKSUM_ACCEPTABLE: 0x8001,
  /** RFC 5061 section 4.2.7. */
  SUPPORTED_EXTENSIONS: 0x8008,
  /** RFC 3758 section 3.1. */
  FORWARD_TSN_SUPPORTED: 0xc000,
} as const;

/** Action for an unrecognized parameter (RFC 9260 section 3.2.1). */
export type UnknownParameterAction = UnrecognizedTypeAction;

/** The action the high bits of an unrecognized (16-bit) parameter `type` require. */
export function unknownParameterAction(type: number): UnknownParameterAction {
  return UNRECOGNIZED_TYPE_ACTIONS[(type >>> 14) & 3]!;
}

/** Total encoded length of a parameter list (each padded to 4 bytes). */
export function parametersLength(params: readonly Parameter[]): number {
  let n = 0;
  for (const p of params) n += pad4(4 + p.value.length);
  return n;
}

/** Writes a parameter list at `off` (padding bytes zeroed); returns the end offset. */
export function writeParameters(params: readonly Parameter[], buf: Buffer, off: number): number {
  for (const p of params) {
    buf.writeUInt16BE(p.type, off);
    buf.writeUInt16BE(4 + p.value.length, off + 2);
    buf.set(p.value, off + 4);
    const end = off + pad4(4 + p.value.length);
    buf.fill(0, off + 4 + p.value.length, end);
    off = end;
  }
  return off;
}

/**
 * Parses a parameter list; undefined when a length field is below 4 or runs past the end.
 * The final parameter may omit its padding (section 3.2: the last one's padding is optional).
 */
export function parseParameters(body: Uint8Array): Parameter[] | undefined {
  const out: Parameter[] = [];
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let p = 0;
  while (p + 4 <= view.length) {
    const type = view.readUInt16BE(p);
    const len = view.readUInt16BE(p + 2);
    if (len < 4 || p + len > view.length) return undefined;
    out.push({ type, value: view.subarray(p + 4, p + len) });
    p += pad4(len);
  }
  // Trailing bytes shorter than a parameter header are padding; they are ignored.
  return out;
}

/** A 4-byte unsigned value as a parameter value. */
export function u32Value(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}
