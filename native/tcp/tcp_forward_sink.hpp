// A ForwardSink that frames the SFU engine's datagrams for a TCP stream (RFC 4571 §2 over ICE-TCP,
// RFC 6544 §3; docs/sfu.md "Legs over TCP"): each protected datagram is appended behind its 16-bit
// length into one pending buffer, which the binding writes to the connection once per event-loop
// turn. Bounded: above the limit datagrams are dropped and counted, never queued without end.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "native/forward/forward_engine.hpp"

namespace pwt {

class TcpForwardSink : public ForwardSink {
 public:
  /** `max_pending`: bytes held for the next write above which datagrams are dropped. */
  explicit TcpForwardSink(size_t max_pending = 1 << 20) : max_pending_(max_pending) {}

  void send(const UdpSendItem* items, size_t count) override;

  /** The framed bytes waiting for the next write. */
  const std::vector<uint8_t>& pending() const { return pending_; }
  /** Forgets the pending bytes (they were written, or the connection closed); keeps at most 64 KiB of capacity. */
  void clear();
  uint64_t frames() const { return frames_; }
  uint64_t dropped() const { return dropped_; }

 protected:
  /** Called when the pending buffer goes from empty to non-empty (the binding schedules a write). */
  virtual void on_pending() {}

 private:
  size_t max_pending_;
  std::vector<uint8_t> pending_;
  uint64_t frames_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace pwt
