// Hostile input on the passive ICE-TCP port after a connection authenticated (lib/transport/source/tcp-mux.ts,
// native/tcp; docs/udp.md "TCP framing"): a length past the frame bound, a half frame dripped byte by
// byte (slow-loris), garbage frames and a burst of frames larger than one native batch. Each is dropped
// or closed and counted; the port and the other connections go on, nothing hangs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { frameRfc4571, Rfc4571Framer } from '../../lib/ice/rfc4571-framer.js';
import { StunAttr, StunClass, StunMethod } from '../../lib/ice/stun-constants.js';
import { StunMessage } from '../../lib/ice/stun-message.js';
import type { IceTransport } from '../../lib/transport/ice-transport.js';
import type { TcpMux } from '../../lib/transport/source/tcp-mux.js';
import { within } from '../integration/peer-helpers.js';
import { closed, listenWithIce, open, PEER } from '../unit/transport/tcp-mux-test-helpers.js';

const setup = listenWithIce;

let txid = 0;
function check(ice: IceTransport): Buffer {
  const id = Buffer.alloc(12, 3);
  id.writeUInt32BE(++txid, 0);
  return new StunMessage(StunMethod.Binding, StunClass.Request, id)
    .addString(StunAttr.Username, `${ice.localParameters.usernameFragment}:${PEER.ufrag}`)
    .addUint32(StunAttr.Priority, 1000)
    .addUint64(StunAttr.IceControlling, 5n)
    .encode({ integrityKey: Buffer.from(ice.localParameters.password), fingerprint: true });
}

/** A connection whose first check was answered; `answers()` counts Binding success responses. */
async function authenticated(mux: TcpMux, ice: IceTransport): Promise<{ socket: Socket; answers: () => number; nextAnswer: () => Promise<void> }> {
  const socket = await open(mux);
  const framer = new Rfc4571Framer();
  let answers = 0;
  let waiting: (() => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const f of framer.push(chunk)) {
      const r = StunMessage.decode(f);
      if (r.ok && r.message.messageClass === StunClass.SuccessResponse) {
        answers++;
        for (const w of waiting) w();
        waiting = [];
      }
    }
  });
  socket.on('error', () => undefined);
  const nextAnswer = (): Promise<void> => new Promise((r) => waiting.push(r));
  const first = nextAnswer();
  socket.write(frameRfc4571(check(ice)));
  await within(first, 5000, 'first check answered');
  return { socket, answers: () => answers, nextAnswer };
}

test('a length past the frame bound closes that connection at once; another connection is still answered', async (t) => {
  const { mux, ice, close } = await setup({ maxFrameBytes: 1500 });
  t.after(close);
  const bad = await authenticated(mux, ice);
  const good = await authenticated(mux, ice);
  t.after(() => (bad.socket.destroy(), good.socket.destroy()));
  // Announces 1,501 bytes (one more than the bound) and sends only a few: not waited for.
  bad.socket.write(Buffer.from([0x05, 0xdd, 0x80, 0x60, 0x00]));
  await within(closed(bad.socket), 5000, 'oversize frame closes the connection');
  assert.equal(mux.stats.drops['frame-too-big'], 1);
  const answered = good.nextAnswer();
  good.socket.write(frameRfc4571(check(ice)));
  await within(answered, 5000, 'the other connection still answered');
  assert.equal(mux.stats.connectionsOpen, 1);
  assert.equal(mux.stats.bufferedBytes, 0);
});

test('slow-loris after authentication: a frame dripped byte by byte is closed at the frame deadline, holding only what arrived', async (t) => {
  const { mux, ice, close } = await setup({ frameTimeoutMs: 400, idleTimeoutMs: 60_000 });
  t.after(close);
  const slow = await authenticated(mux, ice);
  t.after(() => slow.socket.destroy());
  // A 60,000-byte frame announced, one byte every 20 ms: never idle, never complete.
  slow.socket.write(Buffer.from([0xea, 0x60]));
  let dripped = 0;
  const drip = setInterval(() => {
    if (!slow.socket.destroyed) {
      slow.socket.write(Buffer.from([0x80]));
      dripped++;
    }
  }, 20);
  t.after(() => clearInterval(drip));
  await within(new Promise<void>((r) => {
    const poll = setInterval(() => {
      if (mux.stats.bufferedBytes > 0) {
        clearInterval(poll);
        r();
      }
    }, 10);
  }), 5000, 'the half frame is buffered');
  assert.ok(mux.stats.bufferedBytes <= 2 + dripped + 1, `buffered ${mux.stats.bufferedBytes} for ${dripped} bytes dripped`);
  await within(closed(slow.socket), 10_000, 'closed at the frame deadline');
  clearInterval(drip);
  assert.equal(mux.stats.drops['frame-stalled'], 1);
  assert.equal(mux.stats.drops.idle, 0);
  assert.equal(mux.stats.bufferedBytes, 0);
  assert.equal(mux.stats.connectionsOpen, 0);
});

test('garbage frames from an authenticated connection are dropped and counted; the connection goes on', async (t) => {
  const { mux, ice, close } = await setup();
  t.after(close);
  const c = await authenticated(mux, ice);
  t.after(() => c.socket.destroy());
  const before = { ...ice.stats.drops };
  const framesBefore = mux.stats.framesReceived;
  // 300 frames in one write (more than four native batches of 64): unknown first bytes, RTP/DTLS-looking
  // junk before any DTLS or SRTP, empty frames, and a STUN-looking frame that does not parse.
  const junk: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const first = [0xff, 0x80, 0x16, 0x41, 0x00][i % 5]!;
    const body = Buffer.alloc(1 + (i % 97), i & 0xff);
    body[0] = first;
    junk.push(frameRfc4571(body));
    if (i % 50 === 0) junk.push(Buffer.from([0, 0]));
  }
  const answered = c.nextAnswer();
  junk.push(frameRfc4571(check(ice)));
  c.socket.write(Buffer.concat(junk));
  await within(answered, 5000, 'the check after the junk is answered');
  assert.equal(mux.stats.framesReceived - framesBefore, 301);
  assert.equal(mux.stats.framesSplitNatively, mux.stats.framesReceived);
  assert.ok(mux.stats.nativeReads >= 5, `native reads ${mux.stats.nativeReads}`);
  // Every junk frame is counted once: 0xff and 0x41 (no protocol of RFC 7983 here) as unknown first
  // bytes, RTP- and DTLS-looking frames from a remote not yet trusted for data as unknown source, STUN
  // that does not parse as malformed.
  const d = ice.stats.drops;
  assert.equal(d['unknown-first-byte'] - before['unknown-first-byte'], 120);
  assert.equal(d['unknown-source'] - before['unknown-source'], 120);
  assert.equal(ice.agent.stats.drops.malformed, 60);
  assert.equal(mux.stats.drops['empty-frame'], 6, 'empty frames are skipped natively and counted');
  assert.equal(mux.stats.connectionsOpen, 1);
  assert.equal(mux.stats.bufferedBytes, 0);
});
