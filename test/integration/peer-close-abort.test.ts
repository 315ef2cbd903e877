// Closing a peer connection ends the peer's data channels at once (RFC 9260 section 9.1 ABORT with a
// User-Initiated Abort cause, RFC 8831 section 6.7), both ways between two of our peers over real
// loopback UDP and over ICE-TCP (the shared TcpMux port's side too); and a peer that sends only
// close_notify (RFC 5246 section 7.2.1) ends them too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { negotiate, until, within } from './peer-helpers.js';

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

/** Two connected peers with two channels opened by pc1 and seen by pc2. */
async function connectedPair(): Promise<{ pc1: RTCPeerConnection; pc2: RTCPeerConnection; local: RTCDataChannel[]; remote: RTCDataChannel[] }> {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const local = [pc1.createDataChannel('a'), pc1.createDataChannel('b', { ordered: false })];
  const remote: RTCDataChannel[] = [];
  const both = new Promise<void>((resolve) =>
    pc2.on('datachannel', (e) => {
      remote.push(e.channel);
      if (remote.length === 2) resolve();
    }),
  );
  await negotiate(pc1, pc2);
  await within(Promise.all([pc1.connected(), pc2.connected()]), 15_000, 'connected');
  await within(both, 15_000, 'remote channels');
  await within(Promise.all([...local, ...remote].map(opened)), 15_000, 'channels open');
  return { pc1, pc2, local, remote };
}

/** Resolves when every channel fired 'close'; records the 'error' events they fired before. */
function closes(channels: readonly RTCDataChannel[]): { done: Promise<void>; errors: string[] } {
  const errors: string[] = [];
  const done = Promise.all(
    channels.map(
      (c) =>
        new Promise<void>((resolve) => {
          c.on('error', (e) => errors.push(e.error.name));
          c.once('close', () => resolve());
        }),
    ),
  ).then(() => undefined);
  return { done, errors };
}

for (const closer of ['offerer', 'answerer'] as const) {
  test(`the ${closer} closes: the other side's channels close and its association ends by the ABORT`, { timeout: 60_000 }, async () => {
    const { pc1, pc2, local, remote } = await connectedPair();
    try {
      const [closing, other, otherChannels] = closer === 'offerer' ? [pc1, pc2, remote] : [pc2, pc1, local];
      const watched = closes(otherChannels);
      closing.close();
      // Generous: on loopback this takes one datagram; a slow machine still gets there.
      await within(watched.done, 20_000, "the other side's channels close");
      for (const c of otherChannels) assert.equal(c.readyState, 'closed');
      // The ABORT arrived (not a timeout, not only the close_notify): the association says so.
      const ended = other.mediaTransport!.sctp!.association;
      assert.equal(ended.state, 'closed');
      assert.match(ended.closeReason?.reason ?? '', /^peer aborted: USER_INITIATED_ABORT/);
      assert.equal(ended.closeReason?.error, true);
      // An aborted association is an error for the channels it carried (webrtc-pc section 6.2).
      assert.deepEqual(watched.errors, otherChannels.map(() => 'OperationError'));
      assert.equal(other.connectionState, 'connected', 'ICE and DTLS closed count as connected (W3C connectionState)');
    } finally {
      pc1.close();
      pc2.close();
    }
  });
}

test('a peer that sends only close_notify (no ABORT): our channels close with the DTLS transport', { timeout: 60_000 }, async () => {
  const { pc1, pc2, remote } = await connectedPair();
  try {
    const watched = closes(remote);
    // pc1's DTLS closes under a live association: close_notify leaves, no SCTP ABORT before it.
    const t1 = pc1.mediaTransport!;
    t1.dtls!.close();
    t1.drive();
    await within(watched.done, 20_000, "pc2's channels close");
    const ended = pc2.mediaTransport!.sctp!.association;
    await until(() => ended.state === 'closed', 5000, 'association closed');
    assert.match(ended.closeReason?.reason ?? '', /close_notify/);
    assert.equal(ended.closeReason?.error, false);
    assert.deepEqual(watched.errors, []);
    assert.equal(pc2.mediaTransport!.dtls!.state, 'closed');
  } finally {
    pc1.close();
    pc2.close();
  }
});

for (const closer of ['passive', 'active'] as const) {
  test(`over ICE-TCP the ${closer} side closes: the ABORT leaves before the connection does, the other side's channel closes`, { timeout: 60_000 }, async () => {
    const mux = await TcpMux.listen({ address: '127.0.0.1' });
    const client = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], iceTcpActive: true });
    const server = new RTCPeerConnection({ hostAddresses: [], tcpMux: mux });
    try {
      const mine = client.createDataChannel('tcp');
      const theirs = new Promise<RTCDataChannel>((r) => server.once('datachannel', (e) => r(e.channel)));
      await negotiate(client, server);
      await within(Promise.all([client.connected(), server.connected()]), 15_000, 'connected over ICE-TCP');
      assert.equal(server.mediaTransport!.selectedPair?.local.protocol, 'tcp');
      const other = await within(theirs, 15_000, 'channel');
      await within(Promise.all([opened(mine), opened(other)]), 15_000, 'channels open');
      // The passive side's writes of a turn are corked together: closing must not discard them.
      const [closing, remaining, channel] = closer === 'passive' ? [server, client, mine] : [client, server, other];
      const watched = closes([channel]);
      closing.close();
      await within(watched.done, 20_000, "the other side's channel closes");
      assert.match(remaining.mediaTransport!.sctp!.association.closeReason?.reason ?? '', /^peer aborted: USER_INITIATED_ABORT/);
    } finally {
      client.close();
      server.close();
      mux.close();
    }
  });
}
