// The start of a VP9 uncompressed frame header (VP9 bitstream spec §6.2, §7.2): enough to tell key
// frames, intra-only frames and the coded size, which the packetizer needs for P and the SS data.
import { BitReader } from './bit-reader.js';

/** What the first bits of a VP9 frame say. */
export interface Vp9FrameHeader {
  /** Profile 0..3. */
  profile: number;
  /** The frame only re-shows a decoded frame (one or two bytes, no prediction). */
  showExistingFrame: boolean;
  /** frame_type == KEY_FRAME. */
  keyframe: boolean;
  /** An intra-only (non-key) frame. */
  intraOnly: boolean;
  /** Coded width, for key frames. */
  width?: number;
  /** Coded height, for key frames. */
  height?: number;
}

/** Parses the start of a VP9 frame's uncompressed header; `undefined` when it is not VP9 or truncated. */
export function parseVp9FrameHeader(frame: Uint8Array): Vp9FrameHeader | undefined {
  const r = new BitReader(frame);
  if (r.read(2) !== 2) return undefined; // frame_marker
  const low = r.read(1);
  const profile = (r.read(1) << 1) | low;
  if (profile === 3 && r.read(1) !== 0) return undefined;
  if (r.flag()) {
    r.read(3);
    return r.ok ? { profile, showExistingFrame: true, keyframe: false, intraOnly: false } : undefined;
  }
  const keyframe = r.read(1) === 0;
  const showFrame = r.flag();
  const errorResilient = r.flag();
  let intraOnly = false;
  if (!keyframe) {
    intraOnly = showFrame ? false : r.flag();
    if (!errorResilient) r.read(2); // reset_frame_context
    if (!intraOnly) return r.ok ? { profile, showExistingFrame: false, keyframe, intraOnly } : undefined;
  }
  if (r.read(8) !== 0x49 || r.read(8) !== 0x83 || r.read(8) !== 0x42) return undefined;
  if (keyframe || profile > 0) readColorConfig(r, profile);
  if (!keyframe) r.read(8); // refresh_frame_flags
  const width = r.read(16) + 1;
  const height = r.read(16) + 1;
  return r.ok ? { profile, showExistingFrame: false, keyframe, intraOnly, width, height } : undefined;
}

// color_config() (VP9 spec §6.2.2).
function readColorConfig(r: BitReader, profile: number): void {
  if (profile >= 2) r.read(1);
  const colorSpace = r.read(3);
  if (colorSpace !== 7) {
    r.read(1);
    if (profile === 1 || profile === 3) r.read(3);
  } else if (profile === 1 || profile === 3) {
    r.read(1);
  }
}
