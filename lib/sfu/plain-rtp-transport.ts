// What plain and pipe transports share (docs/scaling.md): a UDP socket of their own attached to the
// router's native engine, RTP/RTCP muxed on one port (RFC 5761), no ICE/DTLS. Producers are streams
// the socket receives from the remote (a native filter admits only the remote's datagrams); consumers
// are sent to the remote. RTCP from the remote (RFC 4585 NACK §6.2.1, PLI §6.3.1, RFC 5104 FIR) is
// acted on here; everything else is dropped and counted. Each stream is reported on with RTCP SR/RR
// from the engine's counters (plain-leg-reports.ts, RFC 3550 §6.4).
import { randomBytes, randomInt } from 'node:crypto';
import { InvalidArgumentError, InvalidStateError, OperationError, OutOfRangeError, PwtError } from '../common/errors.js';
import type { MediaKind } from '../peer/media-stream-track.js';
import { tryParseRtcp, serializeRtcp, type RtcpPacket } from '../rtp/rtcp/compound.js';
import { compoundHasGenericNack } from '../rtp/rtcp/compound-has-nack.js';
import { RtcpFullIntraRequest } from '../rtp/rtcp/full-intra-request.js';
import { RtcpGenericNack } from '../rtp/rtcp/generic-nack.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import type { SrtpSession } from '../srtp/srtp-session.js';
import { UdpSrtpStatus, type UdpBatch, type UdpDestination, type UdpSocket, type UdpSrtpRoute } from '../transport/source/udp-socket.js';
import {
  CONSUMER_STAT_BASE,
  createNativePlainRtpFilter,
  FORWARD_UNMAPPED,
  PRODUCER_STAT_COUNT,
  MAX_CACHE_PACKETS,
  NativePlainCounter,
  type NativePlainRtpFilter,
} from '../native/forward.js';
import { Consumer } from './consumer.js';
import { PlainLegReports } from './plain-leg-reports.js';
import { Producer, type ProducerUpstream } from './producer.js';
import { mapConsumer, type NegotiatedRtp } from './rtp-mapping.js';
import type { Router } from './router.js';

/** A codec as tools like ffmpeg and GStreamer describe it (SDP rtpmap: name/clockRate/channels). */
export interface PlainRtpCodec {
  /** Encoding name, e.g. 'VP8', 'H264', 'opus'. */
  readonly name: string;
  readonly clockRate: number;
  readonly channels?: number;
}

/** One stream as a plain or pipe transport carries it. */
export interface PlainRtpStream {
  readonly kind: MediaKind;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly codec: PlainRtpCodec;
  /** Header-extension ids the sender writes (RFC 8285), by URI. Default none. */
  readonly headerExtensions?: readonly { readonly uri: string; readonly id: number }[];
  /** Pipes created with `rtx: true` only: the stream's RTX stream (RFC 4588 §4) across the pipe. */
  readonly rtx?: { readonly ssrc: number; readonly payloadType: number };
}

/** Options of `produce()` on a plain or pipe transport. */
export interface PlainProduceOptions extends PlainRtpStream {
  /** Packets kept to answer consumers' NACKs (as Router.produce; default 512 for video, 0 for audio). */
  readonly cachePackets?: number;
}

/** Options of `consume()` on a plain or pipe transport. */
export interface PlainConsumeOptions {
  /** SSRC of the stream sent to the remote (default: a random one). */
  readonly ssrc?: number;
  /** Payload type sent (default: the producer's). */
  readonly payloadType?: number;
  /** Header-extension ids the remote expects, by URI (default: none, every element is stripped). */
  readonly headerExtensions?: readonly { readonly uri: string; readonly id: number }[];
  /** Start paused (default false). */
  readonly paused?: boolean;
}

/** Counters of a plain or pipe transport's port. */
export interface PlainTransportStats {
  /** Datagrams from the remote admitted. */
  readonly packetsAccepted: number;
  /** RTP/RTCP from any other source (or before the remote is known): dropped. */
  readonly spoofedDropped: number;
  /** Datagrams that are not RTP/RTCP (RFC 7983 first byte), from anyone: dropped. */
  readonly notRtpDropped: number;
  /** Times comedia took the remote from a received datagram (0 or 1). */
  readonly remoteLearned: number;
  /** RTP from the remote whose SSRC is no producer of this transport: dropped. */
  readonly unknownSsrcDropped: number;
  /** RTCP packets from the remote acted on or ignored, and RTCP that did not parse (dropped). */
  readonly rtcpReceived: number;
  readonly rtcpMalformed: number;
  /** SRTP pipes only: datagrams SRTP refused (authentication, replay). */
  readonly srtpDropped?: number;
  /** RTCP compound packets sent with a sender or receiver report (RFC 3550 §6.4) about this transport's streams. */
  readonly rtcpReportsSent: number;
  /** Round-trip times measured from the remote's report blocks about the consumers (their `pwtRoundTripTime`). */
  readonly rtcpRoundTripTimes: number;
  /** Pipes with `rtx: true`: retransmissions sent as RTX (RFC 4588) to the other side's NACKs. */
  readonly rtxSent?: number;
  /** Pipes with `rtx: true`: RTX packets received and restored into their stream before its cache and consumers. */
  readonly rtxReceived?: number;
  /** Pipes with `rtx: true`: packets of a producer's RTX SSRC with another payload type or no OSN, dropped. */
  readonly rtxDropped?: number;
}

/** The local and remote transport addresses. */
export interface PlainTransportTuple {
  readonly localIp: string;
  readonly localPort: number;
  /** Unset until connect() (or, with comedia, the first datagram). */
  readonly remoteIp?: string;
  readonly remotePort?: number;
}

const RTX_SUFFIX = '/rtx';
const ADDRESS_RECORD = 28;

function checkSsrc(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 0xffffffff) {
    throw new OutOfRangeError('ERR_SFU_PLAIN_SSRC', `${name} must be an integer in 1..2^32-1`);
  }
  return v;
}

function checkPayloadType(v: unknown, name: string): number {
  // RFC 5761 §4: 64..95 would read as RTCP on a muxed port.
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 127 || (v >= 64 && v <= 95)) {
    throw new OutOfRangeError('ERR_SFU_PLAIN_PAYLOAD_TYPE', `${name} must be an integer in 0..63 or 96..127`);
  }
  return v;
}

function checkExtensions(v: unknown): { uri: string; id: number }[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new InvalidArgumentError('ERR_SFU_PLAIN_EXTENSIONS', 'headerExtensions must be an array of { uri, id }');
  return v.map((e: unknown) => {
    const x = e as { uri?: unknown; id?: unknown } | null;
    if (!x || typeof x.uri !== 'string' || typeof x.id !== 'number' || !Number.isInteger(x.id) || x.id < 1 || x.id > 255) {
      throw new InvalidArgumentError('ERR_SFU_PLAIN_EXTENSIONS', 'each header extension needs a uri and an id in 1..255');
    }
    return { uri: x.uri, id: x.id };
  });
}

/** A random SSRC other than `ssrc` (an RTX stream's). */
function otherSsrc(ssrc: number): number {
  for (;;) {
    const v = randomInt(1, 0xffffffff);
    if (v !== ssrc) return v;
  }
}

/** A dynamic payload type other than `payloadType` (an RTX stream's; RFC 3551 §6 dynamic range 96..127). */
function otherPayloadType(payloadType: number): number {
  return payloadType === 96 ? 97 : 96;
}

/** The IP and port of a sockaddr record as the native side writes it (Linux layout). */
function recordAddress(r: Uint8Array): { ip: string; port: number } | null {
  const family = r[0]! | (r[1]! << 8);
  const port = (r[2]! << 8) | r[3]!;
  if (family === 2) return { ip: `${r[4]}.${r[5]}.${r[6]}.${r[7]}`, port };
  if (family === 10) {
    const words: string[] = [];
    for (let k = 0; k < 8; k++) words.push(((r[8 + 2 * k]! << 8) | r[9 + 2 * k]!).toString(16));
    return { ip: words.join(':'), port };
  }
  return null;
}

/** Base of PlainTransport and PipeTransport; create them through the router. */
export class PlainRtpTransport {
  /** @internal */
  protected readonly router: Router;
  /** @internal */
  protected readonly socket: UdpSocket;
  private readonly filter: NativePlainRtpFilter;
  private readonly filterCounters = new Float64Array(NativePlainCounter.Count);
  /** @internal SRTP pipes: the session both directions use (keys from the application). */
  protected readonly srtp: SrtpSession | null;
  private route: UdpSrtpRoute | null = null;
  private remote: UdpDestination | null = null;
  private engineTransport = 0;
  private readonly rtcpSsrc = randomInt(1, 0xffffffff);
  private readonly producers = new Map<number, Producer>();
  private readonly consumers = new Map<number, Consumer>();
  private readonly consumerStreams = new Map<Consumer, PlainRtpStream>();
  private unknownSsrc = 0;
  private rtcpReceived = 0;
  private rtcpMalformed = 0;
  private srtpDropped = 0;
  private closedValue = false;
  // SR for each consumer, RR about each producer (docs/scaling.md "RTCP reports on plain and pipe legs").
  private readonly rtcpReports: boolean;
  // A consumer's RTT from the remote's RRs (its reporter's SRs echoed) becomes the engine's resend
  // RTT and the consumer's pwtRoundTripTime, as a WebRTC leg's does (docs/scaling.md).
  private readonly reports = new PlainLegReports(randomBytes(12).toString('base64url'), this.rtcpSsrc, (packets) => this.sendRtcp(packets),
    (ssrc, seconds) => {
      const consumer = this.consumers.get(ssrc);
      // 0 µs means "not measured" to the engine: a loopback RTT that rounds to 0 is 1 µs.
      if (consumer && !consumer.closed) this.router.engine.setConsumerRoundTripTime(consumer.id, Math.max(1, Math.round(seconds * 1e6)));
    });

  /** @internal */
  protected constructor(router: Router, socket: UdpSocket, comedia: boolean, srtp: SrtpSession | null, rtcpReports: boolean) {
    this.router = router;
    this.rtcpReports = rtcpReports;
    this.socket = socket;
    this.srtp = srtp;
    this.filter = createNativePlainRtpFilter(this.filterCounters);
    this.filter.setComedia(comedia);
    this.filter.setSrtp(srtp !== null);
    if (!socket.setPlainFilter(this.filter) || !socket.setForwardEngine(router.engine)) {
      socket.close();
      throw new OperationError('ERR_SFU_ATTACH', 'the transport socket refused the filter or the forwarding engine');
    }
    socket.onBatch((batch) => this.onBatch(batch));
    router.attach(this);
  }

  get closed(): boolean {
    return this.closedValue;
  }

  /** Local address, and the remote once known. */
  get tuple(): PlainTransportTuple {
    const local = this.closedValue ? { address: '', port: 0 } : this.socket.address();
    const remote = this.remoteAddress();
    return { localIp: local.address, localPort: local.port, ...(remote ? { remoteIp: remote.ip, remotePort: remote.port } : {}) };
  }

  /**
   * A producer for the stream `options` describes, received from the remote: usable with
   * `router.consume()` (WebRTC subscribers) and other transports' `consume()`.
   */
  produce(options: PlainProduceOptions): Producer {
    this.assertOpen();
    const kind = options?.kind;
    if (kind !== 'audio' && kind !== 'video') throw new InvalidArgumentError('ERR_SFU_PLAIN_KIND', "kind must be 'audio' or 'video'");
    const ssrc = checkSsrc(options.ssrc, 'ssrc');
    const payloadType = checkPayloadType(options.payloadType, 'payloadType');
    const codec = options.codec;
    if (!codec || typeof codec.name !== 'string' || codec.name === '' || !Number.isInteger(codec.clockRate) || codec.clockRate <= 0) {
      throw new InvalidArgumentError('ERR_SFU_PLAIN_CODEC', 'codec needs a name and a positive integer clockRate');
    }
    const headerExtensions = checkExtensions(options.headerExtensions);
    const cachePackets = options.cachePackets ?? (kind === 'video' ? 512 : 0);
    if (!Number.isInteger(cachePackets) || cachePackets < 0 || cachePackets > MAX_CACHE_PACKETS) {
      throw new OutOfRangeError('ERR_SFU_CACHE_SIZE', `cachePackets must be an integer in 0..${MAX_CACHE_PACKETS}`);
    }
    // An SRTP pipe's packets are unprotected by the session's route; a plain one's admitted by the filter.
    const source = this.srtp ? this.srtp.nativeHandle : this.filter;
    const rtx = options.rtx;
    if (rtx !== undefined) {
      if (!this.rtxEnabled()) throw new InvalidArgumentError('ERR_SFU_PIPE_RTX', 'rtx needs a pipe transport created with rtx: true');
      checkSsrc(rtx?.ssrc, 'rtx.ssrc');
      checkPayloadType(rtx.payloadType, 'rtx.payloadType');
      if (rtx.ssrc === ssrc || rtx.payloadType === payloadType) {
        throw new InvalidArgumentError('ERR_SFU_PIPE_RTX', 'the RTX stream needs an SSRC and a payload type of its own');
      }
    }
    const id = this.router.engine.addProducer(source, ssrc, false, cachePackets);
    if (id === 0) throw new InvalidStateError('ERR_SFU_PRODUCER_EXISTS', `SSRC ${ssrc} of this transport is already a producer`);
    if (rtx && !this.router.engine.addProducerRtx(id, rtx.ssrc, rtx.payloadType, payloadType)) {
      this.router.engine.removeProducer(id);
      throw new InvalidStateError('ERR_SFU_PRODUCER_EXISTS', `RTX SSRC ${rtx.ssrc} of this transport is already in use`);
    }
    const rtp: NegotiatedRtp = {
      codecs: [{ payloadType, mimeType: `${kind}/${codec.name}`, clockRate: codec.clockRate }],
      headerExtensions,
    };
    const upstream: ProducerUpstream = {
      requestKeyFrame: (s) => this.sendRtcp([new RtcpPictureLossIndication(this.rtcpSsrc, s)]),
      ...(this.asksUpstream() ? { nack: (s: number, seqs: readonly number[]) => this.sendRtcp([RtcpGenericNack.fromSequenceNumbers(this.rtcpSsrc, s, seqs)]) } : {}),
    };
    const producer = new Producer(this.router, id, null, ssrc, rtp, false, [], { kind, upstream });
    this.producers.set(ssrc, producer);
    if (this.rtcpReports) this.reports.addReceiver(producer, { kind, ssrc, payloadType, clockRate: codec.clockRate }, () => producer.nativeTotals());
    this.router.adoptProducer(producer, () => {
      this.producers.delete(ssrc);
      this.reports.remove(producer);
    });
    return producer;
  }

  /** Sends `producer`'s stream to the remote, rewritten to `options` (SSRC, payload type, extension ids). */
  consume(producer: Producer, options: PlainConsumeOptions = {}): Consumer {
    this.assertOpen();
    if (!(producer instanceof Producer)) throw new InvalidArgumentError('ERR_SFU_ARGUMENT', 'consume: the first argument must be a Producer');
    if (producer.host !== this.router) throw new PwtError('InvalidAccessError', 'ERR_SFU_OTHER_ROUTER', "the producer is another router's: carry it over a pipe transport");
    if (producer.closed) throw new InvalidStateError('ERR_SFU_PRODUCER_CLOSED', 'the producer is closed');
    const source = producer.rtp.codecs.find((c) => !c.mimeType.toLowerCase().endsWith(RTX_SUFFIX));
    if (!source) throw new InvalidStateError('ERR_SFU_NOT_NEGOTIATED', 'the producer has no codec');
    const ssrc = options.ssrc === undefined ? randomInt(1, 0xffffffff) : checkSsrc(options.ssrc, 'options.ssrc');
    if (this.consumers.has(ssrc)) throw new InvalidStateError('ERR_SFU_CONSUMER_SSRC', `SSRC ${ssrc} is already sent on this transport`);
    const payloadType = options.payloadType === undefined ? source.payloadType : checkPayloadType(options.payloadType, 'options.payloadType');
    const headerExtensions = options.headerExtensions === undefined ? this.defaultConsumerExtensions(producer) : checkExtensions(options.headerExtensions);
    const mapping = mapConsumer(producer.rtp, { codecs: [{ payloadType, mimeType: source.mimeType, clockRate: source.clockRate }], headerExtensions });
    if (this.engineTransport === 0) {
      this.engineTransport = this.router.engine.addPlainTransport(this.filter, this.srtp?.nativeHandle ?? null, this.socket.nativeHandle);
      if (this.engineTransport === 0) throw new OperationError('ERR_SFU_TRANSPORT', 'the engine refused the transport');
    }
    // RTX across a pipe (RFC 4588 §4): an SSRC and a payload type of its own, told to the other side in consumerStream().
    const rtx = this.rtxEnabled() ? { ssrc: otherSsrc(ssrc), payloadType: otherPayloadType(payloadType) } : undefined;
    const id = this.router.engine.addConsumer(producer.id, this.engineTransport, ssrc, mapping.payloadTypes, mapping.extensionIds,
      mapping.absSendTimeId, mapping.transportCcId, mapping.clockRate, rtx?.payloadType ?? FORWARD_UNMAPPED, rtx?.ssrc ?? 0);
    if (id === 0) throw new OperationError('ERR_SFU_CONSUMER', 'the engine refused the consumer');
    const paused = options.paused ?? false;
    if (paused || producer.paused) this.router.engine.setConsumerPaused(id, true);
    const consumer = new Consumer(this.router, id, producer, null, ssrc, paused, undefined);
    this.consumers.set(ssrc, consumer);
    const [name = '', channels] = source.mimeType.slice(source.mimeType.indexOf('/') + 1).split('/');
    this.consumerStreams.set(consumer, {
      kind: producer.kind, ssrc, payloadType,
      codec: { name, clockRate: source.clockRate, ...(channels ? { channels: Number(channels) } : {}) },
      headerExtensions,
      ...(rtx ? { rtx } : {}),
    });
    if (this.rtcpReports) this.reports.addSender(consumer, { kind: producer.kind, ssrc, payloadType, clockRate: source.clockRate }, (now) => consumer.nativeTotals(now));
    this.router.adoptConsumer(consumer, () => {
      this.consumers.delete(ssrc);
      this.consumerStreams.delete(consumer);
      this.reports.remove(consumer);
    });
    return consumer;
  }

  /** What the remote receives for `consumer` (to write an SDP for ffmpeg, or a pipe's produce()). */
  consumerStream(consumer: Consumer): PlainRtpStream {
    const s = this.consumerStreams.get(consumer);
    if (!s) throw new InvalidArgumentError('ERR_SFU_UNKNOWN_CONSUMER', 'not an open consumer of this transport');
    return s;
  }

  getStats(): PlainTransportStats {
    const c = this.filterCounters;
    return {
      packetsAccepted: c[NativePlainCounter.Accepted]!,
      spoofedDropped: c[NativePlainCounter.Spoofed]!,
      notRtpDropped: c[NativePlainCounter.NotRtp]!,
      remoteLearned: c[NativePlainCounter.Learned]!,
      unknownSsrcDropped: this.unknownSsrc,
      rtcpReceived: this.rtcpReceived,
      rtcpMalformed: this.rtcpMalformed,
      ...(this.srtp ? { srtpDropped: this.srtpDropped } : {}),
      rtcpReportsSent: this.reports.reportsSent,
      rtcpRoundTripTimes: this.reports.roundTripTimes,
      ...(this.rtxEnabled() ? this.rtxStats() : {}),
    };
  }

  /** Closes its producers and consumers and the socket. Idempotent. */
  close(): void {
    if (this.closedValue) return;
    this.closedValue = true;
    this.reports.close();
    for (const c of [...this.consumers.values()]) c.close();
    for (const p of [...this.producers.values()]) p.close();
    if (this.engineTransport !== 0 && !this.router.closed) this.router.engine.removeTransport(this.engineTransport);
    this.router.detach(this);
    this.socket.close();
    this.srtp?.close();
  }

  /** @internal Sets the remote (connect). */
  protected setRemote(ip: string, port: number): void {
    this.assertOpen();
    const destination = this.socket.destination(port, ip);
    if (!this.filter.setRemote(destination.record)) throw new InvalidArgumentError('ERR_SFU_PLAIN_REMOTE', `cannot send to ${ip}:${port}`);
    this.remote = destination;
    if (this.srtp) {
      if (this.route) this.socket.removeSrtpRoute(this.route);
      this.route = this.socket.addSrtpRoute(destination, this.srtp);
    }
  }

  /** @internal Pipes ask the other router for packets their cache did not hold; plain remotes are not asked. */
  protected asksUpstream(): boolean {
    return false;
  }

  /** @internal Pipes created with rtx: true send and receive RTX (docs/scaling.md "RTX on pipes"). */
  protected rtxEnabled(): boolean {
    return false;
  }

  private rtxStats(): { rtxSent: number; rtxReceived: number; rtxDropped: number } {
    let rtxSent = 0;
    let rtxReceived = 0;
    let rtxDropped = 0;
    const p = new Float64Array(PRODUCER_STAT_COUNT);
    for (const producer of this.producers.values()) {
      if (!producer.closed && this.router.engine.producerStats(producer.id, p)) {
        rtxReceived += p[10]!;
        rtxDropped += p[11]!;
      }
    }
    const c = new Float64Array(CONSUMER_STAT_BASE + this.router.dropNames.length);
    for (const consumer of this.consumers.values()) {
      // Every retransmission of a pipe consumer with an RTX stream leaves as RTX.
      if (!consumer.closed && this.router.engine.consumerStats(consumer.id, c)) rtxSent += c[3]!;
    }
    return { rtxSent, rtxReceived, rtxDropped };
  }

  /** @internal Extension ids a consumer gets when options name none. */
  protected defaultConsumerExtensions(_producer: Producer): { uri: string; id: number }[] {
    return [];
  }

  private remoteAddress(): { ip: string; port: number } | null {
    if (this.remote) return { ip: this.remote.address, port: this.remote.port };
    const record = new Uint8Array(ADDRESS_RECORD);
    return this.filter.remote(record) ? recordAddress(record) : null;
  }

  private remoteDestination(): UdpDestination | null {
    if (this.remote) return this.remote;
    const a = this.remoteAddress();
    return a ? (this.remote = this.socket.destination(a.port, a.ip)) : null;
  }

  private sendRtcp(packets: RtcpPacket[]): void {
    if (this.closedValue) return;
    const bytes = serializeRtcp(packets);
    if (this.route) {
      this.socket.sendSrtp(bytes, this.route);
      return;
    }
    const to = this.remoteDestination();
    if (to) this.socket.sendTo(bytes, to);
  }

  private onBatch(batch: UdpBatch): void {
    for (let i = 0; i < batch.count; i++) {
      const status = batch.srtpStatus(i);
      if (status === UdpSrtpStatus.forwarded || status === UdpSrtpStatus.rejected) continue;
      if (status !== UdpSrtpStatus.unprotected) {
        // Admitted by the filter only as SRTP: refused by the session (counted there too).
        if (status >= UdpSrtpStatus.refusedBase) this.srtpDropped++;
        continue;
      }
      const data = batch.data(i);
      const pt = data[1]! & 0x7f;
      // RFC 5761 §4: RTCP packet types 192..223 have the marker bit set and PT 64..95.
      if (data.length < 8 || pt < 64 || pt > 95) {
        this.unknownSsrc++;
        continue;
      }
      const packets = tryParseRtcp(data);
      if (!packets) {
        this.rtcpMalformed++;
        continue;
      }
      // Every NACK of the compound, for all of this transport's consumers: one native call.
      if (this.engineTransport !== 0 && this.consumers.size > 0 && compoundHasGenericNack(data, 0, data.length)) {
        this.router.retransmitCompound(this.engineTransport, data, 0, data.length, this.socket, this.consumers.values());
      }
      // Report blocks about the consumers: their legs' native counters (pwtRemoteInbound), one call.
      if (this.engineTransport !== 0 && this.consumers.size > 0 && (data[1] === 200 || data[1] === 201)) {
        this.router.engine.readReceiverReports(this.engineTransport, data, 0, data.length);
      }
      for (const p of packets) {
        this.rtcpReceived++;
        this.onRtcp(p);
      }
      this.reports.incomingRtcp(packets);
    }
  }

  private onRtcp(p: RtcpPacket): void {
    if (p instanceof RtcpPictureLossIndication) {
      const consumer = this.consumers.get(p.mediaSsrc);
      if (consumer && !consumer.paused) this.router.keyFrameRequested(consumer.producer);
    } else if (p instanceof RtcpFullIntraRequest) {
      for (const e of p.entries) {
        const consumer = this.consumers.get(e.ssrc);
        if (consumer && !consumer.paused) this.router.keyFrameRequested(consumer.producer);
      }
    }
  }

  /** @internal */
  protected assertOpen(): void {
    if (this.closedValue) throw new InvalidStateError('ERR_SFU_TRANSPORT_CLOSED', 'the transport is closed');
  }
}
