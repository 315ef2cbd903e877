// RTCRtpSender (webrtc-pc §5.2) for raw RTP: fills SSRC, payload type, sequence number, timestamp
// and the negotiated header extensions (mid RFC 8843 §15.2, abs-send-time, transport-wide-cc) of
// packets the application sends, serializes them into the transport's scratch buffer and hands
// them to SRTP. Packets sent before negotiation completes wait in a bounded queue.
import { rtpCapabilities, type RTCRtpCapabilities } from './codec-preferences.js';
import { defaultCodecs, defaultHeaderExtensions } from '../sdp/default-capabilities.js';
import type { Rng } from '../common/rng.js';
import {
  checkSendParameters,
  copySendParameters,
  defaultEncodingSettings,
  type EncodingSettings,
  type RTCRtpEncodingParameters,
  type RTCRtpSendParameters,
} from './send-parameters.js';
import { HeaderExtensionUri } from '../sdp/capabilities.js';
import { serializeSdesId } from '../rtp/extensions/sdes-id.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { rtcpByteLength, serializeRtcpInto, type RtcpPacket } from '../rtp/rtcp/compound.js';
import type { PeerTransport } from '../transport/peer-transport.js';
import type { RTCStatsReport } from './stats.js';
import { PeerEventTarget, type PeerEvent } from './event-target.js';
import type { LocalStreamTrack, MediaKind, TrackSink } from './media-stream-track.js';
import type { RtpPolicyChain } from './rtp-policy-chain.js';
import { RtpPacketFlags } from './rtp-policy.js';
import { PeerError } from './session-description.js';
import { mapList } from '../common/list-map.js';

/** Negotiated sending parameters of one sender. */
export interface SenderParameters {
  readonly mid: string;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly codec: string;
  readonly rtxPayloadType: number | undefined;
  /** Header extension id per URI, as negotiated. */
  readonly extensionIds: ReadonlyMap<string, number>;
  /** The CNAME our SDP announces (RFC 7022), and whether RFC 5506 reduced-size RTCP was negotiated. */
  readonly cname?: string;
  readonly rtcpReducedSize?: boolean;
}

export type { RTCRtpSendParameters } from './send-parameters.js';

/** What the sender needs from its peer connection. */
export interface SenderOwner {
  /** The bundle transport, once it exists. */
  readonly mediaTransport: PeerTransport | undefined;
  /** Next transport-wide sequence number (shared by every sender of the transport). */
  nextTransportSequence(): number;
  /** Milliseconds of the connection's monotonic clock. */
  now(): number;
  /** Policy modules of the whole transport (docs/policy.md). */
  readonly transportPolicies: RtpPolicyChain;
}

/**
 * An RTCP packet received about what this sender sends (RR, NACK, PLI, FIR, REMB, transport-cc...).
 * On an SFU consumer's sender, packets the forwarding engine consumed natively are not dispatched
 * unless the application listens (docs/sfu.md).
 */
export interface RtcpEvent extends PeerEvent<'rtcp'> {
  readonly packet: RtcpPacket;
}

/** Events of RTCRtpSender and RTCRtpReceiver. */
export type RtcpEvents = { rtcp: RtcpEvent };

/**
 * Events of RTCRtpSender: `rtcp`, and `parameterschange` after a successful setParameters (the
 * application's encoder reads maxBitrate, scaleResolutionDownBy... from `parameters`).
 */
export type RTCRtpSenderEvents = RtcpEvents & {
  parameterschange: PeerEvent<'parameterschange'> & { readonly parameters: RTCRtpSendParameters };
};

/** One simulcast layer of a sender (RFC 8853): its rid, SSRC, sequence numbers and counters. */
export interface SenderEncoding {
  readonly rid: string;
  readonly ssrc: number;
  packetsSent: number;
  bytesSent: number;
  /** @internal */
  sequence: number;
  /** @internal The rid as header extension bytes. */
  readonly ridData: Buffer;
}

/** Packets a sender keeps while it has no negotiated parameters. */
export const SENDER_QUEUE_LIMIT = 512;

/** The sending half of a transceiver. */
export class RTCRtpSender extends PeerEventTarget<RTCRtpSenderEvents> implements TrackSink {
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
  statsSource: { getStats(selector: RTCRtpSender): Promise<RTCStatsReport> } | undefined;
  /** SSRC of the primary stream. */
  readonly ssrc: number;
  /** SSRC announced for RTX (used when RTX is negotiated). */
  readonly rtxSsrc: number;
  /** Counters for outbound-rtp stats. */
  packetsSent = 0;
  bytesSent = 0;
  headerBytesSent = 0;
  /** Packets dropped: queue overflow before negotiation, or too large to send. */
  packetsDropped = 0;
  /** Packets a policy module dropped or held (a held packet is counted sent when released). */
  packetsHeldByPolicy = 0;
  /** Retransmissions sent by policy modules (outbound-rtp retransmittedPacketsSent / retransmittedBytesSent). */
  retransmittedPacketsSent = 0;
  retransmittedBytesSent = 0;
  /** @internal The transceiver's policy modules (set by the peer connection). */
  policies: RtpPolicyChain | undefined;
  private trackValue: LocalStreamTrack | null = null;
  private params: SenderParameters | undefined;
  /** False while the negotiated direction does not send: packets are then dropped and counted. */
  private active = false;
  private sequence: number;
  private readonly timestampBase: number;
  private pending: { packet: RtpPacket; rid: string | undefined }[] = [];
  /** Simulcast layers, when the transceiver was added with sendEncodings rids. */
  readonly encodings: readonly SenderEncoding[];
  /** The answer accepted our simulcast (a=simulcast:recv); otherwise only the first layer is sent. */
  private simulcastAccepted = false;
  private midData: Buffer | undefined;
  // The extension scratch bytes are made by the first packet that needs them: each small Buffer
  // is an ArrayBuffer and a view (about 0.2 KiB of heap), and an idle sender sends nothing.
  private absSendTimeData: Buffer | undefined;
  private twccBytes: Buffer | undefined;
  private stoppedValue = false;
  /** Application settings per encoding (one per simulcast layer, else one). */
  private settings: EncodingSettings[];
  /** webrtc-pc §5.2 [[LastReturnedParameters]]: valid until the end of the task that got it. */
  private lastReturned: RTCRtpSendParameters | undefined;
  private transactionCounter = 0;

  /**
   * W3C getStats(): the RTP stream entries of this object and what they refer to (transport,
   * codec, candidate pair, certificates), as the connection's getStats(this) reports them.
   */
  async getStats(): Promise<RTCStatsReport> {
    if (!this.statsSource) throw new PeerError('InvalidStateError', 'ERR_PEER_CLOSED', 'this object has no peer connection');
    return this.statsSource.getStats(this);
  }

  /** The transport-wide sequence number's scratch bytes (made on first use). */
  private twccData(): Buffer {
    return (this.twccBytes ??= Buffer.alloc(2));
  }

  /** @internal */
  constructor(kind: MediaKind, track: LocalStreamTrack | null, private readonly owner: SenderOwner, rng: Rng, rids: readonly string[] = []) {
    super();
    this.kind = kind;
    this.ssrc = rng.uint32() || 1;
    let rtx = rng.uint32() || 2;
    if (rtx === this.ssrc) rtx = (rtx + 1) >>> 0;
    this.rtxSsrc = rtx;
    this.sequence = rng.uint32() & 0x7fff;
    this.timestampBase = rng.uint32();
    this.encodings = mapList(rids, (rid, i) => ({
      rid,
      ssrc: i === 0 ? this.ssrc : (rng.uint32() || 3),
      packetsSent: 0,
      bytesSent: 0,
      sequence: rng.uint32() & 0x7fff,
      ridData: serializeSdesId(rid),
    }));
    this.settings = [defaultEncodingSettings()];
    for (let i = 1; i < rids.length; i++) this.settings.push(defaultEncodingSettings());
    if (track) this.setTrack(track);
  }

  /** The track being sent, or null. */
  get track(): LocalStreamTrack | null {
    return this.trackValue;
  }

  /** Negotiated parameters (undefined before negotiation). */
  get parameters(): SenderParameters | undefined {
    return this.params;
  }

  /**
   * W3C getParameters() (webrtc-pc §5.2): encodings (rid, SSRCs and the application's settings),
   * the negotiated codecs and header extensions, RTCP. Without negotiated simulcast only the first
   * encoding remains. Calls within one task return the same `transactionId`.
   */
  getParameters(): RTCRtpSendParameters {
    if (this.lastReturned) return copySendParameters(this.lastReturned);
    const p = this.params;
    const layers = this.encodings.length > 0 && (!p || this.simulcastAccepted) ? this.encodings.length : 1;
    const encodings: RTCRtpEncodingParameters[] = [];
    for (let i = 0; i < layers; i++) {
      const e = this.encodings[i];
      const rtx = !e && p?.rtxPayloadType !== undefined ? { rtx: { ssrc: this.rtxSsrc } } : {};
      encodings.push({ ...(e ? { rid: e.rid } : {}), ssrc: e ? e.ssrc : this.ssrc, ...rtx, ...this.settings[i]! });
    }
    const parameters: RTCRtpSendParameters = {
      transactionId: `${this.ssrc.toString(16)}-${++this.transactionCounter}`,
      encodings,
      codecs: p
        ? [
            { payloadType: p.payloadType, mimeType: `${this.kind}/${p.codec}`, clockRate: p.clockRate },
            ...(p.rtxPayloadType !== undefined ? [{ payloadType: p.rtxPayloadType, mimeType: `${this.kind}/rtx`, clockRate: p.clockRate }] : []),
          ]
        : [],
      headerExtensions: p ? [...p.extensionIds].map(([uri, id]) => ({ uri, id })) : [],
      rtcp: { ...(p?.cname !== undefined ? { cname: p.cname } : {}), reducedSize: p?.rtcpReducedSize === true },
    };
    this.lastReturned = parameters;
    setImmediate(() => {
      if (this.lastReturned === parameters) this.lastReturned = undefined;
    }).unref();
    return copySendParameters(parameters);
  }

  /**
   * W3C setParameters() (webrtc-pc §5.2): takes what getParameters() returned in the same task,
   * with changed encoding settings. `active: false` stops sending that encoding (its packets are
   * dropped and counted in `packetsDropped`); maxBitrate, maxFramerate, scaleResolutionDownBy and
   * the priorities are for the application's encoder and are announced with `parameterschange`.
   * Rejects with the errors of lib/peer/send-parameters.ts checkSendParameters.
   */
  async setParameters(parameters: RTCRtpSendParameters): Promise<void> {
    if (this.stoppedValue) throw new PeerError('InvalidStateError', 'ERR_PEER_SENDER_STOPPED', 'setParameters on a stopped sender');
    const settings = checkSendParameters(this.kind, this.lastReturned, parameters);
    this.lastReturned = undefined;
    settings.forEach((s, i) => {
      this.settings[i] = s;
    });
    const applied = this.getParameters();
    this.lastReturned = undefined;
    this.dispatch({ type: 'parameterschange', parameters: applied });
  }

  /** W3C replaceTrack(): sends another track (or nothing) without renegotiation. */
  async replaceTrack(track: LocalStreamTrack | null): Promise<void> {
    if (this.stoppedValue) throw new PeerError('InvalidStateError', 'ERR_PEER_SENDER_STOPPED', 'replaceTrack on a stopped sender');
    if (track && track.kind !== this.kind) throw new PeerError('TypeError', 'ERR_PEER_TRACK_KIND', `a ${track.kind} track cannot replace a ${this.kind} track`);
    this.setTrack(track);
  }

  /** @internal */
  setTrack(track: LocalStreamTrack | null): void {
    this.trackValue?.detach(this);
    this.trackValue = track;
    track?.attach(this);
  }

  /**
   * Sends one RTP packet: unset fields are filled (SSRC, negotiated PT, next sequence number,
   * a timestamp from the clock), negotiated mid / abs-send-time / transport-cc extensions are
   * written unless present. Never throws for a packet that cannot be sent now: it is queued
   * (before negotiation/connection) or dropped and counted. With simulcast, `rid` names the
   * layer (default the first): its SSRC, sequence numbers and rid extension are used; throws
   * InvalidAccessError for a rid the sender does not have.
   */
  sendRtp(packet: RtpPacket, rid?: string): void {
    if (this.stoppedValue) return;
    let encoding: SenderEncoding | undefined;
    if (this.encodings.length > 0) {
      encoding = rid === undefined ? this.encodings[0] : this.encodings.find((e) => e.rid === rid);
      if (!encoding) throw new PeerError('InvalidAccessError', 'ERR_PEER_UNKNOWN_RID', `this sender has no simulcast layer '${String(rid)}'`);
    } else if (rid !== undefined) {
      throw new PeerError('InvalidAccessError', 'ERR_PEER_UNKNOWN_RID', `this sender does not send simulcast (rid '${rid}')`);
    }
    const params = this.params;
    const transport = this.owner.mediaTransport;
    if ((params && !this.active) || !this.settings[encoding ? this.encodings.indexOf(encoding) : 0]!.active) {
      this.packetsDropped++;
      return;
    }
    if (!params || !transport) {
      if (this.pending.length >= SENDER_QUEUE_LIMIT) {
        this.pending.shift();
        this.packetsDropped++;
      }
      this.pending.push({ packet, rid });
      return;
    }
    if (encoding && encoding !== this.encodings[0] && !this.simulcastAccepted) {
      // The answer did not accept simulcast: only the first layer is sent (RFC 8853 §5.3).
      this.packetsDropped++;
      return;
    }
    if (packet.ssrc === undefined) packet.ssrc = encoding ? encoding.ssrc : this.ssrc;
    if (packet.payloadType === undefined) packet.payloadType = params.payloadType;
    if (packet.sequenceNumber === undefined) {
      if (encoding) {
        packet.sequenceNumber = encoding.sequence;
        encoding.sequence = (encoding.sequence + 1) & 0xffff;
      } else {
        packet.sequenceNumber = this.sequence;
        this.sequence = (this.sequence + 1) & 0xffff;
      }
    }
    // The clock is read at most once per packet (a system call's worth on the hot path).
    let now = -1;
    if (packet.timestamp === undefined) {
      now = this.owner.now();
      packet.timestamp = (this.timestampBase + Math.floor((now * params.clockRate) / 1000)) >>> 0;
    }
    const ids = params.extensionIds;
    const midId = ids.get(HeaderExtensionUri.mid);
    if (midId !== undefined && this.midData && !packet.getExtension(midId)) packet.setExtension(midId, this.midData);
    if (encoding && this.simulcastAccepted) {
      const ridId = ids.get(HeaderExtensionUri.rtpStreamId);
      if (ridId !== undefined && !packet.getExtension(ridId)) packet.setExtension(ridId, encoding.ridData);
    }
    const astId = ids.get(HeaderExtensionUri.absSendTime);
    if (astId !== undefined && !packet.getExtension(astId)) {
      // abs-send-time: 6.18 fixed point seconds, 24 bits (webrtc.org abs-send-time).
      if (now < 0) now = this.owner.now();
      const v = Math.floor((now * (1 << 18)) / 1000) & 0xffffff;
      const d = (this.absSendTimeData ??= Buffer.alloc(3));
      d[0] = v >>> 16;
      d[1] = v >>> 8;
      d[2] = v;
      packet.setExtension(astId, d);
    }
    const twccId = ids.get(HeaderExtensionUri.transportWideCc);
    let transportSequence = -1;
    if (twccId !== undefined) {
      // Always ours: a forwarded packet's transport-wide number belongs to the other transport.
      transportSequence = this.owner.nextTransportSequence();
      const d = this.twccData();
      d[0] = transportSequence >>> 8;
      d[1] = transportSequence;
      packet.setExtension(twccId, d);
    }
    const size = packet.byteLength;
    if (size > transport.maxMediaSize) {
      this.packetsDropped++;
      return;
    }
    const length = packet.serializeInto(transport.scratchBuffer, 0);
    const chain = this.policies;
    const transportChain = this.owner.transportPolicies;
    const policed = (chain !== undefined && chain.hasOutgoingRtp) || transportChain.hasOutgoingRtp;
    if (policed) {
      if (now < 0) now = this.owner.now();
      let flags = 0;
      if (chain !== undefined && chain.hasOutgoingRtp) flags = runOutgoing(chain, now, transport.scratchBuffer, length, packet, transportSequence, flags);
      if ((flags & RtpPacketFlags.DROP) === 0 && transportChain.hasOutgoingRtp) {
        flags = runOutgoing(transportChain, now, transport.scratchBuffer, length, packet, transportSequence, flags);
      }
      if ((flags & RtpPacketFlags.DROP) !== 0) {
        this.packetsHeldByPolicy++;
        if (chain !== undefined && chain.hasOutgoingRtp) chain.flushOutgoing();
        if (transportChain.hasOutgoingRtp) transportChain.flushOutgoing();
        return;
      }
    }
    this.packetsSent++;
    this.bytesSent += packet.payloadLength;
    if (encoding) {
      encoding.packetsSent++;
      encoding.bytesSent += packet.payloadLength;
    }
    this.headerBytesSent += length - packet.payloadLength;
    transport.sendMedia(0, length);
    if (policed) {
      if (chain !== undefined && chain.hasOutgoingRtp) chain.flushOutgoing();
      if (transportChain.hasOutgoingRtp) transportChain.flushOutgoing();
    }
  }

  /**
   * @internal Sends a serialized clear RTP packet from a policy module: a retransmission (given a
   * fresh transport-wide sequence number and counted as retransmitted) or a released held packet.
   * Transport-scope modules see it; the transceiver's own chain does not (it produced it).
   */
  sendFromPolicy(data: Buffer, retransmission: boolean): void {
    const transport = this.owner.mediaTransport;
    const params = this.params;
    if (this.stoppedValue || !transport || !params || !this.active) {
      this.packetsDropped++;
      return;
    }
    const packet = RtpPacket.tryParse(data);
    if (!packet || data.length > transport.maxMediaSize || !this.encodingActive(packet.ssrc!)) {
      this.packetsDropped++;
      return;
    }
    const twccId = params.extensionIds.get(HeaderExtensionUri.transportWideCc);
    let transportSequence = -1;
    // In the original stream (not RTX) a retransmission reuses the packet's SRTP index, its nonce:
    // under AES-GCM the bytes must be those first sent, so it keeps its transport-wide number
    // (RFC 7714 §8.1; docs/policy.md "NACK responder").
    const inStream = packet.ssrc === this.ssrc || this.encodings.some((e) => e.ssrc === packet.ssrc);
    const sameNonce = retransmission && inStream && transport.dtls?.srtpProfile?.startsWith('AEAD_') === true;
    if (twccId !== undefined && retransmission && !sameNonce) {
      transportSequence = this.owner.nextTransportSequence();
      const d = this.twccData();
      d[0] = transportSequence >>> 8;
      d[1] = transportSequence;
      packet.setExtension(twccId, d);
    } else if (twccId !== undefined) {
      const v = packet.getExtension(twccId);
      if (v && v.length >= 2) transportSequence = v.readUInt16BE(0);
    }
    const length = packet.serializeInto(transport.scratchBuffer, 0);
    const transportChain = this.owner.transportPolicies;
    if (transportChain.hasOutgoingRtp) {
      const b = transportChain.outgoing;
      b.reset(transport.scratchBuffer);
      b.push(0, length, packet.ssrc!, packet.sequenceNumber!, packet.timestamp!, packet.payloadType!, packet.marker, packet.payloadLength,
        transportSequence, retransmission ? RtpPacketFlags.RETRANSMISSION : 0);
      transportChain.outgoingRtp(this.owner.now());
      if ((b.flags[0]! & RtpPacketFlags.DROP) !== 0) {
        transportChain.flush();
        return;
      }
    }
    if (retransmission) {
      this.retransmittedPacketsSent++;
      this.retransmittedBytesSent += packet.payloadLength;
    } else {
      this.packetsSent++;
      this.bytesSent += packet.payloadLength;
      this.headerBytesSent += length - packet.payloadLength;
    }
    transport.sendMedia(0, length);
    transportChain.flush();
  }

  /**
   * Whether setParameters left the encoding of `ssrc` active (an RTX SSRC counts as its
   * stream's): a retransmission of an encoding switched off is not sent either.
   */
  private encodingActive(ssrc: number): boolean {
    if (this.encodings.length === 0) return this.settings[0]!.active;
    const i = this.encodings.findIndex((e) => e.ssrc === ssrc);
    return i >= 0 ? this.settings[i]!.active : this.settings.some((s) => s.active);
  }

  /** Sends RTCP (packet objects, or one serialized compound packet). Dropped before negotiation. */
  sendRtcp(packets: readonly RtcpPacket[] | Uint8Array): void {
    const transport = this.owner.mediaTransport;
    if (this.stoppedValue || !transport) {
      this.packetsDropped++;
      return;
    }
    const scratch = transport.scratchBuffer;
    let length: number;
    if (packets instanceof Uint8Array) {
      if (packets.length > transport.maxMediaSize || packets.length < 8) {
        throw new PeerError('RangeError', 'ERR_PEER_RTCP_SIZE', `an RTCP packet of ${packets.length} B cannot be sent`);
      }
      scratch.set(packets, 0);
      length = packets.length;
    } else {
      const size = rtcpByteLength(packets);
      if (size > transport.maxMediaSize || size === 0) {
        throw new PeerError('RangeError', 'ERR_PEER_RTCP_SIZE', `an RTCP compound packet of ${size} B cannot be sent`);
      }
      length = serializeRtcpInto(packets, scratch, 0);
    }
    transport.sendMedia(1, length);
  }

  /**
   * @internal Applies negotiated parameters; `active` says whether the negotiated direction
   * sends. Packets that waited for negotiation leave now (or are dropped when inactive).
   */
  configure(params: SenderParameters, active: boolean, simulcastAccepted = false): void {
    this.params = params;
    this.active = active;
    this.simulcastAccepted = simulcastAccepted && this.encodings.length > 1;
    this.midData = serializeSdesId(params.mid);
    if (!active) {
      this.packetsDropped += this.pending.length;
      this.pending = [];
    }
    this.flush();
  }

  /** @internal Sends packets queued before negotiation (the transport queues until connected). */
  flush(): void {
    if (!this.params || !this.owner.mediaTransport || this.pending.length === 0) return;
    const queued = this.pending;
    this.pending = [];
    for (const p of queued) this.sendRtp(p.packet, p.rid);
  }

  /** @internal */
  stop(): void {
    this.stoppedValue = true;
    this.setTrack(null);
    this.pending = [];
  }
}

/** Runs a chain's outgoing hooks over one serialized packet; returns its flags afterwards. */
function runOutgoing(chain: RtpPolicyChain, now: number, data: Buffer, length: number, packet: RtpPacket, transportSequence: number, flags: number): number {
  const b = chain.outgoing;
  b.reset(data);
  b.push(0, length, packet.ssrc!, packet.sequenceNumber!, packet.timestamp!, packet.payloadType!, packet.marker, packet.payloadLength, transportSequence, flags);
  chain.outgoingRtp(now);
  return b.flags[0]!;
}
