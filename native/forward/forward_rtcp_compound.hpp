// A subscriber's compound RTCP packet (RFC 3550 §6.1, RFC 5506 reduced-size) sorted by what the
// forwarding engine can consume without JavaScript (docs/sfu.md "What a subscriber's RTCP costs"):
// RR (§6.4.2), SDES (§6.5), generic NACK (RFC 4585 §6.2.1), PLI (§6.3.1), FIR (RFC 5104 §4.3.1),
// transport-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), REMB
// (draft-alvestrand-rmcat-remb-03 §2.2) and an XR of receiver reference times only (RFC 3611 §4.4).
// Every read is bounds-checked.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Kinds of packet a compound holds (bits of ForwardRtcpCompound::kinds). */
enum ForwardRtcpKind : uint32_t {
  kRtcpKindReceiverReport = 1u << 0,
  kRtcpKindSourceDescription = 1u << 1,
  kRtcpKindNack = 1u << 2,
  kRtcpKindPli = 1u << 3,
  kRtcpKindFir = 1u << 4,
  kRtcpKindTransportCc = 1u << 5,
  kRtcpKindRemb = 1u << 6,
  /**
   * An XR (RFC 3611 §2) whose blocks are all RRTR blocks (§4.4: BT 4, block length 2), as our own
   * peers send with their RRs when `rcvr-rtt` was negotiated; the engine answers it with a DLRR
   * (§4.5) in the leg's next SR (docs/sfu.md "What a subscriber's RTCP costs").
   */
  kRtcpKindReceiverReferenceTime = 1u << 7,
  /**
   * Anything else (SR, BYE, APP, an XR with another block type, other feedback), more than kMaxPackets packets, or a
   * packet the JavaScript parser (lib/rtp/rtcp/compound.ts) might reject: the compound goes to
   * JavaScript, which parses, routes or counts it as before.
   */
  kRtcpKindOther = 1u << 31,
};

/** One packet of a compound: type, FMT/count, and its body after the 4-byte header. */
struct ForwardRtcpPacket {
  uint8_t type = 0;
  uint8_t count = 0;  // FMT of a feedback packet, the report/chunk count otherwise
  const uint8_t* body = nullptr;
  size_t body_length = 0;
};

/**
 * The packets of one compound and the kinds they are. Only a compound every packet of which is
 * well-formed by the same rules as lib/rtp/rtcp/compound.ts's parser (padding included; stricter:
 * no RR profile extension, no NACK or FIR without entries) gets a kinds value without kRtcpKindOther, so a compound the engine consumes
 * is one JavaScript would have accepted; whatever the engine refuses reaches JavaScript unchanged.
 */
struct ForwardRtcpCompound {
  static constexpr size_t kMaxPackets = 16;
  uint32_t kinds = 0;
  size_t count = 0;
  ForwardRtcpPacket packets[kMaxPackets];
};

/** Walks `data[0, length)`; fills `out` (its `kinds` has kRtcpKindOther on any doubt). */
void forward_rtcp_compound_read(const uint8_t* data, size_t length, ForwardRtcpCompound* out) noexcept;

/** Whether a transport-cc FCI is complete (what lib/rtp's parser checks: chunks and deltas fit). */
bool forward_transport_cc_fci_valid(const uint8_t* fci, size_t length) noexcept;

}  // namespace pwt
