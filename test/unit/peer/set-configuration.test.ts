// RTCPeerConnection.setConfiguration before the first gathering phase (webrtc-pc "set the
// configuration", RFC 8829 §4.1.18): the first setLocalDescription gathers with the new ICE options.
// The 'relay' policy set before it announces no host candidate (with no TURN server, none at all, and
// gathering still completes); set back to 'all', the host candidates are there. Over loopback sockets.
// The TURN cases (restartIce after setConfiguration) are in test/integration/peer-set-configuration-turn.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../../lib/peer/index.js';

const candidates = (pc: RTCPeerConnection): string[] => pc.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));

test("setConfiguration({ iceTransportPolicy: 'relay' }) before setLocalDescription: no host candidate is gathered; 'all' again gathers them", async () => {
  for (const policy of ['relay', 'all'] as const) {
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTransportPolicy: policy === 'relay' ? 'all' : 'relay' });
    try {
      pc.createDataChannel('x');
      pc.setConfiguration({ iceTransportPolicy: policy });
      assert.equal(pc.getConfiguration().iceTransportPolicy, policy);
      await pc.setLocalDescription(await pc.createOffer());
      const deadline = Date.now() + 5000;
      while (pc.iceGatheringState !== 'complete' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(pc.iceGatheringState, 'complete');
      const lines = candidates(pc);
      if (policy === 'relay') assert.deepEqual(lines, [], 'relay only, and no TURN server: nothing announced');
      else assert.ok(lines.length > 0 && lines.every((l) => / typ host/.test(l)), `host candidates: ${lines.join(' | ')}`);
    } finally {
      pc.close();
    }
  }
});
