// Arrival ring of the SFU engine (docs/sfu.md "Transport-wide feedback for forwarded packets"): the
// transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2), SSRC and
// arrival time of every producer packet the engine consumed, in memory JavaScript reads, so the
// publisher connection's transport-cc feedback module reports packets it never saw.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/**
 * A bounded single-producer/single-consumer ring over caller-owned doubles (a Float64Array), one
 * thread (the socket's event loop). Layout: header [written, read, overflowed, capacity], then
 * `capacity` entries of [transport sequence, ssrc, arrival µs]. The engine writes entries and
 * `written`; JavaScript reads entries [read, written) and then stores `read`. A push onto a full
 * ring is not stored and counts in `overflowed` (the reader then sees a gap: not received).
 */
class ForwardArrivalRing {
 public:
  static constexpr size_t kHeader = 4;
  static constexpr size_t kEntry = 3;
  enum Field : size_t { kWritten = 0, kRead = 1, kOverflowed = 2, kCapacity = 3 };

  /** Doubles needed for `capacity` entries. */
  static constexpr size_t doubles_for(size_t capacity) { return kHeader + capacity * kEntry; }

  ForwardArrivalRing() = default;
  /** Uses `memory` (`doubles` of them, zeroed by the caller); false (and unusable) if too small. */
  bool attach(double* memory, size_t doubles);
  bool attached() const { return memory_ != nullptr; }
  /** Stores one arrival; false when the ring is full (counted) or unattached. */
  bool push(uint16_t transport_sequence, uint32_t ssrc, uint64_t arrival_us);

 private:
  double* memory_ = nullptr;
  size_t capacity_ = 0;
};

/**
 * The transport-wide sequence number of an RTP packet: header extension element `id` (RFC 8285
 * §4.2 one-byte or §4.3 two-byte form) of 2 bytes. False when absent, malformed or id is 0.
 */
bool forward_transport_sequence(const uint8_t* rtp, size_t len, uint8_t id, uint16_t* out);

}  // namespace pwt
