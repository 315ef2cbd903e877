// addTransceiver's init from JavaScript callers: `null` for streams or sendEncodings means none,
// as `undefined` does (the forms reshaped for the optimizer must keep accepting it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../../lib/peer/index.js';

test('addTransceiver: streams and sendEncodings given as null are taken as none', () => {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const init = { streams: null, sendEncodings: null } as unknown as Parameters<RTCPeerConnection['addTransceiver']>[1];
    const t = pc.addTransceiver('audio', init);
    assert.equal(t.kind, 'audio');
    const withStream = pc.addTransceiver('video', { streams: ['s1'] });
    assert.equal(withStream.kind, 'video');
  } finally {
    pc.close();
  }
});
