// See forward_rtcp_compound.hpp.
#include "native/forward/forward_rtcp_compound.hpp"

#include "native/forward/rtcp_wire.hpp"

namespace pwt {
namespace {

// RFC 3550 §6.5, as RtcpSourceDescription.parseBody reads it (an END octet may be missing on the
// last chunk when its items end the packet).
bool SdesValid(const uint8_t* b, size_t len, uint8_t count) {
  size_t p = 0;
  for (uint8_t c = 0; c < count; ++c) {
    if (p + 4 > len) return false;
    const size_t chunk = p;
    p += 4;
    bool ended = false;
    for (;;) {
      if (p >= len) {
        if (c != count - 1) return false;
        ended = true;
        break;
      }
      if (b[p] == 0) break;
      if (p + 2 > len) return false;
      const size_t n = b[p + 1];
      if (p + 2 + n > len) return false;
      p += 2 + n;
    }
    if (!ended) p = chunk + ((p - chunk + 4) & ~static_cast<size_t>(3));
  }
  return true;
}

// Sorts one well-formed packet; kRtcpKindOther for anything else.
uint32_t KindOf(const ForwardRtcpPacket& pk) {
  const uint8_t* b = pk.body;
  const size_t len = pk.body_length;
  switch (pk.type) {
    case kRtcpRr:
      // The SSRC and exactly `count` blocks: a profile extension goes to JavaScript.
      return len == 4 + pk.count * kRtcpReportBlockLength ? kRtcpKindReceiverReport : kRtcpKindOther;
    case kRtcpSdes:
      return SdesValid(b, len, pk.count) ? kRtcpKindSourceDescription : kRtcpKindOther;
    case kRtcpRtpfb:
      if (len < 8) return kRtcpKindOther;
      if (pk.count == kRtpfbGenericNack) return (len - 8) % 4 == 0 && len > 8 ? kRtcpKindNack : kRtcpKindOther;
      if (pk.count == kRtpfbTransportCc) return forward_transport_cc_fci_valid(b + 8, len - 8) ? kRtcpKindTransportCc : kRtcpKindOther;
      return kRtcpKindOther;
    case kRtcpPsfb:
      if (len < 8) return kRtcpKindOther;
      if (pk.count == kPsfbPli) return len == 8 ? kRtcpKindPli : kRtcpKindOther;
      if (pk.count == kPsfbFir) return (len - 8) % 8 == 0 && len > 8 ? kRtcpKindFir : kRtcpKindOther;
      if (pk.count == kPsfbAfb && len >= 16 && ReadU32(b + 8) == kRembIdentifier && len == 16 + static_cast<size_t>(b[12]) * 4) return kRtcpKindRemb;
      return kRtcpKindOther;
    case kRtcpXr:
      // RFC 3611 §2: the sender's SSRC, then report blocks; only RRTR blocks (§4.4: BT 4, block
      // length 2 words, an NTP timestamp), at least one. lib/rtp/rtcp/extended-report.ts reads these.
      if (len < 4 + kXrRrtrBlockLength || (len - 4) % kXrRrtrBlockLength != 0) return kRtcpKindOther;
      for (size_t p = 4; p < len; p += kXrRrtrBlockLength) {
        if (b[p] != kXrBlockRrtr || ReadU16(b + p + 2) != (kXrRrtrBlockLength - 4) / 4) return kRtcpKindOther;
      }
      return kRtcpKindReceiverReferenceTime;
    default:
      return kRtcpKindOther;
  }
}

}  // namespace

bool forward_transport_cc_fci_valid(const uint8_t* fci, size_t length) noexcept {
  // draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1: base seq, status count, reference
  // time + fb count, then packet chunks covering `count` statuses, then one receive delta per
  // received status (1 byte small, 2 bytes large).
  if (!fci || length < 8) return false;
  const uint32_t count = ReadU16(fci + 2);
  size_t p = 8;
  uint32_t covered = 0;
  size_t delta_bytes = 0;
  while (covered < count) {
    if (p + 2 > length) return false;
    const uint16_t w = ReadU16(fci + p);
    p += 2;
    if ((w & 0x8000) == 0) {
      const uint32_t status = (w >> 13) & 3;
      uint32_t run = w & 0x1fff;
      if (run > count - covered) run = count - covered;
      covered += run;
      if (status == 1) delta_bytes += run;
      else if (status == 2) delta_bytes += 2 * static_cast<size_t>(run);
    } else if ((w & 0x4000) == 0) {
      for (int i = 13; i >= 0 && covered < count; --i, ++covered) delta_bytes += (w >> i) & 1;
    } else {
      for (int i = 12; i >= 0 && covered < count; i -= 2, ++covered) {
        const uint32_t s = (w >> i) & 3;
        delta_bytes += s == 1 ? 1 : s == 2 ? 2 : 0;
      }
    }
  }
  return p + delta_bytes <= length;
}

void forward_rtcp_compound_read(const uint8_t* data, size_t length, ForwardRtcpCompound* out) noexcept {
  out->kinds = 0;
  out->count = 0;
  if (!data || length < 4) {
    out->kinds = kRtcpKindOther;
    return;
  }
  size_t p = 0;
  while (p < length) {
    if (p + 4 > length || (data[p] >> 6) != 2 || out->count == ForwardRtcpCompound::kMaxPackets) {
      out->kinds |= kRtcpKindOther;
      return;
    }
    const size_t size = RtcpPacketLength(data + p);
    if (p + size > length) {
      out->kinds |= kRtcpKindOther;
      return;
    }
    // Padding (RFC 3550 §6.4.1 P bit; libwebrtc pads transport-cc feedback): the last octet counts
    // it, itself included; 0 or more than the packet's body is malformed (left to JavaScript,
    // which counts it as compound.ts does).
    size_t padding = 0;
    if ((data[p] & 0x20) != 0) {
      padding = data[p + size - 1];
      if (padding == 0 || padding > size - 4) {
        out->kinds |= kRtcpKindOther;
        return;
      }
    }
    ForwardRtcpPacket& pk = out->packets[out->count++];
    pk.type = data[p + 1];
    pk.count = data[p] & 0x1f;
    pk.body = data + p + 4;
    pk.body_length = size - 4 - padding;
    out->kinds |= KindOf(pk);
    p += size;
  }
}

}  // namespace pwt
