// A restart under iceTransportPolicy 'relay' while the selected pair is on the TcpMux port's passive
// base (lib/transport/ice-transport.ts holdTcpBase; docs/peer.md "setConfiguration"): the base stays
// registered until ICE selects another pair, so the connection in use keeps carrying data (with no
// TURN server the relay generation has no candidate, and the TCP pair goes on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { until, within } from './peer-helpers.js';

test("setConfiguration 'relay' + restart on a connection over the passive TCP port: the pair in use keeps carrying data", { timeout: 60_000 }, async () => {
  const mux = await TcpMux.listen({ address: '127.0.0.1' });
  const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
  const server = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
  try {
    const dc = client.createDataChannel('tcp');
    const channel = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
    await client.setLocalDescription(await client.createOffer());
    await server.setRemoteDescription(client.localDescription!);
    await server.setLocalDescription(await server.createAnswer());
    await client.setRemoteDescription(server.localDescription!);
    await within(Promise.all([client.connected(), server.connected()]), 15_000, 'connected over TCP');
    const sdc = await within(channel, 10_000, 'channel');
    await until(() => dc.readyState === 'open' && sdc.readyState === 'open', 10_000, 'open');
    const roundTrip = async (tag: string): Promise<void> => {
      const atServer = new Promise<string>((r) => sdc.once('message', (e) => r(String(e.data))));
      const atClient = new Promise<string>((r) => dc.once('message', (e) => r(String(e.data))));
      dc.send(`c:${tag}`);
      sdc.send(`s:${tag}`);
      assert.equal(await within(atServer, 10_000, `to server ${tag}`), `c:${tag}`);
      assert.equal(await within(atClient, 10_000, `to client ${tag}`), `s:${tag}`);
    };
    await roundTrip('before');

    server.setConfiguration({ ...server.getConfiguration(), iceTransportPolicy: 'relay' });
    server.restartIce();
    await server.setLocalDescription(await server.createOffer());
    assert.ok(!/typ host/.test(server.localDescription!.sdp), 'the relay generation announces no host candidate');
    await client.setRemoteDescription(server.localDescription!);
    await client.setLocalDescription(await client.createAnswer());
    await server.setRemoteDescription(client.localDescription!);
    await new Promise((r) => setTimeout(r, 500));
    await roundTrip('after the restart');
    assert.equal(server.connectionState, 'connected');
  } finally {
    client.close();
    server.close();
    mux.close();
  }
});
