// Opus RTP payload format (RFC 7587 §4.2: one Opus packet per RTP payload, no payload header) and
// the packet duration read from the TOC byte (RFC 6716 §3.1), which the Ogg writer needs for granules.
import { OutOfRangeError } from '../common/errors.js';
import { checkMtu } from './media-errors.js';
import {
  asBuffer,
  createDropCounters,
  type DepacketizedPayload,
  type Depacketizer,
  type DropCounters,
  type Packetizer,
} from './payloader.js';

/** RTP clock rate of Opus, whatever the coded bandwidth (RFC 7587 §4.1). */
export const OPUS_CLOCK_RATE = 48_000;

// Frame duration in 48 kHz samples per TOC configuration number (RFC 6716 §3.1, Table 2).
const SILK_SAMPLES = [480, 960, 1920, 2880];
const HYBRID_SAMPLES = [480, 960];
const CELT_SAMPLES = [120, 240, 480, 960];

/**
 * Samples (at 48 kHz) one Opus packet decodes to, from its TOC byte and frame count code
 * (RFC 6716 §3.1, §3.2.5); `undefined` when the packet is empty, code 3 lacks its count byte or
 * declares zero frames, or the total exceeds the 120 ms the format allows (RFC 6716 §3.2.5).
 */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  if (packet.length < 1) return undefined;
  const toc = packet[0]!;
  const config = toc >> 3;
  const perFrame =
    config < 12 ? SILK_SAMPLES[config & 3]! : config < 16 ? HYBRID_SAMPLES[config & 1]! : CELT_SAMPLES[config & 3]!;
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.length < 2) return undefined;
      frames = packet[1]! & 0x3f;
      if (frames === 0) return undefined;
  }
  const total = perFrame * frames;
  return total > 5760 ? undefined : total;
}

/** Packetizer for Opus: each Opus packet goes whole into one payload (RFC 7587 §4.2). */
export class OpusPacketizer implements Packetizer {
  readonly clockRate = OPUS_CLOCK_RATE;
  /** Audio marks talkspurt starts, not frame ends (RFC 3551 §4.1), so the marker stays to the sender. */
  readonly markerOnLastPayload = false;

  /** One payload: the packet itself (copied). Throws `ERR_MEDIA_FRAME` when it is empty or larger than `mtu`. */
  packetize(frame: Uint8Array, mtu: number): Buffer[] {
    checkMtu(mtu);
    if (frame.length === 0 || frame.length > mtu) {
      // RFC 7587 §4.2 forbids splitting an Opus packet across RTP packets.
      throw new OutOfRangeError('ERR_MEDIA_FRAME', `an Opus packet of ${frame.length} bytes does not fit one payload of ${mtu}`);
    }
    return [Buffer.from(frame)];
  }
}

/** Depacketizer for Opus: every payload is a whole packet, every packet decodes on its own. */
export class OpusDepacketizer implements Depacketizer {
  readonly drops: DropCounters = createDropCounters();

  /** The payload as a complete frame; empty payloads are dropped (an Opus packet has a TOC byte). */
  depacketize(payload: Uint8Array): DepacketizedPayload | undefined {
    if (payload.length === 0) {
      this.drops.truncated++;
      return undefined;
    }
    return { data: asBuffer(payload), frameStart: true, frameEnd: true, keyframe: true };
  }

  /** The single payload of the frame; more than one payload per timestamp is malformed Opus RTP. */
  assemble(payloads: readonly Uint8Array[]): Buffer | undefined {
    if (payloads.length !== 1 || payloads[0]!.length === 0) {
      this.drops.malformed++;
      return undefined;
    }
    return Buffer.from(payloads[0]!);
  }
}
