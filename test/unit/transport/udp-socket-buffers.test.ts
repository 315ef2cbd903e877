// UdpSocket receive buffers (SO_RCVBUF, socket(7)): the size the kernel granted is read back with
// getsockopt and a request it capped at net.core.rmem_max is reported (docs/udp.md "Socket buffers").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';
import { PEER_SOCKET_BUFFER_BYTES } from '../../../lib/transport/peer-transport.js';

/** net.core.rmem_max, or undefined where /proc does not say (not Linux). */
function rmemMax(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return undefined;
  }
}

test('a socket reads back the receive buffer the kernel granted, and says when it was capped', (t) => {
  const max = rmemMax();
  if (max === undefined) return t.skip('no /proc/sys/net/core/rmem_max on this system');
  const plain = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1' });
  const asked = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', recvBufferSize: PEER_SOCKET_BUFFER_BYTES });
  try {
    const base = plain.receiveBuffer!;
    assert.equal(base.requested, 0);
    assert.equal(base.capped, false);
    assert.ok(base.granted > 0);
    const b = asked.receiveBuffer!;
    assert.equal(b.requested, PEER_SOCKET_BUFFER_BYTES);
    if (b.capped) {
      // Without CAP_NET_ADMIN the kernel stops at rmem_max (SO_RCVBUFFORCE was refused).
      assert.ok(max < PEER_SOCKET_BUFFER_BYTES, `capped although rmem_max ${max} allows ${PEER_SOCKET_BUFFER_BYTES}`);
      assert.equal(b.granted, max);
    } else {
      assert.ok(b.granted >= PEER_SOCKET_BUFFER_BYTES, `granted ${b.granted}`);
    }
  } finally {
    plain.close();
    asked.close();
  }
  assert.equal(asked.receiveBuffer, undefined, 'nothing to read after close');
});

test('a request above rmem_max is capped there and reported, unless the process may force it', (t) => {
  const max = rmemMax();
  if (max === undefined) return t.skip('no /proc/sys/net/core/rmem_max on this system');
  // Twice rmem_max, within the int the option takes.
  const ask = Math.min(2 * max + 4096, 0x3fff_ffff);
  const s = UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', recvBufferSize: ask });
  try {
    const b = s.receiveBuffer!;
    assert.equal(b.requested, ask);
    // Granted: rmem_max (capped, reported), or all of it when SO_RCVBUFFORCE was allowed (root).
    if (b.capped) assert.equal(b.granted, max);
    else assert.ok(b.granted >= ask, `granted ${b.granted} of ${ask}`);
  } finally {
    s.close();
  }
});
