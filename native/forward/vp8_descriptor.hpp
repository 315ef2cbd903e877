// The VP8 RTP payload descriptor (RFC 7741 §4.2) and the key-frame bit of the VP8 payload header
// (RFC 7741 §4.3), read and rewritten in place for the SFU engine's layer selection (docs/sfu.md
// "Simulcast and temporal layers"). Bounds-checked: never reads or writes outside the payload.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** The fields of one packet's VP8 payload descriptor that layer selection uses. */
struct Vp8Descriptor {
  /** S: the packet starts a VP8 partition; with partition_id 0 it starts a frame. */
  bool start_of_partition = false;
  uint8_t partition_id = 0;
  /** I: PictureID present, 7 or 15 bits (M), at byte `picture_id_at` of the payload. */
  bool has_picture_id = false;
  bool picture_id_15 = false;
  uint16_t picture_id = 0;
  size_t picture_id_at = 0;
  /** L: TL0PICIDX present at byte `tl0_at` of the payload. */
  bool has_tl0 = false;
  uint8_t tl0_pic_idx = 0;
  size_t tl0_at = 0;
  /** T: TID present (the temporal layer, 0..3) and Y (layer sync: depends on TL0 only). */
  bool has_tid = false;
  uint8_t tid = 0;
  bool layer_sync = false;
  /** The first packet of a key frame: S = 1, PID = 0, and the P bit of the VP8 payload header 0. */
  bool keyframe = false;
  /** Descriptor length in bytes (the VP8 payload follows). */
  size_t size = 0;

  /** True for the first packet of a frame (S = 1 and PID = 0). */
  bool frame_start() const { return start_of_partition && partition_id == 0; }
};

/**
 * Parses the descriptor at the start of `payload` (the RTP payload, padding excluded). False when it
 * runs past `len` or leaves no VP8 payload byte (RFC 7741 §4.2: a packet carries at least one).
 */
bool vp8_descriptor_parse(const uint8_t* payload, size_t len, Vp8Descriptor* out) noexcept;

/**
 * Writes `picture_id` (masked to the descriptor's 7 or 15 bits) and `tl0_pic_idx` into the fields
 * `d` found (absent fields are left alone). `payload`/`len` must be the ones `d` was parsed from.
 */
void vp8_descriptor_write(uint8_t* payload, size_t len, const Vp8Descriptor& d, uint16_t picture_id,
                          uint8_t tl0_pic_idx) noexcept;

}  // namespace pwt
