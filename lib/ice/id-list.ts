// An insertion-ordered list of entries keyed by a small integer `id`, for the few STUN
// transactions an ICE agent has open at a time (RFC 8489 §6.2, RFC 8445 §7.2.5). Unlike a Map,
// which shrinks its table when it empties and regrows it on the next entry, it allocates nothing
// while entries come and go, and it is walked by index (no iterator objects): an idle connection
// opens and closes one consent transaction every few seconds (docs/architecture.md, idle allocation).

/** Entries in insertion order; ids are unique within the list. */
export class IdList<T extends { readonly id: number }> {
  /**
   * Slots [0, count) hold the entries; the array keeps its length when entries leave (freed slots
   * hold undefined), so the next entry needs no new backing store. It grows by doubling from 2
   * slots, not by push (17 slots, 152 bytes, for the one or two transactions an idle agent has).
   */
  private entries: (T | undefined)[] = [];
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** Entry `i` in insertion order (0 <= i < size). */
  at(i: number): T {
    return this.entries[i]!;
  }

  /** The entry with `id`, if any. */
  get(id: number): T | undefined {
    const e = this.entries;
    for (let i = 0; i < this.count; i++) if (e[i]!.id === id) return e[i];
    return undefined;
  }

  /** True when an entry has `id`. */
  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  /** Appends `entry`, replacing an entry of the same id. */
  set(entry: T): void {
    this.delete(entry.id);
    if (this.count === this.entries.length) {
      const grown = new Array<T | undefined>(Math.max(2, this.count * 2)).fill(undefined);
      for (let i = 0; i < this.count; i++) grown[i] = this.entries[i];
      this.entries = grown;
    }
    this.entries[this.count] = entry;
    this.count++;
  }

  /** Removes the entry with `id`; true when there was one. Later entries keep their order. */
  delete(id: number): boolean {
    const e = this.entries;
    for (let i = 0; i < this.count; i++) {
      if (e[i]!.id !== id) continue;
      for (let j = i + 1; j < this.count; j++) e[j - 1] = e[j];
      e[--this.count] = undefined;
      return true;
    }
    return false;
  }

  /** Removes every entry (the slots stay, emptied). */
  clear(): void {
    for (let i = 0; i < this.count; i++) this.entries[i] = undefined;
    this.count = 0;
  }
}
