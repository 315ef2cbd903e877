// lib/sfu tells the library's own policy modules (markLibraryPolicy) from the application's: a copy
// or a wrapper an application makes of a library module is the application's module.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isLibraryPolicy, markLibraryPolicy, type RtpPolicy } from '../../../lib/peer/rtp-policy.js';

it('the library mark is own and not copied by a spread or inherited by Object.create', () => {
  const module = markLibraryPolicy({ name: 'library-module' } as unknown as RtpPolicy);
  assert.equal(isLibraryPolicy(module), true);
  assert.equal(isLibraryPolicy({ ...module }), false);
  assert.equal(isLibraryPolicy(Object.create(module) as RtpPolicy), false);
  assert.deepEqual(Object.getOwnPropertySymbols({ ...module }), []);
  assert.equal(isLibraryPolicy({ name: 'application-module' } as unknown as RtpPolicy), false);
});
