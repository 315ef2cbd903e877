// One side of the tbf bandwidth-estimation test (test/net/bwe-tbf.test.ts), run inside its own
// network namespace: `sender` sends 30 fps "video" at the estimator's target through the pacer and
// prints a sample every 100 ms; `receiver` answers with transport-cc feedback (lib/policy's module). Signalling is
// JSON lines on stdin/stdout, relayed by the test.
import { LocalStreamTrack, RTCPeerConnection } from '../../lib/peer/index.js';
import { RtpPacket } from '../../lib/rtp/rtp-packet.js';
import { bandwidthEstimationPolicy, type BandwidthEstimationPolicy } from '../../lib/policy/bandwidth-estimator-policy.js';
import { transportCcFeedbackPolicy } from '../../lib/policy/default-policies.js';
import { childSignalling } from './child-signalling.js';

const PACKET_OVERHEAD = 70;
const [role, address, durationArg] = process.argv.slice(2);
const durationMs = Number(durationArg ?? 10_000);
const { say, next } = childSignalling(durationMs);

async function sender(): Promise<void> {
  const pc = new RTCPeerConnection({ hostAddresses: [address!], rtpPolicies: [bandwidthEstimationPolicy()] });
  const video = new LocalStreamTrack({ kind: 'video' });
  pc.addTransceiver(video, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  say({ type: 'sdp', sdp: pc.localDescription!.sdp });
  const answer = await next();
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp! });
  await pc.connected();
  const bwe = pc.transportPolicies.get('bandwidth-estimator') as BandwidthEstimationPolicy;
  const start = performance.now();
  say({ type: 'start' });
  let seq = 0;
  let frame = 0;
  let nextSample = 100;
  let nextFrame = 0;
  while (performance.now() - start < durationMs) {
    const t = performance.now() - start;
    if (t >= nextFrame) {
      // One frame at the current target, in packets of at most 1100 bytes of payload. The target
      // includes each packet's overhead (RTP header and extensions, SRTP tag, UDP/IP: ~70 bytes),
      // so the frame's payload is what is left of the frame's budget after it.
      let bytes = Math.round(bwe.targetBitrate / 8 / 30);
      while (bytes > PACKET_OVERHEAD) {
        const n = Math.min(1100, bytes - PACKET_OVERHEAD);
        bytes -= n + PACKET_OVERHEAD;
        video.send(new RtpPacket({ sequenceNumber: seq++ & 0xffff, timestamp: frame * 3000, marker: bytes <= PACKET_OVERHEAD, payload: Buffer.alloc(n, frame) }));
      }
      frame++;
      nextFrame += 1000 / 30;
      // A camera and encoder that were held up (this process stalled on a loaded machine) skip the
      // frames they missed; they do not send them all at once, which would fill the tbf queue with a
      // burst of the test's own making rather than the estimator's.
      if (t - nextFrame > 2000 / 30) nextFrame = t + 1000 / 30;
    }
    if (t >= nextSample) {
      const s = bwe.estimator.stats;
      say({ type: 'sample', t: Math.round(t), target: bwe.targetBitrate, queueDelayMs: bwe.estimator.queueDelayMs, rttMs: bwe.estimator.rttMs, acked: s.packetsAcked, lost: s.packetsLost, paced: bwe.pacer?.queueLength ?? 0 });
      nextSample += 100;
    }
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(nextFrame, nextSample) - (performance.now() - start))));
  }
  say({ type: 'done', stats: bwe.estimator.stats, paced: bwe.stats.packetsPaced });
  pc.close();
}

async function receiver(): Promise<void> {
  const pc = new RTCPeerConnection({ hostAddresses: [address!], rtpPolicies: [transportCcFeedbackPolicy] });
  pc.on('track', (e) => {
    void (async () => {
      for (;;) if (!(await e.track.recv().catch(() => undefined))) return;
    })();
  });
  const offer = await next();
  await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp! });
  await pc.setLocalDescription(await pc.createAnswer());
  say({ type: 'sdp', sdp: pc.localDescription!.sdp });
  await pc.connected();
  // Stay until the test closes stdin.
  await new Promise(() => undefined);
}

(role === 'sender' ? sender() : receiver()).catch((err: unknown) => {
  say({ type: 'error', message: String(err) });
  process.exit(2);
});
