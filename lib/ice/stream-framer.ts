// Splits a TCP/TLS byte stream to a TURN server into STUN messages and ChannelData frames
// (RFC 8656 §12.5 padding over streams; STUN messages delimited by their length field, RFC 8489 §6.2.2).

/** Why the framer gave up on a stream (the connection should then be closed). */
export type StreamFramerError = 'bad-frame';

/** Incremental framer: push bytes, get whole frames back. */
export class StunStreamFramer {
  private buffered: Buffer = Buffer.alloc(0);
  /** Set once the stream is unframeable; further input is ignored. */
  error: StreamFramerError | undefined;
  /** Upper bound of buffered bytes before the stream is declared broken. */
  static readonly MAX_BUFFER = 1 << 17;

  /** Appends bytes and returns every complete frame (STUN or ChannelData without padding). */
  push(chunk: Uint8Array): Buffer[] {
    if (this.error) return [];
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : Buffer.from(chunk);
    const frames: Buffer[] = [];
    let off = 0;
    while (this.buffered.length - off >= 4) {
      const first = this.buffered[off]!;
      const len = this.buffered.readUInt16BE(off + 2);
      let frameLen: number;
      let consumed: number;
      if (first < 0x40) {
        frameLen = 20 + len;
        consumed = frameLen;
      } else if (first <= 0x4f) {
        frameLen = 4 + len;
        consumed = (frameLen + 3) & ~3;
      } else {
        this.error = 'bad-frame';
        return frames;
      }
      if (this.buffered.length - off < consumed) break;
      frames.push(Buffer.from(this.buffered.subarray(off, off + frameLen)));
      off += consumed;
    }
    this.buffered = this.buffered.subarray(off);
    if (this.buffered.length > StunStreamFramer.MAX_BUFFER) this.error = 'bad-frame';
    return frames;
  }
}
