// One subscription of a room member to another member's media (docs/sfu.md "Room server"): the
// subscriber's page offers recvonly audio+video (as a WHEP player does, draft-ietf-wish-whep §4), we
// answer sendonly on our own peer connection and the router's consumers feed it from the other
// member's producers. One connection per (subscriber, publisher) pair: no renegotiation, no glare.
import { LocalStreamTrack, RTCPeerConnection, type RTCConfiguration, type RTCRtpTransceiver } from '../peer/index.js';
import type { Consumer, ConsumerStats, Producer, Router } from '../sfu/index.js';
import { announceAddress } from '../echo/announce.js';
import { roomCodecs } from './room-codecs.js';

/** A consumer as the room's stats show it. */
export interface RoomConsumerSnapshot extends ConsumerStats {
  readonly producerSsrc: number;
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

  private constructor(from: string, pc: RTCPeerConnection, answer: string) {
    this.from = from;
    this.pc = pc;
    this.answer = answer;
  }

  /**
   * Answers the subscriber's recvonly offer: each audio/video m-section for which `producers` has
   * a producer of that kind becomes sendonly and is consumed once connected; others are answered
   * inactive. Throws the peer connection's typed errors for an offer it cannot answer.
   */
  static async answer(from: string, offer: string, producers: readonly Producer[], leg: RoomLegOptions): Promise<RoomSubscription> {
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
      const subscription = new RoomSubscription(from, pc, sdp);
      // router.consume waits for the connection; a connection that never comes is ended by the room.
      void Promise.all(plan.map(async ({ transceiver, producer }) => {
        const consumer = await leg.router.consume(producer, pc, transceiver);
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
      if (!c.closed) consumers.push({ ...c.getStats(), producerSsrc: c.producer.ssrc });
    }
    return { from: this.from, connectionState: this.pc.connectionState, consumers, ...(this.errorValue !== undefined ? { error: this.errorValue } : {}) };
  }

  /** Closes the connection; the router closes its consumers with it. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.pc.close();
  }
}
