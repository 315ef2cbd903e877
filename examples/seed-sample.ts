// The seed sample: two peer connections in one process exchange one RTP packet over real UDP
// (ICE, DTLS, SRTP). Run: node --import tsx examples/seed-sample.ts
import { LocalStreamTrack, RTCPeerConnection } from '../lib/peer/index.js';
import { RtpPacket } from '../lib/rtp/rtp-packet.js';

const pc1 = new RTCPeerConnection();
const pc2 = new RTCPeerConnection();

const track = new LocalStreamTrack({ kind: 'audio' });
pc1.addTransceiver(track);

// The remote track arrives with the 'track' event once pc2 applied the offer.
const remoteTrack = new Promise<import('../lib/peer/index.js').MediaStreamTrack>((resolve) => {
  pc2.on('track', (event) => resolve(event.track));
});

// In-process signaling: the descriptions already carry the host candidates.
await pc1.setLocalDescription(await pc1.createOffer());
await pc2.setRemoteDescription(pc1.localDescription!);
await pc2.setLocalDescription(await pc2.createAnswer());
await pc1.setRemoteDescription(pc2.localDescription!);

// No sleep needed: a packet sent before the connection is up is queued and leaves once
// DTLS-SRTP is keyed. `await pc1.connected()` waits for that moment explicitly.
track.send(new RtpPacket({ timestamp: 100, payload: Buffer.from('this is a packet') }));

const packet = await (await remoteTrack).recv();
console.log(`pc2 received: "${packet.payload.toString()}" (ssrc ${packet.ssrc}, pt ${packet.payloadType}, seq ${packet.sequenceNumber})`);

await pc1.connected();
pc1.close();
pc2.close();
