// Generic NACKs (RFC 4585 §6.2.1: RTPFB, FMT 1) read in place out of a compound RTCP packet
// (RFC 3550 §6.1, §6.4.1 padding), every read bounds-checked (docs/sfu.md "Retransmission").
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** One generic NACK of a compound: its media SSRC and its FCI entries (4 bytes each: PID, BLP). */
struct ForwardNack {
  uint32_t media_ssrc = 0;
  const uint8_t* fci = nullptr;
  size_t entries = 0;
};

/**
 * Walks the packets of a compound and stops at each generic NACK. Other packet types are skipped;
 * the walk ends at the first header that is not RTP version 2 or whose length runs past the end
 * (what came before it was read, nothing after it).
 */
class ForwardNackReader {
 public:
  /** Most sequence numbers one FCI entry names (the PID and the 16 BLP bits). */
  static constexpr size_t kNumbersPerEntry = 17;

  ForwardNackReader(const uint8_t* data, size_t length) : data_(data), length_(data ? length : 0) {}
  /** The next NACK of the compound; false at the end. */
  bool next(ForwardNack* out);
  /** The walk stopped at a malformed header. */
  bool malformed() const { return malformed_; }

  /** The lost sequence numbers of one FCI entry, the PID first (RFC 4585 §6.2.1); returns how many (1..17). */
  static size_t entry_numbers(const uint8_t* entry, uint16_t out[kNumbersPerEntry]);

 private:
  const uint8_t* data_;
  size_t length_;
  size_t at_ = 0;
  bool malformed_ = false;
};

}  // namespace pwt
