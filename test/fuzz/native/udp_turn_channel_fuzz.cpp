// libFuzzer target: a socket's session table with a TURN channel route (native/udp/udp_session_table.hpp;
// RFC 8656 §12.4-§12.6, docs/udp.md "TURN channels"). The input is one datagram, received (1) from the
// TURN server, whose channel 0x4001 has a route, (2) from a directly routed peer, and (3) when it is
// ChannelData of 0x4001 around an RTP-looking packet, that packet genuinely protected and re-framed.
// Checks: a slot never grows nor changes outside its bytes; a stripped slot holds exactly the claimed
// data; a malformed one is the input untouched and really claimed too much; unrouted slots are the
// input untouched; the genuine packet comes out clear and equal to what was protected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/srtp/srtp_profile.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/udp/udp_session_table.hpp"
#include "test/native/recv_batch.hpp"

namespace {

constexpr uint16_t kChannel = 0x4001;
constexpr uint8_t kServer = 9;
constexpr uint16_t kServerPort = 3478;

void Key(pwt::SrtpSession& s) {
  pwt::SrtpProfileParams p{};
  if (!pwt::GetSrtpProfileParams(pwt::SrtpProfile::kAes128CmHmacSha1_80, &p)) std::abort();
  uint8_t key[16], salt[14];
  for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(0x31 + i);
  for (size_t i = 0; i < sizeof salt; ++i) salt[i] = static_cast<uint8_t>(0xc1 + i);
  // The same keys both ways: what the sender protects, the receiver unprotects.
  if (s.Key(pwt::SrtpProfile::kAes128CmHmacSha1_80, key, p.key_len, salt, p.salt_len, key, p.key_len, salt, p.salt_len) !=
      pwt::SrtpStatus::kOk) {
    std::abort();
  }
}

pwt::UdpRemoteKey KeyOf(uint8_t host, uint16_t port, uint16_t channel) {
  const uint8_t ip[16] = {127, 0, 0, host};
  pwt::UdpRemoteKey k = pwt::udp_remote_key(ip, port, 4);
  k.channel = channel;
  return k;
}

const uint8_t* SlotBytes(const pwt::TestRecvBatch& b, int i) { return b.buffer.data() + static_cast<size_t>(i) * pwt::TestRecvBatch::kSlot; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pwt::TestRecvBatch;
  if (size > TestRecvBatch::kSlot - 64) return 0;
  const std::vector<uint8_t> input(data, data + size);
  pwt::SrtpSession relayed, direct, sender;
  Key(relayed);
  Key(direct);
  Key(sender);
  pwt::UdpSessionTable table;
  const uint32_t relay_id = table.add(KeyOf(kServer, kServerPort, kChannel), &relayed);
  if (relay_id == 0 || table.add(KeyOf(1, 5000, 0), &direct) == 0) std::abort();

  TestRecvBatch b;
  b.add(input, kServer, kServerPort);
  b.add(input, 1, 5000);
  // A genuinely protected version of an RTP-looking packet inside ChannelData of the routed channel.
  std::vector<uint8_t> clear;
  const bool channel_data = size >= 4 && ((data[0] << 8) | data[1]) == kChannel;
  const size_t claimed = size >= 4 ? static_cast<size_t>((data[2] << 8) | data[3]) : 0;
  if (channel_data && 4 + claimed <= size && claimed >= 12 && data[4] >= 128 && data[4] <= 191 && !(data[5] >= 192 && data[5] <= 223)) {
    clear.assign(data + 4, data + 4 + claimed);
    clear[0] = static_cast<uint8_t>(0x80 | (clear[0] & 0x3f));  // version 2 keeps it parseable as RTP
    std::vector<uint8_t> wire(4 + clear.size() + 32);
    std::memcpy(wire.data() + 4, clear.data(), clear.size());
    size_t out = 0;
    if (sender.protect(wire.data() + 4, clear.size(), clear.size() + 32, &out) == pwt::SrtpStatus::kOk) {
      wire.resize(4 + out);
      wire[0] = kChannel >> 8, wire[1] = kChannel & 0xff, wire[2] = static_cast<uint8_t>(out >> 8), wire[3] = static_cast<uint8_t>(out);
      b.add(wire, kServer, kServerPort);
    } else {
      clear.clear();
    }
  }
  uint16_t relays[pwt::UdpSocket::kMaxBatch];
  double counters[pwt::kCounterCount] = {};
  table.unprotect_batch(b.target(), b.n, b.status, counters, relays);

  // (1) From the server.
  if (b.lengths[0] > size) std::abort();
  if (relays[0] != 0) {
    if (relays[0] != relay_id || !channel_data || 4 + claimed > size || b.lengths[0] > claimed) std::abort();
    if (b.status[0] == pwt::kRecvNotRouted &&
        (b.lengths[0] != claimed || (claimed && std::memcmp(SlotBytes(b, 0), data + 4, claimed) != 0))) {
      std::abort();
    }
    if (b.status[0] == pwt::kRecvChannelDataMalformed) std::abort();
  } else if (b.status[0] == pwt::kRecvChannelDataMalformed) {
    if (!channel_data || 4 + claimed <= size || b.lengths[0] != size || std::memcmp(SlotBytes(b, 0), data, size) != 0) std::abort();
  } else {
    // Nothing routed: bytes as received (an unknown channel, or not ChannelData at all).
    if (b.status[0] != pwt::kRecvNotRouted || channel_data || b.lengths[0] != size || (size && std::memcmp(SlotBytes(b, 0), data, size) != 0)) std::abort();
  }
  // (2) From the directly routed peer: never treated as ChannelData.
  if (relays[1] != 0 || b.lengths[1] > size || b.status[1] == pwt::kRecvChannelDataMalformed) std::abort();
  if (b.status[1] == pwt::kRecvNotRouted && (b.lengths[1] != size || (size && std::memcmp(SlotBytes(b, 1), data, size) != 0))) std::abort();
  // (3) The genuine packet.
  if (!clear.empty()) {
    if (relays[2] != relay_id || b.status[2] != pwt::kRecvClear || b.lengths[2] != clear.size() ||
        std::memcmp(SlotBytes(b, 2), clear.data(), clear.size()) != 0) {
      std::abort();
    }
  }
  return 0;
}
