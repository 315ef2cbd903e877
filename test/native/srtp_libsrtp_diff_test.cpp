// Differential test against libsrtp (Debian libsrtp2, the oracle): for every profile it
// supports, thousands of random RTP/RTCP packets (CSRCs, extensions, padding, several SSRCs,
// sequence wrap) go ours -> libsrtp and libsrtp -> ours; SRTP output must be byte-identical.
#include <srtp2/srtp.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "native/srtp/srtp_session.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

struct Case {
  SrtpProfile ours;
  srtp_profile_t theirs;
};

srtp_t MakeLibsrtp(srtp_profile_t profile, const uint8_t* key_salt, bool outbound) {
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof(policy));
  CHECK(srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, profile) == srtp_err_status_ok);
  CHECK(srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, profile) == srtp_err_status_ok);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = const_cast<uint8_t*>(key_salt);
  policy.window_size = 1024;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  CHECK(srtp_create(&ctx, &policy) == srtp_err_status_ok);
  return ctx;
}

std::vector<uint8_t> RandomRtp(std::mt19937& rng, uint16_t seq, uint32_t ssrc) {
  const int csrcs = static_cast<int>(rng() % 4);
  const bool ext = rng() % 2;
  const size_t payload = rng() % 1400;
  std::vector<uint8_t> p(12);
  p[0] = static_cast<uint8_t>(0x80 | (ext ? 0x10 : 0) | csrcs);
  p[1] = static_cast<uint8_t>(rng() % 2 ? 96 : 0x80 | 111);
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  WriteU32(p.data() + 4, static_cast<uint32_t>(rng()));
  WriteU32(p.data() + 8, ssrc);
  for (int i = 0; i < csrcs * 4; ++i) p.push_back(static_cast<uint8_t>(rng()));
  if (ext) {
    const size_t words = rng() % 4;
    p.insert(p.end(), {0xbe, 0xde, 0, static_cast<uint8_t>(words)});
    for (size_t i = 0; i < words * 4; ++i) p.push_back(static_cast<uint8_t>(rng()));
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(rng()));
  return p;
}

std::vector<uint8_t> RandomRtcp(std::mt19937& rng, uint32_t ssrc) {
  const size_t words = 1 + rng() % 60;
  std::vector<uint8_t> p(4 + words * 4);
  for (auto& b : p) b = static_cast<uint8_t>(rng());
  p[0] = 0x81;
  p[1] = static_cast<uint8_t>(200 + rng() % 8);
  p[2] = static_cast<uint8_t>((words) >> 8);
  p[3] = static_cast<uint8_t>(words);
  WriteU32(p.data() + 4, ssrc);
  return p;
}

void RunProfile(const Case& c, uint32_t seed) {
  SrtpProfileParams params{};
  CHECK(GetSrtpProfileParams(c.ours, &params));
  std::mt19937 rng(seed);
  uint8_t a[46], b[46];  // key || salt of both directions
  for (auto& x : a) x = static_cast<uint8_t>(rng());
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  const size_t kl = params.key_len, sl = params.salt_len;

  SrtpSession ours_tx, ours_rx;
  CHECK(ours_tx.Key(c.ours, a, kl, a + kl, sl, b, kl, b + kl, sl) == SrtpStatus::kOk);
  CHECK(ours_rx.Key(c.ours, a, kl, a + kl, sl, b, kl, b + kl, sl) == SrtpStatus::kOk);
  srtp_t lib_rx = MakeLibsrtp(c.theirs, a, false);   // receives what ours_tx sends
  srtp_t lib_ref = MakeLibsrtp(c.theirs, a, true);   // protects the same stream for byte comparison
  srtp_t lib_tx = MakeLibsrtp(c.theirs, b, true);    // sends to ours_rx

  const uint32_t ssrcs[3] = {0x11111111u, 0xdeadbeefu, static_cast<uint32_t>(rng())};
  uint16_t seq[3] = {65000, 1, static_cast<uint16_t>(rng())};
  int mismatches = 0;
  for (int n = 0; n < 3000; ++n) {
    const int s = static_cast<int>(rng() % 3);
    seq[s] = static_cast<uint16_t>(seq[s] + 1 + (rng() % 8 == 0 ? rng() % 50 : 0));
    const std::vector<uint8_t> clear = RandomRtp(rng, seq[s], ssrcs[s]);
    std::vector<uint8_t> mine(clear), ref(clear);
    mine.resize(clear.size() + SRTP_MAX_TRAILER_LEN);
    ref.resize(clear.size() + SRTP_MAX_TRAILER_LEN);
    size_t mine_len = 0;
    int ref_len = static_cast<int>(clear.size());
    CHECK(ours_tx.protect_rtp(mine.data(), clear.size(), mine.size(), &mine_len) == SrtpStatus::kOk);
    CHECK(srtp_protect(lib_ref, ref.data(), &ref_len) == srtp_err_status_ok);
    if (mine_len != static_cast<size_t>(ref_len) || std::memcmp(mine.data(), ref.data(), mine_len) != 0) ++mismatches;
    int lib_len = static_cast<int>(mine_len);
    CHECK(srtp_unprotect(lib_rx, mine.data(), &lib_len) == srtp_err_status_ok);
    CHECK_EQ(static_cast<size_t>(lib_len), clear.size());
    CHECK_MEM(mine.data(), clear.data(), clear.size());

    // The reverse direction: libsrtp protects, we unprotect.
    std::vector<uint8_t> theirs(clear);
    theirs.resize(clear.size() + SRTP_MAX_TRAILER_LEN);
    int their_len = static_cast<int>(clear.size());
    CHECK(srtp_protect(lib_tx, theirs.data(), &their_len) == srtp_err_status_ok);
    size_t back = 0;
    CHECK(ours_rx.unprotect(theirs.data(), static_cast<size_t>(their_len), &back) == SrtpStatus::kOk);
    CHECK_EQ(back, clear.size());
    CHECK_MEM(theirs.data(), clear.data(), clear.size());

    if (n % 3 == 0) {
      const std::vector<uint8_t> rtcp = RandomRtcp(rng, ssrcs[s]);
      std::vector<uint8_t> r1(rtcp), r2(rtcp);
      r1.resize(rtcp.size() + SRTP_MAX_TRAILER_LEN + 4);
      r2.resize(rtcp.size() + SRTP_MAX_TRAILER_LEN + 4);
      size_t l1 = 0;
      CHECK(ours_tx.protect_rtcp(r1.data(), rtcp.size(), r1.size(), &l1) == SrtpStatus::kOk);
      int ll1 = static_cast<int>(l1);
      CHECK(srtp_unprotect_rtcp(lib_rx, r1.data(), &ll1) == srtp_err_status_ok);
      CHECK_EQ(static_cast<size_t>(ll1), rtcp.size());
      CHECK_MEM(r1.data(), rtcp.data(), rtcp.size());
      int l2 = static_cast<int>(rtcp.size());
      CHECK(srtp_protect_rtcp(lib_tx, r2.data(), &l2) == srtp_err_status_ok);
      size_t b2 = 0;
      CHECK(ours_rx.unprotect(r2.data(), static_cast<size_t>(l2), &b2) == SrtpStatus::kOk);
      CHECK_EQ(b2, rtcp.size());
      CHECK_MEM(r2.data(), rtcp.data(), rtcp.size());
    }
  }
  CHECK_EQ(mismatches, 0);
  CHECK_EQ(ours_rx.counters().rtp_unprotected, uint64_t{3000});
  srtp_dealloc(lib_rx);
  srtp_dealloc(lib_ref);
  srtp_dealloc(lib_tx);
}

}  // namespace

int main() {
  CHECK(srtp_init() == srtp_err_status_ok);
  const Case cases[] = {
      {SrtpProfile::kAes128CmHmacSha1_80, srtp_profile_aes128_cm_sha1_80},
      {SrtpProfile::kAes128CmHmacSha1_32, srtp_profile_aes128_cm_sha1_32},
      {SrtpProfile::kAeadAes128Gcm, srtp_profile_aead_aes_128_gcm},
      {SrtpProfile::kAeadAes256Gcm, srtp_profile_aead_aes_256_gcm},
  };
  uint32_t seed = 7;
  for (const Case& c : cases) RunProfile(c, seed++);
  srtp_shutdown();
  TEST_MAIN_END();
}
