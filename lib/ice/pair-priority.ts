// Candidate-pair priority (RFC 8445 §6.1.2.3) in Numbers: the 64-bit value kept exactly as two
// halves, high * 2^32 + low, so forming, sorting and comparing pairs makes no BigInt (docs/ice.md).

/** A pair priority as two exact halves; the value is `priorityHigh * 2^32 + priorityLow`. */
export interface PairPriority {
  /** The upper half: MIN(G,D) plus the carry of the lower half; at most 2^32. */
  priorityHigh: number;
  /** The lower half, 0 ≤ low < 2^32. */
  priorityLow: number;
}

const TWO_32 = 0x1_0000_0000;

/**
 * Writes the priority of a pair (RFC 8445 §6.1.2.3: 2^32 MIN(G,D) + 2 MAX(G,D) + (G>D ? 1 : 0),
 * with G the controlling agent's candidate priority and D the controlled one's) into `into`.
 * Candidate priorities are integers in [0, 2^32), so every intermediate is an exact double
 * (2 MAX + 1 < 2^34).
 */
export function setPairPriority(into: PairPriority, controllingPriority: number, controlledPriority: number): void {
  const g = controllingPriority;
  const d = controlledPriority;
  const min = g < d ? g : d;
  const max = g < d ? d : g;
  const sum = 2 * max + (g > d ? 1 : 0);
  const carry = sum >= TWO_32 ? 1 : 0;
  into.priorityHigh = min + carry;
  into.priorityLow = sum - carry * TWO_32;
}

/** Orders two pair priorities: negative when `a` is lower, positive when higher, 0 when equal. */
export function comparePairPriority(a: PairPriority, b: PairPriority): number {
  return a.priorityHigh !== b.priorityHigh ? a.priorityHigh - b.priorityHigh : a.priorityLow - b.priorityLow;
}
