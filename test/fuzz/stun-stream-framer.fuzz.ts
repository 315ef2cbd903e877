// Fuzz target: StunStreamFramer (RFC 8489 §6.2.2 STUN over TCP/TLS, RFC 8656 §12.5 ChannelData padding).
// The input is cut into chunks at positions taken from its own first bytes, so one input covers
// how a stream arrives. Invariant: never throws; frames are in order, bounded, and never longer
// than what was pushed; once broken the framer stays broken and returns nothing.
import { StunStreamFramer } from '../../lib/ice/stream-framer.js';
import { check, type FuzzTarget } from './fuzz-target.js';

/** TURN stream framing over arbitrary chunking. */
export const stunStreamFramerTarget: FuzzTarget = {
  name: 'stun-stream-framer',
  description: 'StunStreamFramer.push over chunk boundaries chosen by the input (first byte = chunk size seed)',
  maxLength: 8192,
  run(data: Buffer): void {
    if (data.length === 0) return;
    const step = 1 + (data[0]! % 97);
    const stream = data.subarray(1);
    const framer = new StunStreamFramer();
    let pushed = 0;
    let framed = 0;
    let broken = false;
    for (let off = 0, i = 0; off < stream.length; i++) {
      // Varying chunk sizes: 1..step, then whole remaining stream every 7th chunk.
      const len = i % 7 === 6 ? stream.length - off : 1 + ((i * 31 + step) % step);
      const chunk = stream.subarray(off, off + len);
      off += chunk.length;
      pushed += chunk.length;
      const frames = framer.push(chunk);
      if (broken) check(frames.length === 0, 'a broken framer returned frames');
      for (const f of frames) {
        check(f.length >= 4, 'frame shorter than a header');
        const first = f[0]!;
        const declared = f.readUInt16BE(2);
        check(first < 0x40 ? f.length === 20 + declared : first <= 0x4f && f.length === 4 + declared, 'frame length differs from its header');
        framed += f.length;
      }
      check(framed <= pushed, 'more bytes framed than pushed');
      if (framer.error) broken = true;
    }
  },
};
