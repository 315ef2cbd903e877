// Every TypeScript fuzz target, by name (test/fuzz/fuzz-corpus.test.ts and scripts/fuzz.mjs use this list).
import type { FuzzTarget } from './fuzz-target.js';
import { rtpPacketTarget } from './rtp-packet.fuzz.js';
import { rtcpTarget } from './rtcp.fuzz.js';
import { stunTarget } from './stun.fuzz.js';
import { channelDataTarget } from './channel-data.fuzz.js';
import { stunStreamFramerTarget } from './stun-stream-framer.fuzz.js';
import { sdpTarget } from './sdp.fuzz.js';
import { sctpPacketTarget } from './sctp-packet.fuzz.js';
import { dcepTarget } from './dcep.fuzz.js';
import { mediaDepacketizersTarget } from './media-depacketizers.fuzz.js';
import { ivfTarget } from './ivf.fuzz.js';
import { oggOpusTarget } from './ogg-opus.fuzz.js';
import { annexBTarget } from './annex-b.fuzz.js';
import { iceFragmentTarget } from './ice-fragment.fuzz.js';

/** All TypeScript targets. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  rtpPacketTarget,
  rtcpTarget,
  stunTarget,
  channelDataTarget,
  stunStreamFramerTarget,
  sdpTarget,
  sctpPacketTarget,
  dcepTarget,
  mediaDepacketizersTarget,
  ivfTarget,
  oggOpusTarget,
  annexBTarget,
  iceFragmentTarget,
];

/** The target called `name`, or undefined. */
export function findTarget(name: string): FuzzTarget | undefined {
  return FUZZ_TARGETS.find((t) => t.name === name);
}
