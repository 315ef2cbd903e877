// Media direction algebra for offer/answer (RFC 3264 §6.1, RFC 8829 §5.3.1).
import type { MediaDirection } from './model.js';

/** True when the direction includes sending. */
export function directionSends(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

/** True when the direction includes receiving. */
export function directionReceives(d: MediaDirection): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/** Builds a direction from its send and receive halves. */
export function makeDirection(send: boolean, recv: boolean): MediaDirection {
  return send ? (recv ? 'sendrecv' : 'sendonly') : recv ? 'recvonly' : 'inactive';
}

/** The direction as seen from the other side (sendonly ↔ recvonly). */
export function reverseDirection(d: MediaDirection): MediaDirection {
  return makeDirection(directionReceives(d), directionSends(d));
}

/**
 * The answer's direction (RFC 8829 §5.3.1): the answerer sends only if the offerer receives and
 * the answerer wants to send, and receives only if the offerer sends and the answerer wants to receive.
 */
export function answerDirection(offered: MediaDirection, local: MediaDirection): MediaDirection {
  return makeDirection(directionSends(local) && directionReceives(offered), directionReceives(local) && directionSends(offered));
}
