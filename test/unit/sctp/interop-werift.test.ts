// Interoperability of our SCTP association with another implementation: werift's SCTP (a
// TypeScript RFC 4960 stack) joined to ours by an in-memory transport (no DTLS), both roles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SctpAssociation } from '../../../lib/sctp/association.js';
import type { SctpEvent } from '../../../lib/sctp/events.js';

interface WeriftTransport {
  onData?: (buf: Buffer) => void;
  send: (buf: Buffer) => Promise<void>;
  close: () => void;
}
interface WeriftSctp {
  start(remotePort?: number): Promise<void>;
  send(streamId: number, ppid: number, data: Buffer, opts?: { ordered?: boolean }): Promise<void>;
  onReceive: { subscribe(cb: (streamId: number, ppid: number, data: Buffer) => void): unknown };
  stateChanged: { connected: { subscribe(cb: () => void): unknown } };
  stop?: () => Promise<void>;
}
// werift does not export its SCTP class; load it by file path (test-only).
const werift = createRequire(import.meta.url)(join(process.cwd(), 'node_modules/werift/lib/sctp/src/index.js')) as {
  SCTP: { client(t: WeriftTransport, port?: number): WeriftSctp; server(t: WeriftTransport, port?: number): WeriftSctp };
};

/** Ours and werift joined in memory; our side is driven by real timers. */
function join2(ourRole: 'client' | 'server'): { ours: SctpAssociation; theirs: WeriftSctp; events: SctpEvent[]; drive: () => void; stop: () => void } {
  const ours = new SctpAssociation({ remoteMaxMessageSize: 256 * 1024 });
  const events: SctpEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const transport: WeriftTransport = {
    send: async (buf) => {
      const copy = Buffer.from(buf);
      setImmediate(() => {
        if (stopped) return;
        ours.handleInput(performance.now(), copy);
        drive();
      });
    },
    close: () => undefined,
  };
  const drive = (): void => {
    if (stopped) return;
    for (let p = ours.pollTransmit(); p; p = ours.pollTransmit()) {
      const copy = Buffer.from(p);
      setImmediate(() => !stopped && transport.onData?.(copy));
    }
    for (let e = ours.pollEvent(); e; e = ours.pollEvent()) events.push(e);
    const t = ours.pollTimeout();
    if (timer) clearTimeout(timer);
    timer = t === undefined ? undefined : setTimeout(() => {
      ours.handleTimeout(performance.now());
      drive();
    }, Math.max(0, t - performance.now()));
  };
  const theirs = ourRole === 'client' ? werift.SCTP.server(transport, 5000) : werift.SCTP.client(transport, 5000);
  void theirs.start(5000);
  if (ourRole === 'client') ours.connect(performance.now());
  drive();
  const stop = (): void => {
    stopped = true;
    if (timer) clearTimeout(timer);
    void theirs.stop?.();
  };
  return { ours, theirs, events, drive, stop };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const role of ['client', 'server'] as const) {
  test(`interop with werift SCTP, ours as ${role}: handshake, small and fragmented messages both ways, stream reset`, { timeout: 20_000 }, async () => {
    const { ours, theirs, events, drive, stop } = join2(role);
    try {
      await until(() => ours.state === 'established', 5000, 'established');
      const received: { streamId: number; ppid: number; data: Buffer }[] = [];
      theirs.onReceive.subscribe((streamId, ppid, data) => received.push({ streamId, ppid, data: Buffer.from(data) }));
      const big = Buffer.alloc(64 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      ours.send(performance.now(), 1, 51, Buffer.from('hello werift'));
      ours.send(performance.now(), 3, 53, big);
      drive();
      await until(() => received.length === 2, 10_000, 'werift received');
      assert.deepEqual(received[0], { streamId: 1, ppid: 51, data: Buffer.from('hello werift') });
      assert.equal(received[1]!.streamId, 3);
      assert.ok(received[1]!.data.equals(big));
      await theirs.send(2, 53, big);
      await theirs.send(2, 51, Buffer.from('hello ours'));
      await until(() => events.filter((e) => e.type === 'message').length === 2, 10_000, 'ours received');
      const msgs = events.filter((e): e is Extract<SctpEvent, { type: 'message' }> => e.type === 'message');
      assert.ok(msgs[0]!.data.equals(big));
      assert.equal(msgs[1]!.data.toString(), 'hello ours');
      // Stream reset (RFC 6525) as data-channel close uses it.
      ours.resetStreams(performance.now(), [1]);
      drive();
      await until(() => events.some((e) => e.type === 'stream-reset'), 10_000, 'stream reset');
      assert.deepEqual(events.find((e) => e.type === 'stream-reset'), { type: 'stream-reset', direction: 'outgoing', streams: [1], success: true });
      assert.deepEqual(Object.keys(ours.stats.drops).filter((k) => k !== 'unknown-chunk'), []);
    } finally {
      stop();
    }
  });
}
