// Packaging smoke test through the CommonJS entry points (require): prints smoke-run.cjs's
// result plus the files the entry points resolved to, as one JSON line; exit 0 only when ok.
'use strict';
const pwt = require('pure-webrtc-transport');
const media = require('pure-webrtc-transport/media');
const run = require('./smoke-run.cjs');

run(pwt, media).then((result) => {
  const entries = [require.resolve('pure-webrtc-transport'), require.resolve('pure-webrtc-transport/media')];
  console.log(JSON.stringify({ ...result, format: 'cjs', entries }));
  process.exit(result.ok ? 0 : 1);
}, (err) => {
  console.log(JSON.stringify({ ok: false, format: 'cjs', error: String(err && err.stack || err) }));
  process.exit(1);
});
