// Storage for packets the pacer module holds (docs/policy.md, "Pacer"): their bytes are copied
// into one growable slab used as a ring, so holding a packet allocates nothing per packet.

/** A FIFO of byte strings in a ring over one buffer; `push` returns false when it is full. */
export class PacketStore {
  private slab: Buffer;
  private readonly maxBytes: number;
  private head = 0; // first byte in use
  private tail = 0; // next free byte
  private used = 0;

  constructor(initialBytes = 64 * 1024, maxBytes = 4 * 1024 * 1024) {
    this.slab = Buffer.allocUnsafe(initialBytes);
    this.maxBytes = maxBytes;
  }

  /** Bytes held. */
  get size(): number {
    return this.used;
  }

  /**
   * Copies `data` in; returns its offset in the slab (valid until it is shifted out), or -1 when
   * the store is full. Entries must be shifted in the order they were pushed.
   */
  push(data: Uint8Array): number {
    const n = data.length;
    if (!this.reserve(n)) return -1;
    if (this.tail + n > this.slab.length) {
      // Does not fit before the end: skip the rest of the slab (counted as used until reached).
      const skipped = this.slab.length - this.tail;
      if (this.used + skipped + n > this.slab.length) {
        if (!this.grow(this.used + skipped + n)) return -1;
        return this.push(data);
      }
      this.used += skipped;
      this.tail = 0;
    }
    const at = this.tail;
    this.slab.set(data, at);
    this.tail += n;
    this.used += n;
    return at;
  }

  /** A view of the bytes stored at `offset` (from `push`). */
  view(offset: number, length: number): Buffer {
    return this.slab.subarray(offset, offset + length);
  }

  /** Releases the oldest entry (which starts at `offset` and is `length` bytes). */
  shift(offset: number, length: number): void {
    if (offset !== this.head) {
      // The writer wrapped before this entry: the skipped end of the slab is released too.
      this.used -= this.slab.length - this.head;
    }
    this.head = offset + length;
    this.used -= length;
    if (this.used === 0) {
      this.head = 0;
      this.tail = 0;
    }
  }

  /** Forgets every entry. */
  clear(): void {
    this.head = 0;
    this.tail = 0;
    this.used = 0;
  }

  private reserve(n: number): boolean {
    if (this.used + n <= this.slab.length) return true;
    return this.grow(this.used + n);
  }

  // Doubles the slab (up to maxBytes) and lays the entries out from offset 0. Only while empty or
  // not wrapped is a plain copy correct; otherwise growing waits for the ring to drain.
  private grow(need: number): boolean {
    if (this.slab.length >= this.maxBytes) return false;
    if (this.used !== 0 && this.tail < this.head) return false;
    let size = this.slab.length;
    while (size < need && size < this.maxBytes) size *= 2;
    size = Math.min(size, this.maxBytes);
    if (size < need) return false;
    const next = Buffer.allocUnsafe(size);
    this.slab.copy(next, this.head, this.head, this.tail);
    this.slab = next;
    return true;
  }
}
