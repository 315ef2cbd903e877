// Shared body of the DTLS engine fuzz targets (RFC 6347 record layer and handshake via OpenSSL,
// our record pre-check, RFC 5764 use_srtp): a fresh engine in the given role is fed the input as
// a sequence of datagrams, each a 16-bit big-endian length and its bytes (a length past the end
// takes what is left). Outgoing records are drained after every datagram. Invariants: no
// ASan/UBSan report, every datagram counted, and never connected (no peer holds the key of the
// pinned fingerprint).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_engine.hpp"

namespace pwt_fuzz {

/** One certificate and context per process: generating a key per input would dominate the run. */
inline std::shared_ptr<pwt::DtlsContext> FuzzDtlsContext() {
  static std::shared_ptr<pwt::DtlsContext> context = [] {
    pwt::CertificateStatus st;
    auto cert = pwt::DtlsCertificate::Generate(pwt::DtlsKeyType::kEcdsaP256, 86400, &st);
    if (st != pwt::CertificateStatus::kOk) std::abort();
    return pwt::DtlsContext::Create(cert);
  }();
  return context;
}

inline void FuzzDtlsOnce(const uint8_t* data, size_t size, pwt::DtlsRole role) {
  pwt::DtlsEngineConfig config;
  config.role = role;
  pwt::DtlsStatus st;
  auto engine = pwt::DtlsEngine::Create(FuzzDtlsContext(), config, &st);
  if (!engine || st != pwt::DtlsStatus::kOk) std::abort();
  pwt::RemoteFingerprint fp;
  fp.digest.assign(32, 0x5a);
  if (engine->SetRemoteFingerprints({fp}) != pwt::DtlsStatus::kOk) std::abort();
  if (engine->Start() != pwt::DtlsStatus::kOk) std::abort();
  std::vector<uint8_t> out(64 * 1024);
  std::vector<uint32_t> lens(256);
  std::vector<uint8_t> app(64 * 1024);
  uint64_t fed = 0;
  size_t off = 0;
  while (off + 2 <= size && fed < 64) {
    size_t len = (static_cast<size_t>(data[off]) << 8) | data[off + 1];
    off += 2;
    if (len > size - off) len = size - off;
    // A copy sized exactly to the datagram, so ASan sees any read past its end.
    std::vector<uint8_t> datagram(data + off, data + off + len);
    engine->HandleDatagram(datagram.empty() ? nullptr : datagram.data(), datagram.size());
    off += len;
    ++fed;
    while (!engine->outgoing().empty()) {
      if (engine->outgoing().DrainInto(out.data(), out.size(), lens.data(), lens.size()) == 0) break;
    }
    engine->DrainData(app.data(), app.size(), lens.data(), lens.size());
  }
  if (engine->counters().datagrams_in != fed) {
    std::fprintf(stderr, "fuzz invariant broken: %llu datagrams fed, %llu counted\n", static_cast<unsigned long long>(fed),
                 static_cast<unsigned long long>(engine->counters().datagrams_in));
    std::abort();
  }
  if (engine->was_connected()) {
    std::fprintf(stderr, "fuzz invariant broken: connected to a peer that cannot match the fingerprint\n");
    std::abort();
  }
  engine->Close();
}

}  // namespace pwt_fuzz
