// Per-consumer rewrite of one forwarded RTP packet (docs/sfu.md "Rewrite"): SSRC and payload type
// (RFC 3550 §5.1), sequence-number and timestamp continuity across source switches and pauses,
// header-extension ids remapped to the consumer's negotiation (RFC 8285 §4.2/§4.3; unmapped
// elements become padding), abs-send-time and transport-wide sequence numbers written per leg.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Why a packet was not forwarded to one consumer; values index the drop counters. */
enum class ForwardDrop : uint8_t {
  kNone = 0,
  /** Not RTP version 2, an RTCP packet type, or a header (CSRCs, extension) past the end. */
  kMalformed = 1,
  /** The producer's payload type has no mapping in the consumer's negotiation. */
  kPayloadType = 2,
  /** The consumer is paused. */
  kPaused = 3,
  /** The consumer's transport could not protect it (not keyed, index exhausted). */
  kProtect = 4,
  /** The consumer's transport is gone or has no destination. */
  kNoTransport = 5,
  /** The packet does not fit the engine's send slot with the SRTP tag. */
  kTooBig = 6,
  /**
   * Layer selection (forward_layer_selector.hpp): another spatial layer than the consumer's, a
   * temporal layer above its target, or a late packet whose number was given to a later one.
   */
  kLayer = 7,
  /** The consumer transport's sink is closed (its TCP connection went) and no new route replaced it. */
  kSinkClosed = 8,
  /**
   * A NACKed packet resent to this consumer less than a round trip ago (forward_resend_guard.hpp):
   * not resent again (RFC 4585 §6.2.1; docs/sfu.md "Retransmission").
   */
  kResendWithinRtt = 9,
};
constexpr size_t kForwardDropCount = 10;

/** A stable lowercase name for logs, tests and JavaScript stats. */
const char* ForwardDropName(ForwardDrop drop) noexcept;

/** No mapping for a payload type or extension id. */
constexpr uint8_t kForwardUnmapped = 0xff;

/**
 * The rewrite state of one consumer: what its negotiation says (fixed by JavaScript) and the
 * continuity state (kept by the rewrite). Plain data, about 400 bytes, no allocation.
 */
struct ForwardRewriteState {
  // --- negotiation (set from JavaScript) ---
  uint32_t ssrc = 0;
  /** Producer payload type (0..127) -> consumer payload type; kForwardUnmapped drops. */
  uint8_t payload_types[128];
  /** Producer extension id (1..255) -> consumer id (1..255); 0 strips the element. */
  uint8_t extension_ids[256];
  /** Consumer-side ids of abs-send-time (3 bytes) and transport-wide-cc (2 bytes); 0 = none. */
  uint8_t abs_send_time_id = 0;
  uint8_t transport_cc_id = 0;
  /** RTP clock rate of the consumer's codec (timestamp units per second). */
  uint32_t clock_rate = 90000;
  /** RFC 4588 RTX towards this consumer: payload type (kForwardUnmapped: none) and SSRC. */
  uint8_t rtx_payload_type = kForwardUnmapped;
  uint32_t rtx_ssrc = 0;
  /** Next RTX sequence number (kept by the engine). */
  uint16_t rtx_seq = 0;

  // --- continuity (kept by forward_rtp_rewrite) ---
  /** True until the first packet after creation, a source switch or a resume. */
  bool rebase = true;
  bool started = false;
  uint16_t seq_offset = 0;
  uint32_t ts_offset = 0;
  uint16_t base_seq = 0;      // first sequence number sent since the last rebase (consumer space)
  uint16_t last_seq = 0;      // last sequence number sent (consumer space)
  uint32_t last_ts = 0;       // last timestamp sent (consumer space)
  uint64_t last_sent_us = 0;  // when last_ts was sent
  /**
   * Set when the sequence offset changed without a rebase (a packet skipped by layer selection):
   * the next packet starts the retransmission window again, retransmissions miss until then.
   */
  bool reset_window = false;

  ForwardRewriteState() noexcept;
};

/**
 * Rewrites the clear RTP packet buf[0, len) in place for one consumer. `now_us` is monotonic
 * microseconds (sans-I/O: the caller's clock); `transport_seq` is the consumer transport's
 * transport-wide counter, incremented when the packet carries the element. On a rebase the
 * outgoing sequence continues at last_seq + 1 and the timestamp advances by the wall time since
 * the last packet. Never reads or writes outside [0, len).
 */
ForwardDrop forward_rtp_rewrite(uint8_t* buf, size_t len, ForwardRewriteState& state, uint64_t now_us,
                                uint16_t* transport_seq) noexcept;

/**
 * The same rewrite for a retransmission of an earlier packet: the current offsets apply and the
 * continuity state is left alone. kPaused when a rebase is pending or the packet was not sent under
 * the current offsets (outside base_seq..last_seq), so the caller counts it as a miss.
 */
ForwardDrop forward_rtp_rewrite_retransmission(uint8_t* buf, size_t len, ForwardRewriteState& state, uint64_t now_us,
                                               uint16_t* transport_seq) noexcept;

/**
 * The rewrite of a retransmission whose numbering is known (a layer-selecting consumer's
 * ForwardSentMap, forward_sent_map.hpp): sequence number `out_seq` and the timestamp plus `ts_offset`
 * as the packet was first sent, per-leg extension values written afresh. No window check; the
 * continuity state is left alone.
 */
ForwardDrop forward_rtp_rewrite_as_sent(uint8_t* buf, size_t len, ForwardRewriteState& state, uint64_t now_us,
                                        uint16_t* transport_seq, uint16_t out_seq, uint32_t ts_offset) noexcept;

/**
 * RFC 4588 §4: turns the rewritten packet buf[0, len) into an RTX packet in place — the original
 * sequence number (2 bytes) goes before the payload, payload type, SSRC and sequence number become
 * the RTX stream's. Returns the new length, or 0 when capacity is too small or the header is bad.
 */
size_t forward_rtx_wrap(uint8_t* buf, size_t len, size_t capacity, uint8_t rtx_payload_type, uint32_t rtx_ssrc,
                        uint16_t rtx_seq) noexcept;

/**
 * RFC 4588 §4, the other way: turns the RTX packet buf[0, len) back into the original packet in place
 * — the sequence number becomes the OSN (the payload's first two bytes, which are removed), the
 * payload type `original_payload_type` (marker kept) and the SSRC `original_ssrc`. Returns the new
 * length, or 0 when the header is bad or the payload (less padding) is shorter than an OSN.
 */
size_t forward_rtx_unwrap(uint8_t* buf, size_t len, uint8_t original_payload_type, uint32_t original_ssrc) noexcept;

/** The 24-bit abs-send-time value for `now_us` (6.18 fixed-point seconds, wrapping every 64 s). */
uint32_t forward_abs_send_time(uint64_t now_us) noexcept;

}  // namespace pwt
