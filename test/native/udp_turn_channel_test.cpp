// TURN channel routes in pwt::UdpSessionTable (RFC 8656 §12.4-§12.6; docs/udp.md "TURN channels"):
// ChannelData from the TURN server on a routed channel loses its header in place and its SRTP is
// unprotected; STUN/DTLS inside stays clear with the route id; lying lengths are dropped and counted;
// unknown channels, other servers and direct routes are left as they were (run under ASan/UBSan too).
#include <cstring>
#include <vector>

#include "native/srtp/srtp_session.hpp"
#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;
using pwt_test::Protect;

namespace {

struct Keyed : pwt_test::SrtpPair {  // tx protects at one end, rx unprotects at the other
  explicit Keyed(int seed) : SrtpPair(SrtpProfile::kAes128CmHmacSha1_80, seed, {5, 9, 3, 17}, true) {}
};

std::vector<uint8_t> Rtp(uint16_t seq, uint8_t fill, size_t payload = 40) {
  return pwt_test::RtpPacket(96, seq, 0, 0x11223344, payload, fill);
}

// A ChannelData message (RFC 8656 §12.4) with `pad` extra bytes after the data and a length field
// of `claimed` (default: the true length).
std::vector<uint8_t> ChannelData(uint16_t channel, const std::vector<uint8_t>& data, size_t pad = 0, int claimed = -1) {
  const size_t len = claimed < 0 ? data.size() : static_cast<size_t>(claimed);
  std::vector<uint8_t> m = {static_cast<uint8_t>(channel >> 8), static_cast<uint8_t>(channel), static_cast<uint8_t>(len >> 8),
                            static_cast<uint8_t>(len)};
  m.insert(m.end(), data.begin(), data.end());
  m.insert(m.end(), pad, 0xee);
  return m;
}

// The key of 127.0.0.`host`:`port` (as TestRecvBatch::add writes sources) on `channel`.
UdpRemoteKey Key(uint8_t host, uint16_t port, uint16_t channel) {
  const uint8_t ip[16] = {127, 0, 0, host};
  UdpRemoteKey k = udp_remote_key(ip, port, 4);
  k.channel = channel;
  return k;
}

std::vector<uint8_t> Slot(TestRecvBatch& b, int i) {
  const uint8_t* d = b.buffer.data() + static_cast<size_t>(i) * TestRecvBatch::kSlot;
  return std::vector<uint8_t>(d, d + b.lengths[i]);
}

}  // namespace

int main() {
  constexpr uint8_t kServer = 9;        // the TURN server is 127.0.0.9:3478
  constexpr uint16_t kServerPort = 3478;
  constexpr uint16_t kChannel = 0x4001;

  // Keys: the channel is part of the key (a direct route and a channel route of one address differ).
  {
    CHECK(!(Key(kServer, kServerPort, 0) == Key(kServer, kServerPort, kChannel)));
    CHECK(!(Key(kServer, kServerPort, 0x4001) == Key(kServer, kServerPort, 0x4002)));
    CHECK(Key(kServer, kServerPort, kChannel) == Key(kServer, kServerPort, kChannel));
    CHECK(UdpRemoteKeyHash{}(Key(kServer, kServerPort, kChannel)) == UdpRemoteKeyHash{}(Key(kServer, kServerPort, kChannel)));
  }

  Keyed peer(1), direct(2);
  UdpSessionTable table;
  const uint32_t relay_id = table.add(Key(kServer, kServerPort, kChannel), &peer.rx);
  const uint32_t direct_id = table.add(Key(1, 5000, 0), &direct.rx);
  CHECK(relay_id != 0 && direct_id != 0);
  CHECK_EQ(table.channel(relay_id), kChannel);
  CHECK_EQ(table.channel(direct_id), 0);

  // Media through the relay, padded and unpadded (§12.5), STUN and DTLS through the channel, and a
  // direct route's SRTP in the same batch.
  {
    TestRecvBatch b;
    uint16_t relays[UdpSocket::kMaxBatch];
    std::memset(relays, 0xff, sizeof relays);
    double counters[kCounterCount] = {};
    const std::vector<uint8_t> clear0 = Rtp(1, 0xa1);
    const std::vector<uint8_t> clear1 = Rtp(2, 0xa2, 41);
    b.add(ChannelData(kChannel, Protect(peer.tx, clear0)), kServer, kServerPort);
    b.add(ChannelData(kChannel, Protect(peer.tx, clear1), 3), kServer, kServerPort);
    std::vector<uint8_t> stun(20, 0);
    stun[1] = 0x01;
    b.add(ChannelData(kChannel, stun), kServer, kServerPort);
    const std::vector<uint8_t> dtls(25, 0x16);
    b.add(ChannelData(kChannel, dtls), kServer, kServerPort);
    const std::vector<uint8_t> clear4 = Rtp(3, 0xb4);
    b.add(Protect(direct.tx, clear4), 1, 5000);
    table.unprotect_batch(b.target(), b.n, b.status, counters, relays);
    CHECK_EQ(b.status[0], kRecvClear);
    CHECK(Slot(b, 0) == clear0);
    CHECK_EQ(relays[0], relay_id);
    CHECK_EQ(b.status[1], kRecvClear);
    CHECK(Slot(b, 1) == clear1);
    CHECK_EQ(relays[1], relay_id);
    CHECK_EQ(b.status[2], kRecvNotRouted);
    CHECK(Slot(b, 2) == stun);
    CHECK_EQ(relays[2], relay_id);
    CHECK_EQ(b.status[3], kRecvNotRouted);
    CHECK(Slot(b, 3) == dtls);
    CHECK_EQ(relays[3], relay_id);
    CHECK_EQ(b.status[4], kRecvClear);
    CHECK(Slot(b, 4) == clear4);
    CHECK_EQ(relays[4], 0);
    CHECK_EQ(counters[kChannelDataReceived], 4.0);
    CHECK_EQ(counters[kSrtpUnprotected], 3.0);
    CHECK_EQ(counters[kChannelDataMalformed], 0.0);
  }

  // Hostile ChannelData from the server's address: a length past the datagram (dropped, counted,
  // bytes untouched), a channel nobody routed and a ChannelData-looking datagram from another port
  // (left as received for the TURN client, which counts unknown channels), a forged SRTP packet
  // inside a routed channel (refused by SRTP), a replay, a header alone (length 0) and a 3-byte stub.
  {
    TestRecvBatch b;
    uint16_t relays[UdpSocket::kMaxBatch];
    double counters[kCounterCount] = {};
    const std::vector<uint8_t> genuine = Protect(peer.tx, Rtp(10, 0xc0));
    const std::vector<uint8_t> lying = ChannelData(kChannel, genuine, 0, static_cast<int>(genuine.size()) + 1);
    b.add(lying, kServer, kServerPort);                                                      // 0
    b.add(ChannelData(kChannel, genuine, 0, 0xffff), kServer, kServerPort);                  // 1
    const std::vector<uint8_t> unknown = ChannelData(0x4002, genuine);
    b.add(unknown, kServer, kServerPort);                                                    // 2
    b.add(ChannelData(kChannel, genuine), kServer, 3479);                                    // 3
    std::vector<uint8_t> forged = Protect(peer.tx, Rtp(11, 0xc1));
    forged.back() ^= 0x01;
    b.add(ChannelData(kChannel, forged), kServer, kServerPort);                              // 4
    b.add(ChannelData(kChannel, genuine), kServer, kServerPort);                             // 5
    b.add(ChannelData(kChannel, genuine), kServer, kServerPort);                             // 6 (replay)
    b.add(ChannelData(kChannel, {}), kServer, kServerPort);                                  // 7
    b.add({0x40, 0x01, 0x00}, kServer, kServerPort);                                         // 8
    table.unprotect_batch(b.target(), b.n, b.status, counters, relays);
    CHECK_EQ(b.status[0], kRecvChannelDataMalformed);
    CHECK(Slot(b, 0) == lying);
    CHECK_EQ(relays[0], 0);
    CHECK_EQ(b.status[1], kRecvChannelDataMalformed);
    CHECK_EQ(b.status[2], kRecvNotRouted);
    CHECK(Slot(b, 2) == unknown);
    CHECK_EQ(relays[2], 0);
    CHECK_EQ(b.status[3], kRecvNotRouted);
    CHECK_EQ(relays[3], 0);
    CHECK_EQ(b.status[4], kRecvDropBase + static_cast<uint8_t>(SrtpStatus::kAuthFailed));
    CHECK_EQ(relays[4], relay_id);
    CHECK_EQ(b.status[5], kRecvClear);
    CHECK_EQ(b.status[6], kRecvDropBase + static_cast<uint8_t>(SrtpStatus::kReplayed));
    CHECK_EQ(b.status[7], kRecvNotRouted);
    CHECK_EQ(b.lengths[7], 0u);
    CHECK_EQ(relays[7], relay_id);
    CHECK_EQ(b.status[8], kRecvNotRouted);
    CHECK_EQ(b.lengths[8], 3u);
    CHECK_EQ(relays[8], 0);
    CHECK_EQ(counters[kChannelDataMalformed], 2.0);
    CHECK_EQ(counters[kChannelDataReceived], 4.0);
    CHECK_EQ(counters[kSrtpRecvDropped], 2.0);
  }

  // Without a relays array (a caller that does not read them) ChannelData is left alone; once the
  // channel route is removed it is left alone too, and the direct route still works.
  {
    TestRecvBatch b;
    double counters[kCounterCount] = {};
    const std::vector<uint8_t> cd = ChannelData(kChannel, Protect(peer.tx, Rtp(20, 0xd0)));
    b.add(cd, kServer, kServerPort);
    table.unprotect_batch(b.target(), b.n, b.status, counters);
    CHECK_EQ(b.status[0], kRecvNotRouted);
    CHECK(Slot(b, 0) == cd);

    CHECK(table.remove(relay_id));
    CHECK_EQ(table.channel(relay_id), 0);
    TestRecvBatch c;
    uint16_t relays[UdpSocket::kMaxBatch];
    c.add(cd, kServer, kServerPort);
    const std::vector<uint8_t> clear = Rtp(21, 0xd1);
    c.add(Protect(direct.tx, clear), 1, 5000);
    table.unprotect_batch(c.target(), c.n, c.status, counters, relays);
    CHECK_EQ(c.status[0], kRecvNotRouted);
    CHECK(Slot(c, 0) == cd);
    CHECK_EQ(relays[0], 0);
    CHECK_EQ(c.status[1], kRecvClear);
    CHECK(Slot(c, 1) == clear);
    CHECK_EQ(counters[kChannelDataReceived], 0.0);
  }
  TEST_MAIN_END();
}
