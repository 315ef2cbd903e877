// Data channels over real sockets: our SCTP over our DTLS over our UDP socket on loopback
// (RFC 8261 SCTP over DTLS), two of our endpoints, with and without zero checksum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { UdpDtlsPair } from './udp-dtls-pair.js';
import type { RTCDataChannel } from '../../../lib/sctp/data-channel.js';

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

for (const zeroChecksum of [false, true]) {
  test(`over DTLS/UDP loopback${zeroChecksum ? ' with zero checksum' : ''}: open, 4 MB intact, strings, close`, { timeout: 30_000 }, async () => {
    const pair = new UdpDtlsPair({ zeroChecksum, remoteMaxMessageSize: 256 * 1024 });
    try {
      const ch = pair.a.createDataChannel('bulk');
      const remote = await within(new Promise<RTCDataChannel>((r) => pair.b.once('datachannel', (e) => r(e.channel))), 10_000, 'datachannel');
      assert.equal(pair.a.association.zeroChecksumInUse, zeroChecksum);
      remote.binaryType = 'nodebuffer';
      const total = 4 * 1024 * 1024;
      const source = createHash('sha512').update('seed').digest();
      const chunk = Buffer.alloc(64 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = source[i % source.length]! ^ (i >> 8);
      const hashSent = createHash('sha256');
      const hashGot = createHash('sha256');
      let got = 0;
      const strings: string[] = [];
      const done = new Promise<void>((resolve) => {
        remote.onmessage = (ev) => {
          if (typeof ev.data === 'string') {
            strings.push(ev.data);
            return;
          }
          hashGot.update(ev.data as Buffer);
          got += (ev.data as Buffer).length;
          if (got === total) resolve();
        };
      });
      ch.bufferedAmountLowThreshold = 256 * 1024;
      let sent = 0;
      const pump = (): void => {
        while (sent < total && ch.bufferedAmount < 1024 * 1024) {
          hashSent.update(chunk);
          ch.send(chunk);
          sent += chunk.length;
        }
      };
      ch.onbufferedamountlow = pump;
      ch.send('first');
      pump();
      ch.send('last');
      await within(done, 20_000, 'transfer');
      assert.equal(hashGot.digest('hex'), hashSent.digest('hex'));
      const closed = new Promise<void>((r) => remote.once('close', () => r()));
      ch.close();
      await within(closed, 10_000, 'close');
      assert.deepEqual(strings, ['first', 'last']);
      assert.equal(ch.readyState, 'closed');
    } finally {
      pair.close();
    }
  });
}
