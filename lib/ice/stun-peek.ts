// Cheap look into an unauthenticated datagram for one-port routing: is it a STUN Binding
// request, and what is the first part of its USERNAME (our ufrag, RFC 8445 §7.2.2)? No copies.

/** The local-ufrag part of a Binding request's USERNAME, or undefined if not found/valid. */
export function peekBindingRequestUfrag(data: Uint8Array): string | undefined {
  // Binding request (0x0001), length consistent, magic cookie.
  if (data.length < 20 || data[0] !== 0x00 || data[1] !== 0x01) return undefined;
  const len = (data[2]! << 8) | data[3]!;
  if (len + 20 !== data.length || data[4] !== 0x21 || data[5] !== 0x12 || data[6] !== 0xa4 || data[7] !== 0x42) return undefined;
  let off = 20;
  while (off + 4 <= data.length) {
    const type = (data[off]! << 8) | data[off + 1]!;
    const alen = (data[off + 2]! << 8) | data[off + 3]!;
    if (off + 4 + alen > data.length) return undefined;
    if (type === 0x0006) {
      let end = off + 4;
      const stop = off + 4 + alen;
      while (end < stop && data[end] !== 0x3a) end++;
      if (end === off + 4 || end - off - 4 > 256) return undefined;
      return Buffer.from(data.buffer, data.byteOffset + off + 4, end - off - 4).toString('latin1');
    }
    off += 4 + ((alen + 3) & ~3);
  }
  return undefined;
}
