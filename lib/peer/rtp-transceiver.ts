// RTCRtpTransceiver (webrtc-pc §5.4): one m-section's sender and receiver, its mid, direction and
// negotiated currentDirection; stop() (RFC 8829 §4.2.1: the m-section is rejected next offer).
import type { CodecCapability } from '../sdp/capabilities.js';
import type { MediaDirection } from '../sdp/model.js';
import { selectCodecPreferences, type RTCRtpCodec } from './codec-preferences.js';
import type { MediaKind } from './media-stream-track.js';
import type { RTCRtpReceiver } from './rtp-receiver.js';
import type { RTCRtpSender } from './rtp-sender.js';
import { RtpPolicyChain } from './rtp-policy-chain.js';
import { PeerError } from './session-description.js';

/** W3C RTCRtpTransceiverDirection. */
export type RTCRtpTransceiverDirection = MediaDirection | 'stopped';

const DIRECTIONS: readonly string[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Pairs a sender and a receiver sharing one m-section. */
export class RTCRtpTransceiver {
  readonly kind: MediaKind;
  readonly sender: RTCRtpSender;
  readonly receiver: RTCRtpReceiver;
  /**
   * This transceiver's policy modules (docs/policy.md): add, remove or replace them here. What they
   * serve is what the next offer/answer negotiates for this m-section.
   */
  readonly policies: RtpPolicyChain;
  /** The m-section's mid once negotiated (or offered). */
  mid: string | null = null;
  /** @internal The direction negotiated last (null before the first answer). */
  current: MediaDirection | null = null;
  /** @internal Stream ids announced for the sender (a=msid). */
  streamIds: string[];
  /** @internal Codecs chosen by setCodecPreferences, in order (undefined: the connection's). */
  codecPreferences: CodecCapability[] | undefined;
  /** @internal The connection's codecs of this kind, which setCodecPreferences chooses from. */
  codecCapabilities: () => readonly CodecCapability[] = () => [];
  private directionValue: MediaDirection;
  private stoppedValue = false;
  private stoppingValue = false;

  /** @internal */
  constructor(
    kind: MediaKind,
    sender: RTCRtpSender,
    receiver: RTCRtpReceiver,
    direction: MediaDirection,
    streamIds: string[],
    private readonly onChange: () => void,
    policies: RtpPolicyChain = new RtpPolicyChain(),
  ) {
    this.kind = kind;
    this.sender = sender;
    this.receiver = receiver;
    this.policies = policies;
    sender.policies = policies;
    receiver.policies = policies;
    this.directionValue = direction;
    this.streamIds = streamIds;
  }

  /** The preferred direction; setting it makes negotiation needed. */
  get direction(): RTCRtpTransceiverDirection {
    return this.stoppingValue ? 'stopped' : this.directionValue;
  }
  set direction(value: RTCRtpTransceiverDirection) {
    if (this.stoppingValue) throw new PeerError('InvalidStateError', 'ERR_PEER_TRANSCEIVER_STOPPED', 'the transceiver is stopped');
    if (!DIRECTIONS.includes(value)) throw new PeerError('TypeError', 'ERR_PEER_DIRECTION', `unknown direction ${String(value)}`);
    if (value === this.directionValue) return;
    this.directionValue = value as MediaDirection;
    this.onChange();
  }

  /** The negotiated direction, or null; `stopped` once stopped. */
  get currentDirection(): RTCRtpTransceiverDirection | null {
    return this.stoppedValue ? 'stopped' : this.current;
  }

  /** True once stop() was called (negotiation rejects the m-section). */
  get stopped(): boolean {
    return this.stoppingValue;
  }

  /**
   * W3C setCodecPreferences() (webrtc-pc §5.4): the codecs, in order, that the next offers and
   * answers for this m-section carry; an empty list restores the connection's codecs. RTX stays
   * on only when the list has an `rtx` entry. Takes effect at the next negotiation (it does not
   * fire negotiationneeded). Throws InvalidModificationError for a codec the connection does not
   * support for this kind (see RTCRtpReceiver.getCapabilities) or a list without a media codec.
   */
  setCodecPreferences(codecs: readonly RTCRtpCodec[]): void {
    this.codecPreferences = selectCodecPreferences(this.kind, codecs, this.codecCapabilities());
  }

  /** W3C stop(): stops sending and receiving now; the next negotiation rejects the m-section. */
  stop(): void {
    if (this.stoppingValue) return;
    this.stoppingValue = true;
    this.policies.stop();
    this.sender.stop();
    this.receiver.endTracks();
    this.onChange();
  }

  /** @internal The m-section was rejected or negotiated stopped. */
  markStopped(): void {
    this.stoppedValue = true;
    if (!this.stoppingValue) {
      this.stoppingValue = true;
      this.policies.stop();
      this.sender.stop();
      this.receiver.endTracks();
    }
  }

  /** @internal Direction to put in a description (inactive once stopping). */
  get localDirection(): MediaDirection {
    return this.stoppingValue ? 'inactive' : this.directionValue;
  }
}
