// Fuzz target: RtpPacket.tryParse (RFC 3550 §5.1 header, RFC 8285 header extensions, padding).
// Invariant: never throws (null + a drop counter instead); serialize(parse(x)) re-parses to the same fields.
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { createRtpDropCounters, RTP_PARSE_FAILURE_REASONS } from '../../lib/rtp/errors.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** RTP packet parse / serialize round trip. */
export const rtpPacketTarget: FuzzTarget = {
  name: 'rtp-packet',
  description: 'RtpPacket.tryParse: fixed header, CSRCs, one- and two-byte header extensions, padding; serialize round trip',
  maxLength: 1500,
  run(data: Buffer): void {
    const drops = createRtpDropCounters();
    const pkt = RtpPacket.tryParse(data, 0, data.length, drops);
    const dropped = RTP_PARSE_FAILURE_REASONS.reduce((n, r) => n + drops[r], 0);
    if (pkt === null) {
      check(dropped === 1, `null without exactly one drop count (${dropped})`);
      return;
    }
    check(dropped === 0, 'parsed yet counted as dropped');
    // Touch the lazily decoded parts: every extension and the payload view.
    const fields = pkt.toJSON();
    for (const ext of pkt.extensions) check(pkt.getExtension(ext.id) !== undefined, `extension ${ext.id} listed but not found`);
    check(pkt.payload.length === pkt.payloadLength, 'payload view length differs from payloadLength');
    const wire = pkt.serialize();
    check(wire.length === pkt.byteLength, 'serialize length differs from byteLength');
    const again = RtpPacket.tryParse(wire);
    check(again !== null, `serialized packet does not re-parse: ${wire.toString('hex')}`);
    checkSame(again.toJSON(), fields, 'RTP packet');
    checkSame(again.extensions, pkt.extensions, 'RTP header extensions');
  },
};
