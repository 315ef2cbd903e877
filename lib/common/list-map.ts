// Array.prototype.map/filter for the once-per-connection paths (negotiation, SDP), with arrays
// whose shape does not depend on the caller's tier (docs/peer.md "Setup cost").
//
// V8 (Node 20) makes the result of `map` PACKED in the interpreter's builtin and HOLEY when
// TurboFan inlined the call, and an empty `filter` result differs the same way: code that reads
// such an array and was optimized while the producer ran interpreted deopts ("wrong map") the
// first time the producer runs optimized, and TurboFan compiles the reader again. An array made by
// a literal and push has one map in every tier.
//
// The same paths walk arrays with indexed loops rather than for-of: a for-of loop is an implicit
// try/finally (the iterator is closed on an abrupt exit), and TurboFan gives every call in its body
// an exception edge; measured with --turbo-stats on a function of three loops with calls, the
// for-of form took about twice the compile time and zone memory of the indexed one.

/** `list.map(fn)`, built by push. */
export function mapList<T, U>(list: readonly T[], fn: (item: T, index: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < list.length; i++) out.push(fn(list[i]!, i));
  return out;
}

/** `list.filter(keep)`, built by push. */
export function filterList<T>(list: readonly T[], keep: (item: T) => boolean): T[] {
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) if (keep(list[i]!)) out.push(list[i]!);
  return out;
}
