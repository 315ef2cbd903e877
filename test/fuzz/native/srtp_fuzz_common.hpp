// Shared body of the SRTP/SRTCP fuzz targets (RFC 3711 sections 3.3 and 3.4, RFC 7714 GCM): for
// every protection profile, with fixed keys, the input is (1) unprotected as received, (2)
// protected as a clear packet and unprotected again (must succeed and give the input back),
// (3) unprotected a second time (must be a replay) and (4) unprotected with one byte changed
// (must fail). Any other outcome, or an ASan/UBSan report, is a finding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "native/srtp/srtp_profile.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/srtp/srtp_status.hpp"

namespace pwt_fuzz {

inline void FuzzFail(const char* what, pwt::SrtpProfile profile, pwt::SrtpStatus st) {
  std::fprintf(stderr, "fuzz invariant broken: %s (profile %u, status %s)\n", what, static_cast<unsigned>(profile),
               pwt::SrtpStatusName(st));
  std::abort();
}

/** Runs the four steps for RTP (`rtcp` false) or RTCP (`rtcp` true). */
inline void FuzzSrtpOnce(const uint8_t* data, size_t size, bool rtcp) {
  using pwt::SrtpProfile;
  using pwt::SrtpStatus;
  static const SrtpProfile kProfiles[] = {SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_32,
                                          SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm};
  if (size > 2048) return;
  uint8_t key[32];
  uint8_t salt[14];
  for (size_t i = 0; i < sizeof key; ++i) key[i] = static_cast<uint8_t>(0x10 + i);
  for (size_t i = 0; i < sizeof salt; ++i) salt[i] = static_cast<uint8_t>(0xa0 + i);
  for (SrtpProfile profile : kProfiles) {
    pwt::SrtpProfileParams params{};
    if (!pwt::GetSrtpProfileParams(profile, &params)) std::abort();
    pwt::SrtpSession session;
    // The same keys both ways: what we protect, we can unprotect.
    SrtpStatus st = session.Key(profile, key, params.key_len, salt, params.salt_len, key, params.key_len, salt,
                                params.salt_len);
    if (st != SrtpStatus::kOk) FuzzFail("Key", profile, st);

    std::vector<uint8_t> buf(data, data + size);
    size_t out_len = 0;
    st = rtcp ? session.unprotect_rtcp(buf.data(), buf.size(), &out_len)
              : session.unprotect_rtp(buf.data(), buf.size(), &out_len);
    if (st == SrtpStatus::kOk && out_len > size) FuzzFail("unprotect grew the packet", profile, st);

    pwt::SrtpSession fresh;
    fresh.Key(profile, key, params.key_len, salt, params.salt_len, key, params.key_len, salt, params.salt_len);
    const size_t overhead = rtcp ? fresh.rtcp_overhead() : fresh.rtp_overhead();
    std::vector<uint8_t> wire(size + overhead);
    if (size) std::memcpy(wire.data(), data, size);
    size_t wire_len = 0;
    st = rtcp ? fresh.protect_rtcp(wire.data(), size, wire.size(), &wire_len)
              : fresh.protect_rtp(wire.data(), size, wire.size(), &wire_len);
    if (st != SrtpStatus::kOk) continue;
    if (wire_len != size + overhead) FuzzFail("protect length", profile, st);
    std::vector<uint8_t> copy(wire.begin(), wire.begin() + wire_len);
    std::vector<uint8_t> tampered = copy;
    st = rtcp ? fresh.unprotect_rtcp(wire.data(), wire_len, &out_len) : fresh.unprotect_rtp(wire.data(), wire_len, &out_len);
    if (st != SrtpStatus::kOk) FuzzFail("a packet we protected does not unprotect", profile, st);
    if (out_len != size || (size && std::memcmp(wire.data(), data, size) != 0)) {
      FuzzFail("unprotect(protect(x)) != x", profile, st);
    }
    st = rtcp ? fresh.unprotect_rtcp(copy.data(), copy.size(), &out_len) : fresh.unprotect_rtp(copy.data(), copy.size(), &out_len);
    if (st != SrtpStatus::kReplayed) FuzzFail("second unprotect is not a replay", profile, st);
    // One changed byte anywhere in the authenticated part or the tag must fail authentication
    // (or an earlier check), never succeed. The position comes from the input so it varies.
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
    tampered[h % tampered.size()] ^= static_cast<uint8_t>(1u << (h >> 29));
    pwt::SrtpSession other;
    other.Key(profile, key, params.key_len, salt, params.salt_len, key, params.key_len, salt, params.salt_len);
    st = rtcp ? other.unprotect_rtcp(tampered.data(), tampered.size(), &out_len)
              : other.unprotect_rtp(tampered.data(), tampered.size(), &out_len);
    if (st == SrtpStatus::kOk) FuzzFail("a tampered packet unprotected", profile, st);
  }
}

}  // namespace pwt_fuzz
