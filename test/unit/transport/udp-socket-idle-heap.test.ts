// What a bound, idle UdpSocket costs on the C heap (docs/udp.md "Cost per connection"): counted with
// glibc's mallinfo2 over 200 sockets on loopback (bytes, not time). The send queue for datagrams the
// kernel refused (EAGAIN) is made by the first refusal (an empty std::deque held about 0.95 KiB); the
// thread's shared pools are held once per thread, not by a reference per socket (13 of them, about
// 1.2 KiB), the receive timestamps of a batch are the thread's (512 bytes), the native counters are
// the JavaScript slab's (208 bytes inside every socket before), that slab holds 64 sockets'
// counters (an ArrayBuffer per socket, about 0.4 KiB), and the state of a port shared across
// workers is made by setHandoff (about 230 bytes inside every socket before).
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { nativeHeapStats } from '../../../lib/native/native-heap-stats.js';
import { UdpSocket } from '../../../lib/transport/source/udp-socket.js';

/**
 * Bytes of C heap per idle socket here: about 1,850 (4,260 before the shared pins, timestamps,
 * counters and hand-off state; the eager queue had added about 950 more).
 */
const BUDGET_PER_SOCKET = 2300;
const SOCKETS = 200;

test('an idle bound UdpSocket allocates within a budget of C heap (counted, not timed)', (t) => {
  if (!nativeHeapStats()) {
    t.skip('the allocator gives no totals here (not glibc, or a sanitizer build)');
    return;
  }
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // The thread's shared pools and the first socket's one-time work happen before counting.
  UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 }).close();
  const sockets: UdpSocket[] = [];
  const rounds: number[] = [];
  // Five rounds, every socket kept open until the end and a full collection before each round (so
  // no finalizer frees memory inside a window); the median, as other threads of the process (V8's,
  // libuv's) may allocate meanwhile.
  try {
    for (let round = 0; round < 5; round++) {
      gc();
      const before = nativeHeapStats()!.inUse;
      for (let i = 0; i < SOCKETS; i++) sockets.push(UdpSocket.bindSync({ type: 'udp4', address: '127.0.0.1', port: 0 }));
      rounds.push((nativeHeapStats()!.inUse - before) / SOCKETS);
    }
    for (const s of sockets) assert.equal(s.stats.sendQueued, 0);
  } finally {
    for (const s of sockets) s.close();
  }
  const perSocket = rounds.sort((a, b) => a - b)[2]!;
  assert.ok(perSocket > 0, 'a socket costs something: the count sees it');
  assert.ok(perSocket < BUDGET_PER_SOCKET, `${perSocket.toFixed(0)} bytes of C heap per idle socket (budget ${BUDGET_PER_SOCKET})`);
  console.log(`idle UdpSocket: ${rounds.map((r) => r.toFixed(0)).join(', ')} bytes of C heap per socket`);
});
