// Drops of a shared UDP port (UdpMux): datagrams that no connection on the port can claim, counted
// by the reason a connection of its own would have given — RFC 7983 §7 first-byte ranges, and for
// STUN the checks of RFC 8489 §6.3 and RFC 8445 §7.3 (docs/udp.md "Shared port").
import type { IceDropReason } from '../../ice/ice-agent.js';
import { StunAttr, StunClass, StunMethod } from '../../ice/stun-constants.js';
import { StunMessage } from '../../ice/stun-message.js';

/** Counters of a shared port, grouped like a connection's own drops (getStats `pwtDrops`). */
export interface PortDrops {
  /** Non-STUN datagrams: `unknownFirstByte` (outside RFC 7983's ranges) and `unauthenticatedSource` (DTLS/RTP from a stranger). */
  transport: { unknownFirstByte: number; unauthenticatedSource: number };
  /** STUN from a stranger that no connection's ufrag matched, by the ICE agent's reason names. */
  ice: Partial<Record<IceDropReason, number>>;
}

/** Fresh zeroed counters. */
export function createPortDrops(): PortDrops {
  return { transport: { unknownFirstByte: 0, unauthenticatedSource: 0 }, ice: {} };
}

/**
 * Counts one datagram from a sender no connection claims. STUN is decoded (it is rare and
 * unauthenticated: the reason helps an operator) and classified as an agent would classify it.
 */
export function countStranger(drops: PortDrops, data: Uint8Array): void {
  const first = data.length === 0 ? -1 : data[0]!;
  if (first >= 0 && first <= 3) {
    const reason = stunReason(data);
    drops.ice[reason] = (drops.ice[reason] ?? 0) + 1;
  } else if ((first >= 20 && first <= 63) || (first >= 128 && first <= 191)) drops.transport.unauthenticatedSource++;
  else drops.transport.unknownFirstByte++;
}

function stunReason(data: Uint8Array): IceDropReason {
  const decoded = StunMessage.decode(data);
  if (!decoded.ok) return decoded.reason === 'bad-fingerprint' ? 'bad-fingerprint' : 'malformed';
  const msg = decoded.message;
  if (msg.method !== StunMethod.Binding) return 'unexpected-method';
  if (msg.messageClass === StunClass.SuccessResponse || msg.messageClass === StunClass.ErrorResponse) return 'unmatched-response';
  // A request (or indication) without USERNAME and MESSAGE-INTEGRITY cannot name a connection.
  if (msg.getString(StunAttr.Username) === undefined || !msg.hasIntegrity) return 'no-integrity';
  return 'unknown-ufrag';
}

/** Adds `port` counters to a connection's own (a fresh object; the inputs are not changed). */
export function withPortDrops<T extends object>(own: T, port: Record<string, number | undefined> | undefined): T {
  if (!port) return { ...own };
  const out = { ...own } as Record<string, number>;
  for (const [k, v] of Object.entries(port)) if (v) out[k] = (out[k] ?? 0) + v;
  return out as T;
}
