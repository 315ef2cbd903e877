// Key-frame detection in H.264 RTP payloads (RFC 6184 §5.6 single NAL unit, §5.7.1 STAP-A,
// §5.8 FU-A; NAL unit types 5 = IDR slice, 7 = SPS from ITU-T H.264 Table 7-1) for the SFU engine's
// spatial-layer switches (docs/sfu.md "Simulcast and temporal layers").
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/**
 * True when the RTP payload `payload[0, len)` starts an IDR picture or carries an SPS: a single NAL
 * unit of type 5 or 7, a STAP-A holding one, or the first fragment (S bit) of an FU-A of one.
 * STAP-B, MTAP and FU-B (interleaved mode) are not recognised. Never reads outside the payload.
 */
bool h264_is_keyframe(const uint8_t* payload, size_t len) noexcept;

}  // namespace pwt
