// Typed errors of the media helpers: API misuse (bad MTU, oversized frame) and unreadable container
// files. RTP payloads from the network never throw: depacketizers count them in `DropCounters`.
import { OutOfRangeError, PwtError } from '../common/errors.js';

/** Thrown when a container file (IVF, Ogg, Annex B) or a coded frame handed to a writer is malformed. */
export class MediaFormatError extends PwtError {
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(code: string, message: string, offset?: number) {
    super('DataError', code, offset === undefined ? message : `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** Smallest payload budget any packetizer accepts: a descriptor plus a few bytes of data. */
export const MIN_PAYLOAD_MTU = 16;

/** Throws `ERR_MEDIA_MTU` unless `mtu` is an integer payload budget of at least `MIN_PAYLOAD_MTU`. */
export function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_PAYLOAD_MTU || mtu > 65_000) {
    throw new OutOfRangeError('ERR_MEDIA_MTU', `payload MTU must be an integer in ${MIN_PAYLOAD_MTU}..65000, got ${mtu}`);
  }
}
