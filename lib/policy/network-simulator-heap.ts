// A binary min-heap of in-flight datagrams ordered by delivery time, then by send order, for the
// network simulator (docs/policy.md, "Network simulator"): O(log n) insert and removal.

/** An entry the heap orders: earlier `deliverAt` first, ties by `order`. */
export interface HeapEntry {
  deliverAt: number;
  order: number;
}

/** Min-heap of entries by (deliverAt, order). */
export class DeliveryHeap<T extends HeapEntry> {
  private readonly items: T[] = [];

  /** Number of entries. */
  get size(): number {
    return this.items.length;
  }

  /** The earliest entry without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Inserts an entry. */
  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }

  /** Removes and returns the earliest entry. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}

function before(x: HeapEntry, y: HeapEntry): boolean {
  return x.deliverAt < y.deliverAt || (x.deliverAt === y.deliverAt && x.order < y.order);
}
