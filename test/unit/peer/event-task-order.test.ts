// webrtc-pc fires icecandidate, negotiationneeded and track as queued tasks: each task ends with a
// microtask checkpoint, so what one event's listener queues runs before the next event fires, also
// across connections (lib/peer/peer-connection.ts queueEventTask).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RTCPeerConnection } from '../../../lib/index.js';

describe('queued event tasks', () => {
  it("a listener's microtasks run before the next connection's negotiationneeded", async () => {
    const log: string[] = [];
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    try {
      const both = new Promise<void>((resolve) => {
        a.onnegotiationneeded = () => {
          log.push('A');
          queueMicrotask(() => log.push('A-micro'));
        };
        b.onnegotiationneeded = () => {
          log.push('B');
          queueMicrotask(() => {
            log.push('B-micro');
            resolve();
          });
        };
      });
      a.createDataChannel('x');
      b.createDataChannel('y');
      await Promise.race([both, new Promise((_, reject) => setTimeout(() => reject(new Error('no negotiationneeded within 5 s')), 5000).unref())]);
      assert.deepEqual(log, ['A', 'A-micro', 'B', 'B-micro']);
    } finally {
      a.close();
      b.close();
    }
  });

  it("an icecandidate listener's awaited work runs before the next candidate's event", async () => {
    const pc = new RTCPeerConnection({ hostAddresses: ['127.0.0.1', '::1'] });
    const log: string[] = [];
    try {
      const done = new Promise<void>((resolve) => {
        pc.onicecandidate = (e) => {
          const name = e.candidate ? 'candidate' : 'end';
          log.push(name);
          void Promise.resolve().then(() => {
            log.push(`${name}-after`);
            if (!e.candidate) resolve();
          });
        };
      });
      pc.createDataChannel('x');
      await pc.setLocalDescription(await pc.createOffer());
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('no end of candidates within 5 s')), 5000).unref())]);
      assert.ok(log.length >= 4, `expected at least one candidate and the end: ${log.join(' ')}`);
      for (let i = 0; i < log.length; i += 2) assert.equal(log[i + 1], `${log[i]}-after`, log.join(' '));
    } finally {
      pc.close();
    }
  });
});
