// A bounded FIFO of datagrams stored back to back in one buffer (no allocation per datagram
// once warmed up); used for records out to the network and application data in.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt {

/** Bounded queue of byte strings; Push refuses what would exceed the byte or count cap. */
class DatagramQueue {
 public:
  DatagramQueue(size_t max_bytes, size_t max_count) : max_bytes_(max_bytes), max_count_(max_count) {}

  /** Appends a copy of `data`; false (nothing stored) when the caps would be exceeded. */
  bool Push(const uint8_t* data, size_t len);
  /**
   * Moves whole datagrams from the front into `out` (capacity `cap`) and their lengths into
   * `lens` (capacity `max_count`), stopping at the first that does not fit. Returns the count.
   */
  size_t DrainInto(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count);
  /**
   * Moves every datagram into `dst` (in order); returns how many `dst` refused (its caps), which
   * are dropped. Used to hand a handshake's records from the worker thread to the owner.
   */
  size_t MoveInto(DatagramQueue* dst);
  /** Length of the front datagram (0 when empty). */
  size_t FrontLength() const { return head_ < lens_.size() ? lens_[head_] : 0; }
  size_t count() const { return lens_.size() - head_; }
  size_t bytes() const { return bytes_.size() - head_offset_; }
  bool empty() const { return count() == 0; }
  /** Bytes of storage held, used or not (tests count what an idle connection keeps). */
  size_t capacity_bytes() const { return bytes_.capacity() + lens_.capacity() * sizeof(uint32_t); }
  void Clear();
  /**
   * Gives the storage back to the heap the next time the queue is empty (now, if it is): for a
   * queue whose busy phase is over (the handshake), so an idle connection holds no capacity.
   */
  void ReleaseWhenEmpty();

 private:
  void Compact();
  size_t max_bytes_;
  size_t max_count_;
  std::vector<uint8_t> bytes_;
  std::vector<uint32_t> lens_;
  size_t head_ = 0;
  size_t head_offset_ = 0;
  bool release_when_empty_ = false;
};

}  // namespace pwt
