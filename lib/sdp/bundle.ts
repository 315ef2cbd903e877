// BUNDLE groups (RFC 8843): which m-sections share a transport, and which one is each group's tag.
import type { SdpMediaSection, SdpSessionDescription } from './model.js';

/** The first `a=group:BUNDLE` containing `mid`, or undefined. */
export function bundleGroupOf(desc: SdpSessionDescription, mid: string): string[] | undefined {
  for (let i = 0; i < desc.groups.length; i++) {
    const g = desc.groups[i]!;
    if (g.semantics === 'BUNDLE' && g.mids.includes(mid)) return g.mids;
  }
  return undefined;
}

/** Every BUNDLE group's mid list, in order. */
export function bundleGroups(desc: SdpSessionDescription): string[][] {
  // Built by push, not filter/map (lib/common/list-map.ts).
  const groups: string[][] = [];
  for (let i = 0; i < desc.groups.length; i++) {
    const g = desc.groups[i]!;
    if (g.semantics === 'BUNDLE') groups.push(g.mids);
  }
  return groups;
}

/** True when an m-section is rejected: port 0 without `a=bundle-only` (RFC 8843 §6, RFC 3264 §6). */
export function isRejected(section: SdpMediaSection): boolean {
  return section.port === 0 && !section.bundleOnly;
}

/** The m-section with `mid`, or undefined. */
export function sectionByMid(desc: SdpSessionDescription, mid: string): SdpMediaSection | undefined {
  return desc.media.find((m) => m.mid === mid);
}
