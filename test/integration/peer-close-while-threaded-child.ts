// Child of peer-close-while-threaded.test.ts, run with PWT_TEST_HANDSHAKE_THREAD_DELAY_MS so the
// handshake thread is slow: the DTLS server is closed while its thread holds the client's last
// flight (the work that connects it and makes its Finished); prints each round as one JSON line.
import { RTCPeerConnection } from '../../lib/peer/index.js';
import { negotiate, until } from './peer-helpers.js';

const rounds: { closedWhileAwaiting: boolean }[] = [];
for (let round = 0; round < 3; round++) {
  const pcs = [new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] }), new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] })] as const;
  try {
    pcs[0].createDataChannel('x');
    await negotiate(pcs[0], pcs[1]);
    const dtls = (i: number) => pcs[i]!.mediaTransport?.dtls;
    // The client has sent its last flight (its ClientHello was one datagram) and waits; the server
    // holding work now holds that flight. On a machine too slow to see that window, the server is
    // closed once connected (the round says so).
    let server = -1;
    let awaiting = false;
    await until(() => {
      for (const i of [0, 1]) {
        const own = dtls(i);
        const peer = dtls(1 - i);
        if (own?.role !== 'server' || !peer) continue;
        const flight3Sent = peer.stats().datagramsOut >= 2 && !peer.awaitingHandshakeThread;
        if (own.awaitingHandshakeThread && flight3Sent && own.state === 'connecting') {
          awaiting = true;
          server = i;
        } else if (own.state === 'connected') server = i;
      }
      return server !== -1;
    }, 30_000, 'the server holding the last flight or connected');
    pcs[server]!.close();
    await until(() => dtls(1 - server)?.state === 'closed', 15_000, "the client's DTLS closed by close_notify");
    rounds.push({ closedWhileAwaiting: awaiting });
  } finally {
    pcs[0].close();
    pcs[1].close();
  }
}
console.log(JSON.stringify({ rounds }));
