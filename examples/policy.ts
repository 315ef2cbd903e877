// Policy modules (docs/policy.md): remove one of the defaults for a connection, replace one on a
// transceiver, add a module of your own, and read what the modules report in getStats().
// Run: node --import tsx examples/policy.ts
import {
  defaultPolicyFactories,
  KeyframeRequester,
  LocalStreamTrack,
  RTCPeerConnection,
  RtpPacket,
  type RtpPacketBatch,
  type RtpPolicy,
  type RtpPolicyOutput,
} from 'pure-webrtc-transport';

/** A module of our own: counts received packets per SSRC and reports the count every second. */
class PacketCounter implements RtpPolicy {
  readonly name = 'packet-counter';
  private readonly counts = new Map<number, number>();
  private next: number | undefined;
  incomingRtp(now: number, batch: RtpPacketBatch): void {
    for (let i = 0; i < batch.count; i++) this.counts.set(batch.ssrc[i]!, (this.counts.get(batch.ssrc[i]!) ?? 0) + 1);
    this.next ??= now + 1000;
  }
  timeout(now: number, _out: RtpPolicyOutput): void {
    for (const [ssrc, n] of this.counts) console.log(`packet-counter: ${n} packets from SSRC ${ssrc} so far`);
    this.next = now + 1000;
  }
  nextTimeout(): number | undefined {
    return this.next;
  }
}

async function main(): Promise<void> {
  // Per connection: every default except the two NACK modules (this side neither asks for nor
  // answers retransmissions).
  const sender = new RTCPeerConnection({ hostAddresses: ['127.0.0.1'] });
  const receiver = new RTCPeerConnection({
    hostAddresses: ['127.0.0.1'],
    rtpPolicies: defaultPolicyFactories().filter((f) => !f.name.startsWith('nack-')),
  });
  const track = new LocalStreamTrack({ kind: 'video' });
  const t = sender.addTransceiver(track, { direction: 'sendonly' });
  sender.on('policy', (e) => console.log(`sender: ${e.module} says ${e.name} ${JSON.stringify(e.detail)}`));
  receiver.on('track', (e) => {
    // Per transceiver: a slower keyframe requester, and our own counter.
    e.transceiver.policies.replace('keyframe-requester', new KeyframeRequester({ minIntervalMs: 1000 }));
    e.transceiver.policies.add(new PacketCounter());
    console.log(`receiver modules: ${e.transceiver.policies.list().map((m) => m.name).join(', ')}`);
    setTimeout(() => e.receiver.requestKeyframe(), 500);
  });
  // The receiver's answer carries only the feedback its modules serve: no `nack` now.
  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription!);
  console.log(`answer rtcp-fb for VP8: ${receiver.localDescription!.sdp.match(/a=rtcp-fb:96 .*/g)?.join(', ')}`);
  console.log(`sender modules: ${t.policies.list().map((m) => m.name).join(', ')}; transport: ${sender.transportPolicies.list().map((m) => m.name).join(', ')}`);
  await sender.connected(10_000);
  for (let i = 0; i < 100; i++) {
    track.send(new RtpPacket({ timestamp: i * 3000, marker: true, payload: Buffer.alloc(500, i) }));
    await new Promise((r) => setTimeout(r, 30));
  }
  for (const s of (await sender.getStats()).values()) {
    if (s.type === 'remote-inbound-rtp') console.log(`sender remote-inbound-rtp: roundTripTime ${String(s.roundTripTime)} s, packetsLost ${String(s.packetsLost)}`);
    if (s.type === 'outbound-rtp') console.log(`sender outbound-rtp: ${String(s.packetsSent)} sent, pliCount ${String(s.pliCount)}`);
  }
  sender.close();
  receiver.close();
}

await main();
