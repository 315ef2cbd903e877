// Randomness sources. Protocol cores take an Rng so that simulations are reproducible.
import { randomBytes as cryptoRandomBytes, randomFillSync } from 'node:crypto';

/** A source of random numbers and bytes. */
export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  /**
   * Writes `length` random bytes into `target` at `offset`, allocating nothing (optional: the
   * ICE agent's transaction ids use it when present, docs/architecture.md, idle allocation).
   */
  fill?(target: Uint8Array, offset: number, length: number): void;
}

/** Bytes a PooledCryptoRng draws from the OS at once. */
const CRYPTO_POOL_BYTES = 4096;

/**
 * CSPRNG values served from a 4 KiB block drawn from the OS at once and never handed out twice:
 * ICE asks for many small values (transaction ids, tie-breakers, consent jitter) and every
 * RTCPeerConnection several SSRCs, a session id and a CNAME; one OpenSSL call per value was about
 * 0.1 ms of a connection's setup (docs/peer.md "Setup cost").
 */
export class PooledCryptoRng implements Rng {
  private readonly pool = Buffer.allocUnsafe(CRYPTO_POOL_BYTES);
  private offset = CRYPTO_POOL_BYTES;

  /** The offset of `n` unused bytes of the pool, refilled from the OS when it runs out. */
  private take(n: number): number {
    if (this.offset + n > CRYPTO_POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  uint32(): number {
    return this.pool.readUInt32BE(this.take(4));
  }

  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  fill(target: Uint8Array, offset: number, length: number): void {
    if (length > CRYPTO_POOL_BYTES / 4) {
      randomFillSync(target, offset, length);
      return;
    }
    const at = this.take(length);
    const pool = this.pool;
    for (let i = 0; i < length; i++) target[offset + i] = pool[at + i]!;
  }

  bytes(n: number): Buffer {
    if (n > CRYPTO_POOL_BYTES / 4) return cryptoRandomBytes(n);
    const at = this.take(n);
    // A copy: the pool is refilled later and callers keep what they get.
    return Buffer.from(this.pool.subarray(at, at + n));
  }
}

/** Cryptographically secure randomness (credentials, tie-breakers, cookies, keys): one pool per thread. */
export const cryptoRng: Rng = new PooledCryptoRng();

/** Deterministic generator (xoshiro128**) for tests and simulations. Not for secrets. */
export class SeededRng implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 expands the seed into four non-zero words.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }

  fill(target: Uint8Array, offset: number, length: number): void {
    for (let i = 0; i < length; i++) target[offset + i] = this.uint32() & 0xff;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
