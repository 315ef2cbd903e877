// Native consent-check answers (native/stun/stun_consent_responder.hpp, stun_fingerprint.hpp):
// CRC-32's check value and RFC 5769 §2.1's FINGERPRINT; RFC 5769 §2.1's request answered for its
// credentials, the answer checked independently (XOR-MAPPED-ADDRESS against RFC 5769 §2.2/§2.3's
// encoded bytes, MESSAGE-INTEGRITY with stun_integrity_sha1, FINGERPRINT with stun_fingerprint, itself
// checked against both known values first);
// every request the agent must see left alone; the batch responder's statuses, answers and counts.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "native/stun/stun_consent_responder.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"
#include "test/native/rfc5769_sample_request.hpp"

using namespace pwt;

namespace {

// RFC 5769 §2.1 Sample Request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY",
// MESSAGE-INTEGRITY, FINGERPRINT).
const std::vector<uint8_t> kRfc5769Request(std::begin(testdata::kRfc5769SampleRequest), std::end(testdata::kRfc5769SampleRequest));
const char* kPassword = testdata::kRfc5769Password;


struct Attr {
  uint16_t type;
  std::vector<uint8_t> value;
};

// A Binding request with `attrs`, then MESSAGE-INTEGRITY (key `password`) and FINGERPRINT, built with
// stun_integrity_sha1 and stun_fingerprint (checked against known values in main()).
std::vector<uint8_t> MakeRequest(const std::vector<Attr>& attrs, const std::string& password, uint8_t tx = 7) {
  std::vector<uint8_t> m = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  for (int i = 0; i < 12; ++i) m.push_back(static_cast<uint8_t>(tx + i));
  for (const Attr& a : attrs) {
    m.push_back(static_cast<uint8_t>(a.type >> 8));
    m.push_back(static_cast<uint8_t>(a.type));
    m.push_back(static_cast<uint8_t>(a.value.size() >> 8));
    m.push_back(static_cast<uint8_t>(a.value.size()));
    m.insert(m.end(), a.value.begin(), a.value.end());
    while (m.size() % 4) m.push_back(0);
  }
  const size_t mi = m.size();
  const uint16_t mi_len = static_cast<uint16_t>(mi + 24 - 20);
  uint8_t mac[20];
  stun_integrity_sha1(reinterpret_cast<const uint8_t*>(password.data()), password.size(), m.data(), mi, mi_len, mac);
  m.insert(m.end(), {0x00, 0x08, 0x00, 0x14});
  m.insert(m.end(), mac, mac + 20);
  const uint16_t total = static_cast<uint16_t>(m.size() + 8 - 20);
  m[2] = static_cast<uint8_t>(total >> 8);
  m[3] = static_cast<uint8_t>(total);
  const uint32_t fp = stun_fingerprint(m.data(), m.size());
  m.insert(m.end(), {0x80, 0x28, 0x00, 0x04, uint8_t(fp >> 24), uint8_t(fp >> 16), uint8_t(fp >> 8), uint8_t(fp)});
  return m;
}

Attr Username(const std::string& u) { return {0x0006, std::vector<uint8_t>(u.begin(), u.end())}; }
Attr Role(bool controlling) { return {static_cast<uint16_t>(controlling ? 0x802A : 0x8029), {1, 2, 3, 4, 5, 6, 7, 8}}; }
Attr Priority() { return {0x0024, {0x6e, 0x00, 0x01, 0xff}}; }

// Checks an answer to a request with transaction id `req + 8`: success class, same id, the source as
// XOR-MAPPED-ADDRESS equal to `xma` (the encoded value), MESSAGE-INTEGRITY under `password`, FINGERPRINT.
void CheckAnswer(const uint8_t* out, size_t n, const uint8_t* req, const std::vector<uint8_t>& xma, const std::string& password) {
  CHECK(n >= 20 + 4 + xma.size() + 24 + 8);
  if (n < 20 + 4 + xma.size() + 24 + 8) return;
  CHECK_EQ(pwt_test::Read16(out), 0x0101);
  CHECK_EQ(pwt_test::Read16(out + 2), n - 20);
  CHECK_MEM(out + 4, req + 4, 16);
  CHECK_EQ(pwt_test::Read16(out + 20), 0x0020);
  CHECK_EQ(pwt_test::Read16(out + 22), xma.size());
  CHECK_MEM(out + 24, xma.data(), xma.size());
  const size_t mi = 24 + xma.size();
  CHECK_EQ(pwt_test::Read16(out + mi), 0x0008);
  uint8_t mac[20];
  stun_integrity_sha1(reinterpret_cast<const uint8_t*>(password.data()), password.size(), out, mi, static_cast<uint16_t>(mi + 24 - 20), mac);
  CHECK_MEM(mac, out + mi + 4, 20);
  const size_t fp = mi + 24;
  CHECK_EQ(pwt_test::Read16(out + fp), 0x8028);
  CHECK_EQ(fp + 8, n);
  CHECK_EQ(pwt_test::Read32(out + fp + 4), stun_fingerprint(out, fp));
}

UdpRemoteKey Key4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  const uint8_t addr[16] = {a, b, c, d};
  return udp_remote_key(addr, port, 4);
}

}  // namespace

int main() {
  // CRC-32 check value ("123456789") and RFC 5769 §2.1's FINGERPRINT.
  const char* digits = "123456789";
  CHECK_EQ(stun_crc32(reinterpret_cast<const uint8_t*>(digits), 9), 0xCBF43926u);
  CHECK_EQ(stun_fingerprint(kRfc5769Request.data(), 100), 0xe57a3bcfu);

  HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(kPassword), std::strlen(kPassword));
  uint8_t out[kStunConsentAnswerMax];
  // The sample request names ICE-CONTROLLED: it is answered by a controlling agent with that username.
  const StunConsentCredentials creds{"evtj:h6vY", &key, true};
  {
    // RFC 5769 §2.2's mapped address 192.0.2.1:32853 and its encoded XOR-MAPPED-ADDRESS value.
    const size_t n = stun_consent_answer(kRfc5769Request.data(), kRfc5769Request.size(), creds, Key4(192, 0, 2, 1, 32853), out);
    CheckAnswer(out, n, kRfc5769Request.data(), {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43}, kPassword);
  }
  {
    // RFC 5769 §2.3's 2001:db8:1234:5678:11:2233:4455:6677 port 32853 (same transaction id).
    const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    const size_t n = stun_consent_answer(kRfc5769Request.data(), kRfc5769Request.size(), creds, udp_remote_key(v6, 32853, 6), out);
    CheckAnswer(out, n, kRfc5769Request.data(),
                {0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9},
                kPassword);
  }
  const UdpRemoteKey src = Key4(127, 0, 0, 1, 5000);
  // Left to the agent: our role is the one the request names (role conflict), another username,
  // another password, a changed byte anywhere, a truncated or padded datagram.
  CHECK_EQ(stun_consent_answer(kRfc5769Request.data(), kRfc5769Request.size(), StunConsentCredentials{"evtj:h6vY", &key, false}, src, out), 0u);
  CHECK_EQ(stun_consent_answer(kRfc5769Request.data(), kRfc5769Request.size(), StunConsentCredentials{"evtj:h6vZ", &key, true}, src, out), 0u);
  HmacSha1 other;
  other.Init(reinterpret_cast<const uint8_t*>("another-password-123"), 20);
  CHECK_EQ(stun_consent_answer(kRfc5769Request.data(), kRfc5769Request.size(), StunConsentCredentials{"evtj:h6vY", &other, true}, src, out), 0u);
  for (size_t i = 0; i < kRfc5769Request.size(); ++i) {
    std::vector<uint8_t> bad = kRfc5769Request;
    bad[i] ^= 0x01;
    if (stun_consent_answer(bad.data(), bad.size(), creds, src, out) != 0) {
      std::fprintf(stderr, "a request with byte %zu changed was answered\n", i);
      ++pwt_test::failures();
    }
  }
  for (size_t len = 0; len < kRfc5769Request.size(); ++len) CHECK_EQ(stun_consent_answer(kRfc5769Request.data(), len, creds, src, out), 0u);
  {
    std::vector<uint8_t> longer = kRfc5769Request;
    longer.insert(longer.end(), {0, 0, 0, 0});
    CHECK_EQ(stun_consent_answer(longer.data(), longer.size(), creds, src, out), 0u);
  }
  // Built requests: a plain consent check from a controlled peer is answered by a controlling agent;
  // USE-CANDIDATE towards a controlling agent, an unknown comprehension-required attribute, no role
  // attribute, both roles, no USERNAME are the agent's.
  const std::string pw = "server-password-0123456789";
  HmacSha1 server;
  server.Init(reinterpret_cast<const uint8_t*>(pw.data()), pw.size());
  const StunConsentCredentials ours{"srv1:sub1", &server, true};
  const std::vector<uint8_t> good = MakeRequest({Username("srv1:sub1"), Priority(), Role(false), {0xC057, {0, 1, 0, 0}}}, pw);
  {
    const size_t n = stun_consent_answer(good.data(), good.size(), ours, src, out);
    CheckAnswer(out, n, good.data(), {0x00, 0x01, 0x13 ^ 0x21, 0x88 ^ 0x12, 127 ^ 0x21, 0 ^ 0x12, 0 ^ 0xa4, 1 ^ 0x42}, pw);
  }
  CHECK_EQ(stun_consent_answer(good.data(), good.size(), StunConsentCredentials{"srv1:sub1", &server, false}, src, out), 0u);
  {
    // USE-CANDIDATE from a controlling peer to a controlled agent: answered and reported.
    const std::vector<uint8_t> nominating = MakeRequest({Username("srv1:sub1"), Priority(), Role(true), {0x0025, {}}}, pw);
    bool flag = false;
    const StunConsentCredentials controlled{"srv1:sub1", &server, false};
    const size_t n = stun_consent_answer(nominating.data(), nominating.size(), controlled, src, out, &flag);
    CheckAnswer(out, n, nominating.data(), {0x00, 0x01, 0x13 ^ 0x21, 0x88 ^ 0x12, 127 ^ 0x21, 0x12, 0xa4, 1 ^ 0x42}, pw);
    CHECK(flag);
    const std::vector<uint8_t> plain = MakeRequest({Username("srv1:sub1"), Priority(), Role(true)}, pw);
    flag = true;
    CHECK(stun_consent_answer(plain.data(), plain.size(), controlled, src, out, &flag) > 0);
    CHECK(!flag);
    // USE-CANDIDATE with a value is malformed: the agent's.
    const std::vector<uint8_t> valued = MakeRequest({Username("srv1:sub1"), Role(true), {0x0025, {1, 2, 3, 4}}}, pw);
    CHECK_EQ(stun_consent_answer(valued.data(), valued.size(), controlled, src, out, &flag), 0u);
  }
  const std::vector<std::vector<uint8_t>> declined = {
      MakeRequest({Username("srv1:sub1"), Priority(), Role(false), {0x0025, {}}}, pw),
      MakeRequest({Username("srv1:sub1"), Priority(), Role(false), {0x0030, {1, 2, 3, 4}}}, pw),
      MakeRequest({Username("srv1:sub1"), Priority()}, pw),
      MakeRequest({Username("srv1:sub1"), Role(false), Role(true)}, pw),
      MakeRequest({Priority(), Role(false)}, pw),
      MakeRequest({Username("srv1:sub1x"), Role(false)}, pw),
      MakeRequest({Username("srv1:sub1"), Role(false)}, "not-the-password-0123456"),
  };
  for (const auto& r : declined) CHECK_EQ(stun_consent_answer(r.data(), r.size(), ours, src, out), 0u);
  {
    // An attribute after MESSAGE-INTEGRITY other than FINGERPRINT, and no FINGERPRINT at all.
    std::vector<uint8_t> nofp(good.begin(), good.end() - 8);
    const uint16_t total = static_cast<uint16_t>(nofp.size() - 20);
    nofp[2] = static_cast<uint8_t>(total >> 8);
    nofp[3] = static_cast<uint8_t>(total);
    CHECK_EQ(stun_consent_answer(nofp.data(), nofp.size(), ours, src, out), 0u);
  }

  // The batch responder: one registration for 127.0.0.1:5000.
  StunConsentResponder responder;
  UdpAddress dest;
  CHECK(udp_make_address(AF_INET, "127.0.0.1", 5000, &dest));
  CHECK_EQ(responder.add(src, dest, "", "sub1", pw, true), 0u);
  const uint32_t id = responder.add(src, dest, "srv1", "sub1", pw, true);
  CHECK(id != 0);
  std::vector<uint8_t> forged = good;
  forged[forged.size() - 30] ^= 0x80;  // inside MESSAGE-INTEGRITY
  const std::vector<uint8_t> rtp = {0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2};
  std::vector<uint8_t> response = good;  // a Binding success response (to one of our checks)
  response[0] = 0x01;
  response[1] = 0x01;
  std::vector<uint8_t> indication = good;  // a Binding indication (keepalive)
  indication[1] = 0x11;
  TestRecvBatch batch;
  batch.add(good, 1, 5000);
  batch.add(good, 2, 5000);    // another source: not registered
  batch.add(forged, 1, 5000);  // forged: the agent drops and counts it
  batch.add(rtp, 1, 5000);     // not STUN
  batch.add(MakeRequest({Username("srv1:sub1"), Role(false)}, pw, 40), 1, 5000);
  batch.add(response, 1, 5000);    // left to JavaScript, not counted as declined
  batch.add(indication, 1, 5000);  // likewise
  CHECK_EQ(responder.answer_batch(batch.target(), batch.n, batch.status), 2);
  CHECK_EQ(batch.status[0], kRecvConsentAnswered);
  CHECK_EQ(batch.status[1], kRecvNotRouted);
  CHECK_EQ(batch.status[2], kRecvNotRouted);
  CHECK_EQ(batch.status[3], kRecvNotRouted);
  CHECK_EQ(batch.status[4], kRecvConsentAnswered);
  CHECK_EQ(batch.status[5], kRecvNotRouted);
  CHECK_EQ(batch.status[6], kRecvNotRouted);
  CHECK_EQ(responder.counters().answered, 2.0);
  CHECK_EQ(responder.counters().declined, 1.0);
  const UdpSendItem* items = responder.responses();
  CHECK_EQ(items[0].address_length, dest.length);
  CHECK_MEM(items[0].address, &dest.storage, dest.length);
  CheckAnswer(items[0].data, items[0].length, good.data(), {0x00, 0x01, 0x13 ^ 0x21, 0x88 ^ 0x12, 127 ^ 0x21, 0x12, 0xa4, 1 ^ 0x42}, pw);
  CHECK_EQ(items[1].data[8], 40);  // the second answer carries the second request's transaction id
  uint32_t taken[4 * kStunConsentTakeStride];
  CHECK_EQ(responder.take_answered(taken, 4), 1u);
  CHECK_EQ(taken[0], id);
  CHECK_EQ(taken[1], 2u);
  CHECK_EQ(taken[2], 0u);
  CHECK_EQ(responder.take_answered(taken, 4), 0u);
  {
    // A controlled registration: nominations are counted apart.
    const UdpRemoteKey peer = Key4(127, 0, 0, 3, 5000);
    const uint32_t cid = responder.add(peer, dest, "srv3", "sub3", pw, false);
    TestRecvBatch nb;
    nb.add(MakeRequest({Username("srv3:sub3"), Role(true), {0x0025, {}}}, pw, 1), 3, 5000);
    nb.add(MakeRequest({Username("srv3:sub3"), Role(true)}, pw, 2), 3, 5000);
    nb.add(MakeRequest({Username("srv3:sub3"), Role(true), {0x0025, {}}}, pw, 3), 3, 5000);
    CHECK_EQ(responder.answer_batch(nb.target(), nb.n, nb.status), 3);
    CHECK_EQ(responder.take_answered(taken, 4), 1u);
    CHECK_EQ(taken[0], cid);
    CHECK_EQ(taken[1], 3u);
    CHECK_EQ(taken[2], 2u);
    CHECK(responder.remove(cid));
  }
  // A status other than "not routed" is not looked at (e.g. a slot an earlier stage consumed).
  TestRecvBatch handled;
  handled.add(good, 1, 5000);
  handled.status[0] = kRecvHandedOff;
  CHECK_EQ(responder.answer_batch(handled.target(), handled.n, handled.status), 0);
  // Replaced for the same remote: the new credentials count, the old id is gone.
  const uint32_t id2 = responder.add(src, dest, "srv2", "sub2", pw, true);
  CHECK(id2 != id);
  CHECK(!responder.remove(id));
  TestRecvBatch again;
  again.add(good, 1, 5000);
  again.add(MakeRequest({Username("srv2:sub2"), Role(false)}, pw), 1, 5000);
  CHECK_EQ(responder.answer_batch(again.target(), again.n, again.status), 1);
  CHECK_EQ(again.status[1], kRecvConsentAnswered);
  // Counts wait for the next take when `out` is full; a removed registration's counts go with it.
  CHECK_EQ(responder.take_answered(taken, 0), 0u);
  CHECK_EQ(responder.take_answered(taken, 1), 1u);
  CHECK_EQ(taken[0], id2);
  TestRecvBatch third;
  third.add(MakeRequest({Username("srv2:sub2"), Role(false)}, pw), 1, 5000);
  CHECK_EQ(responder.answer_batch(third.target(), third.n, third.status), 1);
  CHECK(responder.remove(id2));
  CHECK(responder.empty());
  CHECK_EQ(responder.take_answered(taken, 4), 0u);
  TestRecvBatch none;
  none.add(good, 1, 5000);
  CHECK_EQ(responder.answer_batch(none.target(), none.n, none.status), 0);
  TEST_MAIN_END();
}
