// libFuzzer target: the SFU engine's layer selection (native/forward/forward_layer_selector.hpp,
// vp8_descriptor.hpp, h264_keyframe.hpp; RFC 7741 §4.2, RFC 6184 §5.6-§5.8). Input: 2 control bytes
// (codec; layer and target layers) then an RTP packet, read as three packets of a stream (the
// same bytes as layers 0..2 of a simulcast producer). Checks: nothing outside the packet is read or
// written, the VP8 rewrite changes only the PictureID and TL0PICIDX bytes, the current layers stay in
// range, and a forwarded packet is of the current spatial layer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/forward/forward_layer_selector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto codec = static_cast<pwt::ForwardLayerCodec>(data[0] % 3);
  pwt::ForwardLayerState s;
  s.active = true;
  s.target_spatial = data[1] & 0x03;
  s.target_temporal = (data[1] >> 2) & 0x03;
  if (data[1] & 0x10) s.current_spatial = 0;
  const size_t len = size - 2;
  // Exact-size copy (ASan sees any overread) plus guard bytes around a second copy for writes.
  std::vector<uint8_t> exact(data + 2, data + size);
  std::vector<uint8_t> guarded(len + 32, 0xEE);
  if (len) std::memcpy(guarded.data() + 16, data + 2, len);
  uint8_t* p = guarded.data() + 16;
  for (uint8_t layer = 0; layer < 3; ++layer) {
    pwt::ForwardLayerPacket info;
    const bool ok = pwt::forward_layer_inspect(len ? exact.data() : nullptr, len, codec, &info);
    if (ok != info.valid) std::abort();
    if (ok && (info.payload_at > len || info.payload_len > len - info.payload_at)) std::abort();
    const pwt::ForwardLayerDecision d = pwt::forward_layer_select(info, layer, s);
    if (s.current_temporal > pwt::ForwardLayerState::kMaxTemporal) std::abort();
    if (d.verdict == pwt::ForwardLayerDecision::kForward) {
      if (s.current_spatial != layer || !info.valid) std::abort();
      if (info.has_vp8) {
        std::vector<uint8_t> before(p, p + len);
        pwt::forward_layer_rewrite_vp8(p + info.payload_at, info.payload_len, info.vp8, s);
        for (size_t i = 0; i < len; ++i) {
          const size_t at = i - info.payload_at;
          const bool pid_byte = info.vp8.has_picture_id && i >= info.payload_at &&
                                (at == info.vp8.picture_id_at || (info.vp8.picture_id_15 && at == info.vp8.picture_id_at + 1));
          const bool tl0_byte = info.vp8.has_tl0 && i >= info.payload_at && at == info.vp8.tl0_at;
          if (!pid_byte && !tl0_byte && p[i] != before[i]) std::abort();
        }
        pwt::forward_layer_rewrite_vp8_retransmission(p + info.payload_at, info.payload_len, info.vp8, s);
      }
    }
    for (size_t i = 0; i < 16; ++i) {
      if (guarded[i] != 0xEE || guarded[16 + len + i] != 0xEE) std::abort();
    }
  }
  return 0;
}
