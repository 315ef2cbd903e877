// Generic NACKs read out of a compound RTCP packet (forward_nack_reader.hpp; RFC 3550 §6.1, RFC 4585 §6.2.1).
#include "native/forward/forward_nack_reader.hpp"

#include "native/forward/rtcp_wire.hpp"

namespace pwt {

bool ForwardNackReader::next(ForwardNack* out) {
  while (!malformed_ && length_ - at_ >= 4) {
    const uint8_t* h = data_ + at_;
    const size_t bytes = RtcpPacketLength(h);
    if ((h[0] >> 6) != 2 || bytes > length_ - at_) {
      malformed_ = true;
      return false;
    }
    at_ += bytes;
    if (h[1] != kRtcpRtpfb || (h[0] & 0x1f) != kRtpfbGenericNack || bytes < 12) continue;
    size_t fci_bytes = bytes - 12;
    if (h[0] & 0x20) {
      // Padding (RFC 3550 §6.4.1): its count is the last octet and includes itself; liberal about
      // a count that is not a multiple of 4, strict about one that runs into the header.
      const size_t pad = h[bytes - 1];
      if (pad == 0 || pad > fci_bytes) continue;
      fci_bytes -= pad;
    }
    out->media_ssrc = ReadU32(h + 8);
    out->fci = h + 12;
    out->entries = fci_bytes / 4;
    return true;
  }
  if (!malformed_ && at_ != length_) malformed_ = true;  // a tail shorter than a header
  return false;
}

size_t ForwardNackReader::entry_numbers(const uint8_t* entry, uint16_t out[kNumbersPerEntry]) {
  const uint16_t pid = ReadU16(entry);
  const uint16_t blp = ReadU16(entry + 2);
  size_t n = 0;
  out[n++] = pid;
  for (unsigned i = 0; i < 16; ++i) {
    if (blp & (1u << i)) out[n++] = static_cast<uint16_t>(pid + i + 1);
  }
  return n;
}

}  // namespace pwt
