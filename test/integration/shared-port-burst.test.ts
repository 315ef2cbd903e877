// A burst of joins on one shared UDP port (UdpMux, the SFU server mode) while the event loop is kept
// busy on purpose, as on a loaded machine (issue 14): every pair connects. The shared socket must read
// a full batch per recvmmsg round even though datagrams from hundreds of sources never coalesce under
// UDP_GRO (native/udp/udp_gro_receiver.cpp; docs/udp.md "GRO"), otherwise the port falls seconds behind
// and the checks' answers come after the checks gave up. Real sockets on loopback, real DTLS-SRTP;
// bounded in count and time, no timing asserts. Before the fix all 300 pairs failed here; after, ~2 s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { UdpMux } from '../../lib/transport/source/udp-mux.js';
import { within } from './peer-helpers.js';

const PAIRS = 300;
/** The event loop is blocked this long at every turn of the burst (a small share of a busy machine). */
const BUSY_MS = 60;

test(`${PAIRS} pairs at once through one UdpMux port while the event loop is busy: every pair connects`, { timeout: 90_000 }, async () => {
  const mux = await UdpMux.bind({ address: '127.0.0.1' });
  const pcs: RTCPeerConnection[] = [];
  const busy = setInterval(() => {
    const end = performance.now() + BUSY_MS;
    while (performance.now() < end);
  }, 1);
  try {
    const outcomes = await Promise.allSettled(
      Array.from({ length: PAIRS }, async (_, i) => {
        // Offerers own their sockets: one 5-tuple per connection, as browsers joining a server.
        const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
        const server = new RTCPeerConnection({ udpMux: mux });
        pcs.push(client, server);
        client.addTransceiver('audio');
        await client.setLocalDescription(await client.createOffer());
        await server.setRemoteDescription(client.localDescription!);
        await server.setLocalDescription(await server.createAnswer());
        await client.setRemoteDescription(server.localDescription!);
        try {
          await within(Promise.all([client.connected(), server.connected()]), 60_000, `pair ${i} connected`);
        } catch (err) {
          throw new Error(`pair ${i}: client ICE ${client.iceConnectionState} (${client.failureReason ?? '-'}), server ICE ${server.iceConnectionState} (${server.failureReason ?? '-'}): ${String(err)}`);
        }
      }),
    );
    clearInterval(busy);
    const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${PAIRS} pairs did not connect`);
    const stats = mux.stats;
    assert.equal(stats.transports, PAIRS);
    // Every datagram the port read went to a connection (the one exception: none here).
    assert.equal(stats.drops['unknown-ufrag'], 0);
    assert.ok(stats.datagramsReceived >= PAIRS, 'the port received the checks and handshakes');
  } finally {
    clearInterval(busy);
    for (const pc of pcs) pc.close();
    mux.close();
  }
});
