// formatFmtp (RFC 8866 §6.15 `key=value;...`): written from the parameter keys in their order, a
// key whose value is '' alone; parseFmtp reads it back to the same parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFmtp, parseFmtp } from '../../../lib/sdp/fmtp.js';

test('formatFmtp writes keys in order, a valueless key alone, and parseFmtp reads it back', () => {
  assert.equal(formatFmtp({}), '');
  assert.equal(formatFmtp({ minptime: '10', useinbandfec: '1' }), 'minptime=10;useinbandfec=1');
  assert.equal(formatFmtp({ '111/111': '' }), '111/111');
  assert.equal(formatFmtp({ a: '1', '0-16': '', b: '' }), 'a=1;0-16;b');
  const odd = parseFmtp('__proto__=x;apt=96');
  assert.equal(formatFmtp(odd), '__proto__=x;apt=96');
  for (const text of ['minptime=10;useinbandfec=1', 'profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1', '111/111', 'apt=96']) {
    assert.equal(formatFmtp(parseFmtp(text)), text);
    assert.deepEqual(parseFmtp(formatFmtp(parseFmtp(text))), parseFmtp(text));
  }
});
