// Packaging smoke test through the ESM entry points (import): prints smoke-run.cjs's result
// plus the files the entry points resolved to, as one JSON line; exit 0 only when ok.
import * as pwt from 'pure-webrtc-transport';
import * as media from 'pure-webrtc-transport/media';
import run from './smoke-run.cjs';

const result = await run(pwt, media);
const entries = [import.meta.resolve('pure-webrtc-transport'), import.meta.resolve('pure-webrtc-transport/media')];
console.log(JSON.stringify({ ...result, format: 'esm', entries }));
process.exit(result.ok ? 0 : 1);
