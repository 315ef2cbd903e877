// A consumer of an SFU router: one subscriber connection's sender that the native engine feeds from
// a producer, rewritten to the sender's SSRC, payload type and extension ids (docs/sfu.md).
import { InvalidStateError } from '../common/errors.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import type { RTCRtpTransceiver } from '../peer/rtp-transceiver.js';
import type { NativeForwardEngine } from '../native/forward.js';
import { CONSUMER_STAT_BASE } from '../native/forward.js';
import type { NativeStreamTotals } from '../peer/rtp-policy.js';
import type { Producer } from './producer.js';

/** Why the engine did not send a packet to a consumer (native ForwardDrop names). */
export type ForwardDropReason = 'malformed' | 'payload-type' | 'paused' | 'protect' | 'no-transport' | 'too-big';

/** Consumer stats, shaped like W3C outbound-rtp where a name exists (pwt* fields are ours). */
export interface ConsumerStats {
  readonly type: 'outbound-rtp';
  readonly kind: MediaKind;
  readonly ssrc: number;
  /** Packets the engine sent to this consumer. */
  readonly packetsSent: number;
  /** SRTP bytes sent (headers and tag included). */
  readonly bytesSent: number;
  /** Packets resent from the producer's cache in answer to this subscriber's NACKs. */
  readonly retransmittedPacketsSent: number;
  /** Sequence numbers this subscriber's NACKs asked for. */
  readonly pwtNackedPackets: number;
  readonly pwtPaused: boolean;
  /** Packets not sent, by reason. */
  readonly pwtDrops: Readonly<Record<ForwardDropReason, number>>;
}

/** @internal What a consumer needs from its router. */
export interface ConsumerHost {
  readonly engine: NativeForwardEngine;
  readonly dropNames: readonly string[];
  consumerClosed(c: Consumer): void;
}

/** One subscriber leg; created by {@link Router.consume}. */
export class Consumer {
  readonly kind: MediaKind;
  /** The SSRC the subscriber receives (its sender's). */
  readonly ssrc: number;
  /** The subscriber's transceiver. */
  readonly transceiver: RTCRtpTransceiver;
  /** @internal Engine id. */
  readonly id: number;
  private producerValue: Producer;
  private readonly host: ConsumerHost;
  private pausedValue: boolean;
  private closedValue = false;
  private readonly statsOut: Float64Array;

  /** @internal */
  constructor(host: ConsumerHost, id: number, producer: Producer, transceiver: RTCRtpTransceiver, ssrc: number, paused: boolean) {
    this.host = host;
    this.id = id;
    this.producerValue = producer;
    this.transceiver = transceiver;
    this.kind = transceiver.kind;
    this.ssrc = ssrc;
    this.pausedValue = paused;
    this.statsOut = new Float64Array(CONSUMER_STAT_BASE + host.dropNames.length);
  }

  get producer(): Producer {
    return this.producerValue;
  }

  get paused(): boolean {
    return this.pausedValue;
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Stops sending (packets are dropped and counted as 'paused'). */
  pause(): void {
    this.assertOpen();
    this.host.engine.setConsumerPaused(this.id, true);
    this.pausedValue = true;
  }

  /**
   * Sends again; sequence numbers continue without a gap and timestamps advance by the time paused.
   * Video needs a keyframe to decode again: call `producer.requestKeyFrame()`.
   */
  resume(): void {
    this.assertOpen();
    this.host.engine.setConsumerPaused(this.id, false);
    this.pausedValue = false;
  }

  /**
   * @internal What the subscriber transceiver's policy modules (the RTCP reporter's sender reports)
   * need about what the engine sent on this leg; `now` is the connection's clock (ms).
   */
  nativeTotals(now: number): NativeStreamTotals {
    const s = this.statsOut;
    if (this.closedValue || !this.host.engine.consumerStats(this.id, s)) return { sent: [], received: [] };
    const sinceUs = s[6]!;
    return {
      sent: [{ ssrc: this.ssrc, packets: s[0]!, payloadBytes: s[4]!, bytes: s[1]!, lastRtpTimestamp: s[5]!, lastSentAt: sinceUs < 0 ? undefined : now - sinceUs / 1000 }],
      received: [],
    };
  }

  getStats(): ConsumerStats {
    this.assertOpen();
    const s = this.statsOut;
    this.host.engine.consumerStats(this.id, s);
    const drops: Record<string, number> = {};
    this.host.dropNames.forEach((name, i) => {
      if (i > 0) drops[name] = s[CONSUMER_STAT_BASE + i]!;
    });
    return {
      type: 'outbound-rtp',
      kind: this.kind,
      ssrc: this.ssrc,
      packetsSent: s[0]!,
      bytesSent: s[1]!,
      pwtNackedPackets: s[2]!,
      retransmittedPacketsSent: s[3]!,
      pwtPaused: this.pausedValue,
      pwtDrops: drops as Record<ForwardDropReason, number>,
    };
  }

  /** Stops this leg. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.host.engine.removeConsumer(this.id);
    this.host.consumerClosed(this);
  }

  private assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_SFU_CONSUMER_CLOSED', 'the consumer is closed');
  }
}
