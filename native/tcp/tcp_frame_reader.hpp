// Splits a TCP byte stream into packets inside one native call per read (docs/udp.md "TCP framing"):
// RFC 4571 §2 framing (ICE-TCP, RFC 6544 §3: a 16-bit length before every packet), or the stream to a
// TURN server (RFC 8656 §12.5: STUN messages by their length field, RFC 8489 §6.2.2, and ChannelData
// padded to a multiple of 4). Sans-I/O: bytes and `now` in, frames written into a batch. A frame split
// across reads waits in a per-connection buffer that grows only with bytes that arrived and never
// past the frame bound; a length above the bound or a first byte that frames nothing breaks the stream.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/** How a stream is framed. */
enum class TcpFraming : uint8_t {
  kRfc4571 = 0,     // 16-bit length, then the packet (the frame is the packet)
  kTurnStream = 1,  // STUN (20 + length) or ChannelData (4 + length, padded to 4); the frame keeps its header
};

/** Why a stream was given up (the connection should be closed). */
enum class TcpFrameError : uint8_t {
  kNone = 0,
  kFrameTooBig = 1,  // a length above the reader's bound
  kGarbage = 2,      // TURN stream: a first byte that is neither STUN (0..63) nor ChannelData (64..79)
};

/**
 * Where read() writes frames: packed one after another into `buffer` (`capacity` bytes), each at
 * `offsets[i]` with `lengths[i]` bytes, at most `max_frames` of them.
 */
struct TcpFrameTarget {
  uint8_t* buffer = nullptr;
  size_t capacity = 0;
  size_t max_frames = 0;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
};

/** What one read() did. */
struct TcpReadResult {
  size_t consumed = 0;  // bytes of the input used; call again with the rest while consumed < length
  int frames = 0;       // frames written to the target
  TcpFrameError error = TcpFrameError::kNone;
};

/** Counters of one reader. */
struct TcpFrameCounters {
  uint64_t frames = 0;        // frames written to a batch
  uint64_t bytes = 0;         // stream bytes consumed (headers and padding included)
  uint64_t empty_frames = 0;  // RFC 4571 frames of length 0: skipped
  uint64_t reassembled = 0;   // frames that were split across reads
};

class TcpFrameReader {
 public:
  /** Largest frame a reader may be bounded to (the 16-bit length plus a STUN header). */
  static constexpr uint32_t kMaxFrameBound = 65535 + 20;

  /** `max_frame`: the largest frame accepted (clamped to 1..kMaxFrameBound). */
  TcpFrameReader(TcpFraming framing, uint32_t max_frame);

  /**
   * Reads `data[0, length)`: writes every complete frame into `target` until it is full, keeps an
   * incomplete trailing frame (its first byte arrived at `now_ms`). After an error the stream is
   * broken: the rest and any later input are consumed and ignored.
   */
  TcpReadResult read(const uint8_t* data, size_t length, const TcpFrameTarget& target, uint64_t now_ms);

  /** Bytes held for an incomplete frame. */
  size_t pending_bytes() const { return partial_.size(); }
  /** When the first byte of the incomplete frame arrived (meaningless without pending bytes). */
  uint64_t pending_since_ms() const { return partial_since_ms_; }
  /** The length the incomplete frame announced (its header arrived), or 0. */
  uint32_t pending_frame_length() const;
  TcpFrameError error() const { return error_; }
  TcpFraming framing() const { return framing_; }
  uint32_t max_frame() const { return max_frame_; }
  const TcpFrameCounters& counters() const { return counters_; }

 private:
  /** Header bytes needed to know a frame's size. */
  size_t header_bytes() const { return framing_ == TcpFraming::kRfc4571 ? 2 : 4; }
  /**
   * Sizes of the frame whose header is at `h`: the bytes it occupies on the stream and where its
   * packet lies within them. False (and error_ set) when the header is not acceptable.
   */
  bool Measure(const uint8_t* h, size_t* stream_bytes, size_t* skip, size_t* packet_bytes);
  /** Copies a packet into the target; false when the target has no room for it. */
  static bool Fits(const TcpFrameTarget& target, int frames, size_t used, size_t packet_bytes);

  TcpFraming framing_;
  uint32_t max_frame_;
  TcpFrameError error_ = TcpFrameError::kNone;
  std::vector<uint8_t> partial_;
  uint64_t partial_since_ms_ = 0;
  TcpFrameCounters counters_;
};

}  // namespace pwt
