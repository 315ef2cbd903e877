// Fuzz target: SCTP packet verification and chunk decoding (RFC 9260 §3 common header and chunks,
// RFC 8260 I-DATA, RFC 6525 RE-CONFIG, RFC 3758 FORWARD-TSN, RFC 9653 zero checksum).
// The checksum is fixed up before decoding so mutations reach the chunk decoders.
// Invariant: never throws; every decoded chunk re-encodes and decodes to the same fields.
import { verifyPacket, decodePacket, encodePacket } from '../../lib/sctp/packet.js';
import { sctpChecksum } from '../../lib/sctp/crc32c.js';
import type { Chunk } from '../../lib/sctp/chunks/chunk.js';
import { check, checkSame, type FuzzTarget } from './fuzz-target.js';

/** SCTP packet decode / encode round trip. */
export const sctpPacketTarget: FuzzTarget = {
  name: 'sctp-packet',
  description: 'verifyPacket + decodePacket (every chunk and parameter decoder); encodePacket round trip',
  maxLength: 2048,
  run(data: Buffer): void {
    // The raw bytes first, as they come off the wire (mostly a checksum failure).
    verifyPacket(data, false);
    if (data.length < 12) {
      check(verifyPacket(data, true) === 'too-short', 'short packet not rejected');
      return;
    }
    const fixed = Buffer.from(data);
    fixed.writeUInt32LE(0, 8);
    fixed.writeUInt32LE(sctpChecksum(fixed), 8);
    check(verifyPacket(fixed, false) === undefined, 'a packet with a correct checksum was rejected');
    const pkt = decodePacket(fixed);
    const known = pkt.chunks.filter((c): c is Chunk => c.type !== -1);
    const wire = encodePacket(pkt, known);
    check(verifyPacket(wire, false) === undefined, 'encoded packet fails its own checksum');
    const again = decodePacket(wire);
    check(!again.truncated, `re-encoded packet decodes as truncated: ${wire.toString('hex')}`);
    checkSame(again.chunks, known, 'SCTP chunks');
  },
};
