// Clear RTP/RTCP staged for one TCP stream during an event-loop turn, then SRTP-protected (RFC 3711
// §3.3) and framed (RFC 4571 §2, or TURN ChannelData, RFC 8656 §12.5) by one native call at flush
// (docs/udp.md "TCP framing"). Used by the active ICE-TCP side and by TURN TCP/TLS streams.
import { tcpFrameBatch, type NativeTcpFrameReader } from '../../native/tcp-frame.js';

/** What one flush made of the staged packets. */
export interface TcpSrtpFlush {
  /** Packets that were staged. */
  staged: number;
  /** Those protected and framed. */
  protected: number;
  /** The framed bytes to write (a copy the stream may keep), undefined when nothing was framed. */
  framed: Buffer | undefined;
}

/**
 * Copies of the packets sent in one turn, in one pool. A flush is scheduled for the turn's end with
 * the first packet, and runs early when the pool or the native batch is full; the owner's `flush`
 * must end in {@link protect} or {@link discard}.
 */
export class TcpSrtpStaging {
  private pool: Buffer | undefined;
  private offsets = new Uint32Array(0);
  private lengths = new Uint32Array(0);
  private count = 0;
  private used = 0;
  private scheduled = false;
  private readonly scheduledFlush = (): void => {
    if (this.scheduled) this.flush();
  };

  constructor(private readonly poolBytes: number, private readonly flush: () => void) {}

  /** Packets staged now. */
  get size(): number {
    return this.count;
  }

  /** Stages a copy of `packet` (the caller checked its length against the frame bound). */
  stage(packet: Uint8Array): void {
    this.pool ??= Buffer.allocUnsafe(this.poolBytes);
    if (this.used + packet.length > this.pool.length || this.count === tcpFrameBatch().arrays.results.length) this.flush();
    if (this.count === this.offsets.length) {
      const size = Math.max(32, this.offsets.length * 2);
      const offsets = new Uint32Array(size);
      const lengths = new Uint32Array(size);
      offsets.set(this.offsets);
      lengths.set(this.lengths);
      this.offsets = offsets;
      this.lengths = lengths;
    }
    this.pool.set(packet, this.used);
    this.offsets[this.count] = this.used;
    this.lengths[this.count] = packet.length;
    this.count++;
    this.used += packet.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.scheduledFlush);
    }
  }

  /** Forgets the staged packets (the stream cannot take them); returns how many there were. */
  discard(): number {
    const count = this.count;
    this.count = 0;
    this.used = 0;
    this.scheduled = false;
    return count;
  }

  /** Protects and frames the staged packets with `reader`'s session in one native call, and forgets them. */
  protect(reader: NativeTcpFrameReader): TcpSrtpFlush {
    const pool = this.pool;
    const staged = this.discard();
    if (staged === 0 || !pool) return { staged, protected: 0, framed: undefined };
    const { batch, arrays } = tcpFrameBatch();
    const bytes = batch.protect(reader, pool, this.offsets, this.lengths, staged);
    if (bytes < 0) return { staged, protected: 0, framed: undefined };
    let ok = 0;
    for (let i = 0; i < arrays.info[0]!; i++) if (arrays.results[i] === 0) ok++;
    return { staged, protected: ok, framed: bytes > 0 ? Buffer.from(arrays.out.subarray(0, bytes)) : undefined };
  }
}
