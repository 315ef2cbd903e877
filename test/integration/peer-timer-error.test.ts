// An exception from a DTLS/SCTP deadline's work (the SCTP association's handleTimeout, run from the
// peer transport's deferred timer) is reported as a process warning, not thrown into the event loop,
// and the timer keeps running (docs/peer.md "Setup cost"). The deadline used is the receiver's
// delayed SACK (RFC 9260 §6.2) after a data-channel message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, type RTCDataChannel } from '../../lib/peer/index.js';
import { negotiate, within, until } from './peer-helpers.js';


test('an SCTP handleTimeout that throws on a timer wake is reported and the timer keeps running', { timeout: 40_000 }, async () => {
  const a = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const b = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => {
    if (w.code === 'PWT_LISTENER_ERROR') warnings.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    const channel = a.createDataChannel('timer');
    const remote = new Promise<RTCDataChannel>((resolve) => b.addEventListener('datachannel', (e) => resolve(e.channel)));
    await negotiate(a, b);
    await within(Promise.all([a.connected(), b.connected()]), 20_000, 'connected');
    const bChannel = await within(remote, 20_000, 'the remote channel');
    if (channel.readyState !== 'open') await within(new Promise<void>((r) => channel.once('open', () => r())), 20_000, 'open');
    let received = 0;
    bChannel.on('message', () => received++);
    const sctp = b.mediaTransport!.sctp!;
    const original = sctp.handleTimeout.bind(sctp);
    let threw = false;
    let callsAfterThrow = 0;
    sctp.handleTimeout = (now: number): void => {
      if (!threw) {
        threw = true;
        throw new Error('handleTimeout failed on purpose');
      }
      callsAfterThrow++;
      original(now);
    };
    channel.send('first');
    await until(() => threw, 10_000, 'a timer wake that throws');
    // More messages: each needs a SACK, delayed ones on the receiver's timer.
    for (let i = 0; i < 5; i++) {
      channel.send(`after ${i}`);
      await until(() => received >= 2 + i, 10_000, `message ${i} after the throw`);
    }
    await until(() => callsAfterThrow > 0, 10_000, 'a timer wake after the throw');
    assert.ok(warnings.some((m) => m.includes('handleTimeout failed on purpose')), 'the exception is reported as a warning');
  } finally {
    process.off('warning', onWarning);
    a.close();
    b.close();
  }
});
