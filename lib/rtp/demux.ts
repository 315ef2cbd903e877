// Telling RTP from RTCP on one port (RFC 5761 §4) and RTP/RTCP from STUN/DTLS (RFC 7983 §7).

/**
 * True when a datagram that is RTP or RTCP is RTCP: the second byte with the marker bit masked off
 * is 64..95, i.e. RTCP packet types 192..223 (RFC 5761 §4). Bytes too short to tell are not RTCP.
 */
export function isRtcp(buf: Uint8Array, offset = 0, length = buf.length - offset): boolean {
  if (length < 2) return false;
  const pt = buf[offset + 1]! & 0x7f;
  return pt >= 64 && pt <= 95;
}

/** True when the first byte is 128..191, the RTP/RTCP range of RFC 7983 §7 (version 2). */
export function isRtpOrRtcp(buf: Uint8Array, offset = 0, length = buf.length - offset): boolean {
  return length >= 1 && buf[offset]! >> 6 === 2;
}
