// Storage for packets the pacer module holds (docs/policy.md, "Pacer"): fixed-size slots in
// slabs allocated on demand and reused through a free list, so holding a packet allocates nothing
// per packet once the store has grown to the queue's size.

/** A pool of byte slots; `push` returns a slot id, or -1 when the packet is too big or the pool is full. */
export class PacketStore {
  private readonly slabs: Buffer[] = [];
  private free: Int32Array;
  private freeCount = 0;
  private slots = 0;
  private inUse = 0;

  constructor(
    /** Largest packet a slot holds (default 1500 bytes, an Ethernet MTU). */
    readonly slotBytes = 1500,
    private readonly slotsPerSlab = 64,
    /** Bound on held packets (default 8192: ~12 MB). */
    private readonly maxSlots = 8192,
  ) {
    this.free = new Int32Array(Math.min(maxSlots, slotsPerSlab));
  }

  /** Packets held. */
  get size(): number {
    return this.inUse;
  }

  /** Copies `data` into a free slot and returns its id, or -1 (too big, or the pool is full). */
  push(data: Uint8Array): number {
    if (data.length > this.slotBytes) return -1;
    if (this.freeCount === 0 && !this.grow()) return -1;
    const slot = this.free[--this.freeCount]!;
    const slab = this.slabs[(slot / this.slotsPerSlab) | 0]!;
    slab.set(data, (slot % this.slotsPerSlab) * this.slotBytes);
    this.inUse++;
    return slot;
  }

  /** A view of the `length` bytes stored in `slot` (valid until the slot is released). */
  view(slot: number, length: number): Buffer {
    const start = (slot % this.slotsPerSlab) * this.slotBytes;
    return this.slabs[(slot / this.slotsPerSlab) | 0]!.subarray(start, start + length);
  }

  /** Returns a slot to the pool. */
  release(slot: number): void {
    this.free[this.freeCount++] = slot;
    this.inUse--;
  }

  /** Returns every slot to the pool. */
  clear(): void {
    this.freeCount = 0;
    for (let s = this.slots - 1; s >= 0; s--) this.free[this.freeCount++] = s;
    this.inUse = 0;
  }

  private grow(): boolean {
    if (this.slots + this.slotsPerSlab > this.maxSlots) return false;
    this.slabs.push(Buffer.allocUnsafe(this.slotsPerSlab * this.slotBytes));
    if (this.free.length < this.slots + this.slotsPerSlab) {
      const next = new Int32Array(Math.min(this.maxSlots, Math.max(this.free.length * 2, this.slots + this.slotsPerSlab)));
      next.set(this.free.subarray(0, this.freeCount));
      this.free = next;
    }
    for (let s = this.slots + this.slotsPerSlab - 1; s >= this.slots; s--) this.free[this.freeCount++] = s;
    this.slots += this.slotsPerSlab;
    return true;
  }
}
