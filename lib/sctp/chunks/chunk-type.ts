// SCTP chunk type codes (RFC 9260 section 3.2, RFC 3758, RFC 6525, RFC 8260) and the
// action an endpoint takes for an unrecognized type, encoded in its two high bits (3.2).

/** Chunk type codes this implementation understands. */
export const ChunkType = {
  DATA: 0,
  INIT: 1,
  INIT_ACK: 2,
  SACK: 3,
  HEARTBEAT: 4,
  HEARTBEAT_ACK: 5,
  ABORT: 6,
  SHUTDOWN: 7,
  SHUTDOWN_ACK: 8,
  ERROR: 9,
  COOKIE_ECHO: 10,
  COOKIE_ACK: 11,
  SHUTDOWN_COMPLETE: 14,
  I_DATA: 64,
  RE_CONFIG: 130,
  FORWARD_TSN: 192,
  I_FORWARD_TSN: 194,
} as const;

/**
 * What an unrecognized chunk or parameter type requires, from its two high-order bits
 * (RFC 9260 sections 3.2 and 3.2.1: 00 stop, 01 stop and report, 10 skip, 11 skip and report).
 */
export type UnrecognizedTypeAction = 'stop' | 'stop-report' | 'skip' | 'skip-report';

/** The actions indexed by the two high-order bits of the type. */
export const UNRECOGNIZED_TYPE_ACTIONS: readonly UnrecognizedTypeAction[] = ['stop', 'stop-report', 'skip', 'skip-report'];

/** Action for an unrecognized chunk type (RFC 9260 section 3.2). */
export type UnknownChunkAction = UnrecognizedTypeAction;

/** The action the high bits of an unrecognized (8-bit) chunk `type` require. */
export function unknownChunkAction(type: number): UnknownChunkAction {
  return UNRECOGNIZED_TYPE_ACTIONS[(type >>> 6) & 3]!;
}

/** Rounds a length up to the 4-byte boundary every chunk and parameter is padded to. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}
