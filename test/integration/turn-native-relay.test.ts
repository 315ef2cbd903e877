// Media over a TURN relay (a real coturn) on the native route: once the channel to the peer is
// bound (RFC 8656 §11) the client's host socket (UDP) strips and writes the ChannelData header
// (§12.4) and does SRTP inside its batches (docs/udp.md "TURN channels"); over TCP the stream's
// native reader unframes the padded ChannelData (§12.5) and unprotects in the same call per read,
// and sends are protected and framed at flush (docs/udp.md "TCP framing"). No relayed media packet
// costs a JavaScript call of its own. Counters, not timing, show which way the packets went.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../lib/peer/index.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { coturnSkip, startCoturn, type Coturn } from './coturn.js';
import { within } from './peer-helpers.js';
import { connectAudioBothWays, sendBothWays, until } from './turn-test-helpers.js';

let turn: Coturn | undefined;
before(async () => {
  if (!coturnSkip) turn = await startCoturn();
});
after(() => turn?.close());

/** Reads `n` distinct payloads tagged `tag` from a track. */
async function collect(track: MediaStreamTrack, tag: string, n: number): Promise<void> {
  const seen = new Set<string>();
  while (seen.size < n) {
    const p = await track.recv();
    assert.match(p.payload.toString(), new RegExp(`^${tag} \\d+$`));
    seen.add(p.payload.toString());
  }
}

for (const transport of ['udp', 'tcp'] as const) {
test(`media both ways over a TURN/${transport.toUpperCase()} relay: ChannelData and SRTP in the native batch, no JavaScript per packet`, { timeout: 60_000, skip: coturnSkip }, async () => {
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceServers: [turn!.iceServer(transport)], iceTransportPolicy: 'relay' });
  const server = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    let channel!: RTCDataChannel;
    let remote!: Promise<string>;
    const { up, down, upRemote, downRemote } = await connectAudioBothWays(client, server, {
      trickleFrom: 'client',
      connectMs: 20_000,
      beforeOffer: () => {
        channel = client.createDataChannel('relay');
        remote = new Promise<string>((resolve) => server.once('datachannel', (e) => e.channel.once('message', (m) => resolve(String(m.data)))));
      },
    });
    const ct = client.mediaTransport!;
    assert.equal(ct.selectedPair?.local.type, 'relay');
    // The channel is bound by the ICE checks' first Send indication; wait for the route it opens.
    await until(() => ct.relayRouted, 10_000, 'the native TURN channel route');
    const [ut, dt] = [await within(upRemote, 5000, 'up track'), await within(downRemote, 5000, 'down track')];

    const socket = ct.localSockets[0]!.socket;
    const before = { srtp: { ...ct.srtpCounters }, js: { ...ct.iceDriverStats.relayedMediaInJs }, udp: socket.stats, stream: ct.turnStreamStats };
    const N = 200;
    const all = Promise.all([within(collect(ut, 'up', N), 15_000, 'up media'), within(collect(dt, 'down', N), 15_000, 'down media')]);
    await sendBothWays(up, down, N);
    await all;
    const after = { srtp: ct.srtpCounters, js: ct.iceDriverStats.relayedMediaInJs, udp: socket.stats, stream: ct.turnStreamStats };

    // The relayed side: every media packet was framed, unframed, protected and unprotected natively.
    assert.equal(after.js.sent - before.js.sent, 0, `relayed media framed in JS: ${JSON.stringify(after.js)}`);
    assert.equal(after.js.received - before.js.received, 0, `relayed media unframed in JS: ${JSON.stringify(after.js)}`);
    assert.equal(after.srtp.protectedInJs - before.srtp.protectedInJs, 0, JSON.stringify(after.srtp));
    assert.equal(after.srtp.unprotectedInJs - before.srtp.unprotectedInJs, 0, JSON.stringify(after.srtp));
    assert.ok(after.srtp.protectedNatively - before.srtp.protectedNatively >= N, JSON.stringify(after.srtp));
    assert.ok(after.srtp.unprotectedNatively - before.srtp.unprotectedNatively >= N, JSON.stringify(after.srtp));
    if (transport === 'udp') {
      assert.ok(after.udp.channelDataSent - before.udp.channelDataSent >= N, `channelDataSent ${after.udp.channelDataSent}`);
      assert.ok(after.udp.channelDataReceived - before.udp.channelDataReceived >= N, `channelDataReceived ${after.udp.channelDataReceived}`);
      assert.equal(after.udp.drops.channelData, 0);
    } else {
      assert.ok(after.stream.relayedSent - before.stream.relayedSent >= N, JSON.stringify(after.stream));
      assert.ok(after.stream.relayedReceived - before.stream.relayedReceived >= N, JSON.stringify(after.stream));
      assert.equal(after.stream.sendDrops, 0);
      assert.equal(after.stream.broken, 0);
    }
    // The host side keeps its own native route.
    const s = server.mediaTransport!.srtpCounters;
    assert.equal(s.unprotectedInJs + s.protectedInJs, 0, 'the host side keeps the native route');

    // The rest of the connection still works through the same TURN channel (DTLS/SCTP stay in JS).
    if (channel.readyState !== 'open') await within(new Promise((r) => channel.once('open', r)), 10_000, 'data channel open');
    channel.send('through the relay');
    assert.equal(await within(remote, 10_000, 'data channel message'), 'through the relay');
  } finally {
    client.close();
    server.close();
  }
});
}

test('a connection on a shared UdpMux port allocates on TURN/UDP from a socket of its own; its relayed media takes the native channel route', { timeout: 60_000, skip: coturnSkip }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  // The server side is on the shared port and relay-only; the client has own sockets.
  const server = new RTCPeerConnection({ udpMux: mux, iceServers: [turn!.iceServer('udp')], iceTransportPolicy: 'relay' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    const { up, down, upRemote, downRemote } = await connectAudioBothWays(client, server, { trickleFrom: 'server', connectMs: 20_000 });
    const st = server.mediaTransport!;
    assert.equal(st.selectedPair?.local.type, 'relay', 'the shared-port connection sends through its TURN allocation');
    assert.ok(!server.localDescription!.sdp.includes(` ${mux.local.port} typ host`), 'the relay policy announces no host candidate of the port');
    await until(() => st.relayRouted, 10_000, 'the native TURN channel route');
    const [ut, dt] = [await within(upRemote, 5000, 'up track'), await within(downRemote, 5000, 'down track')];
    const before = { srtp: { ...st.srtpCounters }, js: { ...st.iceDriverStats.relayedMediaInJs } };
    const N = 100;
    const all = Promise.all([within(collect(ut, 'up', N), 15_000, 'up media'), within(collect(dt, 'down', N), 15_000, 'down media')]);
    await sendBothWays(up, down, N);
    await all;
    const after = { srtp: st.srtpCounters, js: st.iceDriverStats.relayedMediaInJs };
    assert.equal(after.js.sent - before.js.sent, 0, JSON.stringify(after.js));
    assert.equal(after.js.received - before.js.received, 0, JSON.stringify(after.js));
    assert.equal(after.srtp.protectedInJs - before.srtp.protectedInJs, 0);
    assert.equal(after.srtp.unprotectedInJs - before.srtp.unprotectedInJs, 0);
    assert.ok(after.srtp.protectedNatively - before.srtp.protectedNatively >= N);
    assert.ok(after.srtp.unprotectedNatively - before.srtp.unprotectedNatively >= N);
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
