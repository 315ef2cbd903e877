// The shared steering table of a SO_REUSEPORT port (docs/scaling.md "One port across workers") and
// the STUN USERNAME peek that keys Binding requests by local ufrag (RFC 8445 §7.2.2, RFC 8489 §14.3).
#include "native/udp/udp_reuseport_steering.hpp"

#include <cstring>

namespace pwt {
namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "the table is viewed as plain 32-bit words");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared memory needs lock-free 32-bit atomics");

// Entry layout: [0] state (low 2 bits) | version << 2, [1..5] key, [6] owner, [7] unused.
constexpr uint32_t kEmpty = 0;
constexpr uint32_t kBusy = 1;
constexpr uint32_t kLive = 2;
constexpr uint32_t kDead = 3;
constexpr uint32_t kKindAddress4 = 1;
constexpr uint32_t kKindAddress6 = 2;
constexpr uint32_t kKindUfrag = 3;
constexpr int kMaxRetries = 64;

uint32_t state_of(uint32_t word) { return word & 3u; }
uint32_t next_word(uint32_t word, uint32_t state) { return (((word >> 2) + 1u) << 2) | state; }

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x7feb352dU;
  h ^= h >> 15;
  h *= 0x846ca68bU;
  h ^= h >> 16;
  return h;
}

}  // namespace

size_t ReuseportSteeringTable::capacity_for(size_t word_count) {
  size_t entries = word_count / kEntryWords;
  if (entries < 2) return 0;
  size_t cap = 1;
  while (cap * 2 <= entries) cap *= 2;
  return cap;
}

ReuseportSteeringTable::ReuseportSteeringTable(uint32_t* words, size_t word_count)
    : words_(reinterpret_cast<std::atomic<uint32_t>*>(words)), capacity_(words ? capacity_for(word_count) : 0) {}

ReuseportSteeringTable::Key ReuseportSteeringTable::address_key(const UdpRemoteKey& remote) {
  Key k{};
  k.w[0] = ((remote.family == 6 ? kKindAddress6 : kKindAddress4) << 16) | remote.port;
  k.w[1] = load_u32(remote.addr);
  if (remote.family == 6) {
    k.w[2] = load_u32(remote.addr + 4);
    k.w[3] = load_u32(remote.addr + 8);
    k.w[4] = load_u32(remote.addr + 12);
  }
  return k;
}

ReuseportSteeringTable::Key ReuseportSteeringTable::ufrag_key(const uint8_t* ufrag, size_t length) {
  // FNV-1a 64: two workers only need the same function; a collision steers a check to a worker
  // that rejects it (unknown ufrag), never past ICE's MESSAGE-INTEGRITY check.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < length; ++i) {
    h ^= ufrag[i];
    h *= 0x100000001b3ULL;
  }
  Key k{};
  k.w[0] = (kKindUfrag << 16) | static_cast<uint32_t>(length & 0xffffu);
  k.w[1] = static_cast<uint32_t>(h);
  k.w[2] = static_cast<uint32_t>(h >> 32);
  return k;
}

size_t ReuseportSteeringTable::slot_of(const Key& key) const {
  uint32_t h = 0x9e3779b9U;
  for (uint32_t w : key.w) h = mix(h ^ w);
  return h & (capacity_ - 1);
}

int32_t ReuseportSteeringTable::lookup(const Key& key) const {
  if (!valid()) return kNoOwner;
  const size_t start = slot_of(key);
  for (size_t probe = 0; probe < capacity_; ++probe) {
    std::atomic<uint32_t>* e = entry((start + probe) & (capacity_ - 1));
    for (int retry = 0; retry < kMaxRetries; ++retry) {
      const uint32_t before = e[0].load(std::memory_order_acquire);
      const uint32_t state = state_of(before);
      if (state == kEmpty) return kNoOwner;  // the end of this key's probe chain
      if (state != kLive) break;            // busy or dead: not this key (yet)
      bool same = true;
      for (int i = 0; i < 5; ++i) same = same && e[1 + i].load(std::memory_order_relaxed) == key.w[i];
      const uint32_t owner = e[6].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (e[0].load(std::memory_order_relaxed) != before) continue;  // rewritten while read: again
      if (same) return static_cast<int32_t>(owner);
      break;
    }
  }
  return kNoOwner;
}

bool ReuseportSteeringTable::claim(const Key& key, uint32_t owner) {
  if (!valid()) return false;
  for (int retry = 0; retry < kMaxRetries; ++retry) {
    const size_t start = slot_of(key);
    std::atomic<uint32_t>* free_entry = nullptr;
    uint32_t free_word = 0;
    for (size_t probe = 0; probe < capacity_; ++probe) {
      std::atomic<uint32_t>* e = entry((start + probe) & (capacity_ - 1));
      const uint32_t word = e[0].load(std::memory_order_acquire);
      const uint32_t state = state_of(word);
      if (state == kLive) {
        bool same = true;
        for (int i = 0; i < 5; ++i) same = same && e[1 + i].load(std::memory_order_relaxed) == key.w[i];
        if (same) {
          e[6].store(owner, std::memory_order_release);
          return true;
        }
      } else if (state == kDead && !free_entry) {
        free_entry = e;
        free_word = word;
      } else if (state == kEmpty) {
        if (!free_entry) {
          free_entry = e;
          free_word = word;
        }
        break;
      }
    }
    if (!free_entry) return false;  // full
    uint32_t expected = free_word;
    if (!free_entry[0].compare_exchange_strong(expected, next_word(free_word, kBusy), std::memory_order_acq_rel)) continue;
    for (int i = 0; i < 5; ++i) free_entry[1 + i].store(key.w[i], std::memory_order_relaxed);
    free_entry[6].store(owner, std::memory_order_relaxed);
    free_entry[0].store(next_word(next_word(free_word, kBusy), kLive), std::memory_order_release);
    return true;
  }
  return false;
}

void ReuseportSteeringTable::release(const Key& key, uint32_t owner) {
  if (!valid()) return;
  const size_t start = slot_of(key);
  for (size_t probe = 0; probe < capacity_; ++probe) {
    std::atomic<uint32_t>* e = entry((start + probe) & (capacity_ - 1));
    uint32_t word = e[0].load(std::memory_order_acquire);
    const uint32_t state = state_of(word);
    if (state == kEmpty) return;
    if (state != kLive) continue;
    bool same = e[6].load(std::memory_order_relaxed) == owner;
    for (int i = 0; i < 5; ++i) same = same && e[1 + i].load(std::memory_order_relaxed) == key.w[i];
    // Every copy goes (two concurrent claims of one key may have made two).
    if (same) e[0].compare_exchange_strong(word, next_word(word, kDead), std::memory_order_acq_rel);
  }
}

size_t ReuseportSteeringTable::release_owner(uint32_t owner) {
  size_t released = 0;
  for (size_t i = 0; i < capacity_; ++i) {
    std::atomic<uint32_t>* e = entry(i);
    uint32_t word = e[0].load(std::memory_order_acquire);
    if (state_of(word) == kLive && e[6].load(std::memory_order_relaxed) == owner &&
        e[0].compare_exchange_strong(word, next_word(word, kDead), std::memory_order_acq_rel)) {
      ++released;
    }
  }
  return released;
}

bool ReuseportSteeringTable::claim_address(const UdpRemoteKey& remote, uint32_t owner) { return claim(address_key(remote), owner); }
bool ReuseportSteeringTable::claim_ufrag(const uint8_t* ufrag, size_t length, uint32_t owner) {
  return claim(ufrag_key(ufrag, length), owner);
}
void ReuseportSteeringTable::release_address(const UdpRemoteKey& remote, uint32_t owner) { release(address_key(remote), owner); }
void ReuseportSteeringTable::release_ufrag(const uint8_t* ufrag, size_t length, uint32_t owner) {
  release(ufrag_key(ufrag, length), owner);
}
int32_t ReuseportSteeringTable::owner_of_address(const UdpRemoteKey& remote) const { return lookup(address_key(remote)); }
int32_t ReuseportSteeringTable::owner_of_ufrag(const uint8_t* ufrag, size_t length) const {
  return lookup(ufrag_key(ufrag, length));
}

bool stun_binding_request_ufrag(const uint8_t* data, size_t length, const uint8_t** ufrag, size_t* ufrag_length) {
  // RFC 8489 §5: type 0x0001 (Binding request), a length that is a multiple of 4 and fits, the cookie.
  if (length < 20 || data[0] != 0x00 || data[1] != 0x01) return false;
  const size_t body = (static_cast<size_t>(data[2]) << 8) | data[3];
  if ((body & 3) != 0 || 20 + body > length) return false;
  if (data[4] != 0x21 || data[5] != 0x12 || data[6] != 0xa4 || data[7] != 0x42) return false;
  size_t at = 20;
  const size_t end = 20 + body;
  while (at + 4 <= end) {
    const uint16_t type = static_cast<uint16_t>((data[at] << 8) | data[at + 1]);
    const size_t len = (static_cast<size_t>(data[at + 2]) << 8) | data[at + 3];
    if (at + 4 + len > end) return false;
    if (type == 0x0006) {  // USERNAME: "local ufrag:remote ufrag" as the receiver sees it
      const uint8_t* value = data + at + 4;
      const void* colon = std::memchr(value, ':', len);
      const size_t n = colon ? static_cast<size_t>(static_cast<const uint8_t*>(colon) - value) : len;
      if (n == 0) return false;
      *ufrag = value;
      *ufrag_length = n;
      return true;
    }
    at += 4 + ((len + 3) & ~static_cast<size_t>(3));
  }
  return false;
}

}  // namespace pwt
