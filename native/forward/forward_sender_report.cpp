// A consumer leg's compound SR + SDES CNAME (RFC 3550 §6.1, §6.4.1, §6.5.1): forward_sender_report.hpp.
#include "native/forward/forward_sender_report.hpp"

#include <cmath>
#include <cstring>

#include "native/forward/rtcp_wire.hpp"

namespace pwt {

namespace {
constexpr double kNtpUnixOffsetSeconds = 2208988800.0;

/** One SDES chunk: SSRC, the CNAME item, at least one null octet ending the list, padded to 32 bits. */
size_t ChunkLength(size_t cname_len) { return (4 + 2 + cname_len + 4) & ~static_cast<size_t>(3); }
}  // namespace

size_t forward_sender_report_length(size_t cname_len) { return kRtcpSrFixedLength + 4 + ChunkLength(cname_len); }

size_t forward_sender_report_write(uint8_t* out, size_t capacity, const ForwardSenderReportFields& f, const uint8_t* cname,
                                   size_t cname_len) {
  if (cname_len > kForwardCnameMax || (cname_len > 0 && !cname)) return 0;
  const size_t total = forward_sender_report_length(cname_len);
  if (!out || capacity < total) return 0;
  // SR: V=2, P=0, RC=0; length in 32-bit words minus one (RFC 3550 §6.4.1).
  out[0] = 0x80;
  out[1] = kRtcpSr;
  WriteU16(out + 2, static_cast<uint16_t>(kRtcpSrFixedLength / 4 - 1));
  WriteU32(out + 4, f.ssrc);
  WriteU32(out + 8, f.ntp_seconds);
  WriteU32(out + 12, f.ntp_fraction);
  WriteU32(out + 16, f.rtp_timestamp);
  WriteU32(out + 20, f.packet_count);
  WriteU32(out + 24, f.octet_count);
  // SDES with one chunk (SC=1): the same SSRC and its CNAME (RFC 3550 §6.5.1).
  uint8_t* s = out + kRtcpSrFixedLength;
  const size_t chunk = ChunkLength(cname_len);
  s[0] = 0x81;
  s[1] = kRtcpSdes;
  WriteU16(s + 2, static_cast<uint16_t>((4 + chunk) / 4 - 1));
  WriteU32(s + 4, f.ssrc);
  s[8] = kSdesCname;
  s[9] = static_cast<uint8_t>(cname_len);
  if (cname_len > 0) std::memcpy(s + 10, cname, cname_len);
  std::memset(s + 10 + cname_len, 0, chunk - 6 - cname_len);
  return total;
}

size_t forward_dlrr_write(uint8_t* out, size_t capacity, uint32_t ssrc, const ForwardDlrrItem& item) {
  if (!out || capacity < kForwardDlrrLength) return 0;
  // XR: V=2, P=0, reserved 0, PT=207, length in 32-bit words minus one (RFC 3611 §2).
  out[0] = 0x80;
  out[1] = kRtcpXr;
  WriteU16(out + 2, static_cast<uint16_t>(kForwardDlrrLength / 4 - 1));
  WriteU32(out + 4, ssrc);
  // DLRR block: BT=5, reserved 0, block length 3 words (one sub-block), then SSRC, LRR, DLRR (§4.5).
  out[8] = kXrBlockDlrr;
  out[9] = 0;
  WriteU16(out + 10, static_cast<uint16_t>(kXrDlrrItemLength / 4));
  WriteU32(out + 12, item.ssrc);
  WriteU32(out + 16, item.last_rr);
  WriteU32(out + 20, item.delay_since_last_rr);
  return kForwardDlrrLength;
}

uint32_t forward_delay_units(uint64_t delay_us) {
  const double units = std::round(static_cast<double>(delay_us) * 65536.0 / 1e6);
  return units >= 4294967295.0 ? 0xffffffffu : static_cast<uint32_t>(units);
}

void forward_ntp_from_unix_ms(double unix_ms, uint32_t* seconds, uint32_t* fraction) {
  if (!std::isfinite(unix_ms) || unix_ms < 0) {
    *seconds = 0;
    *fraction = 0;
    return;
  }
  const double whole = std::floor(unix_ms / 1000.0);
  double frac = std::round(((unix_ms - whole * 1000.0) / 1000.0) * 4294967296.0);
  double sec = whole + kNtpUnixOffsetSeconds;
  // As the 64-bit sum in ntpFromUnixMs does: a fraction rounded up to 2^32 carries into the seconds.
  if (frac >= 4294967296.0) {
    frac -= 4294967296.0;
    sec += 1;
  }
  if (frac < 0) frac = 0;
  *seconds = static_cast<uint32_t>(static_cast<uint64_t>(std::fmod(sec, 4294967296.0)));
  *fraction = static_cast<uint32_t>(frac);
}

uint32_t forward_rtp_timestamp_at(uint32_t last_ts, uint64_t last_sent_us, uint64_t now_us, uint32_t clock_rate) {
  const uint64_t elapsed_us = now_us > last_sent_us ? now_us - last_sent_us : 0;
  const double ticks = std::round(static_cast<double>(elapsed_us) * clock_rate / 1e6);
  return last_ts + static_cast<uint32_t>(static_cast<uint64_t>(ticks));
}

}  // namespace pwt
