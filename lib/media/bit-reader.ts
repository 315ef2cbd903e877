// MSB-first bit reader over a byte array, for the few codec header fields lib/media needs
// (VP9 uncompressed header, AV1 sequence and frame headers).

/** Reads bits most-significant first; reading past the end yields `undefined` via `ok`. */
export class BitReader {
  private bit = 0;
  /** False once a read ran past the end of the data; every later read returns 0. */
  ok = true;

  constructor(private readonly data: Uint8Array) {}

  /** Reads `n` (≤ 32) bits as an unsigned number. */
  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.bit >> 3;
      if (byte >= this.data.length) {
        this.ok = false;
        return 0;
      }
      v = v * 2 + ((this.data[byte]! >> (7 - (this.bit & 7))) & 1);
      this.bit++;
    }
    return v;
  }

  /** Reads one bit as a boolean. */
  flag(): boolean {
    return this.read(1) === 1;
  }
}
