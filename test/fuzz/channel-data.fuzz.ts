// Fuzz target: decodeChannelData (RFC 8656 §12.4 ChannelData over UDP, trailing padding allowed).
// Invariant: never throws (undefined instead); the data is a view inside the input; encode round trip.
import { decodeChannelData, encodeChannelData, CHANNEL_NUMBER_MIN, CHANNEL_NUMBER_MAX } from '../../lib/ice/channel-data.js';
import { check, type FuzzTarget } from './fuzz-target.js';

/** TURN ChannelData decode / encode round trip. */
export const channelDataTarget: FuzzTarget = {
  name: 'channel-data',
  description: 'decodeChannelData; encodeChannelData round trip with and without padding',
  maxLength: 1500,
  run(data: Buffer): void {
    const r = decodeChannelData(data);
    if (r === undefined) return;
    check(r.channel >= CHANNEL_NUMBER_MIN && r.channel <= CHANNEL_NUMBER_MAX, `channel ${r.channel} out of range`);
    check(r.data.byteOffset >= data.byteOffset && r.data.byteOffset + r.data.length <= data.byteOffset + data.length, 'data view outside the input');
    for (const pad of [false, true]) {
      const again = decodeChannelData(encodeChannelData(r.channel, r.data, pad));
      check(again !== undefined, 'encoded ChannelData does not decode');
      check(again.channel === r.channel && Buffer.compare(again.data, r.data) === 0, 'ChannelData changed in the round trip');
    }
  },
};
