// The smallest SFU: one publisher's RTP forwarded, unchanged but for the SSRC, payload type and
// sequence number each subscriber's sender owns, to N subscribers. Run the in-process demo with:
//   node --import tsx examples/relay.ts [subscribers]
// It stays the JavaScript reference (a packet at a time, through the public track API, any socket
// layout); lib/sfu's Router does the same forwarding natively on one shared port (docs/sfu.md), and
// `npm run bench -- fanout` measures both.
import { pathToFileURL } from 'node:url';
// The package's entry point also installs the default policy modules (RTCP reports, NACK,
// keyframe requests, transport-cc feedback).
import {
  LocalStreamTrack,
  RTCPeerConnection,
  type MediaStreamTrack,
  type RTCConfiguration,
  type RTCSessionDescriptionInit,
  RtpPacket,
} from 'pure-webrtc-transport';

/** One subscriber of the relay: its peer connection and the track the relay sends on. */
export interface RelaySubscriber {
  readonly pc: RTCPeerConnection;
  readonly track: LocalStreamTrack;
}

/**
 * Receives one publisher's audio or video track and sends every packet to every subscriber.
 * Signaling is the application's: the publisher offers (acceptPublisher answers it), the relay
 * offers to each subscriber (addSubscriber) and applies its answer.
 */
export class Relay {
  /** Packets sent to subscribers (one per packet per subscriber). */
  forwarded = 0;
  /** Packets received from the publisher. */
  received = 0;
  private publisher: RTCPeerConnection | undefined;
  private readonly subscribers = new Set<RelaySubscriber>();

  constructor(
    private readonly kind: 'audio' | 'video' = 'audio',
    private readonly config: RTCConfiguration = {},
  ) {}

  /** Answers the publisher's offer and starts forwarding its first track once it arrives. */
  async acceptPublisher(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    const pc = new RTCPeerConnection(this.config);
    this.publisher = pc;
    pc.on('track', (e) => void this.forward(e.track));
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    return { type: 'answer', sdp: pc.localDescription!.sdp };
  }

  /** Creates a subscriber and its offer; `accept` applies the subscriber's answer. */
  async addSubscriber(): Promise<{ offer: RTCSessionDescriptionInit; accept(answer: RTCSessionDescriptionInit): Promise<void>; subscriber: RelaySubscriber }> {
    const pc = new RTCPeerConnection(this.config);
    const track = new LocalStreamTrack({ kind: this.kind });
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const subscriber = { pc, track };
    this.subscribers.add(subscriber);
    pc.on('connectionstatechange', () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.subscribers.delete(subscriber);
    });
    return {
      offer: { type: 'offer', sdp: pc.localDescription!.sdp },
      accept: (answer) => pc.setRemoteDescription(answer),
      subscriber,
    };
  }

  /** Closes the publisher and every subscriber. */
  close(): void {
    this.publisher?.close();
    for (const s of this.subscribers) s.pc.close();
    this.subscribers.clear();
  }

  private async forward(track: MediaStreamTrack): Promise<void> {
    for await (const packet of track) {
      this.received++;
      for (const s of this.subscribers) {
        // Each sender fills in its own SSRC, payload type, sequence number and extensions;
        // the timestamp, marker and payload travel as the publisher sent them.
        packet.ssrc = undefined;
        packet.payloadType = undefined;
        packet.sequenceNumber = undefined;
        packet.clearExtensions();
        s.track.send(packet);
        this.forwarded++;
      }
    }
  }
}

async function demo(count: number): Promise<void> {
  const config: RTCConfiguration = { hostAddresses: ['127.0.0.1'] };
  const relay = new Relay('audio', config);

  const publisher = new RTCPeerConnection(config);
  const source = new LocalStreamTrack({ kind: 'audio' });
  publisher.addTransceiver(source, { direction: 'sendonly' });
  await publisher.setLocalDescription(await publisher.createOffer());
  await publisher.setRemoteDescription(await relay.acceptPublisher(publisher.localDescription!));

  const viewers: RTCPeerConnection[] = [];
  const received = new Array<number>(count).fill(0);
  const tracks: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const { offer, accept } = await relay.addSubscriber();
    const viewer = new RTCPeerConnection(config);
    viewers.push(viewer);
    tracks.push(
      new Promise((resolve) => {
        viewer.on('track', (e) => {
          resolve();
          void (async () => {
            for await (const _ of e.track) received[i]!++;
          })();
        });
      }),
    );
    await viewer.setRemoteDescription(offer);
    await viewer.setLocalDescription(await viewer.createAnswer());
    await accept(viewer.localDescription!);
  }
  await Promise.all([publisher.connected(10_000), ...viewers.map((v) => v.connected(10_000)), ...tracks]);

  const packets = 50;
  for (let i = 0; i < packets; i++) source.send(new RtpPacket({ timestamp: i * 960, payload: Buffer.alloc(160, i) }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  console.log(`relay received ${relay.received} of ${packets} packets and forwarded ${relay.forwarded}; per subscriber: ${received.join(', ')}`);
  relay.close();
  publisher.close();
  for (const v of viewers) v.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await demo(Number(process.argv[2] ?? 3));
}
