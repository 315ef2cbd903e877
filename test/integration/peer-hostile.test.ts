// Hostile input through the public path (docs/hostile-input.md): garbage, truncated, forged and replayed
// datagrams at a connected RTCPeerConnection's port never throw, never stop the connection, and
// show up in getStats() drop counters by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

interface Drops {
  transport: Record<string, number>;
  ice: Record<string, number>;
  srtp: Record<string, number>;
  media: Record<string, number>;
}

async function drops(pc: RTCPeerConnection): Promise<Drops> {
  const t = [...(await pc.getStats()).values()].find((s) => s.type === 'transport')!;
  return t.pwtDrops as Drops;
}

test('garbage, unauthenticated and forged datagrams are dropped and counted; media keeps flowing', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const attacker = createSocket('udp4');
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    pc1.addTransceiver(audio);
    const remote = new Promise<MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    const track = await within(remote, 5000, 'track');
    const port = Number(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(pc2.localDescription!.sdp)![1]);

    const send = (b: Buffer): Promise<void> => new Promise((r) => attacker.send(b, port, '127.0.0.1', () => r()));
    const rtpLike = new RtpPacket({ payloadType: 111, sequenceNumber: 1, timestamp: 1, ssrc: 5, payload: Buffer.alloc(40, 7) }).serialize();
    await send(Buffer.alloc(0));
    await send(Buffer.from([0x00, 0x01, 0x00, 0x00]));               // truncated STUN
    await send(Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), Buffer.alloc(12)])); // STUN without integrity
    await send(Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]));  // DTLS from an unknown source
    await send(rtpLike);                                                // RTP from an unknown source
    await send(Buffer.from([100, 1, 2, 3]));                            // outside every RFC 7983 range
    for (let i = 0; i < 200; i++) await send(Buffer.from(Array.from({ length: 1 + (i * 37) % 300 }, (_, k) => (i * 131 + k * 17) & 0xff)));
    // Forged SRTP from the authenticated peer address: sent through pc1's own socket.
    const internals = pc1 as unknown as { transport: { localSockets: { socket: { send(d: Uint8Array, p: number, a: string): void } }[] } };
    for (let i = 0; i < 10; i++) internals.transport.localSockets[0]!.socket.send(rtpLike, port, '127.0.0.1');

    audio.send(new RtpPacket({ timestamp: 5, payload: Buffer.from('still here') }));
    for (;;) {
      const p = await within(track.recv(), 5000, 'media after the attack');
      if (p.payload.toString() === 'still here') break;
    }
    const d = await drops(pc2);
    assert.ok(d.transport.unknownFirstByte! >= 2, JSON.stringify(d.transport));
    assert.ok(d.transport.unauthenticatedSource! >= 2, JSON.stringify(d.transport));
    assert.ok(d.transport.srtpRejected! >= 10, JSON.stringify(d.transport));
    assert.ok(d.ice.malformed! + d.ice['no-integrity']! >= 2, JSON.stringify(d.ice));
    assert.equal(pc2.connectionState, 'connected');
  } finally {
    attacker.close();
    pc1.close();
    pc2.close();
  }
});

test('a certificate that does not match the remote fingerprint fails the connection', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const audio = new LocalStreamTrack({ kind: 'audio' });
    const t = pc1.addTransceiver(audio);
    await pc1.setLocalDescription();
    await pc2.setRemoteDescription(pc1.localDescription!);
    await pc2.setLocalDescription();
    // Flip one byte of pc2's fingerprint in the answer pc1 applies.
    const forged = pc2.localDescription!.sdp.replace(/(a=fingerprint:sha-256 )([0-9A-F]{2})/, (_, p: string, b: string) => p + ((parseInt(b, 16) ^ 1).toString(16).toUpperCase().padStart(2, '0')));
    assert.notEqual(forged, pc2.localDescription!.sdp);
    await pc1.setRemoteDescription({ type: 'answer', sdp: forged });
    audio.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('never') }));
    await assert.rejects(within(pc1.connected(), 15_000, 'failure'), (e: Error & { code?: string }) => e.code === 'ERR_PEER_NOT_CONNECTED');
    assert.equal(pc1.connectionState, 'failed');
    assert.match(pc1.failureReason ?? '', /^DTLS failed/);
    const transport = [...(await pc1.getStats()).values()].find((s) => s.type === 'transport')!;
    assert.equal(transport.dtlsState, 'failed');
    assert.equal(t.sender.packetsSent <= 1, true);
  } finally {
    pc1.close();
    pc2.close();
  }
});
