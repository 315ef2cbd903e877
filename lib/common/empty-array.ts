// Emptying a reused list without giving up its storage (docs/architecture.md, "Idle allocation").

/**
 * Empties `list` and keeps its backing store: `list.length = 0` makes V8 drop the store, so the next
 * push allocates a new one (measured: 5M push + `length = 0` cycles ran 742 scavenges, with pops 9).
 * For the small per-batch and per-tick lists of the receive path and the timers.
 */
export function emptyArray(list: unknown[]): void {
  while (list.length > 0) list.pop();
}
