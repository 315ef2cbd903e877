// Loads the encoded fixtures made by scripts/make-media-fixtures.sh (shared by the media tests).
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readIvf, type IvfFrame } from '../../../lib/media/ivf.js';
import { readOggOpus } from '../../../lib/media/ogg-opus.js';
import { joinAnnexB, readAnnexBAccessUnits } from '../../../lib/media/annex-b.js';

/** Folder holding the fixture files. */
export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'media');

/** Raw bytes of a fixture file. */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURE_DIR, name));
}

/** The frames of an IVF fixture. */
export function ivfFrames(name: 'vp8.ivf' | 'vp9.ivf' | 'av1.ivf'): IvfFrame[] {
  return readIvf(fixtureBytes(name)).frames;
}

/** The H.264 fixture's access units, each as Annex B bytes with 4-byte start codes. */
export function h264AccessUnits(): Buffer[] {
  return readAnnexBAccessUnits(fixtureBytes('h264.h264')).map((au) => joinAnnexB(au.map((u) => u.data)));
}

/** The Opus fixture's audio packets. */
export function opusPackets(): Buffer[] {
  return readOggOpus(fixtureBytes('opus.ogg')).packets;
}

/** Payload MTUs the round-trip tests use: the minimum, odd small ones, and common path MTUs. */
export const TEST_MTUS = [16, 17, 100, 255, 600, 1188, 1200, 1400];

/** Frames per fixture video file (scripts/make-media-fixtures.sh: 20 frames, keyframes at 0 and 10). */
export const FIXTURE_FRAMES = 20;
/** Indexes of the key frames in every video fixture. */
export const FIXTURE_KEYFRAMES = [0, 10];
