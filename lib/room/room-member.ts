// One member of a room (docs/sfu.md "Room server"): the publisher connection that answers the page's
// sendonly offer and turns each received audio/video stream into a router producer, plus the member's
// subscriptions to every other member (room-subscription.ts).
import { RTCPeerConnection, type RTCRtpTransceiver } from '../peer/index.js';
import { parseSdp } from '../sdp/parse.js';
import type { SdpMediaSection } from '../sdp/model.js';
import type { Producer, ProducerStats } from '../sfu/index.js';
import { announceAddress } from '../echo/announce.js';
import { roomCodecs } from './room-codecs.js';
import { LiveLayers } from './layer-keeper.js';
import type { RoomLegOptions, RoomSubscription, RoomSubscriptionSnapshot } from './room-subscription.js';

/** A member as the room's stats show it. */
export interface RoomMemberSnapshot {
  readonly id: string;
  readonly connectionState: string;
  /** True once every stream the page published has a producer. */
  readonly publishing: boolean;
  readonly producers: ProducerStats[];
  readonly subscriptions: RoomSubscriptionSnapshot[];
  /** Why producing failed, if it did. */
  readonly error?: string;
}

/**
 * The primary SSRC a sendonly m-section announces (RFC 5576: the first of an FID group, else the
 * first a=ssrc), or undefined: none announced, or simulcast (RFC 8853), where the router binds each
 * rid's SSRC itself.
 */
function announcedSsrc(media: SdpMediaSection): number | undefined {
  if (media.simulcast !== undefined || media.rids.length > 1) return undefined;
  const fid = media.ssrcGroups.find((g) => g.semantics === 'FID');
  return fid?.ssrcs[0] ?? media.ssrcs[0]?.ssrc;
}

/** A page in a room. Create with {@link RoomMember.join}. */
export class RoomMember {
  readonly id: string;
  /** The publisher connection (the page sends, we receive). */
  readonly pc: RTCPeerConnection;
  readonly answer: string;
  /** Subscriptions of this member, by the id of the member they carry. */
  readonly subscriptions = new Map<string, RoomSubscription>();
  private readonly producersValue: Producer[] = [];
  private readonly liveLayers = new Map<Producer, LiveLayers>();
  private expected = 0;
  private errorValue: string | undefined;
  private closedValue = false;
  private readonly readyWaiters = new Set<() => void>();

  private constructor(id: string, pc: RTCPeerConnection, answer: string) {
    this.id = id;
    this.pc = pc;
    this.answer = answer;
  }

  /**
   * Answers the page's publish offer (audio and/or video, sendonly) and produces every received
   * stream once connected. Throws the peer connection's typed errors for an offer it cannot answer.
   */
  static async join(id: string, offer: string, leg: RoomLegOptions): Promise<RoomMember> {
    const pc = new RTCPeerConnection({ ...leg.config, codecs: roomCodecs() });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const media = parseSdp(offer).media;
      const plan: { transceiver: RTCRtpTransceiver; ssrc: number | undefined }[] = [];
      for (const t of pc.getTransceivers()) {
        if (t.stopped || (t.receiver.kind !== 'audio' && t.receiver.kind !== 'video')) continue;
        const m = media.find((x) => x.mid !== undefined && x.mid === t.mid);
        if (!m || m.port === 0 || m.direction === 'recvonly' || m.direction === 'inactive') continue;
        t.direction = 'recvonly';
        plan.push({ transceiver: t, ssrc: announcedSsrc(m) });
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = leg.publicIp ? announceAddress(pc.localDescription!.sdp, leg.publicIp) : pc.localDescription!.sdp;
      const member = new RoomMember(id, pc, sdp);
      member.expected = plan.length;
      void Promise.all(plan.map(async ({ transceiver, ssrc }) => {
        // Nothing taps: transport-cc feedback comes from the engine's arrival log, and sampleLayers
        // reads each simulcast layer's packet count from the engine (docs/sfu.md "Room server").
        const producer = await leg.router.produce(pc, transceiver, { ...(ssrc !== undefined ? { ssrc } : {}), tap: false });
        if (member.closedValue) producer.close();
        else member.producersValue.push(producer);
      })).then(() => member.wake(), (error: unknown) => {
        if (!member.closedValue) member.errorValue = (error as Error).message;
        member.wake();
      });
      return member;
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  /** Open producers of this member's streams. */
  get producers(): readonly Producer[] {
    return this.producersValue.filter((p) => !p.closed);
  }

  /**
   * Looks at which simulcast layers of this member's producers received packets lately, at `now`
   * (ms, monotonic; the engine counts each layer's packets, no packet reaches JavaScript). Called
   * once a second by the room.
   */
  sampleLayers(now: number): void {
    for (const p of this.producers) {
      if (!p.simulcast) continue;
      let live = this.liveLayers.get(p);
      if (!live) this.liveLayers.set(p, (live = new LiveLayers()));
      const packets = p.layerPacketsReceived();
      const counters: (number | undefined)[] = [];
      for (let i = 0; i < p.layerCount; i++) counters.push(p.layerSsrc(i) === undefined ? undefined : packets[i]);
      live.update(now, counters);
    }
  }

  /** The live spatial layers of `producer` at the last {@link sampleLayers} (all layers of a single stream). */
  liveLayersOf(producer: Producer): readonly number[] {
    if (!producer.simulcast) return [0];
    return this.liveLayers.get(producer)?.live ?? [];
  }

  /** True once every published stream has a producer. */
  get publishing(): boolean {
    return !this.closedValue && this.expected > 0 && this.producers.length === this.expected;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Resolves once producing finished (all producers, or an error), or the member closed. */
  ready(): Promise<void> {
    if (this.closedValue || this.errorValue !== undefined || this.producersValue.length === this.expected) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.add(resolve));
  }

  snapshot(): RoomMemberSnapshot {
    return {
      id: this.id,
      connectionState: this.pc.connectionState,
      publishing: this.publishing,
      producers: this.producers.map((p) => p.getStats()),
      subscriptions: [...this.subscriptions.values()].filter((s) => !s.closed).map((s) => s.snapshot()),
      ...(this.errorValue !== undefined ? { error: this.errorValue } : {}),
    };
  }

  /** Closes the publisher connection (the router closes its producers) and every subscription. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    for (const s of this.subscriptions.values()) s.close();
    this.subscriptions.clear();
    this.pc.close();
    this.wake();
  }

  private wake(): void {
    for (const w of this.readyWaiters) w();
    this.readyWaiters.clear();
  }
}
