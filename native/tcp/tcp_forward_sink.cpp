// RFC 4571 framing of the SFU engine's flush for a TCP leg; see tcp_forward_sink.hpp and docs/sfu.md.
#include "native/tcp/tcp_forward_sink.hpp"

namespace pwt {

void TcpForwardSink::send(const UdpSendItem* items, size_t count) {
  if (closed()) {
    // The engine checks before queueing; a flush already under way when the connection went lands here.
    dropped_ += count;
    return;
  }
  const bool was_empty = pending_.empty();
  for (size_t i = 0; i < count; ++i) {
    const uint32_t len = items[i].length;
    if (len > 0xffff || pending_.size() + 2 + len > max_pending_) {
      ++dropped_;
      continue;
    }
    pending_.push_back(static_cast<uint8_t>(len >> 8));
    pending_.push_back(static_cast<uint8_t>(len));
    pending_.insert(pending_.end(), items[i].data, items[i].data + len);
    ++frames_;
  }
  if (was_empty && !pending_.empty()) on_pending();
}

void TcpForwardSink::clear() {
  pending_.clear();
  if (pending_.capacity() > 64 * 1024) pending_.shrink_to_fit();
}

}  // namespace pwt
