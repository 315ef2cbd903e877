// Child of peer-stream-after-connected-threaded.test.ts, run with the DTLS handshake thread on and
// slowed (PWT_TEST_HANDSHAKE_THREAD_DELAY_MS): each side streams from the moment it is connected —
// RTP on a video track from its 'connected' state change, and ordered reliable data-channel
// messages from the channel's open — while the other side's engine may still have work on the
// thread (docs/dtls.md "Handshake thread", Home). Prints one JSON line per round.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, until, within } from './peer-helpers.js';

const RTP_PACKETS = 120;
const MESSAGES = 300;

interface Side {
  pc: RTCPeerConnection;
  video: LocalStreamTrack;
  channel: RTCDataChannel;
  rtpSent: number;
  /** Whether the other side's DTLS still had work on the thread when this side started streaming. */
  peerAwaitingAtStart: boolean;
  rtp: string[];
  messages: string[];
}

function side(name: string): Side {
  const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const video = new LocalStreamTrack({ kind: 'video' });
  pc.addTransceiver(video, { direction: 'sendrecv' });
  // Negotiated (RFC 8832 §6 not used): both ends have it at once, it opens with the association.
  const channel = pc.createDataChannel(`stream-${name}`, { negotiated: true, id: 1, ordered: true });
  return { pc, video, channel, rtpSent: 0, peerAwaitingAtStart: false, rtp: [], messages: [] };
}

function stream(from: Side, to: Side, name: string): void {
  from.pc.on('connectionstatechange', () => {
    if (from.pc.connectionState !== 'connected' || from.rtpSent > 0) return;
    from.peerAwaitingAtStart = to.pc.mediaTransport?.dtls?.awaitingHandshakeThread ?? false;
    for (let n = 0; n < RTP_PACKETS; n++) {
      from.video.send(new RtpPacket({ timestamp: n * 3000, marker: true, payload: Buffer.from(`${name} rtp ${n}`) }));
      from.rtpSent++;
    }
  });
  from.channel.on('open', () => {
    for (let n = 0; n < MESSAGES; n++) from.channel.send(`${name} message ${n}`);
  });
  to.channel.on('message', (e) => to.messages.push(String(e.data)));
}

async function drain(track: MediaStreamTrack, into: string[], count: number): Promise<void> {
  while (into.length < count) into.push((await track.recv()).payload.toString());
}

const rounds: { rtp: number[]; messages: number[]; inOrder: boolean; peerAwaitingAtStart: boolean[]; droppedBacklog: number[]; handshakeThread: string[] }[] = [];
for (let round = 0; round < 3; round++) {
  const a = side('a');
  const b = side('b');
  try {
    const tracks = [a, b].map((s) => new Promise<MediaStreamTrack>((resolve) => s.pc.on('track', (e) => resolve(e.track))));
    stream(a, b, 'a');
    stream(b, a, 'b');
    await negotiate(a.pc, b.pc);
    await within(Promise.all([a.pc.connected(), b.pc.connected()]), 30_000, 'connected');
    const [trackAtA, trackAtB] = await within(Promise.all(tracks), 10_000, 'tracks');
    await within(Promise.all([drain(trackAtB!, b.rtp, RTP_PACKETS), drain(trackAtA!, a.rtp, RTP_PACKETS)]), 30_000, 'every RTP packet').catch((e: Error) => {
      throw new Error(`${e.message}: ${b.rtp.length} at b, ${a.rtp.length} at a; peer awaiting at start ${a.peerAwaitingAtStart} ${b.peerAwaitingAtStart}; ${JSON.stringify([a, b].map((s) => s.pc.mediaTransport?.dropStats()))}`);
    });
    await until(() => a.messages.length >= MESSAGES && b.messages.length >= MESSAGES, 30_000, 'every message');
    const expected = (name: string): string[] => Array.from({ length: MESSAGES }, (_, n) => `${name} message ${n}`);
    const sortedRtp = (got: string[], name: string): boolean =>
      JSON.stringify([...got].sort()) === JSON.stringify(Array.from({ length: RTP_PACKETS }, (_, n) => `${name} rtp ${n}`).sort());
    rounds.push({
      rtp: [b.rtp.length, a.rtp.length],
      messages: [b.messages.length, a.messages.length],
      // Ordered reliable messages in order (RFC 8831 §6.6); RTP: each packet once (loopback, no loss).
      inOrder: JSON.stringify(b.messages) === JSON.stringify(expected('a')) && JSON.stringify(a.messages) === JSON.stringify(expected('b')) &&
        sortedRtp(b.rtp, 'a') && sortedRtp(a.rtp, 'b'),
      peerAwaitingAtStart: [a.peerAwaitingAtStart, b.peerAwaitingAtStart],
      droppedBacklog: [a, b].map((s) => s.pc.mediaTransport?.dtls?.stats().droppedBacklog ?? -1),
      handshakeThread: [a, b].map((s) => s.pc.mediaTransport?.dtls?.handshakeThread ?? 'none'),
    });
  } finally {
    a.pc.close();
    b.pc.close();
  }
}
console.log(JSON.stringify({ rounds }));
