// The DTLS role that follows from an offer/answer exchange of a=setup values (RFC 8842 §5.3, RFC 4145 §4):
// `active` opens the connection, i.e. is the DTLS client.
import type { SetupRole } from './model.js';

/** Our side's DTLS role, or undefined while the exchange is incomplete. */
export type DtlsRole = 'client' | 'server';

/**
 * Our DTLS role given our and the peer's a=setup from a completed exchange: whoever says `active`
 * is the client. An `actpass` is resolved by the other side's answer; two equal or holdconn values
 * give undefined (the exchange is not usable).
 */
export function negotiatedDtlsRole(local: SetupRole | undefined, remote: SetupRole | undefined): DtlsRole | undefined {
  if (local === 'active' && (remote === 'passive' || remote === 'actpass')) return 'client';
  if (local === 'passive' && (remote === 'active' || remote === 'actpass')) return 'server';
  if (local === 'actpass' && remote === 'active') return 'server';
  if (local === 'actpass' && remote === 'passive') return 'client';
  return undefined;
}
