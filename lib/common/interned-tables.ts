// Read-only tables that many connections build with the same entries (a negotiation's header
// extension ids, clock rates, RTCP feedback), shared: every connection of one kind of negotiation
// points at one table instead of keeping its own, 150-190 bytes each (docs/architecture.md "What a
// connection costs"). The cache is bounded: once full, a new table is kept by its owner as before.

/** How many distinct tables of each shape are kept. */
const LIMIT = 64;

const maps = new Map<string, ReadonlyMap<string | number, number>>();
const sets = new Map<string, ReadonlySet<string>>();

/**
 * The shared table with the entries of `table`, in its order (or `table` itself, which becomes the
 * shared one, or is returned unshared when the cache is full). The caller must never write to
 * `table` afterwards: it is typed read-only from here on.
 */
export function internMap<K extends string | number>(table: Map<K, number>): ReadonlyMap<K, number> {
  // Each key length-prefixed, so no two tables share a cache key whatever their strings hold.
  let key = '';
  table.forEach((value, k) => {
    const text = String(k);
    key += `${typeof k === 'number' ? 'n' : 's'}${text.length}:${text}=${value};`;
  });
  const known = maps.get(key);
  if (known !== undefined) return known as ReadonlyMap<K, number>;
  if (maps.size < LIMIT) maps.set(key, table);
  return table;
}

/** {@link internMap} for a set of strings. */
export function internSet(table: Set<string>): ReadonlySet<string> {
  let key = '';
  table.forEach((value) => {
    key += `${value.length}:${value}`;
  });
  const known = sets.get(key);
  if (known !== undefined) return known;
  if (sets.size < LIMIT) sets.set(key, table);
  return table;
}
