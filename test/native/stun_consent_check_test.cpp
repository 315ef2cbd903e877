// Our own consent checks sent natively (native/stun/stun_consent_check.hpp and the responder's sending
// side; RFC 7675 §5.1, RFC 8445 §7.2.2, RFC 8489 §14.5, §14.7): a check's layout, MESSAGE-INTEGRITY and
// FINGERPRINT checked independently; fresh transaction ids; a success response consumed only when it
// carries an outstanding check's full transaction id from the registered remote and passes integrity
// (and fingerprint, when it has one); replays, wrong integrity or fingerprint, error responses,
// truncation and checks past the timeout refresh nothing and are counted; checks of a whole 30 s window
// stay outstanding; a check that cannot be built is reported and evicts nothing; the answer to a check
// the agent sent itself is counted as the agent's, once, not as a drop, and its retransmissions and
// lossy-period checks neither take extra slots nor evict native ones; the outstanding slots shrink
// back after a period of lost answers (the C heap of an idle registration does not grow).
#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "native/stun/stun_consent_check.hpp"
#include "native/stun/stun_consent_responder.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"
#include "test/native/check.hpp"
#include "test/native/packet_builders.hpp"
#include "test/native/recv_batch.hpp"

using namespace pwt;

// The C++ heap this test holds (bytes of live operator-new blocks; malloc_usable_size is also served
// under ASan), to show that an idle registration's heap does not grow after lost answers.
static std::atomic<size_t> g_live_bytes{0};
void* operator new(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  g_live_bytes += malloc_usable_size(p);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_bytes -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, size_t) noexcept { operator delete(p); }

namespace {


// A Binding response of `type` with transaction id `txid`, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY under
// `password` and FINGERPRINT (independent of the code under test but for the two primitives, which
// stun_consent_responder_test checks against RFC 5769).
std::vector<uint8_t> MakeResponse(const uint8_t* txid, const std::string& password, uint16_t type = 0x0101, bool fingerprint = true) {
  std::vector<uint8_t> m = {uint8_t(type >> 8), uint8_t(type), 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  m.insert(m.end(), txid, txid + 12);
  m.insert(m.end(), {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0x13 ^ 0x21, 0x88 ^ 0x12, 127 ^ 0x21, 0x12, 0xa4, 1 ^ 0x42});
  const size_t mi = m.size();
  uint8_t mac[20];
  stun_integrity_sha1(reinterpret_cast<const uint8_t*>(password.data()), password.size(), m.data(), mi, static_cast<uint16_t>(mi + 24 - 20), mac);
  m.insert(m.end(), {0x00, 0x08, 0x00, 0x14});
  m.insert(m.end(), mac, mac + 20);
  const uint16_t total = static_cast<uint16_t>(m.size() + (fingerprint ? 8 : 0) - 20);
  m[2] = static_cast<uint8_t>(total >> 8);
  m[3] = static_cast<uint8_t>(total);
  if (!fingerprint) return m;
  const uint32_t fp = stun_fingerprint(m.data(), m.size());
  m.insert(m.end(), {0x80, 0x28, 0x00, 0x04, uint8_t(fp >> 24), uint8_t(fp >> 16), uint8_t(fp >> 8), uint8_t(fp)});
  return m;
}

UdpRemoteKey Key4(uint8_t d, uint16_t port) {
  const uint8_t addr[16] = {127, 0, 0, d};
  return udp_remote_key(addr, port, 4);
}

UdpAddress Dest4(uint8_t d, uint16_t port) {
  UdpAddress a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr.s_addr = htonl(0x7f000000u | d);
  a.length = sizeof(sockaddr_in);
  return a;
}

void TestCheckLayout() {
  const std::string remote_pw = "remote-password-of-22ch";
  HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(remote_pw.data()), remote_pw.size());
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const uint8_t txid[12] = {9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7};
  uint8_t out[kStunConsentCheckMax];
  const StunConsentCheckParams p{"rem:loc", &key, 0x6e0001ff, true, tie};
  const size_t n = stun_consent_check_build(p, txid, out);
  // 20 + USERNAME 4+8 + PRIORITY 8 + ICE-CONTROLLING 12 + MESSAGE-INTEGRITY 24 + FINGERPRINT 8.
  CHECK_EQ(n, 84u);
  CHECK_EQ(pwt_test::Read16(out), 0x0001);
  CHECK_EQ(pwt_test::Read16(out + 2), n - 20);
  CHECK_EQ(pwt_test::Read32(out + 4), 0x2112A442u);
  CHECK_MEM(out + 8, txid, 12);
  CHECK_EQ(pwt_test::Read16(out + 20), 0x0006);
  CHECK_EQ(pwt_test::Read16(out + 22), 7);
  CHECK_MEM(out + 24, "rem:loc", 7);
  CHECK_EQ(out[31], 0);  // padding
  CHECK_EQ(pwt_test::Read16(out + 32), 0x0024);
  CHECK_EQ(pwt_test::Read32(out + 36), 0x6e0001ffu);
  CHECK_EQ(pwt_test::Read16(out + 40), 0x802A);
  CHECK_MEM(out + 44, tie, 8);
  CHECK_EQ(pwt_test::Read16(out + 52), 0x0008);  // MESSAGE-INTEGRITY right after the role: no USE-CANDIDATE
  uint8_t mac[20];
  stun_integrity_sha1(reinterpret_cast<const uint8_t*>(remote_pw.data()), remote_pw.size(), out, 52, static_cast<uint16_t>(52 + 24 - 20), mac);
  CHECK_MEM(mac, out + 56, 20);
  CHECK_EQ(pwt_test::Read16(out + 76), 0x8028);
  CHECK_EQ(pwt_test::Read32(out + 80), stun_fingerprint(out, 76));
  // Controlled: ICE-CONTROLLED instead.
  const StunConsentCheckParams q{"rem:loc", &key, 1, false, tie};
  CHECK_EQ(stun_consent_check_build(q, txid, out), 84u);
  CHECK_EQ(pwt_test::Read16(out + 40), 0x8029);
  // The verifier accepts a response built independently and refuses its corruptions.
  const std::vector<uint8_t> good = MakeResponse(txid, remote_pw);
  CHECK(stun_consent_response_check(good.data(), good.size(), key) == StunConsentResponse::kVerified);
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x40;
    // A flipped transaction-id byte still verifies here: the id is the caller's to match (below).
    if (i >= 8 && i < 20) continue;
    // A flipped FINGERPRINT type makes it an unknown attribute after MESSAGE-INTEGRITY, which is
    // ignored (RFC 8489 §14.5): a response signed without FINGERPRINT, still verified (below).
    if (i == good.size() - 8 || i == good.size() - 7) continue;
    CHECK(stun_consent_response_check(bad.data(), bad.size(), key) != StunConsentResponse::kVerified);
  }
  for (size_t len = 0; len < good.size(); ++len) CHECK(stun_consent_response_check(good.data(), len, key) != StunConsentResponse::kVerified);
  CHECK(stun_consent_response_check(good.data(), good.size(), HmacSha1{}) != StunConsentResponse::kVerified);
}

void TestResponderChecks() {
  const std::string local_pw = "local-password-0123456";
  const std::string remote_pw = "remote-password-of-22ch";
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  StunConsentResponder r;
  const StunConsentCheckSetup setup{remote_pw, 0x6e0001ff, tie, 30000};
  const uint32_t id = r.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", local_pw, true, &setup);
  CHECK(id != 0);
  // A registration without the sending side builds nothing.
  const uint32_t plain = r.add(Key4(2, 5000), Dest4(2, 5000), "loc2", "rem2", local_pw, false);
  const uint32_t ids[3] = {id, plain, 12345};
  uint64_t now = 1'000'000;
  CHECK_EQ(r.build_checks(ids, 3, now), 1u);
  CHECK_EQ(r.counters().checks_sent, 1.0);
  std::vector<uint8_t> first(r.checks()[0].data, r.checks()[0].data + r.checks()[0].length);
  CHECK_EQ(pwt_test::Read16(first.data() + 20), 0x0006);
  CHECK_MEM(first.data() + 24, "rem:loc", 7);
  CHECK_EQ(r.build_checks(ids, 1, now), 1u);
  std::vector<uint8_t> second(r.checks()[0].data, r.checks()[0].data + r.checks()[0].length);
  CHECK(std::memcmp(first.data() + 8, second.data() + 8, 12) != 0);  // a fresh transaction id each
  uint32_t taken[4 * kStunConsentTakeStride];
  CHECK_EQ(r.take_answered(taken, 4, now), 0u);  // nothing to report yet

  // Forged: the right id under the wrong password, a wrong fingerprint, an error response, a truncated
  // one, the right answer from another address; then an unknown id. None consumed, each counted.
  TestRecvBatch forged;
  forged.add(MakeResponse(first.data() + 8, "not-the-remote-password"), 1, 5000);
  std::vector<uint8_t> bad_fp = MakeResponse(first.data() + 8, remote_pw);
  bad_fp.back() ^= 1;
  forged.add(bad_fp, 1, 5000);
  forged.add(MakeResponse(first.data() + 8, remote_pw, 0x0111), 1, 5000);
  std::vector<uint8_t> cut = MakeResponse(first.data() + 8, remote_pw);
  cut.resize(cut.size() - 8);
  forged.add(cut, 1, 5000);
  forged.add(MakeResponse(first.data() + 8, remote_pw), 9, 5000);
  const uint8_t unknown[12] = {0xde, 0xad};
  forged.add(MakeResponse(unknown, remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(forged.target(), forged.n, forged.status, now + 10'000), 0);
  for (int i = 0; i < forged.n; ++i) CHECK_EQ(forged.status[i], kRecvNotRouted);
  CHECK_EQ(r.counters().responses_bad_integrity, 1.0);
  CHECK_EQ(r.counters().responses_bad_fingerprint, 1.0);
  CHECK_EQ(r.counters().responses_error, 1.0);
  CHECK_EQ(r.counters().responses_malformed, 1.0);
  CHECK_EQ(r.counters().responses_unknown_transaction, 1.0);
  CHECK_EQ(r.counters().responses_verified, 0.0);
  CHECK_EQ(r.take_answered(taken, 4, now), 0u);

  // The real answer to the first check: consumed, counted, reported with its age.
  TestRecvBatch real;
  real.add(MakeResponse(first.data() + 8, remote_pw), 1, 5000);
  real.add(MakeResponse(first.data() + 8, remote_pw), 1, 5000);  // its replay: no longer outstanding
  CHECK_EQ(r.answer_batch(real.target(), real.n, real.status, now + 20'000), 1);
  CHECK_EQ(real.status[0], kRecvConsentAnswered);
  CHECK_EQ(real.status[1], kRecvNotRouted);
  CHECK_EQ(r.answer_count(), 0u);  // nothing to send for a response
  CHECK_EQ(r.counters().responses_verified, 1.0);
  CHECK_EQ(r.counters().responses_unknown_transaction, 2.0);
  CHECK_EQ(r.take_answered(taken, 4, now + 270'000), 1u);
  CHECK_EQ(taken[0], id);
  CHECK_EQ(taken[1], 0u);
  CHECK_EQ(taken[3], 1u);
  CHECK_EQ(taken[4], 250u);  // ms since the verified response
  CHECK_EQ(r.take_answered(taken, 4, now + 300'000), 0u);

  // A check older than the timeout is not answered for any more.
  TestRecvBatch late;
  late.add(MakeResponse(second.data() + 8, remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(late.target(), late.n, late.status, now + 30'000'001), 0);
  CHECK_EQ(r.counters().responses_unknown_transaction, 3.0);

  // RFC 7675 §5.1: an answer to any check of the last 30 s counts. After a miss the agent checks every
  // second: the first of 12 checks sent 1 s apart is still answered for at 12 s.
  const uint64_t t0 = now + 40'000'000;
  std::vector<std::vector<uint8_t>> sent;
  for (uint64_t i = 0; i < 12; ++i) {
    CHECK_EQ(r.build_checks(ids, 1, t0 + i * 1'000'000), 1u);
    sent.emplace_back(r.checks()[0].data + 8, r.checks()[0].data + 20);
  }
  const double unknown_before = r.counters().responses_unknown_transaction;
  TestRecvBatch early;
  early.add(MakeResponse(sent[0].data(), remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(early.target(), early.n, early.status, t0 + 12'000'000), 1);
  CHECK_EQ(early.status[0], kRecvConsentAnswered);
  CHECK_EQ(r.counters().responses_unknown_transaction, unknown_before);
  CHECK_EQ(r.take_answered(taken, 4, t0 + 12'000'000), 1u);
  CHECK_EQ(taken[3], 1u);
  // A whole 30 s window of checks 1 s apart stays outstanding: the first of 31 is answered for at 30 s.
  const uint64_t t1 = t0 + 100'000'000;
  sent.clear();
  for (uint64_t i = 0; i <= 30; ++i) {
    CHECK_EQ(r.build_checks(ids, 1, t1 + i * 1'000'000), 1u);
    sent.emplace_back(r.checks()[0].data + 8, r.checks()[0].data + 20);
  }
  TestRecvBatch window;
  window.add(MakeResponse(sent[0].data(), remote_pw), 1, 5000);
  window.add(MakeResponse(sent[15].data(), remote_pw), 1, 5000);
  window.add(MakeResponse(sent[30].data(), remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(window.target(), window.n, window.status, t1 + 30'000'000), 3);
  // Checks sent faster than the cap allows: only then is the oldest given up.
  const uint64_t t2 = t1 + 100'000'000;
  sent.clear();
  for (uint64_t i = 0; i < kStunConsentOutstanding + 1; ++i) {
    CHECK_EQ(r.build_checks(ids, 1, t2 + i), 1u);
    sent.emplace_back(r.checks()[0].data + 8, r.checks()[0].data + 20);
  }
  TestRecvBatch ring;
  ring.add(MakeResponse(sent[0].data(), remote_pw), 1, 5000);
  ring.add(MakeResponse(sent[1].data(), remote_pw), 1, 5000);
  ring.add(MakeResponse(sent.back().data(), remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(ring.target(), ring.n, ring.status, t2 + 100), 2);
  CHECK_EQ(ring.status[0], kRecvNotRouted);
  // A response signed with MESSAGE-INTEGRITY but without FINGERPRINT refreshes consent, as in the
  // agent in JavaScript (StunMessage.decode accepts it); a wrong MESSAGE-INTEGRITY still does not.
  CHECK_EQ(r.build_checks(ids, 1, t2 + 1000), 1u);
  std::vector<uint8_t> plain_id(r.checks()[0].data + 8, r.checks()[0].data + 20);
  TestRecvBatch no_fp;
  no_fp.add(MakeResponse(plain_id.data(), "not-the-remote-password", 0x0101, false), 1, 5000);
  no_fp.add(MakeResponse(plain_id.data(), remote_pw, 0x0101, false), 1, 5000);
  const double bad_before = r.counters().responses_bad_integrity;
  CHECK_EQ(r.answer_batch(no_fp.target(), no_fp.n, no_fp.status, t2 + 2000), 1);
  CHECK_EQ(no_fp.status[0], kRecvNotRouted);
  CHECK_EQ(no_fp.status[1], kRecvConsentAnswered);
  CHECK_EQ(r.counters().responses_bad_integrity, bad_before + 1);
  // The ids none was built for are reported: no registration, one that sends no checks.
  CHECK_EQ(r.build_checks(ids, 3, t2 + 3000), 1u);
  CHECK_EQ(r.unsent_count(), 2u);
  CHECK_EQ(r.unsent()[0], plain);
  CHECK_EQ(r.unsent()[1], 12345u);
  // Removed: its checks go with it.
  CHECK(r.remove(id));
  CHECK_EQ(r.build_checks(ids, 1, now), 0u);
}


// RFC 8489 §14.5: an attribute after MESSAGE-INTEGRITY (other than FINGERPRINT) is ignored, so a peer that
// appends one is still verified; MESSAGE-INTEGRITY is still checked and FINGERPRINT still covers it.
void TestAttributeAfterIntegrityIgnored() {
  const std::string pw = "remote-password-of-22ch";
  HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(pw.data()), pw.size());
  const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (const bool fingerprint : {false, true}) {
    std::vector<uint8_t> m = MakeResponse(txid, pw, 0x0101, false);
    // An unknown comprehension-optional attribute and a second MESSAGE-INTEGRITY-shaped one (ignored).
    m.insert(m.end(), {0xC0, 0x57, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef});
    m.insert(m.end(), {0x00, 0x08, 0x00, 0x14});
    m.insert(m.end(), 20, 0xaa);
    const uint16_t total = static_cast<uint16_t>(m.size() + (fingerprint ? 8 : 0) - 20);
    m[2] = static_cast<uint8_t>(total >> 8);
    m[3] = static_cast<uint8_t>(total);
    if (fingerprint) {
      const uint32_t fp = stun_fingerprint(m.data(), m.size());
      m.insert(m.end(), {0x80, 0x28, 0x00, 0x04, uint8_t(fp >> 24), uint8_t(fp >> 16), uint8_t(fp >> 8), uint8_t(fp)});
    }
    CHECK(stun_consent_response_check(m.data(), m.size(), key) == StunConsentResponse::kVerified);
    HmacSha1 other;
    other.Init(reinterpret_cast<const uint8_t*>("another-password"), 16);
    CHECK(stun_consent_response_check(m.data(), m.size(), other) == StunConsentResponse::kBadIntegrity);
    if (fingerprint) {
      std::vector<uint8_t> bad = m;
      bad[bad.size() - 12] ^= 0x01;  // inside the ignored attribute: FINGERPRINT no longer matches
      CHECK(stun_consent_response_check(bad.data(), bad.size(), key) == StunConsentResponse::kBadFingerprint);
    }
  }
}

}  // namespace

// A username too long to build a check with (more than 513 bytes: only reachable past the 256-char
// ufrag cap the agent applies) builds nothing, is reported as unsent and evicts no outstanding check.
void TestUnbuildableCheck() {
  const std::string remote_pw = "remote-password-of-22ch";
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  StunConsentResponder r;
  const StunConsentCheckSetup setup{remote_pw, 1, tie, 30000};
  const uint32_t ok = r.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", "local-password-0123456", true, &setup);
  const std::string long_ufrag(600, 'a');
  const uint32_t bad = r.add(Key4(2, 5000), Dest4(2, 5000), "loc", long_ufrag, "local-password-0123456", true, &setup);
  CHECK(ok != 0 && bad != 0);
  const uint32_t ids[2] = {bad, ok};
  CHECK_EQ(r.build_checks(ids, 2, 1'000'000), 1u);
  CHECK_EQ(r.unsent_count(), 1u);
  CHECK_EQ(r.unsent()[0], bad);
  CHECK_EQ(r.counters().checks_sent, 1.0);
  std::vector<uint8_t> live(r.checks()[0].data + 8, r.checks()[0].data + 20);
  for (int i = 0; i < 100; ++i) CHECK_EQ(r.build_checks(ids, 1, 1'000'000 + i), 0u);
  TestRecvBatch answer;
  answer.add(MakeResponse(live.data(), remote_pw), 1, 5000);
  CHECK_EQ(r.answer_batch(answer.target(), answer.n, answer.status, 2'000'000), 1);
}

// Each response from a registered remote is counted under exactly one reason; the answer to a check the
// agent sent itself (note_agent_check) is the agent's: left to it, counted as responses_to_agent.
void TestAgentChecks() {
  const std::string remote_pw = "remote-password-of-22ch";
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  StunConsentResponder r;
  const StunConsentCheckSetup setup{remote_pw, 1, tie, 30000};
  const uint32_t id = r.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", "local-password-0123456", true, &setup);
  const uint32_t plain = r.add(Key4(2, 5000), Dest4(2, 5000), "loc2", "rem2", "local-password-0123456", true);
  // The agent's own check: a Binding request with its transaction id (built here as the agent would).
  HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(remote_pw.data()), remote_pw.size());
  const StunConsentCheckParams params{"rem:loc", &key, 1, true, tie};
  const uint8_t agent_txid[12] = {0xa6, 0xe7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  uint8_t request[kStunConsentCheckMax];
  const size_t len = stun_consent_check_build(params, agent_txid, request);
  CHECK(len > 0);
  CHECK(!r.note_agent_check(plain, request, len, 1'000'000));  // sends no checks
  CHECK(!r.note_agent_check(9999, request, len, 1'000'000));   // no such registration
  std::vector<uint8_t> answer = MakeResponse(agent_txid, remote_pw);
  CHECK(!r.note_agent_check(id, answer.data(), answer.size(), 1'000'000));  // not a request
  CHECK(!r.note_agent_check(id, request, 19, 1'000'000));                   // truncated
  CHECK(r.note_agent_check(id, request, len, 1'000'000));
  // Our own check beside it.
  const uint32_t ids[1] = {id};
  CHECK_EQ(r.build_checks(ids, 1, 1'000'000), 1u);
  std::vector<uint8_t> ours(r.checks()[0].data + 8, r.checks()[0].data + 20);
  TestRecvBatch b;
  b.add(answer, 1, 5000);                               // the agent's answer: left to the agent, its reason
  b.add(answer, 1, 5000);                               // its replay: an unknown transaction
  b.add(MakeResponse(ours.data(), remote_pw), 1, 5000);  // ours: consumed
  std::vector<uint8_t> forged = MakeResponse(agent_txid, "not-the-remote-password");
  b.add(forged, 1, 5000);                                // the agent's id, a wrong password: a drop
  CHECK_EQ(r.answer_batch(b.target(), b.n, b.status, 1'100'000), 1);
  CHECK_EQ(b.status[0], kRecvNotRouted);
  CHECK_EQ(b.status[1], kRecvNotRouted);
  CHECK_EQ(b.status[2], kRecvConsentAnswered);
  CHECK_EQ(b.status[3], kRecvNotRouted);
  const StunConsentCounters& c = r.counters();
  CHECK_EQ(c.responses_to_agent, 1.0);
  CHECK_EQ(c.responses_verified, 1.0);
  CHECK_EQ(c.responses_unknown_transaction, 1.0);
  CHECK_EQ(c.responses_bad_integrity, 1.0);
  // Four datagrams, four reasons: none counted twice.
  CHECK_EQ(c.responses_to_agent + c.responses_verified + c.responses_unknown_transaction + c.responses_bad_integrity +
               c.responses_bad_fingerprint + c.responses_error + c.responses_malformed,
           4.0);
  // The agent's answers do not refresh consent natively: only ours is reported.
  uint32_t taken[kStunConsentTakeStride];
  CHECK_EQ(r.take_answered(taken, 1, 1'200'000), 1u);
  CHECK_EQ(taken[3], 1u);
}

// The agent retransmits its checks (RFC 8489 §6.2.1: same transaction id) and sends many in a lossy
// period: a retransmission refreshes its slot (one answer is the agent's, a second one is unknown), and
// agent checks never take the slot of a native consent check (their own cap, oldest reused), so the
// late answers of all kStunConsentOutstanding native checks still refresh consent.
void TestAgentRetransmits() {
  const std::string remote_pw = "remote-password-of-22ch";
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  StunConsentResponder r;
  const StunConsentCheckSetup setup{remote_pw, 1, tie, 30000};
  const uint32_t id = r.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", "local-password-0123456", true, &setup);
  const uint32_t ids[1] = {id};
  HmacSha1 key;
  key.Init(reinterpret_cast<const uint8_t*>(remote_pw.data()), remote_pw.size());
  const StunConsentCheckParams params{"rem:loc", &key, 1, true, tie};
  auto agent_request = [&](uint8_t a, uint8_t b, std::vector<uint8_t>& txid) {
    txid = {0xa6, 0xe7, a, b, 3, 4, 5, 6, 7, 8, 9, 10};
    std::vector<uint8_t> m(kStunConsentCheckMax);
    m.resize(stun_consent_check_build(params, txid.data(), m.data()));
    CHECK(!m.empty());
    return m;
  };
  auto answer = [&](const std::vector<uint8_t>& txid, uint64_t at) {
    TestRecvBatch b;
    b.add(MakeResponse(txid.data(), remote_pw), 1, 5000);
    r.answer_batch(b.target(), b.n, b.status, at);
    return b.status[0];
  };
  uint64_t now = 1'000'000;
  // One native check and one agent check retransmitted 200 times (every 5 ms; RFC 8445 pacing is faster
  // than real retransmits, which only makes the test harder): two slots, not 201.
  CHECK_EQ(r.build_checks(ids, 1, now), 1u);
  std::vector<uint8_t> retx_id;
  const std::vector<uint8_t> retx = agent_request(0, 0, retx_id);
  for (int i = 0; i < 200; ++i) CHECK(r.note_agent_check(id, retx.data(), retx.size(), now + 5'000 * i));
  CHECK(r.outstanding_capacity(id) <= 4u);
  now += 1'000'000;
  // The refresh keeps it live past the timeout measured from the first send (30 s after it, 29 after the last).
  CHECK_EQ(answer(retx_id, 1'000'000 + 199 * 5'000 + 29'000'000), kRecvNotRouted);
  CHECK_EQ(r.counters().responses_to_agent, 1.0);
  CHECK_EQ(answer(retx_id, 1'000'000 + 199 * 5'000 + 29'000'001), kRecvNotRouted);  // a second answer: one slot only
  CHECK_EQ(r.counters().responses_unknown_transaction, 1.0);
  CHECK_EQ(r.counters().responses_to_agent, 1.0);

  // A lossy period: kStunConsentOutstanding native checks unanswered, then 100 distinct agent checks,
  // each retransmitted three times.
  StunConsentResponder r2;
  const uint32_t id2 = r2.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", "local-password-0123456", true, &setup);
  const uint32_t ids2[1] = {id2};
  now = 1'000'000;
  std::vector<std::vector<uint8_t>> natives;
  for (size_t i = 0; i < kStunConsentOutstanding; ++i) {
    CHECK_EQ(r2.build_checks(ids2, 1, now), 1u);
    natives.emplace_back(r2.checks()[0].data + 8, r2.checks()[0].data + 20);
    now += 100'000;
  }
  std::vector<std::vector<uint8_t>> agents;
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> txid;
    const std::vector<uint8_t> m = agent_request(1, static_cast<uint8_t>(i), txid);
    for (int k = 0; k < 3; ++k) CHECK(r2.note_agent_check(id2, m.data(), m.size(), now + k * 1000));
    agents.push_back(txid);
    now += 10'000;
  }
  CHECK(r2.outstanding_capacity(id2) <= 2 * (kStunConsentOutstanding + kStunConsentAgentOutstanding));
  // Every native check's late answer still counts (none was evicted by the agent's checks).
  auto answer2 = [&](const std::vector<uint8_t>& txid) {
    TestRecvBatch b;
    b.add(MakeResponse(txid.data(), remote_pw), 1, 5000);
    r2.answer_batch(b.target(), b.n, b.status, now);
    return b.status[0];
  };
  for (const auto& t : natives) CHECK_EQ(answer2(t), kRecvConsentAnswered);
  CHECK_EQ(r2.counters().responses_verified, static_cast<double>(kStunConsentOutstanding));
  // The newest kStunConsentAgentOutstanding agent checks are the agent's; older ones gave their slot up.
  for (size_t i = 0; i < agents.size(); ++i) CHECK_EQ(answer2(agents[i]), kRecvNotRouted);
  CHECK_EQ(r2.counters().responses_to_agent, static_cast<double>(kStunConsentAgentOutstanding));
  CHECK_EQ(r2.counters().responses_unknown_transaction, static_cast<double>(agents.size() - kStunConsentAgentOutstanding));
  uint32_t taken[kStunConsentTakeStride];
  CHECK_EQ(r2.take_answered(taken, 1, now), 1u);
  CHECK_EQ(taken[3], static_cast<uint32_t>(kStunConsentOutstanding));
}

// After a period of lost answers (a check a second for 40 s, as the agent sends after a miss) the
// outstanding slots shrink back once answers return: the registration's C heap does not grow.
void TestOutstandingShrinks() {
  const std::string remote_pw = "remote-password-of-22ch";
  const uint8_t tie[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  StunConsentResponder r;
  const StunConsentCheckSetup setup{remote_pw, 1, tie, 30000};
  const uint32_t id = r.add(Key4(1, 5000), Dest4(1, 5000), "loc", "rem", "local-password-0123456", true, &setup);
  const uint32_t ids[1] = {id};
  uint64_t now = 1'000'000;
  // One answered check every 5 s for a minute.
  auto answered_period = [&](int checks) {
    for (int i = 0; i < checks; ++i) {
      CHECK_EQ(r.build_checks(ids, 1, now), 1u);
      std::vector<uint8_t> txid(r.checks()[0].data + 8, r.checks()[0].data + 20);
      TestRecvBatch b;
      b.add(MakeResponse(txid.data(), remote_pw), 1, 5000);
      CHECK_EQ(r.answer_batch(b.target(), b.n, b.status, now + 20'000), 1);
      now += 5'000'000;
    }
  };
  answered_period(12);
  const size_t idle_capacity = r.outstanding_capacity(id);
  CHECK_EQ(idle_capacity, 2u);
  const size_t heap_before = g_live_bytes.load();
  // 40 s of lost answers: a check a second, 30 s of them outstanding.
  for (int i = 0; i < 40; ++i) {
    CHECK_EQ(r.build_checks(ids, 1, now), 1u);
    now += 1'000'000;
  }
  CHECK(r.outstanding_capacity(id) >= 31);
  CHECK(g_live_bytes.load() > heap_before);  // the lost checks' slots: what must be given back
  // Answers return: within the consent timeout the slots of the lost checks expire and are given back.
  answered_period(12);
  CHECK_EQ(r.outstanding_capacity(id), idle_capacity);
  CHECK(g_live_bytes.load() > 0);
  CHECK_EQ(g_live_bytes.load(), heap_before);
  // A hundred cycles of loss and recovery: never more than the bound, back to 4 slots each time.
  for (int cycle = 0; cycle < 100; ++cycle) {
    for (int i = 0; i < 35; ++i) {
      CHECK_EQ(r.build_checks(ids, 1, now), 1u);
      CHECK(r.outstanding_capacity(id) <= kStunConsentOutstanding);
      now += 1'000'000;
    }
    answered_period(7);
    CHECK_EQ(r.outstanding_capacity(id), idle_capacity);
  }
  CHECK_EQ(g_live_bytes.load(), heap_before);
}

int main() {
  TestCheckLayout();
  TestResponderChecks();
  TestUnbuildableCheck();
  TestAttributeAfterIntegrityIgnored();
  TestAgentChecks();
  TestAgentRetransmits();
  TestOutstandingShrinks();
  TEST_MAIN_END();
}
