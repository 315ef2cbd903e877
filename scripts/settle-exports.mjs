// The CommonJS build's exports as plain values (scripts/build-js.mjs; tested by
// test/unit/build/settle-exports.test.ts).

/** esbuild's CommonJS export helpers, as it emits them (checked: a change of esbuild's output fails the build). */
const EXPORT_GETTER = '__defProp(target, name, { get: all[name], enumerable: true });';
const COPY_GETTER = '__defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });';
/**
 * Appended to every module with exports: once the module body has run (every function, class and
 * const initialized), each export whose value is defined becomes a read-only data property.
 */
const SETTLE = [
  '',
  '// scripts/build-js.mjs: the exports become plain read-only values once the module has run.',
  '((e) => {',
  '  for (const k of Object.keys(e)) {',
  '    let v;',
  '    try {',
  '      v = e[k];',
  '    } catch {',
  '      continue; // a re-export of a binding still in its temporal dead zone (a load cycle)',
  '    }',
  '    if (v !== void 0) Object.defineProperty(e, k, { value: v, enumerable: true, writable: false, configurable: false });',
  '  }',
  '})(module.exports);',
  '',
].join('\n');

/**
 * esbuild's CommonJS modules export through getters (`__export`), and `module.exports` is a copy
 * whose getters call those getters (`__toCommonJS`): every read of an imported function or class
 * from another module of lib/ is two getter calls in interpreted code, and two inlined accessors in
 * every optimized function's graph. lib/ exports no `let`/`var` (no binding changes after the
 * module ran), so the getters are made configurable and, at the end of the module, replaced by
 * read-only data properties holding the same values: imports become plain property loads (constant
 * for the optimizer). An export still undefined then (a cycle whose other module has not finished
 * loading), or one whose getter throws (a re-exported class or const still in its temporal dead
 * zone), keeps its getter. docs/peer.md "Setup cost".
 */
export function settleExports(js, source, rel) {
  if (!js.includes('__toCommonJS(')) return js;
  if (/^\s*export\s+(let|var)\b/m.test(source)) throw new Error(`${rel}: an exported let/var cannot be settled`);
  for (const helper of [EXPORT_GETTER, COPY_GETTER]) {
    const name = helper === EXPORT_GETTER ? '__export' : '__copyProps';
    if (!js.includes(`var ${name} = `)) continue;
    if (!js.includes(helper)) throw new Error(`${rel}: esbuild's ${name} helper changed; update scripts/build-js.mjs`);
    js = js.replace(helper, helper.replace(' });', ', configurable: true });'));
  }
  return js + SETTLE;
}
