// ICE-TCP between two of our peer connections (RFC 6544, RFC 4571 framing): the answerer has only
// the passive candidate of a shared TcpMux port (no UDP at all), the offerer announces active TCP
// candidates and connects to it. Several connections share the one listening port; each carries
// audio both ways and a data channel, and closing a connection closes its TCP connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { within } from './peer-helpers.js';

const CONNECTIONS = 4;

interface StatsEntry {
  type: string;
  id: string;
  protocol?: string;
  tcpType?: string;
  selectedCandidatePairId?: string;
  localCandidateId?: string;
  remoteCandidateId?: string;
}

async function selectedProtocols(pc: RTCPeerConnection): Promise<string> {
  const stats = (await pc.getStats()) as unknown as Map<string, StatsEntry>;
  const transport = [...stats.values()].find((s) => s.type === 'transport');
  const pair = transport?.selectedCandidatePairId ? stats.get(transport.selectedCandidatePairId) : undefined;
  if (!pair?.localCandidateId || !pair.remoteCandidateId) return 'none';
  const local = stats.get(pair.localCandidateId);
  return `${local?.protocol}/${stats.get(pair.remoteCandidateId)?.protocol}${local?.tcpType ? ` ${local.tcpType}` : ''}`;
}

async function connectOverTcp(mux: TcpMux, i: number): Promise<void> {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  const server = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
  try {
    const up = new LocalStreamTrack({ kind: 'audio' });
    client.addTransceiver(up, { direction: 'sendrecv' });
    const dc = client.createDataChannel('tcp');
    const upRemote = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
    const downRemote = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
    const channel = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
    await client.setLocalDescription(await client.createOffer());
    assert.match(client.localDescription!.sdp, /a=candidate:\S+ 1 tcp \d+ 127\.0\.0\.1 9 typ host tcptype active\r\n/);
    await server.setRemoteDescription(client.localDescription!);
    const down = new LocalStreamTrack({ kind: 'audio' });
    server.addTrack(down);
    await server.setLocalDescription(await server.createAnswer());
    const candidates = server.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
    assert.deepEqual(candidates.map((l) => / tcp .* tcptype passive$/.test(l)), [true]);
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 15_000, `pair ${i} connected`);
    assert.equal(await selectedProtocols(client), 'tcp/tcp active');
    assert.equal(await selectedProtocols(server), 'tcp/tcp passive');

    up.send(new RtpPacket({ timestamp: 960, payload: Buffer.from(`up ${i}`) }));
    const gotUp = await within((await within(upRemote, 5000, 'up track')).recv(), 5000, `up RTP ${i}`);
    assert.equal(gotUp.payload.toString(), `up ${i}`);
    // A burst sent in one event-loop turn: protected and framed together natively, one write, and
    // split and unprotected natively per TCP read — never one native SRTP call per packet.
    const upTrack = await upRemote;
    const before = { client: { ...client.mediaTransport!.srtpCounters }, server: { ...server.mediaTransport!.srtpCounters } };
    const BURST = 50;
    for (let k = 0; k < BURST; k++) up.send(new RtpPacket({ timestamp: 960 * (k + 2), payload: Buffer.from(`burst ${i} ${k}`) }));
    for (let k = 0; k < BURST; k++) assert.equal((await within(upTrack.recv(), 5000, `burst ${k}`)).payload.toString(), `burst ${i} ${k}`);
    const c = client.mediaTransport!.srtpCounters;
    const sv = server.mediaTransport!.srtpCounters;
    // The active side protects and frames natively at flush too (docs/udp.md "TCP framing").
    assert.equal(c.protectedNatively - before.client.protectedNatively, BURST);
    assert.equal(c.protectedInJs - before.client.protectedInJs, 0);
    assert.equal(c.jsBatchCalls - before.client.jsBatchCalls, 0);
    // The passive port splits frames and unprotects natively, in the read batch (docs/udp.md "TCP framing").
    assert.equal(sv.unprotectedInJs - before.server.unprotectedInJs, 0);
    assert.equal(sv.unprotectedNatively - before.server.unprotectedNatively, BURST);
    assert.equal(sv.jsBatchCalls - before.server.jsBatchCalls, 0);
    down.send(new RtpPacket({ timestamp: 960, payload: Buffer.from(`down ${i}`) }));
    const gotDown = await within((await within(downRemote, 5000, 'down track')).recv(), 5000, `down RTP ${i}`);
    assert.equal(gotDown.payload.toString(), `down ${i}`);
    // Sent on the passive port: protected and framed natively at flush; unprotected natively in the
    // active side's read batch.
    assert.ok(server.mediaTransport!.srtpCounters.protectedNatively >= 1);
    assert.equal(server.mediaTransport!.srtpCounters.protectedInJs, 0);
    assert.equal(client.mediaTransport!.srtpCounters.unprotectedInJs - before.client.unprotectedInJs, 0);
    assert.ok(client.mediaTransport!.srtpCounters.unprotectedNatively - before.client.unprotectedNatively >= 1);

    const rc = await within(channel, 10_000, `data channel ${i}`);
    const msg = new Promise<unknown>((r) => rc.once('message', (e) => r(e.data)));
    if (dc.readyState !== 'open') await within(new Promise((r) => dc.once('open', r)), 5000, 'open');
    // Larger than one TCP segment on loopback's MTU path: framing across chunks.
    const big = 'x'.repeat(60_000) + i;
    dc.send(big);
    assert.equal(await within(msg, 5000, `message ${i}`), big);
  } finally {
    client.close();
    server.close();
  }
}

test(`${CONNECTIONS} connections over ICE-TCP only, all on one passive TcpMux port: RTP both ways, data channel`, { timeout: 60_000 }, async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  t.after(() => mux.close());
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => connectOverTcp(mux, i)));
  const s = mux.stats;
  assert.equal(s.connectionsAccepted, CONNECTIONS);
  assert.equal(s.routedByUfrag, CONNECTIONS);
  assert.equal(s.transports, 0);
  // Every frame was split natively; each pair's 51 RTP packets up were unprotected in the read batch.
  assert.equal(s.framesSplitNatively, s.framesReceived);
  assert.ok(s.srtpUnprotected >= CONNECTIONS * 51, `unprotected natively: ${s.srtpUnprotected}`);
  assert.ok(s.srtpProtected >= CONNECTIONS, `protected natively: ${s.srtpProtected}`);
  assert.equal(s.srtpRejected, 0);
  await within((async () => {
    while (mux.stats.connectionsOpen > 0) await new Promise((r) => setTimeout(r, 20));
  })(), 5000, 'TCP connections closed with their peer connections');
  assert.deepEqual(Object.entries(s.drops).filter(([, n]) => n > 0), []);
});

test('ICE-TCP is offered only when asked for: no TCP candidate by default, and a TcpMux attached after gathering is refused', async (t) => {
  const plain = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  t.after(() => plain.close());
  plain.createDataChannel('x');
  await plain.setLocalDescription(await plain.createOffer());
  const lines = plain.localDescription!.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
  assert.ok(lines.length > 0 && lines.every((l) => / udp /.test(l)), lines.join('\n'));
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  t.after(() => mux.close());
  const { IceTransport } = await import('../../lib/transport/ice-transport.js');
  const ice = new IceTransport({ gather: { addresses: ['127.0.0.1'] } });
  t.after(() => ice.close());
  await ice.gather();
  assert.throws(() => mux.attach(ice), { name: 'InvalidStateError', code: 'ERR_ICE_GATHERED' });
  mux.close();
  const late = new IceTransport();
  t.after(() => late.close());
  assert.throws(() => mux.attach(late), { name: 'InvalidStateError', code: 'ERR_MUX_CLOSED' });
});
