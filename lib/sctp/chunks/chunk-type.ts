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

/** Action for an unrecognized chunk type (RFC 9260 section 3.2, the two high-order bits). */
export type UnknownChunkAction = 'stop' | 'stop-report' | 'skip' | 'skip-report';

/** The action the high bits of an unrecognized chunk `type` require. */
export function unknownChunkAction(type: number): UnknownChunkAction {
  switch (type >>> 6) {
    case 0:
      return 'stop';
    case 1:
      return 'stop-report';
    case 2:
      return 'skip';
    default:
      return 'skip-report';
  }
}

/** Rounds a length up to the 4-byte boundary every chunk and parameter is padded to. */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}
