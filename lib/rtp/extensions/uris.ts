// The extmap URIs (RFC 8285 §5) of the header extensions a WebRTC server sees, as SDP carries them.

/** RFC 8843 §15: the m= section id (BUNDLE). */
export const SDES_MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
/** RFC 8852 §3.1: the RtpStreamId (simulcast rid). */
export const SDES_RTP_STREAM_ID_URI = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
/** RFC 8852 §3.2: the RtpStreamId a redundancy (RTX/FEC) stream repairs. */
export const SDES_REPAIRED_RTP_STREAM_ID_URI = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
/** webrtc.org abs-send-time: 24-bit 6.18 fixed-point seconds. */
export const ABS_SEND_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
/** draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: transport-wide sequence number. */
export const TRANSPORT_CC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
/** RFC 6464: client-to-mixer audio level. */
export const SSRC_AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** webrtc.org abs-capture-time: NTP capture time and optional clock offset. */
export const ABS_CAPTURE_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time';
/** 3GPP TS 26.114 §7.4.5 coordination of video orientation (CVO). */
export const VIDEO_ORIENTATION_URI = 'urn:3gpp:video-orientation';
/** webrtc.org playout-delay: min/max playout delay in 10 ms units. */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** AV1 RTP specification appendix A: dependency descriptor (carried as raw bytes). */
export const DEPENDENCY_DESCRIPTOR_URI =
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension';
