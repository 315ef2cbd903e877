// TurnClient against a scripted in-memory TURN server: 401 challenge → authenticated Allocate,
// 438 stale nonce retry, wrong password, permissions, channel binding, refresh, Data/ChannelData.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '../../../lib/common/rng.js';
import { TurnClient } from '../../../lib/ice/turn-client.js';
import { StunMessage } from '../../../lib/ice/stun-message.js';
import { StunAttr, StunClass, StunMethod } from '../../../lib/ice/stun-constants.js';
import { decodeChannelData, encodeChannelData } from '../../../lib/ice/channel-data.js';
import { longTermKey } from '../../../lib/ice/ice-credentials.js';

const REALM = 'test.realm';
const PEER = { address: '192.0.2.50', port: 7000 };

/** A minimal TURN server that checks long-term credentials. */
class FakeServer {
  nonce = 'nonce-1';
  readonly key = longTermKey('alice', REALM, 'secret');
  readonly log: string[] = [];
  permissions = new Set<string>();
  channels = new Map<number, string>();
  sent: { peer: string; data: string }[] = [];
  staleOnce = false;
  lifetimes: number[] = [];

  handle(frame: Buffer): Buffer[] {
    if (frame[0]! >= 0x40) {
      const cd = decodeChannelData(frame)!;
      this.sent.push({ peer: this.channels.get(cd.channel)!, data: Buffer.from(cd.data).toString() });
      return [];
    }
    const r = StunMessage.decode(frame);
    assert.ok(r.ok);
    const m = r.message;
    if (m.messageClass === StunClass.Indication) {
      const peer = m.getAddress(StunAttr.XorPeerAddress)!;
      assert.ok(this.permissions.has(peer.address), 'send indication only after permission');
      this.sent.push({ peer: `${peer.address}:${peer.port}`, data: m.get(StunAttr.Data)!.toString() });
      return [];
    }
    this.log.push(`${m.method}`);
    const reply = (cls: typeof StunClass.SuccessResponse | typeof StunClass.ErrorResponse): StunMessage => new StunMessage(m.method, cls, m.transactionId);
    if (!m.hasIntegrity) {
      return [reply(StunClass.ErrorResponse).addErrorCode(401, 'Unauthorized').addString(StunAttr.Realm, REALM).addString(StunAttr.Nonce, this.nonce).encode()];
    }
    if (!m.verifyIntegrity(this.key)) {
      return [reply(StunClass.ErrorResponse).addErrorCode(401, 'Unauthorized').addString(StunAttr.Realm, REALM).addString(StunAttr.Nonce, this.nonce).encode()];
    }
    if (this.staleOnce && m.getString(StunAttr.Nonce) === this.nonce) {
      this.staleOnce = false;
      this.nonce = 'nonce-2';
      return [reply(StunClass.ErrorResponse).addErrorCode(438, 'Stale Nonce').addString(StunAttr.Realm, REALM).addString(StunAttr.Nonce, this.nonce).encode()];
    }
    const ok = reply(StunClass.SuccessResponse);
    switch (m.method) {
      case StunMethod.Allocate:
        ok.addAddress(StunAttr.XorRelayedAddress, { address: '198.51.100.1', port: 50000 })
          .addAddress(StunAttr.XorMappedAddress, { address: '203.0.113.1', port: 40000 })
          .addUint32(StunAttr.Lifetime, 600);
        break;
      case StunMethod.Refresh:
        this.lifetimes.push(m.getUint32(StunAttr.Lifetime)!);
        ok.addUint32(StunAttr.Lifetime, m.getUint32(StunAttr.Lifetime)!);
        break;
      case StunMethod.CreatePermission:
        this.permissions.add(m.getAddress(StunAttr.XorPeerAddress)!.address);
        break;
      case StunMethod.ChannelBind: {
        const peer = m.getAddress(StunAttr.XorPeerAddress)!;
        this.permissions.add(peer.address);
        this.channels.set(m.get(StunAttr.ChannelNumber)!.readUInt16BE(0), `${peer.address}:${peer.port}`);
        break;
      }
    }
    return [ok.encode({ integrityKey: this.key, fingerprint: true })];
  }
}

function pump(client: TurnClient, server: FakeServer, now: number, lossy = false): void {
  let i = 0;
  for (let out = client.pollTransmit(); out; out = client.pollTransmit()) {
    if (lossy && i++ % 2 === 0) continue;
    for (const reply of server.handle(out)) client.handleInput(now, reply);
  }
}

function events(c: TurnClient): string[] {
  const out: string[] = [];
  for (let e = c.pollEvent(); e; e = c.pollEvent()) out.push(e.type === 'failed' ? `failed:${e.code}` : e.type);
  return out;
}

test('allocate: 401 challenge, authenticated retry, relayed and mapped addresses', () => {
  const c = new TurnClient({ transport: 'udp', username: 'alice', password: 'secret', rng: new SeededRng(1) });
  const s = new FakeServer();
  c.allocate(0);
  pump(c, s, 0);
  assert.equal(c.state, 'allocated');
  assert.deepEqual(c.relayed, { address: '198.51.100.1', port: 50000 });
  const e = c.pollEvent();
  assert.deepEqual(e, { type: 'allocated', relayed: { address: '198.51.100.1', port: 50000 }, mapped: { address: '203.0.113.1', port: 40000 }, lifetimeSec: 600 });
});

test('wrong password fails with 401 instead of looping', () => {
  const c = new TurnClient({ transport: 'udp', username: 'alice', password: 'bad', rng: new SeededRng(2) });
  const s = new FakeServer();
  c.allocate(0);
  pump(c, s, 0);
  assert.equal(c.state, 'failed');
  assert.deepEqual(events(c), ['failed:401']);
  assert.equal(s.log.length, 2, 'one unauthenticated and one authenticated attempt');
});

test('send: permission first (queued data flushed), then Send indication, then ChannelData; 438 retried', () => {
  const c = new TurnClient({ transport: 'udp', username: 'alice', password: 'secret', rng: new SeededRng(3) });
  const s = new FakeServer();
  c.allocate(0);
  pump(c, s, 0);
  s.staleOnce = true;
  c.send(1, PEER, Buffer.from('one'));
  c.send(1, PEER, Buffer.from('two'));
  pump(c, s, 1);
  assert.deepEqual(s.sent, [{ peer: '192.0.2.50:7000', data: 'one' }, { peer: '192.0.2.50:7000', data: 'two' }]);
  pump(c, s, 2);
  c.send(3, PEER, Buffer.from('three'));
  pump(c, s, 3);
  assert.deepEqual(s.sent.at(-1), { peer: '192.0.2.50:7000', data: 'three' });
  assert.equal(c.stats.channelDataSent, 1);
  const ev = events(c);
  assert.ok(ev.includes('permission') && ev.includes('channel'));
});

test('inbound Data indication and ChannelData become data events; unknown channel and junk are counted', () => {
  const c = new TurnClient({ transport: 'tcp', username: 'alice', password: 'secret', rng: new SeededRng(4) });
  const s = new FakeServer();
  c.allocate(0);
  pump(c, s, 0);
  const ch = c.bindChannel(1, PEER);
  pump(c, s, 1);
  events(c);
  const ind = new StunMessage(StunMethod.Data, StunClass.Indication, Buffer.alloc(12, 5)).addAddress(StunAttr.XorPeerAddress, PEER).add(StunAttr.Data, Buffer.from('hey'));
  c.handleInput(2, ind.encode());
  c.handleInput(2, encodeChannelData(ch, Buffer.from('chan'), true).subarray(0, 8));
  c.handleInput(2, encodeChannelData(0x4ff0, Buffer.from('x')));
  c.handleInput(2, Buffer.from([0x40, 0x01, 0xff, 0xff]));
  c.handleInput(2, Buffer.from('garbage!garbage!garbage!'));
  c.handleInput(2, new StunMessage(StunMethod.Allocate, StunClass.SuccessResponse, Buffer.alloc(12, 1)).encode());
  const data: string[] = [];
  for (let e = c.pollEvent(); e; e = c.pollEvent()) if (e.type === 'data') data.push(`${e.peer.port}:${e.data}`);
  assert.deepEqual(data, ['7000:hey', '7000:chan']);
  assert.equal(c.stats.drops['unknown-channel'], 1);
  assert.equal(c.stats.drops.malformed, 2);
  assert.equal(c.stats.drops['unmatched-response'], 1);
  // Over TCP ChannelData is padded to four bytes (RFC 8656 §12.5).
  c.send(3, PEER, Buffer.from('abcde'));
  const out = c.pollTransmit()!;
  assert.equal(out.length, 12);
});

test('retransmits over UDP under loss, refreshes the allocation before expiry, releases with lifetime 0', () => {
  const c = new TurnClient({ transport: 'udp', username: 'alice', password: 'secret', rng: new SeededRng(5) });
  const s = new FakeServer();
  c.allocate(0);
  pump(c, s, 0, true);
  let now = 0;
  for (let i = 0; i < 20 && c.state !== 'allocated'; i++) {
    now = c.pollTimeout()!;
    c.handleTimeout(now);
    pump(c, s, now, i % 2 === 0);
  }
  assert.equal(c.state, 'allocated');
  assert.ok(c.stats.retransmissions > 0);
  events(c);
  // Refresh at 540 s (60 s before the 600 s lifetime).
  const t = c.pollTimeout()!;
  assert.ok(t > now + 500_000 && t <= now + 540_000 + 1, `refresh at ${t}`);
  c.handleTimeout(t);
  pump(c, s, t);
  assert.deepEqual(s.lifetimes, [600]);
  c.close(t + 1);
  pump(c, s, t + 1);
  assert.deepEqual(s.lifetimes, [600, 0]);
  assert.equal(c.state, 'closed');
  assert.equal(c.pollTimeout(), undefined);
});

test('no answer: allocation fails with a timeout after the RFC 8489 retransmission schedule', () => {
  const c = new TurnClient({ transport: 'udp', username: 'alice', password: 'secret', rng: new SeededRng(6) });
  c.allocate(0);
  let sent = 0;
  while (c.pollTransmit()) sent++;
  for (let i = 0; i < 20 && c.state === 'allocating'; i++) {
    c.handleTimeout(c.pollTimeout()!);
    while (c.pollTransmit()) sent++;
  }
  assert.equal(c.state, 'failed');
  assert.equal(sent, 7);
  assert.deepEqual(events(c), ['failed:undefined']);
});
