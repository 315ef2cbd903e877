// Coordination of video orientation header extension (3GPP TS 26.114 §7.4.5): one byte
// 0 0 0 0 C F R1 R0 (camera, horizontal flip, rotation in 90° steps).
import { OutOfRangeError } from '../../common/errors.js';

/** Orientation of a video frame. */
export interface VideoOrientation {
  /** C: false = front-facing camera (or unknown), true = back-facing. */
  backCamera: boolean;
  /** F: the frame is flipped horizontally. */
  flip: boolean;
  /** Clockwise rotation to apply before display: 0, 90, 180 or 270. */
  rotation: 0 | 90 | 180 | 270;
}

const ROTATIONS = [0, 90, 180, 270] as const;

/** Reads the orientation, or null for an empty value. */
export function parseVideoOrientation(data: Uint8Array): VideoOrientation | null {
  if (data.length < 1) return null;
  const b = data[0]!;
  return { backCamera: (b & 0x08) !== 0, flip: (b & 0x04) !== 0, rotation: ROTATIONS[b & 0x03]! };
}

/** Encodes the orientation as 1 byte. */
export function serializeVideoOrientation(value: VideoOrientation): Buffer {
  const r = ROTATIONS.indexOf(value.rotation);
  if (r < 0) throw new OutOfRangeError('ERR_RTP_VIDEO_ORIENTATION', `rotation ${value.rotation} is not 0, 90, 180 or 270`);
  return Buffer.from([(value.backCamera ? 0x08 : 0) | (value.flip ? 0x04 : 0) | r]);
}
