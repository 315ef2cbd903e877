// RTCP report blocks (RFC 3550 §6.4.1 SR, §6.4.2 RR) read in place out of a compound RTCP packet
// (§6.1, §6.4.1 padding) received from a subscriber, and what one consumer leg keeps of them: loss,
// highest sequence number, jitter and the round-trip time from LSR/DLSR against the send times of
// the leg's own SRs (§6.4.1 "round-trip propagation delay"; docs/sfu.md "RTCP per leg").
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

struct UdpRecvTarget;

/** One report block (RFC 3550 §6.4.1), as it is on the wire. */
struct ForwardReportBlock {
  uint32_t ssrc = 0;             // the source it is about (a consumer leg's SSRC)
  uint8_t fraction_lost = 0;     // 1/256 units
  int32_t cumulative_lost = 0;   // 24-bit signed (may be negative with duplicates)
  uint32_t highest_seq = 0;      // extended highest sequence number received
  uint32_t jitter = 0;           // interarrival jitter, timestamp units
  uint32_t lsr = 0;              // middle 32 bits of the NTP time of the last SR received (0: none)
  uint32_t dlsr = 0;             // delay since that SR, 1/65536 s
};

/**
 * Walks the SR and RR packets of a compound and yields their report blocks; other packet types are
 * skipped. The walk ends at the first header that is not RTP version 2 or whose length runs past the
 * end; an SR/RR whose report count needs more bytes than its length gives (a lying count) yields
 * none of its blocks. Both cases make malformed() true; what came before was read.
 */
class ForwardReportReader {
 public:
  ForwardReportReader(const uint8_t* data, size_t length) : data_(data), length_(data ? length : 0) {}
  /** The next report block; false at the end. */
  bool next(ForwardReportBlock* out);
  bool malformed() const { return malformed_; }

 private:
  const uint8_t* data_;
  size_t length_;
  size_t at_ = 0;          // the next packet's header
  const uint8_t* block_ = nullptr;  // the next block of the current packet
  size_t blocks_left_ = 0;
  bool malformed_ = false;  // something was skipped or the walk stopped early
  bool stopped_ = false;    // the walk ended (at the end or at a header it cannot trust)
};

/** The middle 32 bits of an NTP timestamp (RFC 3550 §4), what an LSR echoes. */
inline uint32_t forward_ntp_middle32(uint32_t seconds, uint32_t fraction) {
  return (seconds << 16) | (fraction >> 16);
}

/**
 * What a consumer leg keeps from the report blocks about its SSRC, and the send times of its last
 * natively sent SRs to match their LSRs (a fixed ring: an SR built elsewhere, by the JavaScript
 * reporter, is not in it and its echo measures nothing here).
 */
struct ForwardLegReceiverReport {
  static constexpr size_t kSrLog = 8;
  static constexpr uint32_t kOutlierFactor = 4;

  uint64_t blocks = 0;            // report blocks about the leg
  uint64_t last_block_us = 0;     // when the last one was read (monotonic µs, 0: none)
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;
  uint32_t highest_seq = 0;
  uint32_t jitter = 0;
  uint32_t rtt_us = 0;            // last measured round-trip time, as sampled (0: none yet)
  // The smoothed round-trip time (RFC 6298 §2 SRTT, alpha 1/8) the leg's resend guard uses: a sample
  // above kOutlierFactor x SRTT enters clamped to that bound (and is counted), so one late sample (a
  // report read after a loop stall) cannot stretch the resend interval and suppress NACK answers;
  // a real rise still gets there, by at most (kOutlierFactor - 1) / 8 of SRTT per sample.
  uint32_t srtt_us = 0;
  uint64_t rtt_clamped = 0;       // samples above kOutlierFactor x SRTT, clamped before smoothing
  uint64_t rtt_measurements = 0;
  double rtt_total_us = 0;
  uint64_t rtt_unmatched = 0;     // blocks with an LSR that names no SR in the log (or a negative RTT)

  /** Notes an SR this leg sent: the middle 32 bits of its NTP time and its send time. */
  void sr_sent(uint32_t ntp_middle, uint64_t sent_us) noexcept;
  /**
   * Applies a block about the leg that arrived at `now_us` (the datagram's arrival, not when it was
   * read: loop lag would count as RTT); returns the RTT it measured in µs (at least 1), 0 when it
   * measured none (LSR 0, unknown LSR, or a DLSR longer than the time since the SR left). A sample
   * also updates srtt_us.
   */
  uint32_t apply(const ForwardReportBlock& b, uint64_t now_us) noexcept;
  /** Whether `lsr` (a block's LSR, non-zero) names one of the leg's logged SRs (apply can measure its RTT). */
  bool knows_sr(uint32_t lsr) const noexcept {
    for (size_t i = 0; i < kSrLog; ++i) {
      if (sr_us_[i] != 0 && sr_ntp_[i] == lsr) return true;
    }
    return false;
  }

 private:
  uint32_t sr_ntp_[kSrLog] = {};
  uint64_t sr_us_[kSrLog] = {};
  size_t sr_next_ = 0;
};

/**
 * The receive batch being delivered to JavaScript on this thread (set by the UDP socket binding
 * around its batch callback; target null: none): what a report read during that callback is timed by.
 */
struct ForwardBatchClock {
  const UdpRecvTarget* target = nullptr;
  int n = 0;
  uint64_t read_us = 0;  // when the batch was read (monotonic µs)
};

/**
 * When the compound at `data` arrived, monotonic µs: the kernel receive time of the batch slot that
 * holds it (when the socket has timestamps on), else the batch's read time when a batch is being
 * delivered (the bytes were copied out of it), else `now_us`. Never later than `now_us`. An RTT
 * timed this way does not grow by the event-loop lag between the datagram's arrival and the call.
 */
uint64_t forward_report_arrival_us(const ForwardBatchClock& batch, const uint8_t* data, uint64_t now_us) noexcept;

}  // namespace pwt
