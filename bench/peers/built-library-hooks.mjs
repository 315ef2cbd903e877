// Module resolve hook for benchmark children that measure the compiled package: every module of
// lib/ resolves to its build in dist/lib (scripts/build-js.mjs: CommonJS, one file per module),
// which is what an installed package runs, for `require` and `import` alike (docs/release.md). Under tsx the sources carry esbuild's keepNames wrappers (a `name` property
// defined on every function, an out-of-object property store per closure), which users never run.
const root = new URL('../../', import.meta.url).href;
const source = `${root}lib/`;
const built = `${root}dist/lib/`;

/**
 * Node's resolve hook: the tsx-resolved URL of a lib/ module, moved to dist/lib. Node reads the
 * CommonJS module's named exports with its CommonJS export scanner (esbuild writes the
 * `0 && (module.exports = {…})` hint it reads), as for the package's own ESM entry files.
 */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(source)) return resolved;
  return { ...resolved, url: `${built}${resolved.url.slice(source.length).replace(/\.ts$/, '.js')}`, format: 'commonjs' };
}
