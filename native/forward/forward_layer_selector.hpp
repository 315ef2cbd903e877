// Per-consumer simulcast and temporal-layer selection of the SFU engine (docs/sfu.md "Simulcast and
// temporal layers"): which of a producer's spatial layers (simulcast streams, RFC 8853) and VP8
// temporal layers (RFC 7741 §4.2 TID/Y) a consumer gets, switching spatial layers only at a key frame
// of the target layer and temporal layers up only at a layer-sync point; the VP8 PictureID and
// TL0PICIDX are rewritten so they stay continuous for the consumer across switches and drops.
#pragma once
#include <cstddef>
#include <cstdint>

#include "native/forward/vp8_descriptor.hpp"

namespace pwt {

/** The codec of a producer's payload type, as far as layer selection reads it. */
enum class ForwardLayerCodec : uint8_t {
  kOther = 0,  // no key-frame or layer information read: never a switch point
  kVp8 = 1,    // RFC 7741
  kH264 = 2,   // RFC 6184 (key frames only; no temporal layers)
};

/** What the engine reads once per received packet of a layer-aware producer. */
struct ForwardLayerPacket {
  /** False when the codec's payload header is malformed (short or running past the payload). */
  bool valid = false;
  bool keyframe = false;
  /** A VP8 descriptor was parsed (`vp8`, offsets relative to `payload_at`). */
  bool has_vp8 = false;
  Vp8Descriptor vp8;
  size_t payload_at = 0;
  size_t payload_len = 0;
  uint16_t seq = 0;
};

/**
 * Reads the RTP packet pkt[0, len) for layer selection: payload bounds (RFC 3550 §5.1 padding),
 * the VP8 descriptor or the H.264 key-frame test. A padding-only packet is valid with nothing read.
 * Returns `out->valid`.
 */
bool forward_layer_inspect(const uint8_t* pkt, size_t len, ForwardLayerCodec codec, ForwardLayerPacket* out) noexcept;

/** The layer-selection state of one consumer. Plain data, no allocation. */
struct ForwardLayerState {
  static constexpr uint8_t kNone = 0xff;
  /** VP8 TID is 2 bits; a target of 3 means every temporal layer. */
  static constexpr uint8_t kMaxTemporal = 3;

  /** True once the consumer selects layers (simulcast producer, or a temporal target was set). */
  bool active = false;
  uint8_t target_spatial = 0;
  uint8_t target_temporal = kMaxTemporal;
  /** kNone until the first key frame of a simulcast producer's layer was forwarded. */
  uint8_t current_spatial = kNone;
  uint8_t current_temporal = kMaxTemporal;
  /** Completed switches (spatial, including the first, and temporal). */
  uint64_t switches = 0;

  // VP8 PictureID / TL0PICIDX continuity (consumer space = producer space + offset).
  bool vp8_started = false;
  bool vp8_rebase = false;
  uint16_t picture_id_offset = 0;
  uint8_t tl0_offset = 0;
  uint16_t last_picture_id = 0;
  uint8_t last_tl0 = 0;

  // Temporal drops within the current spatial layer (producer sequence space of that layer).
  bool seen = false;
  uint16_t highest_seq = 0;
  bool dropped = false;
  uint16_t last_dropped_seq = 0;

  /** Forget the per-stream state (after a pause or a spatial switch); targets and counters stay. */
  void reset_stream() noexcept;
};

/** The decision for one packet and one consumer. */
struct ForwardLayerDecision {
  enum Verdict : uint8_t { kForward = 0, kDropLayer = 1, kDropMalformed = 2 };
  Verdict verdict = kForward;
  /** A spatial switch (or the first layer) completed with this packet: rebase sequence/timestamp. */
  bool spatial_switch = false;
  /**
   * A dropped packet of the current layer that the consumer's sequence numbers skip: the caller
   * lowers its sequence offset by one so the subscriber sees no gap.
   */
  bool absorb_sequence = false;
};

/**
 * Decides whether the packet `p` of spatial layer `layer` goes to the consumer, updating `s`:
 * - another layer than the current one switches only at a key frame of the target layer (or, before
 *   any layer was forwarded, of a lower one), else it is dropped;
 * - in the current layer a VP8 frame above the current temporal layer is dropped; the current
 *   temporal layer moves down to the target at a frame start and up at a layer-sync frame (Y) or a
 *   key frame;
 * - a packet older than the last one dropped in order is dropped (its number was given away).
 */
ForwardLayerDecision forward_layer_select(const ForwardLayerPacket& p, uint8_t layer, ForwardLayerState& s) noexcept;

/**
 * Rewrites the VP8 PictureID / TL0PICIDX of a forwarded copy (`payload` = the copy's RTP payload)
 * into the consumer's continuous numbering, rebasing after a switch or resume.
 */
void forward_layer_rewrite_vp8(uint8_t* payload, size_t len, const Vp8Descriptor& d, ForwardLayerState& s) noexcept;

/** The same numbering for a retransmitted copy, leaving the state alone. False: not mappable now. */
bool forward_layer_rewrite_vp8_retransmission(uint8_t* payload, size_t len, const Vp8Descriptor& d,
                                              const ForwardLayerState& s) noexcept;

}  // namespace pwt
