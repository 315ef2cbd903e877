// One echo session: answers an offer with an RTCPeerConnection that sends every received RTP
// packet back on the same m-section (our SSRC, the packet's negotiated payload type, our continuous
// sequence numbers) and every data-channel message back on the same channel with the same type.
import { LocalStreamTrack, RTCPeerConnection, type MediaStreamTrack, type RTCConfiguration, type RTCDataChannel, type RTCRtpTransceiver } from '../peer/index.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { RtcpPictureLossIndication } from '../rtp/rtcp/picture-loss-indication.js';
import { announceAddress } from './announce.js';
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
  };
  private closed = false;

  private constructor(id: string, pc: RTCPeerConnection, answer: string, createdAt: number) {
    this.id = id;
    this.pc = pc;
    this.answer = answer;
    this.createdAt = createdAt;
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
      const session = new EchoSession(id, pc, answer, Date.now());
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
    sender.on('rtcp', (e) => {
      const p = e.packet;
      if ((p.kind === 'pli' || p.kind === 'fir') && lastSsrc !== undefined) {
        this.counters.keyframeRequestsForwarded++;
        sender.sendRtcp([new RtcpPictureLossIndication(sender.ssrc, lastSsrc)]);
      }
    });
    void (async () => {
      for await (const packet of track) {
        stats.received++;
        lastSsrc = packet.ssrc;
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
