// Child process of peer-lifecycle.test.ts: opens, connects and closes RTCPeerConnections, then
// prints handle and heap figures as one JSON line and returns WITHOUT process.exit: the parent
// checks that the process exits by itself, i.e. close() released every socket, timer and handle.
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';

const pairs = Number(process.argv[2] ?? '50');

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

async function onePair(withData: boolean): Promise<void> {
  const pc1 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const pc2 = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const track = new LocalStreamTrack({ kind: 'audio' });
  pc1.addTransceiver(track);
  const channel = withData ? pc1.createDataChannel('d') : undefined;
  const remote = new Promise<import('../../lib/peer/index.js').MediaStreamTrack>((r) => pc2.once('track', (e) => r(e.track)));
  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(pc1.localDescription!);
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(pc2.localDescription!);
  track.send(new RtpPacket({ timestamp: 1, payload: Buffer.from('x') }));
  await (await remote).recv();
  if (channel && channel.readyState !== 'open') await new Promise((r) => channel.once('open', r));
  await Promise.all([pc1.connected(), pc2.connected()]);
  pc1.close();
  pc2.close();
}

const gc = (globalThis as { gc?: () => void }).gc;
await onePair(true);
await new Promise((r) => setTimeout(r, 50));
gc?.();
const before = { resources: resources(), heap: process.memoryUsage().heapUsed };
for (let i = 0; i < pairs; i++) await onePair(i % 5 === 0);
await new Promise((r) => setTimeout(r, 50));
gc?.();
await new Promise((r) => setTimeout(r, 10));
gc?.();
const after = { resources: resources(), heap: process.memoryUsage().heapUsed };
console.log(JSON.stringify({ before, after }));
