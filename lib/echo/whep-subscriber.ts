// One WHEP subscriber (draft-ietf-wish-whep §4: the player offers recvonly, the server answers
// sendonly): an RTCPeerConnection that sends what a published WHIP echo session receives, with the
// publisher's codec only, and turns the player's PLI/FIR into a PLI to the publisher.
import type { CodecCapability } from '../sdp/capabilities.js';
import type { SdpCodec } from '../sdp/model.js';
import { fmtpGet } from '../sdp/fmtp.js';
import { LocalStreamTrack, RTCPeerConnection } from '../peer/index.js';
import { RtpPacket } from '../rtp/rtp-packet.js';
import { announceAddress } from './announce.js';
import { servedCodecs } from './served-codecs.js';
import type { EchoSession, EchoSessionOptions } from './echo-session.js';
import type { IceFragment } from '../signaling/ice-fragment.js';

/** What a subscriber forwarded, per kind, and the keyframe requests it passed on. */
export interface WhepSubscriberCounters {
  rtp: Record<'audio' | 'video', { forwarded: number }>;
  keyframeRequests: number;
  /** Candidates trickled by PATCH: applied, and dropped (refused by the peer connection). */
  trickle: { candidates: number; dropped: number };
}

/**
 * Our capability for the codec the publisher sends: same name, and for H.264 the same
 * packetization mode and profile (RFC 6184 §8.2.2), so the subscriber can only get that codec.
 */
function capabilityFor(kind: 'audio' | 'video', sent: SdpCodec | undefined): CodecCapability[] {
  return servedCodecs(kind, (c) => sent !== undefined && c.name.toLowerCase() === sent.name.toLowerCase() && (
    c.name !== 'H264' || (
      (fmtpGet(c.parameters, 'packetization-mode') ?? '0') === (fmtpGet(sent.parameters, 'packetization-mode') ?? '0') &&
      fmtpGet(c.parameters, 'profile-level-id')?.slice(0, 2) === fmtpGet(sent.parameters, 'profile-level-id')?.slice(0, 2))));
}

/** A WHEP player's session: create with {@link WhepSubscriber.answer}. */
export class WhepSubscriber {
  readonly id: string;
  readonly pc: RTCPeerConnection;
  /** The SDP answer to return. */
  readonly answer: string;
  /** The published session it plays. */
  readonly publisher: EchoSession;
  readonly counters: WhepSubscriberCounters = { rtp: { audio: { forwarded: 0 }, video: { forwarded: 0 } }, keyframeRequests: 0, trickle: { candidates: 0, dropped: 0 } };
  private readonly unsubscribe: (() => void)[] = [];
  private closed = false;

  private constructor(id: string, pc: RTCPeerConnection, answer: string, publisher: EchoSession) {
    this.id = id;
    this.pc = pc;
    this.answer = answer;
    this.publisher = publisher;
  }

  /**
   * Answers a player's offer: each audio/video m-section sends `publisher`'s media of that kind.
   * Throws the peer connection's typed errors for an offer it cannot answer (the connection is
   * then closed).
   */
  static async answer(id: string, offer: string, publisher: EchoSession, options: EchoSessionOptions = {}): Promise<WhepSubscriber> {
    // The players are fed from JavaScript (the publisher's tap when its router echoes it).
    const { publicIp, router: _router, ...config } = options;
    const codecs = [...capabilityFor('audio', publisher.sentCodec('audio')), ...capabilityFor('video', publisher.sentCodec('video'))];
    const pc = new RTCPeerConnection({ ...config, codecs });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      const tracks: { kind: 'audio' | 'video'; track: LocalStreamTrack }[] = [];
      for (const t of pc.getTransceivers()) {
        if (t.stopped) continue;
        const track = new LocalStreamTrack({ kind: t.sender.kind });
        await t.sender.replaceTrack(track);
        t.direction = 'sendonly';
        tracks.push({ kind: t.sender.kind, track });
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const answer = publicIp ? announceAddress(pc.localDescription!.sdp, publicIp) : pc.localDescription!.sdp;
      const subscriber = new WhepSubscriber(id, pc, answer, publisher);
      for (const { kind, track } of tracks) subscriber.forward(kind, track);
      for (const t of pc.getTransceivers()) {
        t.sender.on('rtcp', (e) => {
          if (e.packet.kind === 'pli' || e.packet.kind === 'fir') subscriber.keyframe(t.sender.kind);
        });
      }
      // A player that joins mid-stream needs a keyframe to start decoding.
      pc.on('connectionstatechange', () => {
        if (pc.connectionState === 'connected') subscriber.keyframe('video');
      });
      return subscriber;
    } catch (error) {
      pc.close();
      throw error;
    }
  }

  /** Applies trickled candidates (RFC 9725 §4.3.1); a refused one is dropped and counted, never thrown. */
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
      if (m.endOfCandidates) await this.pc.addIceCandidate(null);
    }
  }

  /** Stops forwarding and closes the peer connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.pc.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private keyframe(kind: 'audio' | 'video'): void {
    if (this.publisher.requestKeyframe(kind)) this.counters.keyframeRequests++;
  }

  private forward(kind: 'audio' | 'video', track: LocalStreamTrack): void {
    const counter = this.counters.rtp[kind];
    this.unsubscribe.push(this.publisher.subscribe(kind, (packet) => {
      if (this.pc.connectionState !== 'connected') return;
      // Our sender writes its own SSRC, sequence numbers and payload type (the same codec).
      track.send(new RtpPacket({ timestamp: packet.timestamp, marker: packet.marker, payload: packet.payload }));
      counter.forwarded++;
    }));
  }
}
