// H.264 key-frame detection (see h264_keyframe.hpp; RFC 6184 §5.6-§5.8).
#include "native/forward/h264_keyframe.hpp"

namespace pwt {
namespace {

constexpr uint8_t kNalIdr = 5;
constexpr uint8_t kNalSps = 7;
constexpr uint8_t kStapA = 24;
constexpr uint8_t kFuA = 28;

bool IsKeyNal(uint8_t type) noexcept { return type == kNalIdr || type == kNalSps; }

}  // namespace

bool h264_is_keyframe(const uint8_t* payload, size_t len) noexcept {
  if (!payload || len < 1) return false;
  const uint8_t type = payload[0] & 0x1f;
  if (type >= 1 && type <= 23) return IsKeyNal(type);
  if (type == kStapA) {
    // RFC 6184 §5.7.1: after the STAP-A header, each NAL unit is a 16-bit size then the unit.
    size_t i = 1;
    while (i + 2 <= len) {
      const size_t size = (static_cast<size_t>(payload[i]) << 8) | payload[i + 1];
      i += 2;
      if (size == 0 || size > len - i) return false;
      if (IsKeyNal(payload[i] & 0x1f)) return true;
      i += size;
    }
    return false;
  }
  if (type == kFuA) {
    // RFC 6184 §5.8: FU header = S|E|R|Type; only the start fragment begins the NAL unit.
    return len >= 2 && (payload[1] & 0x80) != 0 && IsKeyNal(payload[1] & 0x1f);
  }
  return false;
}

}  // namespace pwt
