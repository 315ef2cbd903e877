// Fuzz target: parseDcep (RFC 8832 §5 DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK).
// Invariant: never throws (undefined instead); an OPEN re-encodes and parses to the same fields.
import { parseDcep, encodeDcepOpen, fromChannelType } from '../../lib/sctp/dcep.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** DCEP parse / encode round trip. */
export const dcepTarget: FuzzTarget = {
  name: 'dcep',
  description: 'parseDcep; encodeDcepOpen round trip',
  maxLength: 1024,
  run(data: Buffer): void {
    const m = parseDcep(data);
    if (m === undefined || m.type === 'ack') return;
    fromChannelType(m.open.channelType, m.open.reliabilityParameter);
    // Labels are decoded as UTF-8; invalid sequences become U+FFFD, which re-encodes differently
    // but must then be stable.
    const once = parseDcep(encodeDcepOpen(m.open));
    check(once !== undefined && once.type === 'open', 'encoded OPEN does not parse');
    const twice = parseDcep(encodeDcepOpen(once.open));
    check(twice !== undefined && twice.type === 'open', 'encoded OPEN does not parse twice');
    checkSame(twice.open, once.open, 'DCEP OPEN');
    checkSame({ ...once.open, label: '', protocol: '' }, { ...m.open, label: '', protocol: '' }, 'DCEP OPEN numeric fields');
  },
};
