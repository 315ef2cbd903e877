// A check's retransmission deadline that passes while the check's answer already waits in the
// socket buffer (a busy event loop) does not retransmit: the ICE driver runs a due timer after the
// turn's I/O (docs/ice.md "Driver"), and RFC 8445 §14.3 retransmits only unanswered checks.
// The peer is a bare native socket in this test that answers Binding requests itself, so the
// answer is in the buffer before the loop comes back, and the deadline is passed by a bounded spin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { IceTransport } from '../../lib/transport/ice-transport.js';
import { UdpSocket } from '../../lib/transport/source/udp-socket.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';

const PEER_UFRAG = 'peerufrag';
const PEER_PASSWORD = 'peerpasswordof24charsxyz';
/**
 * The first check's retransmission timeout (the agent's default). Long, so that only the deliberate
 * spin below passes it, not a loop that a loaded machine stalls between a send and the peer's read.
 */
const CHECK_RTO_MS = 500;

function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const tick = (): void => {
      if (cond()) resolve();
      else if (performance.now() - start > ms) reject(new Error(`timeout waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

test('a check answered while the loop was busy past its deadline is not retransmitted', async () => {
  const peer = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1' });
  const ice = new IceTransport({ role: 'controlling', gather: { addresses: ['127.0.0.1'] }, agent: { checkRtoMs: CHECK_RTO_MS } });
  // Transaction ids of the checks the peer read, in order; a retransmission repeats its id.
  const transactions: string[] = [];
  let spun = false;
  try {
    peer.onBatch((batch) => {
      for (let i = 0; i < batch.count; i++) {
        const decoded = StunMessage.decode(batch.data(i));
        if (!decoded.ok || decoded.message.messageClass !== StunClass.Request) continue;
        transactions.push(Buffer.from(decoded.message.transactionId).toString('hex'));
        const from = { address: batch.address(i), port: batch.port(i) };
        const response = new StunMessage(StunMethod.Binding, StunClass.SuccessResponse, decoded.message.transactionId)
          .addAddress(StunAttr.XorMappedAddress, from)
          .encode({ integrityKey: Buffer.from(PEER_PASSWORD), fingerprint: true });
        peer.send(response, from.port, from.address);
        // On loopback the answer is in the transport's socket buffer when flush() returns.
        peer.flush();
        if (spun) continue;
        spun = true;
        // Keep the loop busy until the first check's retransmission is due (and a few ms more, the
        // shared ICE timer may run a deadline up to 5 % of its distance late): when the loop comes
        // back, Node runs its timers before it reads sockets.
        const due = performance.now() + CHECK_RTO_MS * 1.1 + 5;
        while (performance.now() < due) {
          // busy on purpose
        }
      }
    });
    const port = peer.address().port;
    ice.setRemoteParameters({ usernameFragment: PEER_UFRAG, password: PEER_PASSWORD });
    ice.addRemoteCandidate(`candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`);
    await ice.gather();
    await until(() => ice.state === 'connected' || ice.state === 'completed', 10_000, 'ICE connected');
    assert.ok(spun, 'the peer answered a check');
    // Only the first check's transaction is asserted on: its deadline passed in the spin while its
    // answer waited in the buffer. Later checks (the nomination) may be retransmitted on a machine
    // that stalls the loop for more than an RTO, which is not what this test is about.
    const first = transactions[0];
    assert.equal(transactions.filter((t) => t === first).length, 1, 'the first check was not retransmitted');
  } finally {
    ice.close();
    peer.close();
  }
});
