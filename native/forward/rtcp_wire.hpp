// RTCP wire constants the forwarding engine reads and writes: packet types (RFC 3550 §12.1,
// RFC 4585 §6.1, RFC 3611 §2), feedback message types (FMT: RFC 4585 §6.2.1 and §6.3.1, RFC 5104
// §4.3.1, draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, draft-alvestrand-rmcat-remb-03
// §2.2) and fixed sizes (RFC 3550 §6.4). The big-endian readers and writers are srtp_packet.hpp's.
#pragma once
#include <cstddef>
#include <cstdint>

#include "native/srtp/srtp_packet.hpp"

namespace pwt {

/** RTCP packet types (the second octet of each packet's header). */
constexpr uint8_t kRtcpSr = 200;
constexpr uint8_t kRtcpRr = 201;
constexpr uint8_t kRtcpSdes = 202;
constexpr uint8_t kRtcpBye = 203;
constexpr uint8_t kRtcpApp = 204;
constexpr uint8_t kRtcpRtpfb = 205;  // transport-layer feedback (RFC 4585 §6.1)
constexpr uint8_t kRtcpPsfb = 206;   // payload-specific feedback (RFC 4585 §6.1)
constexpr uint8_t kRtcpXr = 207;     // extended report (RFC 3611 §2)

/** FMT values (the low 5 bits of a feedback packet's first octet). */
constexpr uint8_t kRtpfbGenericNack = 1;  // RFC 4585 §6.2.1
constexpr uint8_t kRtpfbTransportCc = 15;  // transport-wide congestion control feedback
constexpr uint8_t kPsfbPli = 1;            // RFC 4585 §6.3.1
constexpr uint8_t kPsfbFir = 4;            // RFC 5104 §4.3.1
constexpr uint8_t kPsfbAfb = 15;           // application layer feedback (REMB)

/** "REMB", the unique identifier of an AFB packet that carries REMB. */
constexpr uint32_t kRembIdentifier = 0x52454d42;
/** XR block types (RFC 3611 §4.4, §4.5) and sizes. */
constexpr uint8_t kXrBlockRrtr = 4;
constexpr uint8_t kXrBlockDlrr = 5;
/** An RRTR block: header (BT, reserved, block length 2) and the 64-bit NTP timestamp. */
constexpr size_t kXrRrtrBlockLength = 12;
/** One DLRR sub-block: SSRC, LRR, DLRR. */
constexpr size_t kXrDlrrItemLength = 12;

/** SDES item type CNAME (RFC 3550 §6.5.1). */
constexpr uint8_t kSdesCname = 1;

/** Bytes of an SR up to its report blocks: header, sender SSRC, sender info (RFC 3550 §6.4.1). */
constexpr size_t kRtcpSrFixedLength = 28;
/** Bytes of an RR up to its report blocks: header and reporter SSRC (RFC 3550 §6.4.2). */
constexpr size_t kRtcpRrFixedLength = 8;
/** Bytes of one report block (RFC 3550 §6.4.1). */
constexpr size_t kRtcpReportBlockLength = 24;

/** Bytes of the packet whose header starts at `h` (the length field counts 32-bit words minus one). */
inline size_t RtcpPacketLength(const uint8_t* h) noexcept { return (static_cast<size_t>(ReadU16(h + 2)) + 1) * 4; }

}  // namespace pwt
