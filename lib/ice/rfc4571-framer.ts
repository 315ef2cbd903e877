// RFC 4571 framing of ICE-TCP connections (RFC 6544 §3): every STUN, DTLS, RTP or RTCP packet on
// the stream is preceded by its length as a 16-bit big-endian number. Sans-I/O: bytes in, frames out.

/** Splits a byte stream into RFC 4571 frames; buffers at most one frame (65,537 bytes). */
export class Rfc4571Framer {
  private buffered: Buffer = Buffer.alloc(0);
  /** Zero-length frames seen (skipped: they carry no packet). */
  emptyFrames = 0;

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  /** The length field of the incomplete frame being buffered, once its two bytes arrived. */
  get nextFrameLength(): number | undefined {
    return this.buffered.length >= 2 ? this.buffered.readUInt16BE(0) : undefined;
  }

  /**
   * Appends a chunk and returns every complete frame's payload, in order. The returned buffers are
   * views into the chunk (or into one internal copy) that stay valid after the call.
   */
  push(chunk: Buffer): Buffer[] {
    const data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Buffer[] = [];
    let off = 0;
    while (data.length - off >= 2) {
      const len = data.readUInt16BE(off);
      if (data.length - off - 2 < len) break;
      if (len === 0) this.emptyFrames++;
      else frames.push(data.subarray(off + 2, off + 2 + len));
      off += 2 + len;
    }
    // What is left is less than one frame: at most 2 + 65535 bytes. Copy it so that the caller's
    // chunk (or a large concatenation) is not kept alive by a few trailing bytes.
    this.buffered = off === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(off));
    return frames;
  }
}

/** One RFC 4571 frame around `data` (at most 65,535 bytes; longer packets cannot be framed). */
export function frameRfc4571(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(2 + data.length);
  out.writeUInt16BE(data.length, 0);
  out.set(data, 2);
  return out;
}
