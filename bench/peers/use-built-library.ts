// `--import` this after tsx to run a benchmark child against the compiled package (dist/lib)
// instead of the TypeScript sources; see built-library-hooks.mjs.
import { register } from 'node:module';

register('./built-library-hooks.mjs', import.meta.url);
