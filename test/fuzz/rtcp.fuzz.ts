// Fuzz target: tryParseRtcp, the compound RTCP walker and every packet decoder (RFC 3550 §6.4,
// RFC 4585 §6, RFC 5104, RFC 8888, transport-cc, REMB, XR, APP, SDES, BYE).
// Invariant: never throws (null + a drop counter); serialize(parse(x)) re-parses to the same packets.
import { tryParseRtcp, serializeRtcp, rtcpByteLength } from '../../lib/rtp/rtcp/compound.js';
import { createRtpDropCounters, RTP_PARSE_FAILURE_REASONS } from '../../lib/rtp/errors.js';
import { check, checkSame, stableJson, type FuzzTarget } from './fuzz-target.js';

/** Compound RTCP parse / serialize round trip. */
export const rtcpTarget: FuzzTarget = {
  name: 'rtcp',
  description: 'tryParseRtcp over a compound packet; serializeRtcp round trip',
  maxLength: 1500,
  run(data: Buffer): void {
    const drops = createRtpDropCounters();
    const packets = tryParseRtcp(data, 0, data.length, drops);
    const dropped = RTP_PARSE_FAILURE_REASONS.reduce((n, r) => n + drops[r], 0);
    if (packets === null) {
      check(dropped === 1, `null without exactly one drop count (${dropped})`);
      return;
    }
    check(dropped === 0, 'parsed yet counted as dropped');
    const first = stableJson(packets);
    const wire = serializeRtcp(packets);
    check(wire.length === rtcpByteLength(packets), 'serialize length differs from rtcpByteLength');
    const again = tryParseRtcp(wire);
    check(again !== null, `serialized compound does not re-parse: ${wire.toString('hex')}`);
    checkSame(JSON.parse(stableJson(again)), JSON.parse(first), 'RTCP packets');
  },
};
