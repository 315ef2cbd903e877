// The probes' reading of a V8 sampling heap profile (HeapProfiler.stopSampling): bytes sampled in
// all, and by allocation site (the allocating function and its two callers).

/** One node of the sampled call tree, as the inspector returns it. */
export interface SampledNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: SampledNode[] }

/**
 * Total sampled bytes and bytes per site; a site is its three innermost frames, innermost first,
 * each `function file` (paths from lib/ on), with `:line` when `withLine`.
 */
export function allocationSites(head: SampledNode, withLine: boolean): { total: number; sites: Map<string, number> } {
  let total = 0;
  const sites = new Map<string, number>();
  const walk = (n: SampledNode, stack: string[]): void => {
    const f = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*\/lib\//, 'lib/')}${withLine ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    const s = [...stack, f];
    if (n.selfSize) {
      total += n.selfSize;
      const key = s.slice(-3).reverse().join(' < ');
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, s);
  };
  walk(head, []);
  return { total, sites };
}
