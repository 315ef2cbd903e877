// A cryptographically secure Rng that draws from the OS in 4 KiB blocks: ICE asks for many
// small values (transaction ids, tie-breakers, consent jitter), and one getrandom per value
// dominated connection setup in profiles.
import { randomFillSync } from 'node:crypto';
import type { Rng } from '../common/rng.js';

const BLOCK = 4096;

/** CSPRNG bytes served from a refilled pool (same source as cryptoRng, fewer syscalls). */
export class PooledCryptoRng implements Rng {
  private readonly pool = Buffer.allocUnsafe(BLOCK);
  private offset = BLOCK;

  private take(n: number): number {
    if (this.offset + n > BLOCK) {
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
    if (length > BLOCK / 4) {
      randomFillSync(target, offset, length);
      return;
    }
    const at = this.take(length);
    const pool = this.pool;
    for (let i = 0; i < length; i++) target[offset + i] = pool[at + i]!;
  }

  bytes(n: number): Buffer {
    if (n > BLOCK / 4) return randomFillSync(Buffer.allocUnsafe(n));
    const at = this.take(n);
    // A copy: the pool is refilled later and callers keep what they get.
    return Buffer.from(this.pool.subarray(at, at + n));
  }
}

/** One pool shared by every transport on this thread. */
export const pooledCryptoRng: Rng = new PooledCryptoRng();
