// The addon in use was built from the sources in this tree (never a stale binary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../../lib/native/addon.js';
// @ts-expect-error plain ESM script without types
import { nativeSourceHash } from '../../scripts/source-hash.mjs';

test('the loaded addon was built from the current native sources', () => {
  const addon = loadAddon();
  assert.equal(addon.sourceHash, (nativeSourceHash as () => string)(), 'stale native build: run npm run build:native');
});

test('the addon was compiled against OpenSSL 3 headers', () => {
  assert.match(loadAddon().opensslHeaders, /OpenSSL 3\./);
});
