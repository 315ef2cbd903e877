// Exact delivery count of one subscriber in the fanout load generator: every packet the publisher
// sends carries (round, index) in the last bytes of its payload (the load trailer), and each SRTP-authenticated packet a
// subscriber counts sets that index's bit, so a round's delivered figure is distinct packets, with
// duplicates and out-of-order arrivals counted apart (docs/bench/README.md "fanout load generator").
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pwt::loadgen {

/**
 * Bytes of the trailer the publisher ends each payload with: magic, round, index (big-endian). At
 * the end, so that the payload can start as its codec says (a VP8 payload descriptor, RFC 7741 §4.2).
 */
constexpr size_t kLoadTrailer = 12;
constexpr uint32_t kLoadTrailerMagic = 0x50574C47;  // "PWLG"

/** Writes the trailer into the last kLoadTrailer bytes of the payload `p` (`len` >= kLoadTrailer). */
void WriteLoadTrailer(uint8_t* p, size_t len, uint32_t round, uint32_t index) noexcept;
/** Reads it back; false when the payload is too short or does not end with ours. */
bool ReadLoadTrailer(const uint8_t* p, size_t len, uint32_t* round, uint32_t* index) noexcept;

/** One round's counts at one subscriber. */
struct RoundDelivery {
  /** Distinct packets (by index) received. */
  uint64_t unique = 0;
  /** Packets whose index had been received before (counted once in unique). */
  uint64_t duplicates = 0;
  /** Distinct packets that arrived after a higher index of the same round. */
  uint64_t out_of_order = 0;
};

/** Rounds this many apart or more are not kept (the bench uses far fewer). */
constexpr uint32_t kMaxRounds = 256;
/** Highest index counted per round (bits kept per subscriber and round at most). */
constexpr uint32_t kMaxIndex = 1u << 22;

/** The per-round bitmaps of one subscriber. */
class DeliveryCounter {
 public:
  /** Counts one packet; false (nothing counted) for a round or index out of range. */
  bool Count(uint32_t round, uint32_t index);
  /** The counts of `round` (zeros when nothing of it arrived). */
  RoundDelivery Round(uint32_t round) const;

 private:
  struct State {
    std::vector<uint64_t> bits;
    uint32_t highest = 0;
    bool any = false;
    RoundDelivery counts;
  };
  std::vector<State> rounds_;
};

}  // namespace pwt::loadgen
