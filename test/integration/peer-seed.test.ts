// The seed sample (issue 7) over real UDP on loopback through ICE, DTLS and SRTP: one RTP packet
// sent before the connection is up arrives intact; the example script exits by itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { negotiate, within } from './peer-helpers.js';

test('seed sample: a packet sent before connected arrives through ICE+DTLS+SRTP', { timeout: 20_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const track = new LocalStreamTrack({ kind: 'audio' });
    const transceiver = pc1.addTransceiver(track);
    const remote = new Promise<MediaStreamTrack>((resolve) => pc2.on('track', (e) => resolve(e.track)));
    await negotiate(pc1, pc2);
    assert.equal(pc1.signalingState, 'stable');
    assert.equal(pc2.signalingState, 'stable');
    assert.notEqual(pc1.connectionState, 'connected', 'the packet below must be sent before the connection is up');
    track.send(new RtpPacket({ timestamp: 100, payload: Buffer.from('this is a packet') }));
    const remoteTrack = await within(remote, 5000, 'track event');
    assert.equal(remoteTrack.kind, 'audio');
    const packet = await within(remoteTrack.recv(), 10_000, 'recv');
    assert.equal(packet.payload.toString(), 'this is a packet');
    assert.equal(packet.timestamp, 100);
    assert.equal(packet.ssrc, transceiver.sender.ssrc);
    assert.equal(packet.payloadType, transceiver.sender.parameters!.payloadType);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 5000, 'connected');
    assert.equal(pc1.connectionState, 'connected');
    assert.equal(transceiver.currentDirection, 'sendonly');

    // After connected, packets go straight out; the sender fills consecutive sequence numbers.
    track.send(new RtpPacket({ timestamp: 1060, payload: Buffer.from('second') }));
    const second = await within(remoteTrack.recv(), 5000, 'second recv');
    assert.equal(second.payload.toString(), 'second');
    assert.equal(second.sequenceNumber, (packet.sequenceNumber! + 1) & 0xffff);

    const stats2 = await pc2.getStats();
    const inbound = [...stats2.values()].find((s) => s.type === 'inbound-rtp');
    assert.ok(inbound);
    assert.equal(inbound.packetsReceived, 2);
    assert.equal(inbound.ssrc, transceiver.sender.ssrc);
    const stats1 = await pc1.getStats();
    const outbound = [...stats1.values()].find((s) => s.type === 'outbound-rtp');
    assert.equal(outbound?.packetsSent, 2);
    const transport = [...stats1.values()].find((s) => s.type === 'transport');
    assert.equal(transport?.dtlsState, 'connected');
    assert.ok(transport?.selectedCandidatePairId);
    // OpenSSL's retransmissions inside a read are a retransmission count, not a drop.
    assert.equal(typeof transport?.pwtDtlsRetransmitsOnRead, 'number');
    const dtlsDrops = (transport?.pwtDrops as { dtls?: Record<string, number> } | undefined)?.dtls;
    assert.ok(dtlsDrops && typeof dtlsDrops.droppedBacklog === 'number');
    assert.equal('retransmitsOnRead' in dtlsDrops, false);
  } finally {
    pc1.close();
    pc2.close();
  }
});

test('examples/seed-sample.ts prints the packet and the process exits by itself', { timeout: 30_000 }, () => {
  const script = fileURLToPath(new URL('../../examples/seed-sample.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 25_000 });
  assert.equal(r.signal, null, `killed: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /pc2 received: "this is a packet"/);
});
