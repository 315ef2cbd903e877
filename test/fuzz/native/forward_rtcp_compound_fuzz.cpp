// libFuzzer target: a subscriber's compound RTCP sorted by what the forwarding engine may consume
// (native/forward/forward_rtcp_compound.hpp, RFC 3550 §6.1/§6.4.1 padding, RFC 4585 §6.2.1, §6.3.1,
// RFC 5104 §4.3.1, transport-cc §3.1, REMB, RFC 3611 §4.4 RRTR; docs/sfu.md "What a subscriber's RTCP costs"). Input: the
// compound's bytes. Checks: the walk ends; every packet's body lies inside the input; the packets
// tile the input exactly when no kind is "other"; a consumable compound's kinds are exactly those of
// its packets (types and FMTs checked again here), an RR's body holds exactly its blocks, a PLI has
// no FCI, a NACK/FIR has whole entries, a transport-cc FCI passes its own validity check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "native/forward/forward_rtcp_compound.hpp"

// RFC 3611 §2, §4.4: an XR body of the sender's SSRC and one or more RRTR blocks (BT 4, length 2 words).
static bool OnlyRrtrs(const uint8_t* b, size_t len) {
  if (len < 16 || (len - 4) % 12 != 0) return false;
  for (size_t q = 4; q < len; q += 12) {
    if (b[q] != 4 || b[q + 2] != 0 || b[q + 3] != 2) return false;
  }
  return true;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pwt::ForwardRtcpCompound out;
  pwt::forward_rtcp_compound_read(data, size, &out);
  if (out.count > pwt::ForwardRtcpCompound::kMaxPackets) std::abort();
  uint32_t kinds = 0;
  for (size_t i = 0; i < out.count; ++i) {
    const pwt::ForwardRtcpPacket& p = out.packets[i];
    if (p.body < data + 4 || p.body + p.body_length > data + size) std::abort();
    if (p.type == 201 && p.body_length == 4 + p.count * 24u) kinds |= pwt::kRtcpKindReceiverReport;
    else if (p.type == 202) kinds |= pwt::kRtcpKindSourceDescription;
    else if (p.type == 205 && p.count == 1 && p.body_length > 8 && (p.body_length - 8) % 4 == 0) kinds |= pwt::kRtcpKindNack;
    else if (p.type == 205 && p.count == 15 && p.body_length >= 8 && pwt::forward_transport_cc_fci_valid(p.body + 8, p.body_length - 8)) kinds |= pwt::kRtcpKindTransportCc;
    else if (p.type == 206 && p.count == 1 && p.body_length == 8) kinds |= pwt::kRtcpKindPli;
    else if (p.type == 206 && p.count == 4 && p.body_length > 8 && (p.body_length - 8) % 8 == 0) kinds |= pwt::kRtcpKindFir;
    else if (p.type == 206 && p.count == 15 && p.body_length >= 16) kinds |= pwt::kRtcpKindRemb;
    else if (p.type == 207 && OnlyRrtrs(p.body, p.body_length)) kinds |= pwt::kRtcpKindReceiverReferenceTime;
    else kinds |= pwt::kRtcpKindOther;
  }
  if ((out.kinds & pwt::kRtcpKindOther) == 0) {
    // A consumable compound: every packet sorted the same way, the last one ending the input.
    if (kinds != out.kinds || out.count == 0) std::abort();
    const pwt::ForwardRtcpPacket& last = out.packets[out.count - 1];
    const size_t padding = (last.body[-4] & 0x20) ? data[size - 1] : 0;
    if (last.body + last.body_length + padding != data + size) std::abort();
  }
  return 0;
}
