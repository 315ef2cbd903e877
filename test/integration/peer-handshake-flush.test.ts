// The DTLS handshake's last flight (the server's ChangeCipherSpec + Finished) has left the socket
// when the 'connected' listeners run: the transport sends a handshake flight at once instead of at
// the end of the event-loop turn, so a peer in another process gets it without waiting for this
// side's SRTP keying, state listeners and SCTP start (docs/peer.md "Setup cost").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { negotiate, within } from './peer-helpers.js';

test('the server\'s Finished has left the socket when its connected listeners run', { timeout: 30_000 }, async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  try {
    a.addTransceiver('audio');
    let seen: { queued: number; dtlsOut: number; role: string | undefined } | undefined;
    a.addEventListener('connectionstatechange', () => {
      if (a.connectionState !== 'connected' || seen) return;
      const t = a.mediaTransport!;
      // What still waits in this side's send pools: flushing them here sends exactly that (counted
      // sent, or queued natively if the kernel refuses). Agent counters are not compared: a STUN
      // response is counted when the agent queues it, and the transport hands it to the socket
      // after the DTLS records of the same read batch, so it is not in a pool yet.
      let queued = 0;
      for (const { socket } of t.localSockets) {
        const before = socket.stats;
        socket.flush();
        const after = socket.stats;
        queued += after.packetsSent + after.sendQueued - before.packetsSent - before.sendQueued;
      }
      seen = { queued, dtlsOut: t.dtls!.stats().datagramsOut, role: t.dtls?.role };
    });
    await negotiate(a, b);
    await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected');
    assert.ok(seen, 'the offerer reported connected');
    // The offerer answers actpass with the answerer active: it is the DTLS server and sends the last flight.
    assert.equal(seen.role, 'server');
    assert.ok(seen.dtlsOut > 0, 'the server sent its handshake flights');
    assert.equal(seen.queued, 0, 'nothing waits in the socket when the connected listeners run');
  } finally {
    a.close();
    b.close();
  }
});
