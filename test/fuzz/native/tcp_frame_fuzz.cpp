// libFuzzer target: TCP stream framing with SRTP in the batch (native/tcp; RFC 4571 §2, RFC 8656
// §12.5, docs/udp.md "TCP framing"). Input: byte 0 picks the framing (bit 0) and a chunk size (bits
// 1..7), byte 1 the frame bound (× 256), the rest is the stream. The stream is read whole and in
// chunks. Checks: both give the same frames and the same error; no frame is longer than the bound; a
// frame never holds more bytes than were consumed; pending bytes stay below one frame; the SRTP pass
// over each batch never grows a frame nor moves it outside the batch.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/srtp/srtp_profile.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/tcp/tcp_frame_reader.hpp"
#include "native/tcp/tcp_frame_srtp.hpp"

namespace {

struct Outcome {
  std::vector<std::vector<uint8_t>> frames;
  pwt::TcpFrameError error = pwt::TcpFrameError::kNone;
  size_t consumed = 0;
};

pwt::SrtpSession& Session() {
  static pwt::SrtpSession* s = [] {
    auto* session = new pwt::SrtpSession();
    pwt::SrtpProfileParams p{};
    if (!pwt::GetSrtpProfileParams(pwt::SrtpProfile::kAes128CmHmacSha1_80, &p)) std::abort();
    uint8_t key[16] = {1}, salt[14] = {2};
    if (session->Key(pwt::SrtpProfile::kAes128CmHmacSha1_80, key, p.key_len, salt, p.salt_len, key, p.key_len, salt, p.salt_len) !=
        pwt::SrtpStatus::kOk) {
      std::abort();
    }
    return session;
  }();
  return *s;
}

Outcome Read(pwt::TcpFraming framing, uint32_t bound, const uint8_t* data, size_t size, size_t chunk, bool srtp) {
  Outcome o;
  pwt::TcpFrameReader reader(framing, bound);
  // A small batch (8 frames) so that batches fill and reading resumes mid-chunk.
  std::vector<uint8_t> buffer(pwt::TcpFrameReader::kMaxFrameBound);
  uint32_t offsets[8], lengths[8];
  uint8_t status[8], relayed[8];
  pwt::TcpFrameTarget t;
  t.buffer = buffer.data();
  t.capacity = buffer.size();
  t.max_frames = 8;
  t.offsets = offsets;
  t.lengths = lengths;
  double counters[pwt::kTcpCounterCount] = {};
  for (size_t at = 0; at < size;) {
    const size_t len = chunk < size - at ? chunk : size - at;
    size_t off = 0;
    while (off < len) {
      const pwt::TcpReadResult r = reader.read(data + at + off, len - off, t, at);
      if (r.consumed == 0 && r.frames == 0) std::abort();  // no progress: a hang
      off += r.consumed;
      o.consumed += r.consumed;
      o.error = r.error;
      size_t framed_bytes = 0;
      for (int i = 0; i < r.frames; ++i) {
        if (lengths[i] == 0 || lengths[i] > reader.max_frame() || offsets[i] + lengths[i] > t.capacity) std::abort();
        framed_bytes += lengths[i];
        o.frames.emplace_back(buffer.begin() + offsets[i], buffer.begin() + offsets[i] + lengths[i]);
      }
      if (framed_bytes > reader.counters().bytes) std::abort();
      if (srtp) {
        uint32_t before_off[8], before_len[8];
        std::memcpy(before_off, offsets, sizeof offsets);
        std::memcpy(before_len, lengths, sizeof lengths);
        pwt::tcp_unprotect_frames(t, r.frames, &Session(), framing == pwt::TcpFraming::kTurnStream ? 0x4001 : 0, status,
                                  relayed, counters);
        for (int i = 0; i < r.frames; ++i) {
          if (offsets[i] < before_off[i] || offsets[i] + lengths[i] > before_off[i] + before_len[i]) std::abort();
        }
      }
    }
    at += len;
  }
  if (reader.pending_bytes() > pwt::TcpFrameReader::kMaxFrameBound + 3) std::abort();
  if (o.error == pwt::TcpFrameError::kNone && reader.counters().bytes != size) std::abort();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const pwt::TcpFraming framing = (data[0] & 1) ? pwt::TcpFraming::kTurnStream : pwt::TcpFraming::kRfc4571;
  const size_t chunk = 1 + (data[0] >> 1);
  const uint32_t bound = data[1] == 0 ? 65535 : static_cast<uint32_t>(data[1]) * 256;
  const uint8_t* stream = data + 2;
  const size_t n = size - 2;
  const Outcome whole = Read(framing, bound, stream, n, n == 0 ? 1 : n, false);
  const Outcome pieces = Read(framing, bound, stream, n, chunk, true);
  // Chunk boundaries never change what is framed (before the SRTP pass touches the frames).
  const Outcome pieces_clear = Read(framing, bound, stream, n, chunk, false);
  if (whole.frames != pieces_clear.frames || whole.error != pieces_clear.error) std::abort();
  if (pieces.frames.size() != whole.frames.size()) std::abort();
  return 0;
}
