// Typed access to scripts/release-checks.mjs and scripts/prebuildify.mjs (plain ESM used by the
// release script) for the packaging tests, plus the consumer projects the type checks compile.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import * as checks from '../../scripts/release-checks.mjs';
// @ts-expect-error plain ESM script without types
import * as prebuilds from '../../scripts/prebuildify.mjs';
// @ts-expect-error plain ESM script without types
import * as nodes from '../../scripts/node-binaries.mjs';
// @ts-expect-error plain ESM script without types
import { nativeSourceHash } from '../../scripts/source-hash.mjs';

export interface Packed { tarball: string; size: number; unpackedSize: number; files: string[] }
/** `log`: when npm failed or was stopped, why, and the tail of its debug log with the phases' timings. */
export interface Installed { status: number | null; stdout: string; stderr: string; ms: number; footprintKiB: number; packages: string[]; log: string }
export interface SmokeResult {
  ok: boolean; node: string; arch: string; openssl: string; format: 'esm' | 'cjs'; entries: string[];
  rtpSent: number; rtpReceived: number; messages: [number, number]; sourceHash: string; error?: string;
}
export interface Smoke { status: number | null; result: SmokeResult; stderr: string; stdout: string }
export interface Loaded { sourceHash: string; opensslHeaders: string; openssl: string; node: string; arch: string }

type Env = NodeJS.ProcessEnv;
const c = checks as {
  root: string; TARBALL_BUDGET: number;
  pack(dest: string): Packed;
  contentProblems(files: string[], arches: string[]): string[];
  floorProblems(file: string, arch: string): string[];
  loadPrebuild(file: string, node: string, arch: string): Loaded;
  compilerFreePath(dir: string): string;
  emulatedPath(dir: string, node: string, arch: string): string;
  compilerVisible(env: Env): boolean;
  userEnv(extra?: Env): Env;
  installInto(app: string, tarball: string, env: Env, type?: 'module' | 'commonjs', timeoutMs?: number): Installed;
  smoke(app: string, node: string, arch: string, file: 'smoke.mjs' | 'smoke.cjs', env: Env): Smoke;
  runNode(node: string, arch: string, args: string[], opts: { cwd?: string; env?: Env; timeout?: number }): { status: number | null; stdout: string; stderr: string };
};
export const root = c.root;
export const TARBALL_BUDGET = c.TARBALL_BUDGET;
export const { pack, contentProblems, floorProblems, loadPrebuild, compilerFreePath, emulatedPath, compilerVisible, userEnv, installInto, smoke, runNode } = c;
export const prebuild = (prebuilds as { prebuild(arch: string): string }).prebuild;
export const PREBUILD_NAME = (prebuilds as { PREBUILD_NAME: string }).PREBUILD_NAME;
export const NODE_MATRIX = (nodes as { NODE_MATRIX: Record<'x64' | 'arm64', string[]> }).NODE_MATRIX;
export const nodeBinary = (nodes as { nodeBinary(arch: string, version: string): string }).nodeBinary;
export const treeHash = (): string => (nativeSourceHash as () => string)();

/**
 * TypeScript consumers of the installed package, one CommonJS (`import x = require()`) and one
 * ESM (`import`) for node16/nodenext resolution, and one ESM for bundler resolution, each with a
 * misuse the declarations must reject (so `any` types would fail).
 */
export function writeTypeConsumers(app: string): { node: string[]; bundler: string[] } {
  writeFileSync(join(app, 'consumer-cjs.cts'), [
    "import pwt = require('pure-webrtc-transport');",
    "import media = require('pure-webrtc-transport/media');",
    "const pc: pwt.RTCPeerConnection = new pwt.RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });",
    'const packetizer: media.RtpPacketizer = new media.RtpPacketizer(new media.OpusPacketizer());',
    'const packets: pwt.RtpPacket[] = packetizer.packetize(new Uint8Array([0x78, 1]), 0);',
    "// @ts-expect-error hostAddresses is a string array",
    'new pwt.RTCPeerConnection({ hostAddresses: 5 });',
    'export const used = [pc, packets];',
    '',
  ].join('\n'));
  writeFileSync(join(app, 'consumer-esm.mts'), [
    "import pwt, { RTCPeerConnection, RtpPacket } from 'pure-webrtc-transport';",
    "import { RtpPacketizer, OpusPacketizer } from 'pure-webrtc-transport/media';",
    "// The ESM entry's default export is the CommonJS module (dist/lib/index.mjs), as typed.",
    'const same: typeof RTCPeerConnection = pwt.RTCPeerConnection;',
    "const pc: RTCPeerConnection = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });",
    'const packets: RtpPacket[] = new RtpPacketizer(new OpusPacketizer()).packetize(new Uint8Array([0x78, 1]), 0);',
    "// @ts-expect-error createDataChannel takes a label string",
    'pc.createDataChannel(42);',
    'export const used = [pc, packets, same];',
    '',
  ].join('\n'));
  writeFileSync(join(app, 'consumer-bundler.ts'), [
    "import { RTCPeerConnection, RtpPacket } from 'pure-webrtc-transport';",
    "import * as media from 'pure-webrtc-transport/media';",
    "const pc: RTCPeerConnection = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });",
    'const packets: RtpPacket[] = new media.RtpPacketizer(new media.OpusPacketizer()).packetize(new Uint8Array([0x78, 1]), 0);',
    "// @ts-expect-error hostAddresses is a string array",
    'new RTCPeerConnection({ hostAddresses: 5 });',
    'export const used = [pc, packets];',
    '',
  ].join('\n'));
  return { node: ['consumer-cjs.cts', 'consumer-esm.mts'], bundler: ['consumer-bundler.ts'] };
}
