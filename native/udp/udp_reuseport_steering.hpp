// The steering table of a port shared by several worker threads with SO_REUSEPORT (docs/scaling.md
// "One port across workers"): which worker owns a remote transport address or a local ICE ufrag
// (RFC 8445 §7.2.2 USERNAME), so that a worker the kernel handed a datagram to can pass it on.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "native/udp/udp_session_table.hpp"

namespace pwt {

/**
 * An open-addressing hash table in memory shared by every worker of the port (a SharedArrayBuffer
 * the pool creates zeroed). Any thread looks entries up without locks (a per-entry version word read
 * before and after, as a seqlock); each worker writes only its own entries (claim/release), with a
 * compare-and-swap to take a free slot. Keys are a remote address (IPv4-mapped IPv6 folded to IPv4)
 * or a 64-bit hash of a ufrag. A full table refuses a claim: that flow is then served only when the
 * kernel happens to pick its owner (counted by the caller).
 */
class ReuseportSteeringTable {
 public:
  static constexpr size_t kEntryWords = 8;
  static constexpr int32_t kNoOwner = -1;

  /** Entries that fit in `word_count` 32-bit words (a power of two; 0 when fewer than 2 entries fit). */
  static size_t capacity_for(size_t word_count);

  /** A view of shared memory (`word_count` words, zeroed before first use by any thread). */
  ReuseportSteeringTable(uint32_t* words, size_t word_count);

  bool valid() const { return capacity_ >= 2; }
  size_t capacity() const { return capacity_; }

  /** Records `owner` for the key (replacing another owner); false when the table is full. */
  bool claim_address(const UdpRemoteKey& remote, uint32_t owner);
  bool claim_ufrag(const uint8_t* ufrag, size_t length, uint32_t owner);
  /** Removes the key when `owner` holds it. */
  void release_address(const UdpRemoteKey& remote, uint32_t owner);
  void release_ufrag(const uint8_t* ufrag, size_t length, uint32_t owner);
  /** Removes every entry of `owner` (its worker has gone); returns how many. */
  size_t release_owner(uint32_t owner);

  /** The owner of the key, or kNoOwner. */
  int32_t owner_of_address(const UdpRemoteKey& remote) const;
  int32_t owner_of_ufrag(const uint8_t* ufrag, size_t length) const;

 private:
  struct Key {
    uint32_t w[5];
  };
  static Key address_key(const UdpRemoteKey& remote);
  static Key ufrag_key(const uint8_t* ufrag, size_t length);
  bool claim(const Key& key, uint32_t owner);
  void release(const Key& key, uint32_t owner);
  int32_t lookup(const Key& key) const;
  size_t slot_of(const Key& key) const;
  std::atomic<uint32_t>* entry(size_t i) const { return words_ + i * kEntryWords; }

  std::atomic<uint32_t>* words_;
  size_t capacity_;
};

/**
 * The local ufrag a STUN Binding request names (RFC 8489 §5-6 header, §14.3 USERNAME = "local:remote"
 * from the receiver's side, RFC 8445 §7.2.2): false for anything else. Every read is bounds-checked.
 */
bool stun_binding_request_ufrag(const uint8_t* data, size_t length, const uint8_t** ufrag, size_t* ufrag_length);

}  // namespace pwt
