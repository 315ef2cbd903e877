// TCP stream framing for ICE-TCP (RFC 4571 §2, RFC 6544 §3) and TURN over TCP/TLS (RFC 8656 §12.5,
// RFC 8489 §6.2.2); see tcp_frame_reader.hpp and docs/udp.md "TCP framing".
#include "native/tcp/tcp_frame_reader.hpp"

#include <algorithm>
#include <cstring>

namespace pwt {

namespace {

uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

// A buffer that held a large frame goes back to the allocator once drained: an idle connection
// keeps no reassembly memory (docs/udp.md "TCP framing").
constexpr size_t kKeepCapacity = 2048;

}  // namespace

TcpFrameReader::TcpFrameReader(TcpFraming framing, uint32_t max_frame)
    : framing_(framing), max_frame_(std::clamp<uint32_t>(max_frame, 1, kMaxFrameBound)) {}

uint32_t TcpFrameReader::pending_frame_length() const {
  if (partial_.size() < header_bytes()) return 0;
  if (framing_ == TcpFraming::kRfc4571) return ReadU16(partial_.data());
  const uint32_t len = ReadU16(partial_.data() + 2);
  return partial_[0] < 0x40 ? 20 + len : 4 + len;
}

bool TcpFrameReader::Measure(const uint8_t* h, size_t* stream_bytes, size_t* skip, size_t* packet_bytes) {
  const uint32_t len = ReadU16(h + (framing_ == TcpFraming::kRfc4571 ? 0 : 2));
  if (framing_ == TcpFraming::kRfc4571) {
    if (len > max_frame_) {
      error_ = TcpFrameError::kFrameTooBig;
      return false;
    }
    *skip = 2;
    *packet_bytes = len;
    *stream_bytes = 2 + static_cast<size_t>(len);
    return true;
  }
  // RFC 7983 first-byte ranges: STUN 0..3 (a TURN server sends nothing else below 64), ChannelData 64..79.
  size_t frame;
  size_t on_stream;
  if (h[0] < 0x40) {
    frame = 20 + static_cast<size_t>(len);
    on_stream = frame;
  } else if (h[0] <= 0x4f) {
    frame = 4 + static_cast<size_t>(len);
    on_stream = (frame + 3) & ~static_cast<size_t>(3);  // RFC 8656 §12.5: padded over streams
  } else {
    error_ = TcpFrameError::kGarbage;
    return false;
  }
  if (frame > max_frame_) {
    error_ = TcpFrameError::kFrameTooBig;
    return false;
  }
  *skip = 0;
  *packet_bytes = frame;
  *stream_bytes = on_stream;
  return true;
}

bool TcpFrameReader::Fits(const TcpFrameTarget& target, int frames, size_t used, size_t packet_bytes) {
  return static_cast<size_t>(frames) < target.max_frames && packet_bytes <= target.capacity - used;
}

TcpReadResult TcpFrameReader::read(const uint8_t* data, size_t length, const TcpFrameTarget& target, uint64_t now_ms) {
  TcpReadResult r;
  if (error_ != TcpFrameError::kNone) {
    r.consumed = length;
    r.error = error_;
    return r;
  }
  size_t off = 0;
  size_t used = 0;
  const size_t hb = header_bytes();
  while (off < length) {
    size_t stream_bytes = 0, skip = 0, packet_bytes = 0;
    if (!partial_.empty()) {
      // Complete the header first, then the frame.
      if (partial_.size() < hb) {
        const size_t take = std::min(hb - partial_.size(), length - off);
        partial_.insert(partial_.end(), data + off, data + off + take);
        off += take;
        counters_.bytes += take;
        if (partial_.size() < hb) break;
      }
      if (!Measure(partial_.data(), &stream_bytes, &skip, &packet_bytes)) break;
      const size_t missing = stream_bytes - partial_.size();
      const size_t take = std::min(missing, length - off);
      if (take == missing && packet_bytes > 0 && !Fits(target, r.frames, used, packet_bytes)) {
        // Batch full: the caller reads again. A frame no empty batch can hold is refused.
        if (r.frames == 0) error_ = TcpFrameError::kFrameTooBig;
        break;
      }
      partial_.insert(partial_.end(), data + off, data + off + take);
      off += take;
      counters_.bytes += take;
      if (partial_.size() < stream_bytes) break;
      if (packet_bytes == 0) {
        ++counters_.empty_frames;
      } else {
        std::memcpy(target.buffer + used, partial_.data() + skip, packet_bytes);
        target.offsets[r.frames] = static_cast<uint32_t>(used);
        target.lengths[r.frames] = static_cast<uint32_t>(packet_bytes);
        used += packet_bytes;
        ++r.frames;
        ++counters_.frames;
        ++counters_.reassembled;
      }
      partial_.clear();
      if (partial_.capacity() > kKeepCapacity) partial_.shrink_to_fit();
      continue;
    }
    const size_t avail = length - off;
    if (avail < hb) {
      partial_.assign(data + off, data + length);
      partial_since_ms_ = now_ms;
      counters_.bytes += avail;
      off = length;
      break;
    }
    if (!Measure(data + off, &stream_bytes, &skip, &packet_bytes)) break;
    if (avail < stream_bytes) {
      // Only what arrived is kept (at most one frame: stream_bytes is bounded by Measure).
      partial_.assign(data + off, data + length);
      partial_since_ms_ = now_ms;
      counters_.bytes += avail;
      off = length;
      break;
    }
    if (packet_bytes == 0) {
      ++counters_.empty_frames;
    } else {
      if (!Fits(target, r.frames, used, packet_bytes)) {
        if (r.frames == 0) error_ = TcpFrameError::kFrameTooBig;
        break;  // batch full: the caller reads again
      }
      std::memcpy(target.buffer + used, data + off + skip, packet_bytes);
      target.offsets[r.frames] = static_cast<uint32_t>(used);
      target.lengths[r.frames] = static_cast<uint32_t>(packet_bytes);
      used += packet_bytes;
      ++r.frames;
      ++counters_.frames;
    }
    off += stream_bytes;
    counters_.bytes += stream_bytes;
  }
  if (error_ != TcpFrameError::kNone) {
    // A broken stream: nothing of it is framed any more (the connection is closed above).
    partial_.clear();
    partial_.shrink_to_fit();
    r.consumed = length;
    r.error = error_;
    return r;
  }
  r.consumed = off;
  return r;
}

}  // namespace pwt
