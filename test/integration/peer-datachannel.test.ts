// Data channels through RTCPeerConnection (RFC 8831/8832, RFC 8841): pre-negotiated channels with
// an explicit id, stream-id parity by DTLS role, the remote a=max-message-size enforced with a typed
// error (never truncated), 256 KiB messages, closing by stream reset, unordered/partial channels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { negotiate, within } from './peer-helpers.js';

function message(channel: RTCDataChannel): Promise<unknown> {
  return new Promise((resolve) => channel.once('message', (e) => resolve(e.data)));
}

function opened(channel: RTCDataChannel): Promise<void> {
  return channel.readyState === 'open' ? Promise.resolve() : new Promise((r) => channel.once('open', () => r()));
}

test('data channels: negotiated ids, id parity, max-message-size, 256 KiB, close', { timeout: 30_000 }, async () => {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'], maxMessageSize: 300 * 1024 });
  try {
    const negotiated1 = pc1.createDataChannel('pre', { negotiated: true, id: 7 });
    const negotiated2 = pc2.createDataChannel('pre', { negotiated: true, id: 7 });
    const reliable = pc1.createDataChannel('reliable');
    const lossy = pc1.createDataChannel('lossy', { ordered: false, maxRetransmits: 0 });
    const remote = new Map<string, RTCDataChannel>();
    const both = new Promise<void>((resolve) => {
      pc2.on('datachannel', (e) => {
        remote.set(e.channel.label, e.channel);
        if (remote.size === 2) resolve();
      });
    });
    await negotiate(pc1, pc2);
    await within(Promise.all([pc1.connected(), pc2.connected()]), 10_000, 'connected');
    await within(Promise.all([opened(negotiated1), opened(negotiated2), opened(reliable), opened(lossy), both]), 10_000, 'channels open');
    assert.equal(negotiated1.id, 7);
    // pc2 answered a=setup:active: it is the DTLS client and pc1, the server, uses odd ids (RFC 8832 §6).
    assert.equal(reliable.id! % 2, 1);
    assert.equal(lossy.id! % 2, 1);
    assert.equal(remote.get('lossy')!.ordered, false);
    assert.equal(remote.get('lossy')!.maxRetransmits, 0);

    const before = [...(await pc1.getStats()).values()].find((x) => x.type === 'data-channel' && x.dataChannelIdentifier === 7)!;
    assert.equal(before.label, 'pre');
    assert.equal(before.state, 'open');
    const pre = message(negotiated2);
    negotiated1.send('over a pre-negotiated channel');
    assert.equal(await within(pre, 5000, 'negotiated message'), 'over a pre-negotiated channel');
    const afterSend = [...(await pc1.getStats()).values()].find((x) => x.type === 'data-channel' && x.dataChannelIdentifier === 7)!;
    assert.equal(afterSend.messagesSent, 1);
    assert.equal(afterSend.bytesSent, 'over a pre-negotiated channel'.length);

    // pc2 announced max-message-size 300 KiB: 256 KiB passes intact, 300 KiB + 1 is refused with a typed error.
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const r = remote.get('reliable')!;
    r.binaryType = 'nodebuffer';
    const got = message(r);
    reliable.send(big);
    assert.deepEqual(await within(got, 10_000, '256 KiB'), big);
    assert.throws(() => reliable.send(Buffer.alloc(300 * 1024 + 1)), (e: Error & { code?: string }) => e.name === 'TypeError' && /MESSAGE_TOO_LARGE|MAX_MESSAGE/.test(e.code ?? ''));
    assert.equal(reliable.readyState, 'open');

    // Closing resets the stream: the remote channel closes too.
    const closed = new Promise<void>((resolve) => r.once('close', () => resolve()));
    reliable.close();
    await within(closed, 5000, 'remote close');
    assert.equal(r.readyState, 'closed');
    const stats = [...(await pc1.getStats()).values()].find((s) => s.type === 'peer-connection')!;
    assert.equal(stats.dataChannelsOpened, 3);
  } finally {
    pc1.close();
    pc2.close();
  }
});
