// Public surface of lib/sdp: the SDP model, parser/serializer and the JSEP offer/answer functions
// (RFC 8866, 8829, 8843, 8841, 8851/8853). Everything here is pure: no I/O, no clock, no randomness.
export * from './model.js';
export { SdpSyntaxError, SdpInvalidAccessError } from './sdp-error.js';
export type { SdpSyntaxErrorCode, SdpInvalidAccessErrorCode } from './sdp-error.js';
export { parseSdp, MAX_SDP_LENGTH } from './parse.js';
export { serializeSdp, serializeMediaSection } from './serialize.js';
export { parseCandidate, formatCandidate } from './candidate.js';
export { parseFmtp, formatFmtp, fmtpGet } from './fmtp.js';
export { staticPayloadType } from './static-payload-types.js';
export type { StaticPayloadType } from './static-payload-types.js';
export { parseH264ProfileLevelId, DEFAULT_H264_PROFILE_LEVEL_ID } from './h264-profile.js';
export type { H264Profile, H264ProfileLevelId } from './h264-profile.js';
export { HeaderExtensionUri } from './capabilities.js';
export type { CodecCapability, HeaderExtensionCapability, RtpMediaKind } from './capabilities.js';
export { defaultCodecs, defaultHeaderExtensions } from './default-capabilities.js';
export { codecFormatsMatch, findMatchingCapability, isRtxCodec, rtxAssociatedPayloadType } from './codec-match.js';
export type { CodecFormat } from './codec-match.js';
export { answerDirection, directionReceives, directionSends, makeDirection, reverseDirection } from './direction.js';
export { bundleGroupOf, bundleGroups, isRejected, sectionByMid } from './bundle.js';
export type { LocalSenderDescription, LocalSessionParameters, LocalTransportParameters } from './local-parameters.js';
export { createOffer, DEFAULT_MAX_MESSAGE_SIZE, RTP_PROTOCOL, SCTP_PROTOCOL } from './offer.js';
export type { LocalDataChannelDescription, LocalTransceiverDescription, OfferOptions } from './offer.js';
export { createAnswer } from './answer.js';
export type { AnswerOptions, LocalAnswerMedia } from './answer.js';
export {
  extractRemoteTransports,
  validateRemoteDescription,
  remoteSctpPort,
  DEFAULT_REMOTE_MAX_MESSAGE_SIZE,
  MAX_REMOTE_TRANSPORTS,
} from './remote-transport.js';
export type { RemoteTransportParameters } from './remote-transport.js';
export { describeRtpSection, negotiatedCapabilities } from './rtp-parameters.js';
export type { AnnouncedSender, RtpSectionParameters } from './rtp-parameters.js';
export { negotiatedDtlsRole } from './dtls-role.js';
export type { DtlsRole } from './dtls-role.js';
