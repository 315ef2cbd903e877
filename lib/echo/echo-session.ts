// One echo session: answers an offer with an RTCPeerConnection that sends every received RTP
// packet back on the same m-section (our SSRC, the packet's negotiated payload type, our continuous
// sequence numbers; on a shared port with a router the forwarding engine echoes it instead,
// keeping gaps: docs/echo.md "Native echo") and every data-channel message back on the same
// channel with the same type.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RtcpEvent, type RTCConfiguration, type RTCDataChannel, type RTCRtpTransceiver } from '../peer/index.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { parseSdp } from '../sdp/parse.js';
import type { SdpCodec, SdpMediaSection } from '../sdp/model.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import { announceAddress } from './announce.js';
import { applyIceFragment, formatIceFragment, iceFragmentOf, type IceFragment } from '../signaling/ice-fragment.js';
// Installs the default policy modules (RTCP reports, NACK, keyframe requests, transport-cc feedback).
import '../policy/default-policies.js';
import type { TcpMux } from '../transport/source/tcp-mux.js';
import type { Consumer, Producer, Router } from '../sfu/index.js';

/** Options of an echo session: the peer connection's transport options. */
export type EchoSessionOptions = Pick<RTCConfiguration, 'iceLite' | 'hostAddresses' | 'portRange' | 'srtpProfiles' | 'certificates' | 'answerDtlsRole' | 'rtpPolicies' | 'udpMux'> & {
  /** Public IP announced in the answer's host candidates instead of the bound one (server behind 1:1 NAT). */
  publicIp?: string;
  /**
   * A shared listening TCP port: every answer also carries its passive ICE-TCP candidate
   * (RFC 6544), for clients whose UDP is blocked (docs/ice.md "ICE-TCP").
   */
  tcpMux?: TcpMux;
  /**
   * A router on `udpMux` (Router.create(udpMux)): each received stream is echoed by its native
   * forwarding engine, as a producer consumed by the same connection, with no JavaScript per packet
   * (docs/echo.md "Native echo"). Without it, or for a stream the router cannot take, the echo runs
   * in JavaScript.
   */
  router?: Router;
};

/** Counters of one session, as the echo page and the logs show them. */
export interface EchoSessionCounters {
  /** RTP packets received and echoed, per kind. */
  rtp: Record<'audio' | 'video', { received: number; echoed: number }>;
  /** Data-channel messages echoed (strings and binary). */
  messagesEchoed: number;
  /** Bytes of data-channel payload echoed. */
  bytesEchoed: number;
  /** Picture loss indications / FIRs received for our echoed video and forwarded as PLI to the sender. */
  keyframeRequestsForwarded: number;
  /** Candidates trickled by PATCH (RFC 9725 §4.3.1): applied, and dropped (malformed or not usable). */
  trickle: { candidates: number; dropped: number; endOfCandidates: boolean };
  /** ICE restarts done by PATCH (RFC 9725 §4.3.2). */
  iceRestarts: number;
}

/** A session's state for logs and the page: connection state plus counters. */
export interface EchoSessionSnapshot extends EchoSessionCounters {
  id: string;
  connectionState: string;
  iceConnectionState: string;
  createdAt: number;
  /** The kinds whose RTP the forwarding engine echoes now (docs/echo.md "Native echo"); the rest go through JavaScript. */
  nativeEcho: ('audio' | 'video')[];
}

/**
 * Echoes one peer. Create with {@link EchoSession.answer}; `answer` is the SDP to return.
 * Retransmissions (RTX) reach the track unwrapped, as their original packet, and are echoed
 * like it under a new sequence number (the echo does not retransmit). A PLI/FIR the peer sends about our echoed video is forwarded as a PLI about
 * the stream it came from, so the peer's encoder makes the keyframe its own decoder needs.
 */
export class EchoSession {
  /** The WHIP session id. */
  readonly id: string;
  /** The answering peer connection. */
  readonly pc: RTCPeerConnection;
  /** The SDP answer to return (with the announced public IP when configured). */
  readonly answer: string;
  /** Wall-clock creation time, ms since the epoch (for the page and logs). */
  readonly createdAt: number;
  private readonly counted: EchoSessionCounters = {
    rtp: { audio: { received: 0, echoed: 0 }, video: { received: 0, echoed: 0 } },
    messagesEchoed: 0,
    bytesEchoed: 0,
    keyframeRequestsForwarded: 0,
    trickle: { candidates: 0, dropped: 0, endOfCandidates: false },
    iceRestarts: 0,
  };
  private closed = false;
  private readonly publicIp: string | undefined;
  /** WHEP subscribers of each kind (whep-subscriber.ts): called with every received packet of the kind's first codec. */
  private readonly listeners: Record<'audio' | 'video', Set<(packet: RtpPacket) => void>> = { audio: new Set(), video: new Set() };
  /** Sends a PLI about the newest stream of a kind (set once its track exists). */
  private readonly keyframeRequesters: Partial<Record<'audio' | 'video', () => boolean>> = {};
  private readonly router: Router | undefined;
  private answerMedia: SdpMediaSection[] | undefined;
  /** Streams the router echoes; their packets are counted by the engine, not in `counters`. */
  private readonly nativeEchoes: NativeEcho[] = [];

  private constructor(id: string, pc: RTCPeerConnection, answer: string, createdAt: number, publicIp: string | undefined, router: Router | undefined) {
    this.id = id;
    this.pc = pc;
    this.answer = answer;
    this.createdAt = createdAt;
    this.publicIp = publicIp;
    this.router = router;
    // The router closes a connection's producers and consumers when it fails or closes: their
    // engine counts are folded into ours first. These run before the router's own listeners, which
    // it adds in produce(), after this.
    if (!router) return;
    pc.on('connectionstatechange', () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.foldNativeCounters();
    });
    // close() fires no connectionstatechange (webrtc-pc §4.4.1.5).
    pc.whenClosed(() => this.foldNativeCounters());
  }

  /** What was echoed so far (the engine's counts of natively echoed streams included). */
  get counters(): EchoSessionCounters {
    this.foldNativeCounters();
    return this.counted;
  }

  /**
   * Applies trickled candidates (RFC 9725 §4.3.1, RFC 8840). A candidate the peer connection
   * refuses is dropped and counted, never thrown: it came from the network.
   */
  async trickle(fragment: IceFragment): Promise<void> {
    for (const m of fragment.media) {
      for (const candidate of m.candidates) {
        try {
          await this.pc.addIceCandidate({ candidate, sdpMid: m.mid ?? null, usernameFragment: fragment.iceUfrag ?? null });
          this.counted.trickle.candidates++;
        } catch {
          this.counted.trickle.dropped++;
        }
      }
      if (m.endOfCandidates && !this.counted.trickle.endOfCandidates) {
        this.counted.trickle.endOfCandidates = true;
        await this.pc.addIceCandidate(null);
      }
    }
  }

  /**
   * ICE restart by PATCH (RFC 9725 §4.3.2): the last offer with the client's new credentials and
   * candidates is applied again, and our new credentials and candidates are returned as a fragment.
   */
  async restartIce(fragment: IceFragment): Promise<string> {
    const offer = applyIceFragment(this.pc.remoteDescription!.sdp, fragment);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const sdp = this.publicIp ? announceAddress(this.pc.localDescription!.sdp, this.publicIp) : this.pc.localDescription!.sdp;
    this.counted.iceRestarts++;
    return formatIceFragment(iceFragmentOf(sdp));
  }

  /**
   * Applies `offer` (an SDP string), makes every offered m-section send back what it receives,
   * and returns the session with its answer. Throws the peer connection's typed errors for an
   * offer it cannot answer (the connection is then closed).
   */
  static async answer(id: string, offer: string, options: EchoSessionOptions = {}): Promise<EchoSession> {
    const { publicIp, router, ...config } = options;
    const pc = new RTCPeerConnection(config);
    try {
      const tracks: { transceiver: RTCRtpTransceiver; track: MediaStreamTrack }[] = [];
      pc.on('track', (e) => tracks.push({ transceiver: e.transceiver, track: e.track }));
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const outgoing = new Map<RTCRtpTransceiver, LocalStreamTrack>();
      for (const t of pc.getTransceivers()) {
        if (t.stopped) continue;
        const local = new LocalStreamTrack({ kind: t.sender.kind });
        await t.sender.replaceTrack(local);
        t.direction = 'sendrecv';
        outgoing.set(t, local);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const answer = publicIp ? announceAddress(pc.localDescription!.sdp, publicIp) : pc.localDescription!.sdp;
      const session = new EchoSession(id, pc, answer, Date.now(), publicIp, router);
      for (const { transceiver, track } of tracks) {
        const local = outgoing.get(transceiver);
        if (local) session.echoTrack(transceiver, track, local);
      }
      pc.on('track', (e) => {
        const local = outgoing.get(e.transceiver);
        if (local) session.echoTrack(e.transceiver, e.track, local);
      });
      pc.on('datachannel', (e) => session.echoChannel(e.channel));
      return session;
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  /**
   * Calls `listener` with every RTP packet received on this session's `kind` track whose payload
   * type is the first codec of that m-section in our answer (the one the publisher sends; RTX
   * arrives unwrapped). The packet's payload is a view: use it before returning. Returns the
   * unsubscribe function.
   */
  subscribe(kind: 'audio' | 'video', listener: (packet: RtpPacket) => void): () => void {
    this.listeners[kind].add(listener);
    this.updateTaps(kind);
    return () => {
      this.listeners[kind].delete(listener);
      this.updateTaps(kind);
    };
  }

  /** The first codec of our answer's `kind` m-section (what subscribers must negotiate), or undefined. */
  sentCodec(kind: 'audio' | 'video'): SdpCodec | undefined {
    // Parsed once: each echoed track asks, and a parse of the answer costs about 0.3 ms.
    const media = (this.answerMedia ??= parseSdp(this.answer).media);
    return media.find((m) => m.kind === kind && m.port !== 0)?.codecs[0];
  }

  /**
   * Asks the publisher for a keyframe of `kind` (a PLI, RFC 4585 §6.3.1); false before its first
   * packet, or on the native echo when the request merged into one sent moments ago.
   */
  requestKeyframe(kind: 'audio' | 'video'): boolean {
    return this.keyframeRequesters[kind]?.() ?? false;
  }

  /** Connection state and counters, JSON-ready. */
  snapshot(): EchoSessionSnapshot {
    this.foldNativeCounters();
    return {
      id: this.id,
      connectionState: this.pc.connectionState,
      iceConnectionState: this.pc.iceConnectionState,
      createdAt: this.createdAt,
      nativeEcho: (['audio', 'video'] as const).filter((kind) => this.nativeEchoes.some((e) => e.kind === kind)),
      ...structuredClone(this.counted),
    };
  }

  /** Closes the peer connection (DTLS close_notify, sockets). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.foldNativeCounters();
    this.pc.close();
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private echoTrack(transceiver: RTCRtpTransceiver, track: MediaStreamTrack, local: LocalStreamTrack): void {
    const sender = transceiver.sender;
    const kind = track.kind;
    const stats = this.counted.rtp[kind];
    let lastSsrc: number | undefined;
    let native: NativeEcho | undefined;
    const requestKeyframe = (): boolean => {
      if (this.closed) return false;
      if (native) {
        // False when the producer merged it into a request it sent moments ago.
        const sent = native.producer.getStats().pwtKeyframeRequestsSent;
        native.producer.requestKeyFrame();
        return native.producer.getStats().pwtKeyframeRequestsSent > sent;
      }
      if (lastSsrc === undefined) return false;
      this.counted.keyframeRequestsForwarded++;
      sender.sendRtcp([new RtcpPictureLossIndication(sender.ssrc, lastSsrc)]);
      return true;
    };
    this.keyframeRequesters[kind] = requestKeyframe;
    // A second 'rtcp' listener would hand the router's leg RTCP to JavaScript (docs/sfu.md): on
    // the native echo the router forwards keyframe requests itself.
    const onRtcp = (e: RtcpEvent): void => {
      const p = e.packet;
      if (p.kind === 'pli' || p.kind === 'fir') requestKeyframe();
    };
    sender.on('rtcp', onRtcp);
    const listeners = this.listeners[kind];
    const forwardedPayloadType = this.sentCodec(kind)?.payloadType;
    // Packets that reach JavaScript before the attempt settles wait in the track's queue and are
    // not echoed once the engine echoes: the engine numbers the echo from the peer's own sequence
    // numbers, and an echo sent from here first would make the stream jump.
    const attempt = this.router ? this.echoNatively(this.router, transceiver, kind) : Promise.resolve(undefined);
    void (async () => {
      const echo = await attempt;
      if (echo) {
        native = echo;
        sender.off('rtcp', onRtcp);
        // The router closed under a live session: the JavaScript echo takes over (its sequence
        // numbers are the sender's own, not the engine's).
        const back = (): void => {
          if (native !== echo) return;
          native = undefined;
          lastSsrc = echo.producer.ssrc;
          this.nativeEchoes.splice(this.nativeEchoes.indexOf(echo), 1);
          if (!this.closed) sender.on('rtcp', onRtcp);
        };
        echo.producer.once('close', back);
        echo.consumer.once('close', back);
      }
      for await (const packet of track) {
        if (listeners.size > 0 && packet.payloadType === forwardedPayloadType) {
          for (const listener of listeners) {
            try {
              listener(packet);
            } catch {
              // A subscriber that fails (closed under us) must not stop the echo.
            }
          }
        }
        // The engine echoes this stream. A packet here is the tap's copy for the listeners (the
        // engine counted it), or one the engine did not take (it arrived before the engine took
        // over, or on an SSRC the offer did not announce): received, not echoed.
        if (native) {
          if (!native.producer.tap) stats.received++;
          continue;
        }
        stats.received++;
        lastSsrc = packet.ssrc;
        // The payload is a view into the track's memory; send() serialises it at once.
        local.send(new RtpPacket({ payloadType: packet.payloadType, timestamp: packet.timestamp, marker: packet.marker, payload: packet.payload }));
        stats.echoed++;
      }
    })();
  }

  /**
   * Has the router echo `transceiver`'s stream once the connection is up: a producer of what it
   * receives, consumed by its own sender. Undefined where the router cannot take the stream (no
   * SSRC announced, the connection not on the router's port, closed before connecting): the
   * JavaScript echo goes on.
   */
  private async echoNatively(router: Router, transceiver: RTCRtpTransceiver, kind: 'audio' | 'video'): Promise<NativeEcho | undefined> {
    let producer: Producer | undefined;
    try {
      producer = await router.produce(this.pc, transceiver, { tap: this.listeners[kind].size > 0 });
      if (this.closed) return undefined;
      const consumer = await router.consume(producer, this.pc, transceiver);
      if (this.closed) return undefined;
      const echo: NativeEcho = { kind, producer, consumer, folded: { received: 0, echoed: 0, keyframeRequests: 0 } };
      this.nativeEchoes.push(echo);
      // A tap turned on or off while consume() waited.
      this.updateTaps(kind);
      return echo;
    } catch {
      if (producer && !producer.closed) producer.close();
      return undefined;
    }
  }

  /** The router's producers of `kind` hand their packets to JavaScript while a subscriber listens. */
  private updateTaps(kind: 'audio' | 'video'): void {
    const on = this.listeners[kind].size > 0;
    for (const e of this.nativeEchoes) {
      if (e.kind === kind && !e.producer.closed && e.producer.tap !== on) e.producer.tap = on;
    }
  }

  /**
   * Moves the engine's counts of the natively echoed streams into `counters` (received and echoed
   * packets, keyframe requests sent to the publisher). When the connection fails or closes they are
   * folded before the router closes them; a router closed under a live session takes the counts
   * since the last fold with it.
   */
  private foldNativeCounters(): void {
    for (const e of this.nativeEchoes) {
      if (e.producer.closed || e.consumer.closed) continue;
      const p = e.producer.getStats();
      const c = e.consumer.getStats();
      const stats = this.counted.rtp[e.kind];
      stats.received += p.packetsReceived - e.folded.received;
      // packetsSent leaves the engine's retransmissions out.
      stats.echoed += c.packetsSent - e.folded.echoed;
      this.counted.keyframeRequestsForwarded += p.pwtKeyframeRequestsSent - e.folded.keyframeRequests;
      e.folded = { received: p.packetsReceived, echoed: c.packetsSent, keyframeRequests: p.pwtKeyframeRequestsSent };
    }
  }

  private echoChannel(channel: RTCDataChannel): void {
    channel.binaryType = 'nodebuffer';
    channel.on('message', (e) => {
      const data = e.data;
      if (typeof data !== 'string' && !Buffer.isBuffer(data)) return;
      try {
        channel.send(data);
        this.counted.messagesEchoed++;
        this.counted.bytesEchoed += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      } catch {
        // The channel closed under us: nothing to echo to.
      }
    });
  }
}

/** A stream the router echoes, and the engine counts already added to the session's counters. */
interface NativeEcho {
  readonly kind: 'audio' | 'video';
  readonly producer: Producer;
  readonly consumer: Consumer;
  folded: { received: number; echoed: number; keyframeRequests: number };
}
