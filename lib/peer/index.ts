// Public surface of lib/peer: RTCPeerConnection, transceivers, raw-RTP tracks, descriptions,
// candidates, stats and the data-channel types it hands out (webrtc-pc names).
export { RTCPeerConnection } from './peer-connection.js';
export type {
  RTCConfiguration,
  RTCIceServer,
  RTCRtpTransceiverInit,
  RTCPeerConnectionEvents,
  RTCPeerConnectionState,
  RTCSignalingState,
  RTCIceConnectionState,
  RTCIceGatheringState,
  RemoteMediaStream,
} from './peer-connection.js';
export { RTCRtpTransceiver } from './rtp-transceiver.js';
export type { RTCRtpTransceiverDirection } from './rtp-transceiver.js';
export type { RTCRtpCodec, RTCRtpCapabilities } from './codec-preferences.js';
export { RTCRtpSender, SENDER_QUEUE_LIMIT } from './rtp-sender.js';
export type { RtcpEvent, RtcpEvents, RTCRtpSenderEvents, RTCRtpSendParameters, SenderParameters } from './rtp-sender.js';
export type { RTCRtpEncodingParameters, RTCRtpCodecParameters, EncodingSettings } from './send-parameters.js';
export { RTCRtpReceiver } from './rtp-receiver.js';
export type { InboundStream, ReceiverParameters } from './rtp-receiver.js';
export { MediaStreamTrack, LocalStreamTrack, TRACK_QUEUE_LIMIT } from './media-stream-track.js';
export type { MediaKind, MediaStreamTrackEvents } from './media-stream-track.js';
export { RTCSessionDescription, RTCIceCandidate, PeerError } from './session-description.js';
export type { RTCSdpType, RTCSessionDescriptionInit, RTCIceCandidateInit } from './session-description.js';
export type { RTCStats, RTCStatsReport } from './stats.js';
export type { MediaRouterDrops } from './media-router.js';
export { PeerEventTarget } from './event-target.js';
export type { PeerEvent, PeerEventMap } from './event-target.js';
export { RTCDataChannel } from '../sctp/data-channel.js';
export type { RTCDataChannelInit, RTCDataChannelState } from '../sctp/data-channel.js';
export { PENDING_MEDIA_LIMIT } from '../transport/peer-transport.js';
export { RtpPacketBatch, RtpPacketFlags, RTP_BATCH_CAPACITY, setDefaultRtpPolicies, defaultRtpPolicies, feedbackKey } from './rtp-policy.js';
export type {
  RtpPolicy,
  RtpPolicyFactory,
  RtpPolicyScope,
  RtpPolicyOutput,
  RtpPolicyParameters,
  RtpPolicyEvent,
  RtpPolicyEventMap,
  RtpPolicyStatsCollector,
  PolicySendStream,
  NativeStreamTotals,
  NativeSendTotals,
  NativeSenderReporter,
  NativeDlrrItem,
  NativeReceiveTotals,
  NativeArrivals,
} from './rtp-policy.js';
export { RtpPolicyChain } from './rtp-policy-chain.js';
export type { PolicyDrops } from './policy-driver.js';
