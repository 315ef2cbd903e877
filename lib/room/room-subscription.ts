// One subscription of a room member to another member's media (docs/sfu.md "Room server"): the
// subscriber's page offers recvonly audio+video (as a WHEP player does, draft-ietf-wish-whep §4), we
// answer sendonly on our own peer connection and the router's consumers feed it from the other
// member's producers. One connection per (subscriber, publisher) pair: no renegotiation, no glare.
import { LocalStreamTrack, RTCPeerConnection, type RTCConfiguration, type RTCRtpTransceiver } from '../peer/index.js';
import { InvalidStateError } from '../common/errors.js';
import type { Consumer, ConsumerLayers, ConsumerStats, PreferredLayers, Producer, Router } from '../sfu/index.js';
import { announceAddress } from '../echo/announce.js';
import { roomCodecs } from './room-codecs.js';
import { chooseLayer } from './layer-keeper.js';

/** A consumer as the room's stats show it. */
export interface RoomConsumerSnapshot extends ConsumerStats {
  readonly producerSsrc: number;
  /** The producer's simulcast rids, lowest first (empty for a single stream). */
  readonly spatialLayers: readonly string[];
  /** The spatial layers whose packets arrived within the last 1.5 s of looks (RoomMember.sampleLayers, layer-keeper.ts). */
  readonly liveLayers: readonly number[];
  /** The spatial layer the subscriber asked for; it gets the highest live layer not above it. */
  readonly wantedSpatialLayer: number;
  /** The layers asked for, and those sent now (null for a single stream or before the first key frame). */
  readonly preferredLayers: PreferredLayers;
  readonly currentLayers: ConsumerLayers | null;
  /** True while the router chooses the layers under `preferredLayers` (docs/sfu.md "Automatic layer selection"). */
  readonly autoLayers: boolean;
  /** The layers the engine is told to send (the automatic choice, or the preferred layers). */
  readonly targetLayers: ConsumerLayers;
}

/** A subscription as the room's stats show it. */
export interface RoomSubscriptionSnapshot {
  /** The member whose media this subscription carries. */
  readonly from: string;
  readonly connectionState: string;
  readonly consumers: RoomConsumerSnapshot[];
  /** Why consuming failed, if it did (the connection then carries nothing). */
  readonly error?: string;
}

/** Where a subscription's connection lives. */
export interface RoomLegOptions {
  readonly router: Router;
  /** Peer connection configuration (udpMux: the router's mux). */
  readonly config: RTCConfiguration;
  /** Announced in the answer instead of the bound address (server behind 1:1 NAT). */
  readonly publicIp?: string;
}

/** Forwards one member's producers to another member's page. Create with {@link RoomSubscription.answer}. */
export class RoomSubscription {
  readonly from: string;
  readonly pc: RTCPeerConnection;
  readonly answer: string;
  private readonly consumersValue: Consumer[] = [];
  private errorValue: string | undefined;
  private closedValue = false;
  /** The spatial layer the subscriber asked for (undefined: the top layer). */
  private wanted: number | undefined;
  private readonly liveLayers: (producer: Producer) => readonly number[];

  private constructor(from: string, pc: RTCPeerConnection, answer: string, liveLayers: (producer: Producer) => readonly number[]) {
    this.from = from;
    this.pc = pc;
    this.answer = answer;
    this.liveLayers = liveLayers;
  }

  /**
   * Answers the subscriber's recvonly offer: each audio/video m-section for which `producers` has
   * a producer of that kind becomes sendonly and is consumed once connected; others are answered
   * inactive. Throws the peer connection's typed errors for an offer it cannot answer.
   */
  static async answer(from: string, offer: string, producers: readonly Producer[], leg: RoomLegOptions,
    liveLayers: (producer: Producer) => readonly number[]): Promise<RoomSubscription> {
    const pc = new RTCPeerConnection({ ...leg.config, codecs: roomCodecs() });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const plan: { transceiver: RTCRtpTransceiver; producer: Producer }[] = [];
      const used = new Set<Producer>();
      for (const t of pc.getTransceivers()) {
        if (t.stopped) continue;
        const producer = producers.find((p) => p.kind === t.receiver.kind && !used.has(p) && !p.closed);
        if (!producer) {
          t.direction = 'inactive';
          continue;
        }
        used.add(producer);
        // The consumer owns the sender's SSRC; this track is never written to (docs/sfu.md).
        await t.sender.replaceTrack(new LocalStreamTrack({ kind: t.receiver.kind }));
        t.direction = 'sendonly';
        plan.push({ transceiver: t, producer });
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = leg.publicIp ? announceAddress(pc.localDescription!.sdp, leg.publicIp) : pc.localDescription!.sdp;
      const subscription = new RoomSubscription(from, pc, sdp, liveLayers);
      // router.consume waits for the connection; a connection that never comes is ended by the room.
      void Promise.all(plan.map(async ({ transceiver, producer }) => {
        // A simulcast consumer starts on the highest live layer (layer-keeper.ts).
        const consumer = await leg.router.consume(producer, pc, transceiver,
          producer.simulcast ? { preferredLayers: { spatialLayer: chooseLayer(producer.layerCount - 1, liveLayers(producer)) } } : {});
        if (subscription.closedValue) consumer.close();
        else subscription.consumersValue.push(consumer);
      })).catch((error: unknown) => {
        if (!subscription.closedValue) subscription.errorValue = (error as Error).message;
      });
      return subscription;
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  get consumers(): readonly Consumer[] {
    return this.consumersValue;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  snapshot(): RoomSubscriptionSnapshot {
    const consumers: RoomConsumerSnapshot[] = [];
    for (const c of this.consumersValue) {
      if (c.closed) continue;
      consumers.push({
        ...c.getStats(),
        producerSsrc: c.producer.ssrc,
        spatialLayers: c.producer.spatialLayers,
        liveLayers: this.liveLayers(c.producer),
        wantedSpatialLayer: c.kind === 'video' ? this.wanted ?? c.producer.layerCount - 1 : 0,
        preferredLayers: c.preferredLayers,
        currentLayers: c.currentLayers,
        autoLayers: c.autoLayers,
        targetLayers: c.targetLayers,
      });
    }
    return { from: this.from, connectionState: this.pc.connectionState, consumers, ...(this.errorValue !== undefined ? { error: this.errorValue } : {}) };
  }

  /**
   * Asks for spatial layer `layers.spatialLayer` of the video this subscription carries; the
   * subscriber gets the highest live layer not above it, now and whenever the live layers change
   * ({@link keepLayers}). The switch completes at the layer's next key frame (lib/sfu
   * Consumer.setPreferredLayers). Throws ERR_ROOM_NO_VIDEO before the video consumer exists, and the
   * consumer's RangeError ERR_SFU_LAYER for a layer the producer does not have.
   */
  setPreferredLayers(layers: PreferredLayers): { wantedSpatialLayer: number; preferredLayers: PreferredLayers } {
    const video = this.video();
    if (!video) throw new InvalidStateError('ERR_ROOM_NO_VIDEO', `the subscription to ${this.from} carries no video (yet)`);
    const producer = video.producer;
    if (!producer.simulcast || !Number.isInteger(layers.spatialLayer) || layers.spatialLayer < 0 || layers.spatialLayer >= producer.layerCount) {
      // A single stream, or a layer the producer lacks (the consumer throws ERR_SFU_LAYER).
      video.setPreferredLayers(layers);
      return { wantedSpatialLayer: layers.spatialLayer, preferredLayers: video.preferredLayers };
    }
    this.wanted = layers.spatialLayer;
    const spatialLayer = chooseLayer(layers.spatialLayer, this.liveLayers(producer));
    video.setPreferredLayers({ ...layers, spatialLayer });
    return { wantedSpatialLayer: layers.spatialLayer, preferredLayers: video.preferredLayers };
  }

  /**
   * Turns automatic layer selection of this subscription's video on or off (lib/sfu
   * Consumer.setAutoLayers): the layers asked for become the cap. Throws ERR_ROOM_NO_VIDEO before the
   * video consumer exists.
   */
  setAutoLayers(on: boolean): { autoLayers: boolean; preferredLayers: PreferredLayers } {
    const video = this.video();
    if (!video) throw new InvalidStateError('ERR_ROOM_NO_VIDEO', `the subscription to ${this.from} carries no video (yet)`);
    video.setAutoLayers(on);
    return { autoLayers: video.autoLayers, preferredLayers: video.preferredLayers };
  }

  /**
   * Moves a simulcast video consumer to the highest live layer not above the one asked for, when
   * that changed (a layer stopped or came back). Called once a second by the room.
   */
  keepLayers(): void {
    const video = this.video();
    if (!video || !video.producer.simulcast) return;
    const producer = video.producer;
    const want = chooseLayer(this.wanted ?? producer.layerCount - 1, this.liveLayers(producer));
    const preferred = video.preferredLayers;
    if (want !== preferred.spatialLayer) video.setPreferredLayers({ ...preferred, spatialLayer: want });
  }

  private video(): Consumer | undefined {
    return this.consumersValue.find((c) => c.kind === 'video' && !c.closed);
  }

  /** Closes the connection; the router closes its consumers with it. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.pc.close();
  }
}
