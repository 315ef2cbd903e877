// Report blocks of SR/RR packets read out of a compound RTCP packet, and a consumer leg's view of
// them (forward_receiver_report.hpp; RFC 3550 §6.1, §6.4.1, §6.4.2).
#include "native/forward/forward_receiver_report.hpp"

#include "native/forward/rtcp_wire.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {

bool ForwardReportReader::next(ForwardReportBlock* out) {
  while (blocks_left_ == 0) {
    if (stopped_ || length_ - at_ < 4) {
      if (!stopped_ && at_ != length_) malformed_ = true;  // a tail shorter than a header
      stopped_ = true;
      return false;
    }
    const uint8_t* h = data_ + at_;
    const size_t bytes = RtcpPacketLength(h);
    if ((h[0] >> 6) != 2 || bytes > length_ - at_) {
      malformed_ = stopped_ = true;
      return false;
    }
    at_ += bytes;
    if (h[1] != kRtcpSr && h[1] != kRtcpRr) continue;
    size_t usable = bytes;
    if (h[0] & 0x20) {
      // Padding (§6.4.1): the last octet counts it, itself included; one that runs into the fixed
      // part or is 0 makes the packet unusable.
      const size_t pad = h[bytes - 1];
      if (pad == 0 || pad > bytes) {
        malformed_ = true;
        continue;
      }
      usable -= pad;
    }
    const size_t fixed = h[1] == kRtcpSr ? kRtcpSrFixedLength : kRtcpRrFixedLength;
    const size_t count = h[0] & 0x1f;
    if (usable < fixed || count * kRtcpReportBlockLength > usable - fixed) {
      malformed_ = true;  // a report count the length does not hold: none of its blocks is trusted
      continue;
    }
    block_ = h + fixed;
    blocks_left_ = count;
  }
  const uint8_t* b = block_;
  out->ssrc = ReadU32(b);
  out->fraction_lost = b[4];
  const uint32_t lost = (static_cast<uint32_t>(b[5]) << 16) | (static_cast<uint32_t>(b[6]) << 8) | b[7];
  out->cumulative_lost = (lost & 0x800000u) ? static_cast<int32_t>(lost) - 0x1000000 : static_cast<int32_t>(lost);
  out->highest_seq = ReadU32(b + 8);
  out->jitter = ReadU32(b + 12);
  out->lsr = ReadU32(b + 16);
  out->dlsr = ReadU32(b + 20);
  block_ += kRtcpReportBlockLength;
  --blocks_left_;
  return true;
}

void ForwardLegReceiverReport::sr_sent(uint32_t ntp_middle, uint64_t sent_us) noexcept {
  sr_ntp_[sr_next_] = ntp_middle;
  sr_us_[sr_next_] = sent_us;
  sr_next_ = (sr_next_ + 1) % kSrLog;
}

uint32_t ForwardLegReceiverReport::apply(const ForwardReportBlock& b, uint64_t now_us) noexcept {
  ++blocks;
  last_block_us = now_us;
  fraction_lost = b.fraction_lost;
  cumulative_lost = b.cumulative_lost;
  highest_seq = b.highest_seq;
  jitter = b.jitter;
  if (b.lsr == 0) return 0;  // the subscriber has received no SR yet (§6.4.1)
  for (size_t i = 0; i < kSrLog; ++i) {
    if (sr_us_[i] == 0 || sr_ntp_[i] != b.lsr) continue;
    // RTT = arrival - LSR - DLSR, with the SR's own send time standing for LSR (same clock as now_us).
    const uint64_t dlsr_us = (static_cast<uint64_t>(b.dlsr) * 1'000'000u + 32768u) >> 16;
    const uint64_t since = now_us > sr_us_[i] ? now_us - sr_us_[i] : 0;
    if (dlsr_us > since) break;
    const uint64_t rtt = since - dlsr_us;
    const uint32_t r = rtt == 0 ? 1u : rtt > 0xffffffffu ? 0xffffffffu : static_cast<uint32_t>(rtt);
    rtt_us = r;
    if (srtt_us == 0) {
      srtt_us = r;  // RFC 6298 §2.2: the first sample is SRTT
    } else {
      const uint64_t bound = static_cast<uint64_t>(srtt_us) * kOutlierFactor;
      uint64_t sample = r;
      if (sample > bound) {
        sample = bound;
        ++rtt_clamped;
      }
      // RFC 6298 §2.3: SRTT <- (1 - 1/8) * SRTT + 1/8 * R', rounded to nearest.
      const int64_t diff = static_cast<int64_t>(sample) - static_cast<int64_t>(srtt_us);
      const int64_t next = static_cast<int64_t>(srtt_us) + (diff >= 0 ? diff + 4 : diff - 4) / 8;
      srtt_us = next < 1 ? 1u : next > 0xffffffffLL ? 0xffffffffu : static_cast<uint32_t>(next);
    }
    ++rtt_measurements;
    rtt_total_us += r;
    return r;
  }
  ++rtt_unmatched;
  return 0;
}

uint64_t forward_report_arrival_us(const ForwardBatchClock& batch, const uint8_t* data, uint64_t now_us) noexcept {
  const UdpRecvTarget* t = batch.target;
  if (!t || batch.n <= 0 || !data) return now_us;
  uint64_t at = batch.read_us;
  const int n = static_cast<size_t>(batch.n) > t->capacity ? static_cast<int>(t->capacity) : batch.n;
  for (int i = 0; i < n; ++i) {
    const uint8_t* slot = udp_slot_data(*t, i);
    if (data < slot || data >= slot + t->lengths[i]) continue;
    if (t->arrival_us && t->arrival_us[i] != 0) at = t->arrival_us[i];
    break;
  }
  return at != 0 && at < now_us ? at : now_us;
}

}  // namespace pwt
