// SRTP on TCP frames: unprotect in the read batch, protect + frame at flush (RFC 3711 §3.3/§3.4,
// RFC 4571 §2, RFC 8656 §12.4/§12.5); see tcp_frame_srtp.hpp and docs/udp.md "TCP framing".
#include "native/tcp/tcp_frame_srtp.hpp"

#include <cstring>

#include "native/srtp/srtp_session.hpp"

namespace pwt {

namespace {

bool IsRtpOrRtcp(uint8_t b) { return b >= 128 && b <= 191; }

void Unprotect(SrtpSession* session, uint8_t* data, uint32_t* length, uint8_t* status, double* counters) {
  size_t out = 0;
  const SrtpStatus st = session->unprotect(data, *length, &out);
  if (st == SrtpStatus::kOk) {
    *length = static_cast<uint32_t>(out);
    *status = kRecvClear;
    counters[kTcpSrtpUnprotected] += 1;
  } else {
    *status = static_cast<uint8_t>(kRecvDropBase + static_cast<uint8_t>(st));
    counters[kTcpSrtpRecvDropped] += 1;
  }
}

}  // namespace

void tcp_unprotect_frames(const TcpFrameTarget& target, int n, SrtpSession* session, uint16_t channel, uint8_t* status,
                          uint8_t* relayed, double* counters) {
  for (int i = 0; i < n; ++i) {
    status[i] = kRecvNotRouted;
    relayed[i] = 0;
    if (!session) continue;
    uint8_t* data = target.buffer + target.offsets[i];
    uint32_t len = target.lengths[i];
    if (len == 0) continue;
    if (channel != 0 && data[0] >= 0x40 && data[0] <= 0x4f && len >= 4) {
      // RFC 8656 §12.4: channel number, length, application data (the reader framed it, padding cut).
      const uint16_t number = static_cast<uint16_t>((data[0] << 8) | data[1]);
      if (number != channel) continue;  // the TURN client's (it counts unknown channels)
      const uint32_t inner = (static_cast<uint32_t>(data[2]) << 8) | data[3];
      if (4 + inner > len) {
        status[i] = kRecvChannelDataMalformed;
        counters[kTcpChannelDataMalformed] += 1;
        continue;
      }
      target.offsets[i] += 4;
      target.lengths[i] = len = inner;
      data += 4;
      relayed[i] = 1;
      counters[kTcpChannelDataReceived] += 1;
      if (len != 0 && IsRtpOrRtcp(data[0])) Unprotect(session, data, &target.lengths[i], &status[i], counters);
      continue;
    }
    // Over a TURN stream only ChannelData of our channel carries the peer's packets.
    if (channel != 0) continue;
    if (IsRtpOrRtcp(data[0])) Unprotect(session, data, &target.lengths[i], &status[i], counters);
  }
}

size_t tcp_protect_frames(SrtpSession& session, uint16_t channel, const uint8_t* in, const uint32_t* offsets,
                          const uint32_t* lengths, size_t n, uint8_t* out, size_t out_capacity, uint8_t* results,
                          size_t* framed, double* counters) {
  size_t used = 0;
  size_t i = 0;
  const size_t header = channel != 0 ? 4 : 2;
  for (; i < n; ++i) {
    const uint32_t len = lengths[i];
    if (out_capacity - used < header + len + kTcpFrameOverhead) break;
    uint8_t* frame = out + used;
    uint8_t* packet = frame + header;
    std::memcpy(packet, in + offsets[i], len);
    size_t protected_len = 0;
    const SrtpStatus st = session.protect(packet, len, len + 32, &protected_len);
    results[i] = static_cast<uint8_t>(st);
    if (st != SrtpStatus::kOk || protected_len > 0xffff) {
      counters[kTcpSrtpProtectFailed] += 1;
      if (st == SrtpStatus::kOk) results[i] = static_cast<uint8_t>(SrtpStatus::kMalformed);
      continue;
    }
    size_t on_stream = header + protected_len;
    if (channel != 0) {
      frame[0] = static_cast<uint8_t>(channel >> 8);
      frame[1] = static_cast<uint8_t>(channel);
      frame[2] = static_cast<uint8_t>(protected_len >> 8);
      frame[3] = static_cast<uint8_t>(protected_len);
      // RFC 8656 §12.5: over TCP/TLS ChannelData is padded to a multiple of four bytes.
      const size_t padded = (on_stream + 3) & ~static_cast<size_t>(3);
      std::memset(frame + on_stream, 0, padded - on_stream);
      on_stream = padded;
    } else {
      frame[0] = static_cast<uint8_t>(protected_len >> 8);
      frame[1] = static_cast<uint8_t>(protected_len);
    }
    used += on_stream;
    counters[kTcpSrtpProtected] += 1;
    counters[kTcpFramesOut] += 1;
    counters[kTcpBytesOut] += static_cast<double>(on_stream);
  }
  *framed = i;
  return used;
}

}  // namespace pwt
