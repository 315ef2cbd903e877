// ICE-lite (RFC 8445 §2.5): a connection configured with iceLite writes a=ice-lite and is always
// controlled; a full peer facing it takes the controlling role, as offerer or as answerer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

for (const liteOffers of [false, true]) {
  test(`ICE-lite ${liteOffers ? 'offerer' : 'answerer'} connects to a full agent`, { timeout: 20_000 }, async () => {
    const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceLite: liteOffers });
    const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceLite: !liteOffers });
    try {
      const audio = new LocalStreamTrack({ kind: 'audio' });
      pc1.addTransceiver(audio);
      const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
      await negotiate(pc1, pc2);
      const lite = liteOffers ? pc1 : pc2;
      const full = liteOffers ? pc2 : pc1;
      assert.match(lite.localDescription!.sdp, /a=ice-lite/);
      assert.doesNotMatch(full.localDescription!.sdp, /a=ice-lite/);
      await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
      const roleOf = async (pc: RTCPeerConnection): Promise<unknown> => [...(await pc.getStats()).values()].find((s) => s.type === 'transport')!.iceRole;
      assert.equal(await roleOf(lite), 'controlled');
      assert.equal(await roleOf(full), 'controlling');
      audio.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('lite') }));
      const p = await within((await within(remote, 5000, 'track')).recv(), 5000, 'rtp');
      assert.equal(p.payload.toString(), 'lite');
    } finally {
      pc1.close();
      pc2.close();
    }
  });
}
