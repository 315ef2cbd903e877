// Fanout client process: one publisher and N subscribers, all ours (the same load generator
// whatever library the server runs), signaling with the server over IPC through the suite.
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { RtcpGenericNack } from '../../lib/rtp/rtcp/generic-nack.js';
import { within } from './types.js';
import type { FanoutRound, FanoutStep, FanoutTask, PublishPattern } from './fanout-protocol.js';
import { fanoutServerCall } from './fanout-server-call.js';

const task = JSON.parse(process.argv[2] ?? '{}') as FanoutTask;
const config = { hostAddresses: ['127.0.0.1'] };
const call = fanoutServerCall();

const publisher = new RTCPeerConnection(config);
const source = new LocalStreamTrack({ kind: 'audio' });
publisher.addTransceiver(source, { direction: 'sendonly' });
await publisher.setLocalDescription(await publisher.createOffer());
const answer = await call({ op: 'publish', sdp: publisher.localDescription!.sdp });
await publisher.setRemoteDescription({ type: 'answer', sdp: answer.sdp! });

let delivered = 0;
let nacksSent = 0;
const viewers: Promise<void>[] = [];
const nackers = task.nackShare ? Math.max(1, Math.round(task.subscribers * task.nackShare)) : 0;
let joined = 0;
// Subscribers join a few at a time so that a slow server is not handed all its handshakes at once.
for (let i = 0; i < task.subscribers; i += 10) {
  await Promise.all(
    Array.from({ length: Math.min(10, task.subscribers - i) }, async () => {
      const offer = await call({ op: 'subscribe' });
      const pc = new RTCPeerConnection(config);
      const nacks = joined++ < nackers;
      const track = new Promise<void>((resolve) =>
        pc.on('track', (e) => {
          resolve();
          void (async () => {
            const recent: number[] = [];
            let mine = 0;
            for await (const p of e.track) {
              delivered++;
              if (!nacks) continue;
              // Asks again for the packet received 10 packets ago, once every 50 of its packets.
              recent.push(p.sequenceNumber!);
              if (recent.length > 10) recent.shift();
              if (++mine % 50 === 0 && recent.length === 10) {
                const sender = e.transceiver.sender;
                sender.sendRtcp([RtcpGenericNack.fromSequenceNumbers(sender.ssrc, p.ssrc!, [recent[0]!])]);
                nacksSent++;
              }
            }
          })();
        }),
      );
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp! });
      await pc.setLocalDescription(await pc.createAnswer());
      await call({ op: 'answer', sub: offer.sub!, sdp: pc.localDescription!.sdp });
      viewers.push(within(Promise.all([pc.connected(), track]).then(() => undefined), 120_000, 'subscriber'));
    }),
  );
}
await within(publisher.connected(), 60_000, 'publisher connected');
await Promise.all(viewers);

const payload = Buffer.alloc(task.payload, 0x42);
let ts = 0;
/**
 * Sends at `rate` packets/s for `seconds`, checked every 5 ms; `paced` sends the packets due at each
 * tick, `frames` a frame's rate / 30 packets back to back at each 1/30 s boundary (one RTP timestamp
 * per frame). Resolves with the packets sent.
 */
function publish(seconds: number, rate: number, pattern: PublishPattern): Promise<number> {
  return new Promise((resolve) => {
    let sent = 0;
    const t0 = performance.now();
    const timer = setInterval(() => {
      const elapsed = Math.min(seconds, (performance.now() - t0) / 1000);
      if (pattern === 'paced') {
        for (const due = elapsed * rate; sent < due; sent++) source.send(new RtpPacket({ timestamp: (ts += 960) >>> 0, payload }));
      } else {
        const frames = Math.floor(elapsed * 30);
        for (let due = Math.round((frames * rate) / 30), first = true; sent < due; sent++, first = false) {
          if (first) ts += 3000;
          source.send(new RtpPacket({ timestamp: ts >>> 0, payload }));
        }
      }
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve(sent);
      }
    }, 5);
  });
}

const steps: (FanoutStep | undefined)[] = task.steps ?? [undefined];
const stepRate = (step: FanoutStep | undefined): number => step?.publisherPps ?? Math.min(task.maxPublisherPps, task.offeredPps / task.subscribers);
await publish(task.warmupSeconds ?? Math.min(0.3, task.seconds), stepRate(steps[0]), steps[0]?.pattern ?? 'paced'); // warm-up (docs/bench/README.md "fanout warm-up")
await new Promise((r) => setTimeout(r, 200));
const rounds: FanoutRound[] = [];
for (const step of steps) {
  for (let r = 0; r < task.rounds; r++) {
    await call({ op: 'mark' });
    const d0 = delivered;
    const sent = await publish(task.seconds, stepRate(step), step?.pattern ?? 'paced');
    const m = await call({ op: 'mark' });
    await new Promise((r) => setTimeout(r, 200)); // late packets count as delivered
    const socket = m.sendSyscalls === undefined ? undefined : { sendSyscalls: m.sendSyscalls, packetsSent: m.packetsSent!, gsoSends: m.gsoSends!, sendBlocked: m.sendBlocked!, recvSyscalls: m.recvSyscalls!, packetsReceived: m.packetsReceived!, jsCalls: m.jsCalls ?? 0 };
    rounds.push({ forwarded: m.forwarded!, serverCpuUs: m.cpuUs!, ...(m.userUs !== undefined ? { serverUserUs: m.userUs } : {}), wallMs: m.wallMs!, delivered: delivered - d0, offered: sent * task.subscribers, published: sent, nacksSent, retransmitted: m.retransmitted, ...(step ? { step } : {}), ...(socket ? { socket } : {}) });
  }
}
process.send!({ result: rounds }, () => process.exit(0));
