// Client-to-mixer audio level header extension (RFC 6464 §3): V bit + level in -dBov (0..127).
import { OutOfRangeError } from '../../common/errors.js';

/** Audio level of one packet. */
export interface AudioLevel {
  /** The V bit: the sender's voice activity detection saw speech. */
  voiceActivity: boolean;
  /** Level in -dBov, 0 (loudest) .. 127 (silence). */
  level: number;
}

/** Reads the audio level, or null for an empty value (RFC 6464 §3 allows 1 byte, or more with padding). */
export function parseAudioLevel(data: Uint8Array): AudioLevel | null {
  if (data.length < 1) return null;
  return { voiceActivity: data[0]! >= 0x80, level: data[0]! & 0x7f };
}

/** Encodes the audio level as 1 byte. */
export function serializeAudioLevel(value: AudioLevel): Buffer {
  if (!(Number.isInteger(value.level) && value.level >= 0 && value.level <= 127)) {
    throw new OutOfRangeError('ERR_RTP_AUDIO_LEVEL', `audio level ${value.level} is outside 0..127 (RFC 6464 §3)`);
  }
  return Buffer.from([(value.voiceActivity ? 0x80 : 0) | value.level]);
}
