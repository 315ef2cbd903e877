// Shared helpers of the SRTP tests: deterministic keys per profile and RTP/RTCP packet builders
// (RFC 3550 sections 5.1 and 6.4 layouts).
import { SrtpSession, srtpProfileLengths, type SrtpProtectionProfile } from '../../../lib/srtp/index.js';

/** Every profile the engine implements. */
export const ALL_PROFILES: SrtpProtectionProfile[] = [0x0001, 0x0002, 0x0007, 0x0008];

/** Deterministic key material of one direction. */
export function keyMaterial(profile: SrtpProtectionProfile, seed: number): { key: Buffer; salt: Buffer } {
  const l = srtpProfileLengths(profile)!;
  const key = Buffer.alloc(l.keyLength);
  const salt = Buffer.alloc(l.saltLength);
  for (let i = 0; i < key.length; i++) key[i] = (seed * 31 + i * 7) & 0xff;
  for (let i = 0; i < salt.length; i++) salt[i] = (seed * 17 + i * 13 + 1) & 0xff;
  return { key, salt };
}

/** A sender and a receiver keyed as the two ends of one session. */
export function sessionPair(profile: SrtpProtectionProfile, replayWindow = 1024): { tx: SrtpSession; rx: SrtpSession } {
  const a = keyMaterial(profile, 1);
  const b = keyMaterial(profile, 2);
  const tx = new SrtpSession({ replayWindow });
  const rx = new SrtpSession({ replayWindow });
  tx.setKeys({ profile, localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt });
  rx.setKeys({ profile, localMasterKey: b.key, localMasterSalt: b.salt, remoteMasterKey: a.key, remoteMasterSalt: a.salt });
  return { tx, rx };
}

/** Options of an RTP packet to build. */
export interface RtpSpec {
  seq: number;
  ssrc: number;
  payload: number;
  csrcs?: number;
  extensionWords?: number;
  padding?: number;
  payloadType?: number;
}

/** Builds an RTP packet; payload bytes depend on seq so packets differ. */
export function rtp(spec: RtpSpec): Buffer {
  const csrcs = spec.csrcs ?? 0;
  const ext = spec.extensionWords;
  const padding = spec.padding ?? 0;
  const header = 12 + csrcs * 4 + (ext === undefined ? 0 : 4 + ext * 4);
  const p = Buffer.alloc(header + spec.payload + padding);
  p[0] = 0x80 | (padding ? 0x20 : 0) | (ext === undefined ? 0 : 0x10) | csrcs;
  p[1] = spec.payloadType ?? 96;
  p.writeUInt16BE(spec.seq & 0xffff, 2);
  p.writeUInt32BE(0x01020304, 4);
  p.writeUInt32BE(spec.ssrc >>> 0, 8);
  for (let i = 0; i < csrcs; i++) p.writeUInt32BE(0xc000 + i, 12 + i * 4);
  if (ext !== undefined) {
    const at = 12 + csrcs * 4;
    p.writeUInt16BE(0xbede, at);
    p.writeUInt16BE(ext, at + 2);
    for (let i = 0; i < ext * 4; i++) p[at + 4 + i] = 0x10 + i;
  }
  for (let i = 0; i < spec.payload; i++) p[header + i] = (i * 7 + spec.seq) & 0xff;
  if (padding) p[p.length - 1] = padding;
  return p;
}

/** Builds an RTCP receiver report-like packet with `body` bytes after the 8-byte header. */
export function rtcp(ssrc: number, body: number, packetType = 201): Buffer {
  const p = Buffer.alloc(8 + body, 0x5a);
  p[0] = 0x80;
  p[1] = packetType;
  p.writeUInt16BE((8 + body) / 4 - 1, 2);
  p.writeUInt32BE(ssrc >>> 0, 4);
  return p;
}
