// Child of udp-gso-fallback.test.ts, run inside a private network namespace whose loopback has a
// 1280-byte MTU: a GSO burst of small datagrams is accepted, one of 1400-byte datagrams is refused
// by the kernel (EINVAL, segment above the MTU) and must go out one by one (fragmented by IP).
// Prints one JSON line with what arrived and the sender's counters after each burst.
import { UdpSocket, type UdpSocketStats } from '../../lib/transport/source/udp-socket.js';

const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1', recvBufferSize: 1 << 20 });
const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
const received: number[] = [];
let arrived: (() => void) | undefined;
rx.onBatch((b) => {
  for (let i = 0; i < b.count; i++) received.push(b.data(i).length);
  arrived?.();
});

/** Sends `count` datagrams of `size` bytes in one flush; waits (10 s at most) until all arrived. */
async function burst(count: number, size: number): Promise<{ arrived: number[]; stats: UdpSocketStats }> {
  const before = received.length;
  const all = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    arrived = () => {
      if (received.length - before >= count) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  for (let i = 0; i < count; i++) tx.send(Buffer.alloc(size, i + 1), rx.address().port, '127.0.0.1');
  await all;
  return { arrived: received.slice(before), stats: tx.stats };
}

const small = await burst(4, 500);
const large = await burst(4, 1400);
const after = await burst(4, 500);
console.log(JSON.stringify({ small, large, after }));
rx.close();
tx.close();
