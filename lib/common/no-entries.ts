// The one empty table every not-yet-used per-stream table of a policy module points at, so an idle
// connection holds no empty Map per table (docs/architecture.md, "What a connection costs").

/**
 * A Map that is never written: fields typed `ReadonlyMap` start as this and are replaced by a
 * Map of their own on the first write (the type keeps set/delete/clear off it; the owner compares
 * against this to know whether it has its own yet).
 */
export const NO_ENTRIES: ReadonlyMap<never, never> = new Map<never, never>();
