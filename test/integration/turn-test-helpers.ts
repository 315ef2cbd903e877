// Shared setup of the TURN relay tests (RFC 8656; docs/udp.md "TURN channels"): two connections of
// ours with an audio track each way, trickled candidates, offer/answer and both connected; bounded
// polling for a condition; tagged audio sent both ways in small batches.
import { LocalStreamTrack, type MediaStreamTrack, type RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { within } from './peer-helpers.js';

export { until } from './peer-helpers.js';

export interface AudioBothWaysOptions {
  /** The side whose candidates trickle to the other (the relay-only one: its relay candidate comes late). */
  trickleFrom: 'client' | 'server';
  /** Bound on both sides connecting. */
  connectMs: number;
  /** Runs once the tracks are set up, before the offer (e.g. to create a data channel). */
  beforeOffer?: () => void;
}

export interface AudioBothWays {
  /** Sent by the client. */
  up: LocalStreamTrack;
  /** Sent by the server (added before its answer). */
  down: LocalStreamTrack;
  /** The server's track of `up`. */
  upRemote: Promise<MediaStreamTrack>;
  /** The client's track of `down`. */
  downRemote: Promise<MediaStreamTrack>;
}

/** `client` offers a sendrecv audio track, `server` answers with one of its own; both connected within `connectMs`. */
export async function connectAudioBothWays(client: RTCPeerConnection, server: RTCPeerConnection, options: AudioBothWaysOptions): Promise<AudioBothWays> {
  const up = new LocalStreamTrack({ kind: 'audio' });
  client.addTransceiver(up, { direction: 'sendrecv' });
  const upRemote = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
  const downRemote = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
  options.beforeOffer?.();
  const [from, to] = options.trickleFrom === 'client' ? [client, server] : [server, client];
  from.onicecandidate = (e) => void to.addIceCandidate({ candidate: e.candidate?.candidate ?? '' }).catch(() => undefined);
  await client.setLocalDescription(await client.createOffer());
  await server.setRemoteDescription(client.localDescription!);
  const down = new LocalStreamTrack({ kind: 'audio' });
  server.addTrack(down);
  await server.setLocalDescription(await server.createAnswer());
  await client.setRemoteDescription(server.localDescription!);
  await within(Promise.all([client.connected(), server.connected()]), options.connectMs, 'connected over the relay');
  return { up, down, upRemote, downRemote };
}

/** Sends `n` packets each way tagged `up i` and `down i`, pausing 5 ms after every 20 so the relay's UDP buffers on loopback do not overflow. */
export async function sendBothWays(up: LocalStreamTrack, down: LocalStreamTrack, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    up.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`up ${i}`) }));
    down.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.from(`down ${i}`) }));
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
}
