// A consumer leg's RTCP sender report as the engine sends it: SR (RFC 3550 §6.4.1) + SDES CNAME
// (§6.5.1) in one compound packet (§6.1), built from the leg's native counters (docs/sfu.md "RTCP per leg").
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** What one leg's SR says (RFC 3550 §6.4.1). */
struct ForwardSenderReportFields {
  uint32_t ssrc = 0;
  uint32_t ntp_seconds = 0;   // NTP timestamp, seconds since 1900 (era 0)
  uint32_t ntp_fraction = 0;  // and the fraction, 1/2^32 s
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

/** Most CNAME bytes an SDES item carries (its length is one octet, RFC 3550 §6.5). */
constexpr size_t kForwardCnameMax = 255;

/** Bytes of the compound packet for a CNAME of `cname_len` bytes (SR 28 + SDES 8 + item, padded to 32 bits). */
size_t forward_sender_report_length(size_t cname_len);

/**
 * Writes SR + SDES CNAME into out[0, capacity); returns the bytes written, 0 when it does not fit or
 * the CNAME is longer than kForwardCnameMax. The SR has no report blocks (RC 0): the leg only sends.
 */
size_t forward_sender_report_write(uint8_t* out, size_t capacity, const ForwardSenderReportFields& f, const uint8_t* cname,
                                   size_t cname_len);

/** What a DLRR sub-block (RFC 3611 §4.5) answers: the RRTR's sender, its NTP middle 32 bits, the delay. */
struct ForwardDlrrItem {
  uint32_t ssrc = 0;             // SSRC of the receiver that sent the RRTR
  uint32_t last_rr = 0;          // LRR: middle 32 bits of the RRTR's NTP timestamp
  uint32_t delay_since_last_rr = 0;  // DLRR: 1/65536 s since that RRTR arrived
};

/** Bytes of an XR holding one DLRR block of one sub-block (header, SSRC, block header, item). */
constexpr size_t kForwardDlrrLength = 24;

/**
 * Appends an XR (RFC 3611 §2) from `ssrc` with one DLRR block (§4.5) of `item` at out[0, capacity);
 * returns kForwardDlrrLength, or 0 when it does not fit.
 */
size_t forward_dlrr_write(uint8_t* out, size_t capacity, uint32_t ssrc, const ForwardDlrrItem& item);

/** A delay in µs as DLRR/DLSR units (1/65536 s), rounded, at most 0xffffffff. */
uint32_t forward_delay_units(uint64_t delay_us);

/**
 * The NTP timestamp of a Unix time in ms, as lib/rtp/rtcp/ntp-time.ts ntpFromUnixMs computes it
 * (fraction rounded; wraps like NTP era 0), so that the LSR a subscriber echoes matches the
 * JavaScript reporter's clock when it measures the leg's round-trip time.
 */
void forward_ntp_from_unix_ms(double unix_ms, uint32_t* seconds, uint32_t* fraction);

/**
 * The RTP timestamp that corresponds to `now_us` on a stream whose last packet carried `last_ts` and
 * left at `last_sent_us` (monotonic µs), in `clock_rate` units per second, rounded (RFC 3550 §6.4.1).
 */
uint32_t forward_rtp_timestamp_at(uint32_t last_ts, uint64_t last_sent_us, uint64_t now_us, uint32_t clock_rate);

}  // namespace pwt
