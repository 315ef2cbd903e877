// libFuzzer target: the shared port's STUN USERNAME peek (native/udp/udp_reuseport_steering.hpp;
// RFC 8489 §5 header, §14.3 USERNAME; docs/scaling.md "One port across workers"), then a steering
// table lookup and claim by the ufrag it found. Checks: a found ufrag is non-empty, lies inside the
// input and holds no ':'; the table gives back the owner it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/udp/udp_reuseport_steering.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so ASan sees any read past the datagram.
  std::vector<uint8_t> datagram(data, data + size);
  const uint8_t* ufrag = nullptr;
  size_t length = 0;
  if (!pwt::stun_binding_request_ufrag(datagram.data(), datagram.size(), &ufrag, &length)) return 0;
  if (length == 0 || ufrag < datagram.data() || ufrag + length > datagram.data() + datagram.size()) std::abort();
  if (std::memchr(ufrag, ':', length) != nullptr) std::abort();
  std::vector<uint32_t> memory(pwt::ReuseportSteeringTable::kEntryWords * 16, 0);
  pwt::ReuseportSteeringTable table(memory.data(), memory.size());
  if (table.owner_of_ufrag(ufrag, length) != pwt::ReuseportSteeringTable::kNoOwner) std::abort();
  if (!table.claim_ufrag(ufrag, length, 3) || table.owner_of_ufrag(ufrag, length) != 3) std::abort();
  table.release_ufrag(ufrag, length, 3);
  if (table.owner_of_ufrag(ufrag, length) != pwt::ReuseportSteeringTable::kNoOwner) std::abort();
  return 0;
}
