// libFuzzer target: the SFU engine's per-consumer RTP rewrite (native/forward/forward_rtp_rewrite.hpp;
// RFC 3550 §5.1, RFC 8285 §4.2/§4.3). Input: 4 control bytes (extension-id mapping seed, abs-send-time
// and transport-cc ids, rebase flag) then an RTP packet. Checks: nothing outside the packet is
// touched, the length is unchanged, a forwarded packet carries the consumer's SSRC and an unchanged
// payload, its RFC 4588 RTX form carries the OSN and payload and unwraps back to the same bytes, a
// retransmission rewrites the same fixed header again, and unwrapping the raw input as RTX stays
// inside it and removes exactly the OSN.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/forward/forward_rtp_rewrite.hpp"
#include "native/srtp/srtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An RTP packet fits a UDP datagram; the bound also tells the compiler that len + 32 cannot wrap.
  if (size < 4 || size > 4 + 0xffff) return 0;
  pwt::ForwardRewriteState s;
  s.ssrc = 0x5A5A5A5A;
  for (int pt = 0; pt < 128; ++pt) s.payload_types[pt] = static_cast<uint8_t>((pt + data[0]) & 0x7f);
  for (int id = 1; id < 256; ++id) s.extension_ids[id] = static_cast<uint8_t>((id * (data[0] | 1) + data[1]) & 0xff);
  s.abs_send_time_id = data[2] & 0x0f;
  s.transport_cc_id = data[2] >> 4;
  s.clock_rate = 90000;
  const size_t len = size - 4;
  // Guard bytes on both sides catch writes outside [0, len) even without ASan.
  std::vector<uint8_t> buf(len + 32, 0xEE);
  if (len) std::memcpy(buf.data() + 16, data + 4, len);
  uint8_t* p = buf.data() + 16;
  uint16_t tseq = 1;
  {
    // The raw input read as RTX (a pipe's RTX stream, RFC 4588 §4): nothing outside it touched.
    std::vector<uint8_t> raw(buf);
    const size_t n = pwt::forward_rtx_unwrap(len ? raw.data() + 16 : nullptr, len, 96, 0x11);
    for (size_t i = 0; i < 16; ++i) {
      if (raw[i] != 0xEE || raw[16 + len + i] != 0xEE) std::abort();
    }
    if (n != 0 && (n + 2 != len || pwt::ReadU32(raw.data() + 16 + 8) != 0x11u || (raw[17] & 0x7f) != 96)) std::abort();
  }
  for (int round = 0; round < 2; ++round) {
    if (data[3] & (1 << round)) s.rebase = true;
    std::vector<uint8_t> before(p, p + len);
    const pwt::ForwardDrop d = pwt::forward_rtp_rewrite(len ? p : nullptr, len, s, 1'000'000u * (round + 1), &tseq);
    for (size_t i = 0; i < 16; ++i) {
      if (buf[i] != 0xEE || buf[16 + len + i] != 0xEE) std::abort();
    }
    if (d == pwt::ForwardDrop::kNone) {
      const size_t header = pwt::RtpHeaderLength(p, len);
      if (header == 0 || pwt::ReadU32(p + 8) != s.ssrc) std::abort();
      if (std::memcmp(p + header, before.data() + header, len - header) != 0) std::abort();
      // RFC 4588 wrap of the rewritten packet: exactly 2 bytes longer, OSN first, payload intact.
      std::vector<uint8_t> rtx(p, p + len);
      rtx.resize(len + 2);
      if (pwt::forward_rtx_wrap(rtx.data(), len, rtx.size(), 97, 0x77, 5) != len + 2) std::abort();
      if (std::memcmp(rtx.data() + header, p + 2, 2) != 0 || std::memcmp(rtx.data() + header + 2, p + header, len - header) != 0) {
        std::abort();
      }
      // And back: the rewritten packet again (refused only for padding that leaves no room for the OSN).
      const size_t restored = pwt::forward_rtx_unwrap(rtx.data(), len + 2, p[1] & 0x7f, s.ssrc);
      if (restored != 0 && (restored != len || std::memcmp(rtx.data(), p, len) != 0)) std::abort();
      // A retransmission of what was just sent maps to the same bytes again.
      std::vector<uint8_t> again(before);
      if (pwt::forward_rtp_rewrite_retransmission(again.data(), len, s, 5'000'000, &tseq) == pwt::ForwardDrop::kNone &&
          std::memcmp(again.data(), p, 12) != 0) {
        std::abort();
      }
    } else {
      if (len) std::memcpy(p, before.data(), len);  // the engine rewrites a copy; start the next round clean
    }
  }
  return 0;
}
