// The seed sample (README.md "Example: two peers, one RTP packet"): two peer connections in one
// process exchange one RTP packet over real UDP (ICE, DTLS, SRTP).
// Run: node --import tsx examples/seed-sample.ts
import { RTCPeerConnection, LocalStreamTrack, RtpPacket, type MediaStreamTrack } from 'pure-webrtc-transport';

const pc1 = new RTCPeerConnection();
const pc2 = new RTCPeerConnection();
const track = new LocalStreamTrack({ kind: 'audio' });
pc1.addTransceiver(track);
// The remote track arrives with the 'track' event once pc2 applied the offer.
const remote = new Promise<MediaStreamTrack>((resolve) => pc2.on('track', (e) => resolve(e.track)));

// In-process signaling: the descriptions already carry the host candidates.
await pc1.setLocalDescription(await pc1.createOffer());
await pc2.setRemoteDescription(pc1.localDescription!);
await pc2.setLocalDescription(await pc2.createAnswer());
await pc1.setRemoteDescription(pc2.localDescription!);

// Sent before the transport is up: queued, leaves once DTLS-SRTP is keyed (no sleep needed).
track.send(new RtpPacket({ timestamp: 100, payload: Buffer.from('this is a packet') }));
const packet = await (await remote).recv();
console.log(`pc2 received: "${packet.payload.toString()}" (ssrc ${packet.ssrc}, pt ${packet.payloadType}, seq ${packet.sequenceNumber})`);
await pc1.connected(); // resolves once ICE and DTLS are up; rejects if the connection fails or closes
pc1.close();
pc2.close();
