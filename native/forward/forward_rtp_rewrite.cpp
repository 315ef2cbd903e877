// Per-consumer RTP rewrite (see forward_rtp_rewrite.hpp; docs/sfu.md "Rewrite").
#include "native/forward/forward_rtp_rewrite.hpp"

#include <cstring>

#include "native/srtp/srtp_packet.hpp"

namespace pwt {

namespace {

// Writes the per-leg value of an element the consumer knows as `id` with `len` data bytes.
void WriteLegValue(uint8_t* data, size_t len, uint8_t id, const ForwardRewriteState& s, uint64_t now_us,
                   uint16_t* transport_seq) noexcept {
  if (id == s.abs_send_time_id && len == 3) {
    const uint32_t v = forward_abs_send_time(now_us);
    data[0] = static_cast<uint8_t>(v >> 16);
    data[1] = static_cast<uint8_t>(v >> 8);
    data[2] = static_cast<uint8_t>(v);
  } else if (id == s.transport_cc_id && len == 2 && transport_seq) {
    WriteU16(data, *transport_seq);
    *transport_seq = static_cast<uint16_t>(*transport_seq + 1);
  }
}

// RFC 8285 §4.2: one-byte elements (ID 1..14, 4-bit length - 1); 0 is a padding byte, 15 ends
// processing. An element the consumer did not negotiate becomes padding bytes.
bool RewriteOneByte(uint8_t* p, size_t n, const ForwardRewriteState& s, uint64_t now_us, uint16_t* tseq) noexcept {
  size_t i = 0;
  while (i < n) {
    const uint8_t b = p[i];
    if (b == 0) {
      ++i;
      continue;
    }
    const uint8_t id = b >> 4;
    if (id == 15) return true;  // reserved: the rest is not parsed by anyone (RFC 8285 §4.2)
    const size_t len = static_cast<size_t>(b & 0x0f) + 1;
    if (i + 1 + len > n) return false;
    const uint8_t out = s.extension_ids[id];
    if (out == 0 || out > 14) {
      std::memset(p + i, 0, 1 + len);
    } else {
      p[i] = static_cast<uint8_t>((out << 4) | (b & 0x0f));
      WriteLegValue(p + i + 1, len, out, s, now_us, tseq);
    }
    i += 1 + len;
  }
  return true;
}

// RFC 8285 §4.3: two-byte elements (ID 1..255, 8-bit length); a 0 ID byte is padding.
bool RewriteTwoByte(uint8_t* p, size_t n, const ForwardRewriteState& s, uint64_t now_us, uint16_t* tseq) noexcept {
  size_t i = 0;
  while (i < n) {
    const uint8_t id = p[i];
    if (id == 0) {
      ++i;
      continue;
    }
    if (i + 2 > n) return false;
    const size_t len = p[i + 1];
    if (i + 2 + len > n) return false;
    const uint8_t out = s.extension_ids[id];
    if (out == 0) {
      std::memset(p + i, 0, 2 + len);
    } else {
      p[i] = out;
      WriteLegValue(p + i + 2, len, out, s, now_us, tseq);
    }
    i += 2 + len;
  }
  return true;
}

}  // namespace

const char* ForwardDropName(ForwardDrop drop) noexcept {
  switch (drop) {
    case ForwardDrop::kNone: return "none";
    case ForwardDrop::kMalformed: return "malformed";
    case ForwardDrop::kPayloadType: return "payload-type";
    case ForwardDrop::kPaused: return "paused";
    case ForwardDrop::kProtect: return "protect";
    case ForwardDrop::kNoTransport: return "no-transport";
    case ForwardDrop::kTooBig: return "too-big";
    case ForwardDrop::kLayer: return "layer";
    case ForwardDrop::kSinkClosed: return "sink-closed";
    case ForwardDrop::kResendWithinRtt: return "resend-within-rtt";
  }
  return "unknown";
}

ForwardRewriteState::ForwardRewriteState() noexcept {
  std::memset(payload_types, kForwardUnmapped, sizeof payload_types);
  std::memset(extension_ids, 0, sizeof extension_ids);
}

uint32_t forward_abs_send_time(uint64_t now_us) noexcept {
  // 6.18 fixed point: seconds * 2^18, low 24 bits (webrtc.org abs-send-time).
  return static_cast<uint32_t>(((now_us << 18) / 1000000u) & 0xffffffu);
}

namespace {

// How a packet is numbered: as the stream goes on, as a retransmission under the current offsets
// (inside the window), or as a retransmission numbered as it was first sent (`as_sent`).
enum class Numbering { kStream, kCurrentOffsets, kAsSent };

ForwardDrop Rewrite(uint8_t* buf, size_t len, ForwardRewriteState& s, uint64_t now_us, uint16_t* transport_seq,
                    Numbering numbering, uint16_t sent_seq = 0, uint32_t sent_ts_offset = 0) noexcept {
  const bool retransmission = numbering != Numbering::kStream;
  if (numbering == Numbering::kCurrentOffsets && (s.rebase || !s.started || s.reset_window)) return ForwardDrop::kPaused;
  if (!buf || IsRtcpPacket(buf, len)) return ForwardDrop::kMalformed;
  const size_t header = RtpHeaderLength(buf, len);
  if (header == 0) return ForwardDrop::kMalformed;
  const uint8_t pt = buf[1] & 0x7f;
  const uint8_t out_pt = s.payload_types[pt];
  if (out_pt == kForwardUnmapped) return ForwardDrop::kPayloadType;
  const uint16_t in_seq = ReadU16(buf + 2);
  const uint32_t in_ts = ReadU32(buf + 4);
  if (numbering == Numbering::kCurrentOffsets) {
    const uint16_t out = static_cast<uint16_t>(in_seq + s.seq_offset);
    if (static_cast<uint16_t>(out - s.base_seq) > static_cast<uint16_t>(s.last_seq - s.base_seq)) return ForwardDrop::kPaused;
  }

  if (buf[0] & 0x10) {
    const size_t at = kRtpFixedHeaderLen + 4u * (buf[0] & 0x0f);
    const uint16_t profile = ReadU16(buf + at);
    uint8_t* ext = buf + at + 4;
    const size_t ext_len = 4u * ReadU16(buf + at + 2);  // RtpHeaderLength checked it fits
    bool ok = true;
    if (profile == 0xBEDE) ok = RewriteOneByte(ext, ext_len, s, now_us, transport_seq);
    else if ((profile & 0xfff0) == 0x1000) ok = RewriteTwoByte(ext, ext_len, s, now_us, transport_seq);
    if (!ok) return ForwardDrop::kMalformed;
  }

  if (retransmission) {
    const bool as_sent = numbering == Numbering::kAsSent;
    const uint16_t out = as_sent ? sent_seq : static_cast<uint16_t>(in_seq + s.seq_offset);
    buf[1] = static_cast<uint8_t>((buf[1] & 0x80) | out_pt);
    WriteU16(buf + 2, out);
    WriteU32(buf + 4, in_ts + (as_sent ? sent_ts_offset : s.ts_offset));
    WriteU32(buf + 8, s.ssrc);
    return ForwardDrop::kNone;
  }
  if (s.rebase) {
    if (s.started) {
      // Continue where this consumer left off: the next sequence number, and the timestamp
      // advanced by the wall time since the last packet (at least 1 tick) in the consumer's clock.
      s.seq_offset = static_cast<uint16_t>(s.last_seq + 1 - in_seq);
      const uint64_t elapsed = now_us > s.last_sent_us ? now_us - s.last_sent_us : 0;
      uint64_t ticks = elapsed * s.clock_rate / 1000000u;
      if (ticks == 0) ticks = 1;
      s.ts_offset = static_cast<uint32_t>(s.last_ts + static_cast<uint32_t>(ticks) - in_ts);
    } else {
      s.seq_offset = 0;
      s.ts_offset = 0;
    }
    s.rebase = false;
    s.base_seq = static_cast<uint16_t>(in_seq + s.seq_offset);
  }
  const uint16_t out_seq = static_cast<uint16_t>(in_seq + s.seq_offset);
  const uint32_t out_ts = in_ts + s.ts_offset;
  if (s.reset_window) {
    s.base_seq = out_seq;
    s.reset_window = false;
  }
  if (!s.started || static_cast<int16_t>(out_seq - s.last_seq) > 0) {
    s.last_seq = out_seq;
    s.last_ts = out_ts;
    s.last_sent_us = now_us;
    s.started = true;
  }
  buf[1] = static_cast<uint8_t>((buf[1] & 0x80) | out_pt);
  WriteU16(buf + 2, out_seq);
  WriteU32(buf + 4, out_ts);
  WriteU32(buf + 8, s.ssrc);
  return ForwardDrop::kNone;
}

}  // namespace

ForwardDrop forward_rtp_rewrite(uint8_t* buf, size_t len, ForwardRewriteState& s, uint64_t now_us,
                                uint16_t* transport_seq) noexcept {
  return Rewrite(buf, len, s, now_us, transport_seq, Numbering::kStream);
}

ForwardDrop forward_rtp_rewrite_retransmission(uint8_t* buf, size_t len, ForwardRewriteState& s, uint64_t now_us,
                                               uint16_t* transport_seq) noexcept {
  return Rewrite(buf, len, s, now_us, transport_seq, Numbering::kCurrentOffsets);
}

ForwardDrop forward_rtp_rewrite_as_sent(uint8_t* buf, size_t len, ForwardRewriteState& s, uint64_t now_us,
                                        uint16_t* transport_seq, uint16_t out_seq, uint32_t ts_offset) noexcept {
  return Rewrite(buf, len, s, now_us, transport_seq, Numbering::kAsSent, out_seq, ts_offset);
}

size_t forward_rtx_wrap(uint8_t* buf, size_t len, size_t capacity, uint8_t rtx_payload_type, uint32_t rtx_ssrc,
                        uint16_t rtx_seq) noexcept {
  const size_t header = RtpHeaderLength(buf, len);
  if (header == 0 || len + 2 > capacity || rtx_payload_type > 127) return 0;
  std::memmove(buf + header + 2, buf + header, len - header);
  std::memcpy(buf + header, buf + 2, 2);  // OSN: the original (rewritten) sequence number
  buf[1] = static_cast<uint8_t>((buf[1] & 0x80) | rtx_payload_type);
  WriteU16(buf + 2, rtx_seq);
  WriteU32(buf + 8, rtx_ssrc);
  return len + 2;
}

size_t forward_rtx_unwrap(uint8_t* buf, size_t len, uint8_t original_payload_type, uint32_t original_ssrc) noexcept {
  const size_t header = RtpHeaderLength(buf, len);
  if (header == 0 || original_payload_type > 127) return 0;
  // RFC 3550 §5.1: with P set, the last octet counts the padding octets (itself included).
  const size_t padding = (buf[0] & 0x20) ? buf[len - 1] : 0;
  if ((buf[0] & 0x20) && padding == 0) return 0;
  if (header + padding + 2 > len) return 0;
  const uint16_t osn = ReadU16(buf + header);
  std::memmove(buf + header, buf + header + 2, len - header - 2);
  buf[1] = static_cast<uint8_t>((buf[1] & 0x80) | original_payload_type);
  WriteU16(buf + 2, osn);
  WriteU32(buf + 8, original_ssrc);
  return len - 2;
}

}  // namespace pwt
