// VP8 payload descriptor parser/rewriter (see vp8_descriptor.hpp; RFC 7741 §4.2, §4.3).
#include "native/forward/vp8_descriptor.hpp"

namespace pwt {

bool vp8_descriptor_parse(const uint8_t* payload, size_t len, Vp8Descriptor* out) noexcept {
  if (!payload || !out || len < 1) return false;
  Vp8Descriptor d;
  const uint8_t b0 = payload[0];
  d.start_of_partition = (b0 & 0x10) != 0;
  d.partition_id = b0 & 0x07;
  size_t i = 1;
  if (b0 & 0x80) {  // X: the extension byte follows
    if (i >= len) return false;
    const uint8_t x = payload[i++];
    const bool has_i = (x & 0x80) != 0;
    const bool has_l = (x & 0x40) != 0;
    const bool has_t = (x & 0x20) != 0;
    const bool has_k = (x & 0x10) != 0;
    if (has_i) {
      if (i >= len) return false;
      d.has_picture_id = true;
      d.picture_id_at = i;
      if (payload[i] & 0x80) {  // M: 15-bit PictureID
        if (i + 1 >= len) return false;
        d.picture_id_15 = true;
        d.picture_id = static_cast<uint16_t>(((payload[i] & 0x7f) << 8) | payload[i + 1]);
        i += 2;
      } else {
        d.picture_id = payload[i] & 0x7f;
        i += 1;
      }
    }
    if (has_l) {
      if (i >= len) return false;
      d.has_tl0 = true;
      d.tl0_at = i;
      d.tl0_pic_idx = payload[i++];
    }
    if (has_t || has_k) {  // one byte holds TID|Y|KEYIDX; TID is valid only with T
      if (i >= len) return false;
      if (has_t) {
        d.has_tid = true;
        d.tid = static_cast<uint8_t>(payload[i] >> 6);
        d.layer_sync = (payload[i] & 0x20) != 0;
      }
      ++i;
    }
  }
  if (i >= len) return false;  // no VP8 payload byte
  d.size = i;
  // RFC 7741 §4.3: the payload header starts the frame's first partition; P (bit 0) = 0 is a key frame.
  d.keyframe = d.frame_start() && (payload[i] & 0x01) == 0;
  *out = d;
  return true;
}

void vp8_descriptor_write(uint8_t* payload, size_t len, const Vp8Descriptor& d, uint16_t picture_id,
                          uint8_t tl0_pic_idx) noexcept {
  if (!payload) return;
  if (d.has_picture_id) {
    if (d.picture_id_15) {
      if (d.picture_id_at + 1 < len) {
        payload[d.picture_id_at] = static_cast<uint8_t>(0x80 | ((picture_id >> 8) & 0x7f));
        payload[d.picture_id_at + 1] = static_cast<uint8_t>(picture_id);
      }
    } else if (d.picture_id_at < len) {
      payload[d.picture_id_at] = static_cast<uint8_t>(picture_id & 0x7f);
    }
  }
  if (d.has_tl0 && d.tl0_at < len) payload[d.tl0_at] = tl0_pic_idx;
}

}  // namespace pwt
