// One echo session: answers an offer with an RTCPeerConnection that sends every received RTP
// packet back on the same m-section (our SSRC, the packet's negotiated payload type, our continuous
// sequence numbers) and every data-channel message back on the same channel with the same type.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCConfiguration, type RTCDataChannel, type RTCRtpTransceiver } from '../peer/index.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { parseSdp } from '../sdp/parse.js';
import type { SdpCodec } from '../sdp/model.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import { announceAddress } from './announce.js';
import { applyIceFragment, formatIceFragment, iceFragmentOf, type IceFragment } from '../signaling/ice-fragment.js';
// Installs the default policy modules (RTCP reports, NACK, keyframe requests, transport-cc feedback).
import '../policy/default-policies.js';

/** Options of an echo session: the peer connection's transport options. */
export type EchoSessionOptions = Pick<RTCConfiguration, 'iceLite' | 'hostAddresses' | 'portRange' | 'srtpProfiles' | 'certificates' | 'answerDtlsRole' | 'rtpPolicies'> & {
  /** Public IP announced in the answer's host candidates instead of the bound one (server behind 1:1 NAT). */
  publicIp?: string;
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
  /** What was echoed so far. */
  readonly counters: EchoSessionCounters = {
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

  private constructor(id: string, pc: RTCPeerConnection, answer: string, createdAt: number, publicIp: string | undefined) {
    this.id = id;
    this.pc = pc;
    this.answer = answer;
    this.createdAt = createdAt;
    this.publicIp = publicIp;
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
          this.counters.trickle.candidates++;
        } catch {
          this.counters.trickle.dropped++;
        }
      }
      if (m.endOfCandidates && !this.counters.trickle.endOfCandidates) {
        this.counters.trickle.endOfCandidates = true;
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
    this.counters.iceRestarts++;
    return formatIceFragment(iceFragmentOf(sdp));
  }

  /**
   * Applies `offer` (an SDP string), makes every offered m-section send back what it receives,
   * and returns the session with its answer. Throws the peer connection's typed errors for an
   * offer it cannot answer (the connection is then closed).
   */
  static async answer(id: string, offer: string, options: EchoSessionOptions = {}): Promise<EchoSession> {
    const { publicIp, ...config } = options;
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
      const session = new EchoSession(id, pc, answer, Date.now(), publicIp);
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
    return () => void this.listeners[kind].delete(listener);
  }

  /** The first codec of our answer's `kind` m-section (what subscribers must negotiate), or undefined. */
  sentCodec(kind: 'audio' | 'video'): SdpCodec | undefined {
    return parseSdp(this.answer).media.find((m) => m.kind === kind && m.port !== 0)?.codecs[0];
  }

  /** Asks the publisher for a keyframe of `kind` (a PLI, RFC 4585 §6.3.1); false before its first packet. */
  requestKeyframe(kind: 'audio' | 'video'): boolean {
    return this.keyframeRequesters[kind]?.() ?? false;
  }

  /** Connection state and counters, JSON-ready. */
  snapshot(): EchoSessionSnapshot {
    return {
      id: this.id,
      connectionState: this.pc.connectionState,
      iceConnectionState: this.pc.iceConnectionState,
      createdAt: this.createdAt,
      ...structuredClone(this.counters),
    };
  }

  /** Closes the peer connection (DTLS close_notify, sockets). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private echoTrack(transceiver: RTCRtpTransceiver, track: MediaStreamTrack, local: LocalStreamTrack): void {
    const sender = transceiver.sender;
    const kind = track.kind;
    const stats = this.counters.rtp[kind];
    let lastSsrc: number | undefined;
    const requestKeyframe = (): boolean => {
      if (lastSsrc === undefined || this.closed) return false;
      this.counters.keyframeRequestsForwarded++;
      sender.sendRtcp([new RtcpPictureLossIndication(sender.ssrc, lastSsrc)]);
      return true;
    };
    this.keyframeRequesters[kind] = requestKeyframe;
    sender.on('rtcp', (e) => {
      const p = e.packet;
      if (p.kind === 'pli' || p.kind === 'fir') requestKeyframe();
    });
    const listeners = this.listeners[kind];
    const forwardedPayloadType = this.sentCodec(kind)?.payloadType;
    void (async () => {
      for await (const packet of track) {
        stats.received++;
        lastSsrc = packet.ssrc;
        if (listeners.size > 0 && packet.payloadType === forwardedPayloadType) {
          for (const listener of listeners) {
            try {
              listener(packet);
            } catch {
              // A subscriber that fails (closed under us) must not stop the echo.
            }
          }
        }
        // The payload is a view into the track's memory; send() serialises it at once.
        local.send(new RtpPacket({ payloadType: packet.payloadType, timestamp: packet.timestamp, marker: packet.marker, payload: packet.payload }));
        stats.echoed++;
      }
    })();
  }

  private echoChannel(channel: RTCDataChannel): void {
    channel.binaryType = 'nodebuffer';
    channel.on('message', (e) => {
      const data = e.data;
      if (typeof data !== 'string' && !Buffer.isBuffer(data)) return;
      try {
        channel.send(data);
        this.counters.messagesEchoed++;
        this.counters.bytesEchoed += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      } catch {
        // The channel closed under us: nothing to echo to.
      }
    });
  }
}
