// The signed state cookie of INIT ACK (RFC 9260 sections 5.1.3 and 5.1.5): the server side
// keeps no state until COOKIE ECHO returns this blob with a valid HMAC-SHA256 and age.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the cookie remembers of the INIT it answered. */
export interface CookieState {
  localTag: number;
  peerTag: number;
  localInitialTsn: number;
  peerInitialTsn: number;
  peerARwnd: number;
  peerOutboundStreams: number;
  peerInboundStreams: number;
  /** Extensions both sides support, as negotiated when the INIT ACK was built. */
  forwardTsn: boolean;
  interleaving: boolean;
  reconfig: boolean;
  peerZeroChecksum: boolean;
  /** `now` when the cookie was made. */
  createdAt: number;
}

const BODY_LENGTH = 33;
const MAC_LENGTH = 32;

/** Serialises and signs a cookie with `key`. */
export function signCookie(state: CookieState, key: Uint8Array): Buffer {
  const b = Buffer.alloc(BODY_LENGTH + MAC_LENGTH);
  b.writeUInt32BE(state.localTag >>> 0, 0);
  b.writeUInt32BE(state.peerTag >>> 0, 4);
  b.writeUInt32BE(state.localInitialTsn >>> 0, 8);
  b.writeUInt32BE(state.peerInitialTsn >>> 0, 12);
  b.writeUInt32BE(state.peerARwnd >>> 0, 16);
  b.writeUInt16BE(state.peerOutboundStreams, 20);
  b.writeUInt16BE(state.peerInboundStreams, 22);
  b[24] = (state.forwardTsn ? 1 : 0) | (state.interleaving ? 2 : 0) | (state.reconfig ? 4 : 0) | (state.peerZeroChecksum ? 8 : 0);
  b.writeDoubleBE(state.createdAt, 25);
  createHmac('sha256', key).update(b.subarray(0, BODY_LENGTH)).digest().copy(b, BODY_LENGTH);
  return b;
}

/** Why a cookie was refused. */
export type CookieRejection = 'bad-cookie' | 'stale-cookie';

/**
 * Verifies and decodes a cookie (section 5.1.5 steps 1-3): wrong length or MAC gives
 * 'bad-cookie', an age beyond `lifetimeMs` gives 'stale-cookie'.
 */
export function openCookie(cookie: Uint8Array, key: Uint8Array, now: number, lifetimeMs: number): CookieState | CookieRejection {
  if (cookie.length !== BODY_LENGTH + MAC_LENGTH) return 'bad-cookie';
  const b = Buffer.from(cookie.buffer, cookie.byteOffset, cookie.byteLength);
  const mac = createHmac('sha256', key).update(b.subarray(0, BODY_LENGTH)).digest();
  if (!timingSafeEqual(mac, b.subarray(BODY_LENGTH))) return 'bad-cookie';
  const createdAt = b.readDoubleBE(25);
  if (!(now - createdAt <= lifetimeMs)) return 'stale-cookie';
  return {
    localTag: b.readUInt32BE(0),
    peerTag: b.readUInt32BE(4),
    localInitialTsn: b.readUInt32BE(8),
    peerInitialTsn: b.readUInt32BE(12),
    peerARwnd: b.readUInt32BE(16),
    peerOutboundStreams: b.readUInt16BE(20),
    peerInboundStreams: b.readUInt16BE(22),
    forwardTsn: (b[24]! & 1) !== 0,
    interleaving: (b[24]! & 2) !== 0,
    reconfig: (b[24]! & 4) !== 0,
    peerZeroChecksum: (b[24]! & 8) !== 0,
    createdAt,
  };
}
