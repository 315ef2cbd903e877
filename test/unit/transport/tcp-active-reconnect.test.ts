// Our active ICE-TCP side reconnects (RFC 6544 §5.1, §7.2; docs/ice.md "ICE-TCP", "Our active side
// reconnects"): two of our own peer connections over loopback ICE-TCP only (the answerer has only the
// passive candidate of a TcpMux port); the passive side resets the TCP connection mid-session (its
// socket destroyed with an RST). The active side opens a new connection within the passive side's
// grace (disconnectedTimeoutMs), checks and nominates the pair again, and audio and data-channel
// messages keep flowing both ways on the same DTLS, SCTP and SRTP state, SRTP still native.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCDataChannel } from '../../../lib/peer/index.js';
import { RtpPacket } from '../../../lib/rtp/rtp-packet.js';
import { TcpMux } from '../../../lib/transport/source/tcp-mux.js';
import { until, within } from '../../integration/peer-helpers.js';

/** The passive port's connections (internal), to reset one as a dropped NAT binding would. */
function muxSockets(mux: TcpMux): Socket[] {
  const connections = (mux as unknown as { connections: Map<unknown, { socket: Socket }> }).connections;
  return [...connections.values()].map((c) => c.socket);
}

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

test('the passive side resets the TCP connection: our active side reconnects within the grace, media and data keep flowing', { timeout: 90_000 }, async (t) => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  const server = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
  try {
    const up = new LocalStreamTrack({ kind: 'audio' });
    client.addTransceiver(up, { direction: 'sendrecv' });
    const mine = client.createDataChannel('numbers');
    const upRemote = new Promise<MediaStreamTrack>((r) => server.once('track', (e) => r(e.track)));
    const downRemote = new Promise<MediaStreamTrack>((r) => client.once('track', (e) => r(e.track)));
    const theirsP = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    const down = new LocalStreamTrack({ kind: 'audio' });
    server.addTrack(down);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 20_000, 'connected over ICE-TCP');
    const theirs = await within(theirsP, 10_000, 'data channel');
    await within(Promise.all([opened(mine), opened(theirs)]), 10_000, 'channels open');
    const upTrack = await within(upRemote, 10_000, 'up track');
    const downTrack = await within(downRemote, 10_000, 'down track');
    assert.equal(client.mediaTransport!.selectedPair!.local.protocol, 'tcp');

    // Numbered messages both ways, the whole time (every 20 ms), and what arrived, in order.
    const toServer: number[] = [];
    const toClient: number[] = [];
    theirs.on('message', (e) => toServer.push(Number(e.data)));
    mine.on('message', (e) => toClient.push(Number(e.data)));
    let n = 0;
    const sending = setInterval(() => {
      n++;
      if (mine.readyState === 'open') mine.send(String(n));
      if (theirs.readyState === 'open') theirs.send(String(n));
    }, 20);
    try {
      await until(() => toServer.length >= 10 && toClient.length >= 10, 10_000, 'messages before the reset');
      const states: string[] = [];
      client.on('iceconnectionstatechange', () => states.push(client.iceConnectionState));
      const clientIce = client.mediaTransport!.ice;
      const srtpBefore = { ...client.mediaTransport!.srtpCounters };
      const sockets = muxSockets(mux);
      assert.equal(sockets.length, 1);
      const resetAt = performance.now();
      sockets[0]!.resetAndDestroy();

      // Disconnected (the pair failed at once), then connected again over a new connection, within the
      // passive side's grace for a reconnection (disconnectedTimeoutMs, 7.5 s; bounded loosely for load).
      await until(() => states.includes('disconnected'), 10_000, 'the client sees the reset');
      const up2 = (state: string | undefined): boolean => state === 'connected' || state === 'completed';
      await until(() => up2(client.iceConnectionState) && up2(server.iceConnectionState) && up2(states.at(-1)), 15_000, 'reconnected');
      const tookMs = performance.now() - resetAt;
      t.diagnostic(`reset -> connected again in ${tookMs.toFixed(0)} ms`);
      assert.equal(clientIce.stats.tcpReconnects, 1);
      assert.equal(mux.stats.connectionsAccepted, 2, 'one new TCP connection');
      assert.equal(client.mediaTransport!.selectedPair!.local.protocol, 'tcp');
      assert.equal(server.mediaTransport!.selectedPair!.local.protocol, 'tcp');

      // Data keeps flowing both ways, in order, on the same SCTP association (reliable: nothing lost).
      const sentAtReconnect = n;
      await until(() => toServer.at(-1)! > sentAtReconnect + 10 && toClient.at(-1)! > sentAtReconnect + 10, 20_000, 'messages after the reconnect');
      assert.deepEqual(toServer, toServer.map((_, i) => i + 1), 'client → server in order, none missing');
      assert.deepEqual(toClient, toClient.map((_, i) => i + 1), 'server → client in order, none missing');
      assert.equal(mine.readyState, 'open');
      assert.equal(theirs.readyState, 'open');

      // Media both ways on the same SRTP contexts, protected natively on the new connection.
      for (let k = 0; k < 5; k++) up.send(new RtpPacket({ timestamp: 960 * (k + 100), payload: Buffer.from(`up after ${k}`) }));
      for (let k = 0; k < 5; k++) {
        const p = await within(upTrack.recv(), 5000, `up RTP ${k}`);
        if (!p.payload.toString().startsWith('up after')) k--;
      }
      down.send(new RtpPacket({ timestamp: 96_000, payload: Buffer.from('down after') }));
      let got = '';
      for (let k = 0; k < 20 && got !== 'down after'; k++) got = (await within(downTrack.recv(), 5000, 'down RTP')).payload.toString();
      assert.equal(got, 'down after');
      const srtp = client.mediaTransport!.srtpCounters;
      assert.ok(srtp.protectedNatively - srtpBefore.protectedNatively >= 5, JSON.stringify(srtp));
      assert.equal(srtp.protectedInJs - srtpBefore.protectedInJs, 0);
      assert.equal(client.connectionState, 'connected');
      assert.equal(server.connectionState, 'connected');
      assert.ok(tookMs < 15_000, `reconnected in ${tookMs.toFixed(0)} ms`);
    } finally {
      clearInterval(sending);
    }
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
