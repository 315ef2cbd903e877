// One soak cycle shared by the UdpMux and TcpMux soaks: two connections negotiate audio + a data
// channel, one RTP packet and one data-channel message must arrive, then both close.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCConfiguration, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';

setFlagsFromString('--expose-gc');
/** V8's collector, for snapshots taken after a full GC. */
export const gc = runInNewContext('gc') as () => void;

/** `p`, or a rejection naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

/** Cycle `n` between a client and a server built from these configurations; throws when something did not arrive. */
export async function soakCycle(clientConfig: RTCConfiguration, serverConfig: RTCConfiguration, n: number): Promise<void> {
  const client = new RTCPeerConnection(clientConfig);
  const server = new RTCPeerConnection(serverConfig);
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    client.addTransceiver(audio, { direction: 'sendonly' });
    const dc = client.createDataChannel('soak');
    const track = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
    const channel = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 10_000, `cycle ${n} connected`);
    audio.send(new RtpPacket({ timestamp: 960, payload: Buffer.from(`soak ${n}`) }));
    const p = await within((await within(track, 5000, `cycle ${n} track`)).recv(), 5000, `cycle ${n} RTP`);
    assert.equal(p.payload.toString(), `soak ${n}`);
    const rc = await within(channel, 10_000, `cycle ${n} data channel`);
    const msg = new Promise<unknown>((r) => rc.once('message', (e) => r(e.data)));
    if (dc.readyState !== 'open') await within(new Promise((r) => dc.once('open', r)), 5000, `cycle ${n} open`);
    dc.send(`m${n}`);
    assert.equal(await within(msg, 5000, `cycle ${n} message`), `m${n}`);
  } finally {
    client.close();
    server.close();
  }
}
