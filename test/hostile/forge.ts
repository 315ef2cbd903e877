// Hostile datagrams for the attack suite, written byte by byte (not with our own codecs, so that
// they can be as wrong as an attacker likes): STUN (RFC 8489 §5, §14.5 MESSAGE-INTEGRITY, §14.7
// FINGERPRINT), DTLS records (RFC 6347 §4.1), RTP/RTCP (RFC 3550 §5.1, §6.4) and SRTCP (RFC 3711 §3.4).
import { createHmac, randomBytes } from 'node:crypto';

/** Seeded generator (mulberry32): the same seed gives the same attack on every run. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Next uint32. */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  /** `n` pseudo-random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Random datagrams of 0..maxLen bytes; first bytes cover every RFC 7983 range and the gaps. */
export function garbage(count: number, seed: number, maxLen = 1200): Buffer[] {
  const r = new Prng(seed);
  const firsts = [0, 1, 2, 3, 4, 16, 19, 20, 21, 22, 23, 24, 63, 64, 100, 127, 128, 129, 144, 191, 192, 200, 255];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = r.bytes(i % 10 === 0 ? r.int(0, 3) : r.int(1, maxLen));
    if (b.length > 0) b[0] = firsts[i % firsts.length]!;
    out.push(b);
  }
  return out;
}

/** What a forged STUN message carries and how it is wrong. */
export interface StunForgery {
  /** 0x0001 Binding (default); others are unexpected methods. */
  method?: number;
  /** 0 request (default), 1 indication, 2 success response, 3 error response. */
  cls?: 0 | 1 | 2 | 3;
  username?: string;
  /** HMAC-SHA1 key for MESSAGE-INTEGRITY; absent: no MESSAGE-INTEGRITY. */
  integrityKey?: string;
  /** Flip a bit of the MESSAGE-INTEGRITY value. */
  corruptIntegrity?: boolean;
  fingerprint?: boolean;
  /** Flip a bit of the FINGERPRINT value. */
  corruptFingerprint?: boolean;
  useCandidate?: boolean;
  /** Make the header length field (or the first attribute's length) lie. */
  lie?: 'header-length' | 'attribute-length';
  transactionId?: Buffer;
}

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value, Buffer.alloc(pad)]);
}

/** A STUN message as an attacker builds it (see {@link StunForgery}). */
export function forgeStun(f: StunForgery): Buffer {
  const method = f.method ?? 0x0001;
  const cls = f.cls ?? 0;
  // Message type bits (RFC 8489 §5): class bits C1 at 0x0100, C0 at 0x0010.
  const type = (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 2) << 7) | ((cls & 1) << 4);
  const tid = f.transactionId ?? randomBytes(12);
  const attrs: Buffer[] = [];
  if (f.username !== undefined) attrs.push(attr(0x0006, Buffer.from(f.username)));
  const prio = Buffer.alloc(4);
  prio.writeUInt32BE(0x6e0001ff, 0);
  if (cls === 0) attrs.push(attr(0x0024, prio));
  if (cls === 0) attrs.push(attr(0x802a, randomBytes(8)));
  if (f.useCandidate) attrs.push(attr(0x0025, Buffer.alloc(0)));
  let body = Buffer.concat(attrs);
  const header = (len: number): Buffer => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(0x2112a442, 4);
    tid.copy(h, 8);
    return h;
  };
  if (f.integrityKey !== undefined) {
    const mac = createHmac('sha1', f.integrityKey).update(Buffer.concat([header(body.length + 24), body])).digest();
    if (f.corruptIntegrity) mac[7]! ^= 0x20;
    body = Buffer.concat([body, attr(0x0008, mac)]);
  }
  if (f.fingerprint) {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0, 0);
    if (f.corruptFingerprint) crc[3]! ^= 0x01;
    body = Buffer.concat([body, attr(0x8028, crc)]);
  }
  const msg = Buffer.concat([header(body.length), body]);
  if (f.lie === 'header-length') msg.writeUInt16BE(body.length + 400, 2);
  if (f.lie === 'attribute-length' && body.length >= 4) msg.writeUInt16BE(0xfff0, 22);
  return msg;
}

/** A DTLS record (RFC 6347 §4.1): type, DTLS 1.2 version, epoch, 48-bit sequence, length, body. */
export function dtlsRecord(type: number, epoch: number, seq: number, body: Buffer, lengthField = body.length): Buffer {
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(0xfefd, 1);
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(seq, 5, 6);
  h.writeUInt16BE(lengthField, 11);
  return Buffer.concat([h, body]);
}

/** A DTLS 1.2 ClientHello record (epoch 0) with a plausible body, as a new client would send. */
export function clientHello(seq: number, r: Prng): Buffer {
  const hello = Buffer.concat([
    Buffer.from([0xfe, 0xfd]), // client_version
    r.bytes(32), // random
    Buffer.from([0]), // session id
    Buffer.from([0]), // cookie
    Buffer.from([0, 4, 0xc0, 0x2b, 0xc0, 0x2f]), // cipher suites
    Buffer.from([1, 0]), // compression: null
    Buffer.from([0, 14, 0, 0x0e, 0, 5, 0, 2, 0, 1, 0]), // extensions: use_srtp(14) SRTP_AES128_CM_SHA1_80
    Buffer.from([0, 0, 0, 0]),
  ]);
  const hs = Buffer.alloc(12);
  hs[0] = 1; // client_hello
  hs.writeUIntBE(hello.length, 1, 3);
  hs.writeUInt16BE(0, 4); // message_seq
  hs.writeUIntBE(0, 6, 3); // fragment_offset
  hs.writeUIntBE(hello.length, 9, 3); // fragment_length
  return dtlsRecord(22, 0, seq, Buffer.concat([hs, hello]));
}

/** An SCTP-looking packet (RFC 9260 §3: common header ports 5000/5000, a DATA chunk). */
export function sctpLooking(r: Prng): Buffer {
  const common = Buffer.alloc(12);
  common.writeUInt16BE(5000, 0);
  common.writeUInt16BE(5000, 2);
  r.bytes(8).copy(common, 4);
  const data = Buffer.alloc(16 + 20);
  data[0] = 0; // DATA
  data[1] = 0x03;
  data.writeUInt16BE(data.length, 2);
  data.writeUInt32BE(r.next(), 4); // TSN
  data.writeUInt32BE(51, 12); // PPID: WebRTC String
  return Buffer.concat([common, data]);
}

/** An RTP header (RFC 3550 §5.1) with the given first byte, sequence, SSRC and payload. */
export function rtp(first: number, pt: number, seq: number, ssrc: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = first;
  h[1] = pt & 0x7f;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(0x01020304, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

/** RTP packets whose length fields lie: CSRC count, extension length, padding count beyond the end. */
export function lyingRtp(ssrc: number, r: Prng): Buffer[] {
  const ext = Buffer.from([0xbe, 0xde, 0xff, 0xff]);
  const pad = rtp(0xa0, 111, r.int(0, 65535), ssrc, Buffer.concat([r.bytes(20), Buffer.from([0xff])]));
  return [
    rtp(0x8f, 111, r.int(0, 65535), ssrc, r.bytes(8)), // 15 CSRCs announced, 2 present
    rtp(0x90, 111, r.int(0, 65535), ssrc, Buffer.concat([ext, r.bytes(16)])), // extension of 0xffff words
    pad, // 255 bytes of padding announced in a 33-byte packet
    rtp(0x80, 111, r.int(0, 65535), ssrc, Buffer.alloc(0)), // header only
    Buffer.from([0x80, 111, 0, 1, 0, 0]), // shorter than the fixed header
    rtp(0xbf, 96, r.int(0, 65535), ssrc, Buffer.concat([Buffer.from([0xbe, 0xde, 0x00, 0x40]), r.bytes(4)])),
  ];
}

/** RTCP (RFC 3550 §6.4) whose length fields lie, and SRTCP with malformed trailers (RFC 3711 §3.4). */
export function lyingRtcp(ssrc: number, r: Prng): Buffer[] {
  const rtcp = (pt: number, lengthWords: number, body: Buffer, rc = 0): Buffer => {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | rc;
    h[1] = pt;
    h.writeUInt16BE(lengthWords, 2);
    return Buffer.concat([h, body]);
  };
  const ssrcBytes = Buffer.alloc(4);
  ssrcBytes.writeUInt32BE(ssrc >>> 0, 0);
  const e = Buffer.alloc(4);
  e.writeUInt32BE((0x80000000 | r.int(1, 1000)) >>> 0, 0);
  return [
    rtcp(200, 0xffff, Buffer.concat([ssrcBytes, r.bytes(20)])), // SR claiming 256 KiB
    rtcp(201, 0, Buffer.alloc(0), 31), // RR with 31 report blocks, no body
    rtcp(206, 2, Buffer.concat([ssrcBytes, ssrcBytes, rtcp(205, 0x4000, ssrcBytes)])), // compound, 2nd overruns
    rtcp(200, 6, Buffer.concat([ssrcBytes, r.bytes(20), e])), // SRTCP with E bit, no tag
    rtcp(200, 6, Buffer.concat([ssrcBytes, r.bytes(20), e, r.bytes(10)])), // SRTCP with a wrong tag
    rtcp(203, 1, ssrcBytes), // BYE without a tag
    Buffer.from([0x81, 200, 0, 1]), // shorter than an SRTCP index
  ];
}
