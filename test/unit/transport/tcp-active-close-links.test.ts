// TcpActiveSource.closeLinks (review 10 #9; docs/ice.md "ICE-TCP", "Our active side reconnects"): when
// the ICE agent fails, every connection our active candidate opened or is opening is closed without
// telling onClosed (the pairs are failed already), counted, and the source stays usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { TcpActiveSource } from '../../../lib/transport/source/tcp-active.js';
import { until } from '../../integration/peer-helpers.js';

test('closeLinks closes the open and the opening connections, calls no onClosed, and a later send connects again', { timeout: 20_000 }, async () => {
  const accepted: Socket[] = [];
  const closedAtServer: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.resume(); // read, so that the peer's FIN is seen
    s.on('close', () => closedAtServer.push(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const onClosed: unknown[] = [];
  const source = new TcpActiveSource('127.0.0.1', () => {}, (remote) => onClosed.push(remote));
  try {
    const frame = new Uint8Array([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    source.send(frame, port, '127.0.0.1');
    await until(() => source.stats.connectionsOpened === 1 && accepted.length === 1, 5000, 'first connection up');
    assert.equal(source.closeLinks(), 1);
    // A connection still opening (closed in the same turn as the send, before 'connect').
    source.send(frame, port, '127.0.0.1');
    assert.equal(source.closeLinks(), 1, 'the opening one');
    assert.equal(source.stats.linksClosedOnFailure, 2);
    await until(() => closedAtServer.includes(accepted[0]!), 5000, 'the server sees the close');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(onClosed, [], 'the agent is not told again');
    assert.equal(source.stats.reconnects, 0);
    // Still usable (an ICE restart): a send opens a connection again.
    const before = source.stats.connectionsOpened;
    source.send(frame, port, '127.0.0.1');
    await until(() => source.stats.connectionsOpened > before, 5000, 'connected again');
    assert.equal(source.closeLinks(), 1);
    source.close();
    assert.equal(source.closeLinks(), 0, 'nothing after close');
  } finally {
    source.close();
    for (const s of accepted) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
