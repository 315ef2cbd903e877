// Native smoke test run from an installed copy of the package (plain JS, no tsx, no compiler):
// loads the addon through the public entry point, round-trips datagrams over loopback and
// prints what it found as one JSON line.
import { UdpSocket, nativeBuildInfo } from 'pure-webrtc-transport';

const rx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
const tx = await UdpSocket.bind({ type: 'udp4', address: '127.0.0.1' });
const got = [];
const done = new Promise((resolve) => {
  rx.onBatch((b) => {
    for (let i = 0; i < b.count; i++) got.push(b.data(i).toString());
    if (got.length >= 10) resolve();
  });
});
for (let i = 0; i < 10; i++) tx.send(Buffer.from(`datagram ${i}`), rx.address().port, '127.0.0.1');
const timer = setTimeout(() => {
  console.log(JSON.stringify({ ok: false, reason: 'timeout', got }));
  process.exit(1);
}, 5000);
await done;
clearTimeout(timer);
rx.close();
tx.close();
const addon = nativeBuildInfo();
console.log(JSON.stringify({ ok: got.join(',') === [...Array(10).keys()].map((i) => `datagram ${i}`).join(','),
  node: process.version, sourceHash: addon.sourceHash, openssl: process.versions.openssl }));
