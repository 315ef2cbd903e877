// Per-consumer layer selection (see forward_layer_selector.hpp; docs/sfu.md "Simulcast and temporal
// layers"; RFC 7741 §4.2, RFC 6184, RFC 3550 §5.1).
#include "native/forward/forward_layer_selector.hpp"

#include "native/forward/h264_keyframe.hpp"
#include "native/srtp/srtp_packet.hpp"

namespace pwt {

namespace {

// RFC 1982-style "a is after b" for sequence spaces of `bits` bits.
bool Newer16(uint16_t a, uint16_t b) noexcept { return a != b && static_cast<uint16_t>(a - b) < 0x8000; }
bool NewerPictureId(uint16_t a, uint16_t b, bool fifteen) noexcept {
  const uint16_t mask = fifteen ? 0x7fff : 0x7f;
  const uint16_t half = fifteen ? 0x4000 : 0x40;
  const uint16_t d = static_cast<uint16_t>((a - b) & mask);
  return d != 0 && d < half;
}

}  // namespace

bool forward_layer_inspect(const uint8_t* pkt, size_t len, ForwardLayerCodec codec, ForwardLayerPacket* out) noexcept {
  if (!out) return false;
  *out = ForwardLayerPacket();
  if (!pkt || IsRtcpPacket(pkt, len)) return false;
  const size_t header = RtpHeaderLength(pkt, len);
  if (header == 0) return false;
  size_t payload_len = len - header;
  if (pkt[0] & 0x20) {  // P: the last byte counts the padding, itself included (RFC 3550 §5.1)
    const size_t padding = payload_len > 0 ? pkt[len - 1] : 0;
    if (padding == 0 || padding > payload_len) return false;
    payload_len -= padding;
  }
  out->seq = ReadU16(pkt + 2);
  out->payload_at = header;
  out->payload_len = payload_len;
  if (payload_len == 0) {
    out->valid = true;  // padding only: nothing to read, never a switch point
    return true;
  }
  const uint8_t* payload = pkt + header;
  if (codec == ForwardLayerCodec::kVp8) {
    if (!vp8_descriptor_parse(payload, payload_len, &out->vp8)) return false;
    out->has_vp8 = true;
    out->keyframe = out->vp8.keyframe;
  } else if (codec == ForwardLayerCodec::kH264) {
    out->keyframe = h264_is_keyframe(payload, payload_len);
  }
  out->valid = true;
  return true;
}

void ForwardLayerState::reset_stream() noexcept {
  vp8_rebase = true;
  seen = false;
  dropped = false;
}

ForwardLayerDecision forward_layer_select(const ForwardLayerPacket& p, uint8_t layer, ForwardLayerState& s) noexcept {
  ForwardLayerDecision d;
  if (!p.valid) {
    d.verdict = ForwardLayerDecision::kDropMalformed;
    return d;
  }
  if (layer != s.current_spatial) {
    const bool to_target = layer == s.target_spatial;
    const bool first_below_target = s.current_spatial == ForwardLayerState::kNone && layer < s.target_spatial;
    if (!p.keyframe || !(to_target || first_below_target)) {
      d.verdict = ForwardLayerDecision::kDropLayer;
      return d;
    }
    // A key frame depends on nothing before it: every temporal layer above it is in sync too.
    s.current_spatial = layer;
    s.current_temporal = s.target_temporal;
    s.reset_stream();
    ++s.switches;
    d.spatial_switch = true;
  }
  if (p.has_vp8 && p.vp8.frame_start()) {
    if (s.current_temporal > s.target_temporal) {
      s.current_temporal = s.target_temporal;  // down at any frame boundary
      ++s.switches;
    } else if (s.current_temporal < s.target_temporal && p.vp8.has_tid && p.vp8.tid > s.current_temporal &&
               p.vp8.tid <= s.target_temporal && (p.vp8.layer_sync || p.keyframe)) {
      s.current_temporal = p.vp8.tid;  // up at a layer-sync frame of that layer (RFC 7741 §4.2 Y)
      ++s.switches;
    }
  }
  const bool in_order = !s.seen || Newer16(p.seq, s.highest_seq);
  if (p.has_vp8 && p.vp8.has_tid && p.vp8.tid > s.current_temporal) {
    d.verdict = ForwardLayerDecision::kDropLayer;
    if (in_order) {
      // Give the number away: the next forwarded packet takes it, so the subscriber sees no gap.
      d.absorb_sequence = true;
      s.seen = true;
      s.highest_seq = p.seq;
      s.dropped = true;
      s.last_dropped_seq = p.seq;
      if (p.vp8.has_picture_id && p.vp8.frame_start() && s.vp8_started && !s.vp8_rebase) --s.picture_id_offset;
    }
    return d;
  }
  if (s.dropped && !in_order && !Newer16(p.seq, s.last_dropped_seq)) {
    // Late packet from before a drop: its number in the consumer's space is already taken.
    d.verdict = ForwardLayerDecision::kDropLayer;
    return d;
  }
  if (in_order) {
    s.seen = true;
    s.highest_seq = p.seq;
  }
  return d;
}

void forward_layer_rewrite_vp8(uint8_t* payload, size_t len, const Vp8Descriptor& d, ForwardLayerState& s) noexcept {
  if (!d.has_picture_id && !d.has_tl0) return;
  if (s.vp8_rebase) {
    if (s.vp8_started) {
      // Continue at the next picture of the consumer's numbering (RFC 7741 §4.2: PictureID and
      // TL0PICIDX each count up by one per picture / per TL0 picture).
      if (d.has_picture_id) s.picture_id_offset = static_cast<uint16_t>(s.last_picture_id + 1 - d.picture_id);
      if (d.has_tl0) s.tl0_offset = static_cast<uint8_t>(s.last_tl0 + 1 - d.tl0_pic_idx);
    } else {
      s.picture_id_offset = 0;
      s.tl0_offset = 0;
    }
    s.vp8_rebase = false;
  }
  const uint16_t mask = d.picture_id_15 ? 0x7fff : 0x7f;
  const uint16_t pid = static_cast<uint16_t>((d.picture_id + s.picture_id_offset) & mask);
  const uint8_t tl0 = static_cast<uint8_t>(d.tl0_pic_idx + s.tl0_offset);
  vp8_descriptor_write(payload, len, d, pid, tl0);
  if (d.has_picture_id && (!s.vp8_started || NewerPictureId(pid, s.last_picture_id, d.picture_id_15))) s.last_picture_id = pid;
  if (d.has_tl0 && (!s.vp8_started || static_cast<int8_t>(tl0 - s.last_tl0) > 0)) s.last_tl0 = tl0;
  s.vp8_started = true;
}

bool forward_layer_rewrite_vp8_retransmission(uint8_t* payload, size_t len, const Vp8Descriptor& d,
                                              const ForwardLayerState& s) noexcept {
  if (!d.has_picture_id && !d.has_tl0) return true;
  if (s.vp8_rebase || !s.vp8_started) return false;
  const uint16_t mask = d.picture_id_15 ? 0x7fff : 0x7f;
  vp8_descriptor_write(payload, len, d, static_cast<uint16_t>((d.picture_id + s.picture_id_offset) & mask),
                       static_cast<uint8_t>(d.tl0_pic_idx + s.tl0_offset));
  return true;
}

}  // namespace pwt
