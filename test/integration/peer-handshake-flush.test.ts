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
    let seen: { handed: number; sent: number; role: string | undefined } | undefined;
    a.addEventListener('connectionstatechange', () => {
      if (a.connectionState !== 'connected' || seen) return;
      const t = a.mediaTransport!;
      const ice = t.ice.stats;
      // Every datagram this side handed to its socket: STUN checks (and retransmissions), STUN
      // responses and DTLS records (the handshake only, SCTP has not started yet).
      const handed = ice.checksSent + ice.retransmissions + ice.responsesSent + ice.consentChecksSent + t.dtls!.stats().datagramsOut;
      const sent = t.localSockets.reduce((n, s) => n + s.socket.stats.packetsSent, 0);
      seen = { handed, sent, role: t.dtls?.role };
    });
    await negotiate(a, b);
    await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected');
    assert.ok(seen, 'the offerer reported connected');
    // The offerer answers actpass with the answerer active: it is the DTLS server and sends the last flight.
    assert.equal(seen.role, 'server');
    assert.equal(seen.sent, seen.handed, 'nothing waits in the socket when the connected listeners run');
  } finally {
    a.close();
    b.close();
  }
});
