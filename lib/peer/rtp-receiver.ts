// RTCRtpReceiver (webrtc-pc §5.3) for raw RTP: the remote track(s) of one transceiver — one per
// simulcast rid (RFC 8853) — with the remote SSRCs learned from SDP (RFC 5576) or from the mid /
// rid header extensions (RFC 8843 §9.2, RFC 8852), RTX unwrapping (RFC 4588 §4) and counters.
import { rtpCapabilities, type RTCRtpCapabilities } from './codec-preferences.js';
import { defaultCodecs, defaultHeaderExtensions } from '../sdp/default-capabilities.js';
import type { RTCStatsReport } from './stats.js';
import { PeerEventTarget } from './event-target.js';
import { MediaStreamTrack, type MediaKind } from './media-stream-track.js';
import type { RtcpEvents } from './rtp-sender.js';
import type { RtpPolicyChain } from './rtp-policy-chain.js';
import { PeerError } from './session-description.js';
import { reportListenerError } from '../common/typed-emitter.js';

/** Negotiated receiving parameters. */
export interface ReceiverParameters {
  /** Payload types we accept (media codecs), with their clock rates. */
  readonly clockRates: ReadonlyMap<number, number>;
  /** Original payload type per RTX payload type. */
  readonly rtxOriginal: ReadonlyMap<number, number>;
  /** rids the peer sends (simulcast), in order. */
  readonly rids: readonly string[];
}

/** Per-SSRC receive counters (inbound-rtp stats). */
export interface InboundStream {
  readonly ssrc: number;
  readonly track: MediaStreamTrack;
  packetsReceived: number;
  bytesReceived: number;
  headerBytesReceived: number;
  lastSequence: number;
  /** Highest extended sequence number seen and the first one, for packetsLost. */
  cycles: number;
  baseSequence: number;
  maxSequence: number;
  lastPacketReceivedAt: number;
}

/** @internal A remote SSRC bound to a receiver (announced, or learned from mid / rid / repaired-rid). */
export interface ReceiverStreamBound {
  readonly ssrc: number;
  /** The simulcast rid of the stream (for an RTX stream: the rid it repairs), if known. */
  readonly rid: string | undefined;
  /** True for an RTX stream (RFC 4588) repairing `rid`. */
  readonly repair: boolean;
}

/** The shared empty stream map of receivers that learned none (read-only by its type). */
const NO_STREAMS: ReadonlyMap<number, string> = new Map<number, string>();

/** The receiving half of a transceiver. */
export class RTCRtpReceiver extends PeerEventTarget<RtcpEvents> {
  /**
   * W3C getCapabilities(): the codecs and header extensions a connection with default options
   * offers for `kind` (a connection's `codecs`/`headerExtensions` options replace them); null
   * for another kind.
   */
  static getCapabilities(kind: string): RTCRtpCapabilities | null {
    return kind === 'audio' || kind === 'video' ? rtpCapabilities(kind, defaultCodecs(kind), defaultHeaderExtensions(kind)) : null;
  }

  readonly kind: MediaKind;
  /** @internal Set by the peer connection (itself: no closure per object): getStats with this object as selector. */
  statsSource: { getStats(selector: RTCRtpReceiver): Promise<RTCStatsReport> } | undefined;
  /** The remote track (the first simulcast layer when there are several). */
  readonly track: MediaStreamTrack;
  /** @internal Negotiated parameters. */
  params: ReceiverParameters | undefined;
  /** @internal Streams by remote SSRC. */
  readonly streams = new Map<number, InboundStream>();
  // The collections below are made on first use: most receivers have no simulcast layers, no
  // RTX learned by repaired-rid and no router listening (docs/architecture.md, "What a connection costs").
  private ridTracks: Map<string, MediaStreamTrack> | undefined;
  /** @internal The transceiver's policy modules. */
  policies: RtpPolicyChain | undefined;
  private boundListenerSet: Set<(e: ReceiverStreamBound) => void> | undefined;
  private layerStreamMap: Map<number, string> | undefined;
  private repairStreamMap: Map<number, string | undefined> | undefined;

  /** @internal Told of every remote SSRC bound to this receiver (lib/sfu learns simulcast layers). */
  get boundListeners(): Set<(e: ReceiverStreamBound) => void> {
    return (this.boundListenerSet ??= new Set());
  }
  /** @internal SSRCs learned by rtp-stream-id (simulcast layers) and their rids. */
  get layerStreams(): ReadonlyMap<number, string> {
    return this.layerStreamMap ?? NO_STREAMS;
  }
  /** @internal RTX SSRCs learned by repaired-rid, and the rid each repairs. */
  get repairStreams(): ReadonlyMap<number, string | undefined> {
    return this.repairStreamMap ?? NO_STREAMS;
  }

  /**
   * W3C getStats(): the RTP stream entries of this object and what they refer to (transport,
   * codec, candidate pair, certificates), as the connection's getStats(this) reports them.
   */
  async getStats(): Promise<RTCStatsReport> {
    if (!this.statsSource) throw new PeerError('InvalidStateError', 'ERR_PEER_CLOSED', 'this object has no peer connection');
    return this.statsSource.getStats(this);
  }

  /** @internal */
  constructor(kind: MediaKind, trackId?: string) {
    super();
    this.kind = kind;
    this.track = new MediaStreamTrack({ kind, remote: true, ...(trackId ? { id: trackId } : {}) });
  }

  /** Every remote track of this receiver: one, or one per simulcast rid. */
  get tracks(): MediaStreamTrack[] {
    return !this.ridTracks || this.ridTracks.size === 0 ? [this.track] : [...this.ridTracks.values()];
  }

  /** @internal The track for a rid (created on first use; the first rid uses `track`). */
  trackForRid(rid: string | undefined): MediaStreamTrack {
    if (rid === undefined) return this.track;
    const ridTracks = (this.ridTracks ??= new Map());
    let t = ridTracks.get(rid);
    if (!t) {
      if (ridTracks.size === 0) {
        t = this.track;
        t.setRid(rid);
      } else {
        t = new MediaStreamTrack({ kind: this.kind, remote: true, rid });
      }
      ridTracks.set(rid, t);
    }
    return t;
  }

  /**
   * @internal Binds a remote SSRC to a track; `rid` is the rtp-stream-id the stream was learned by
   * (RFC 8852), if any — a stream without one is no simulcast layer even when its track has a rid.
   */
  bind(ssrc: number, track: MediaStreamTrack, now: number, rid?: string): InboundStream {
    const s: InboundStream = {
      ssrc, track, packetsReceived: 0, bytesReceived: 0, headerBytesReceived: 0, lastSequence: -1,
      cycles: 0, baseSequence: -1, maxSequence: -1, lastPacketReceivedAt: now,
    };
    this.streams.set(ssrc, s);
    this.notifyBound({ ssrc, rid, repair: false });
    return s;
  }

  /** @internal A remote SSRC was bound (a stream here, or an RTX stream by repaired-rid in media-router): tells the listeners. */
  notifyBound(e: ReceiverStreamBound): void {
    if (e.repair) (this.repairStreamMap ??= new Map()).set(e.ssrc, e.rid);
    else if (e.rid !== undefined) (this.layerStreamMap ??= new Map()).set(e.ssrc, e.rid);
    if (!this.boundListenerSet) return;
    for (const l of this.boundListenerSet) {
      try {
        l(e);
      } catch (err) {
        reportListenerError(err);
      }
    }
  }

  /**
   * Asks the remote sender(s) for a keyframe (PLI or FIR, RFC 4585 §6.3.1 / RFC 5104 §4.3.1) through
   * the installed keyframe module, which throttles requests. `ssrc` picks one stream (default all).
   * Before any packet arrived, the request waits for the first stream. Throws InvalidStateError
   * when no installed module serves keyframe requests (none installed, or PLI/FIR not negotiated),
   * or `ssrc` is a stream not received.
   */
  requestKeyframe(ssrc?: number): void {
    if (!this.policies || !this.policies.requestKeyframe(ssrc)) {
      throw new PeerError('InvalidStateError', 'ERR_PEER_NO_KEYFRAME_MODULE', 'no installed policy module can send this keyframe request: none installed, PLI/FIR not negotiated, or an SSRC not received (docs/policy.md)');
    }
  }

  /** @internal Ends every track. */
  endTracks(): void {
    this.track.end();
    if (this.ridTracks) for (const t of this.ridTracks.values()) t.end();
  }
}
