// libFuzzer target: the DTLS engine after the handover (docs/dtls.md, "Handover"): a connected
// server engine whose records our DtlsRecordLayer carries (RFC 6347 section 4.1) is fed raw
// datagrams and records sealed with the client's real keys (so alerts, handshake and data records
// reach the paths behind authentication). Input: operations, each op(1) len(2) bytes: op bit 0
// clear = raw datagram; set = a sealed record, bytes[0] its content type and the rest its
// plaintext, sealed at the next sequence number (op bit 1: reuse the previous one, a replay).
// Invariants: no ASan/UBSan report, every datagram counted, a raw datagram never makes the engine
// send anything or change state, and only a sealed fatal alert or close_notify ends the session.
#include <openssl/ssl.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_record_layer.hpp"

namespace pwt_fuzz {

struct RecordFuzzSecrets {
  uint8_t master[48];
  uint8_t client_random[32];
  uint8_t server_random[32];
  bool set = false;
};

inline RecordFuzzSecrets& Secrets() {
  static RecordFuzzSecrets s;
  return s;
}

inline void RecordFuzzKeyLog(const SSL* ssl, const char*) {
  RecordFuzzSecrets& s = Secrets();
  s.set = SSL_SESSION_get_master_key(SSL_get0_session(ssl), s.master, 48) == 48 &&
          SSL_get_client_random(ssl, s.client_random, 32) == 32 && SSL_get_server_random(ssl, s.server_random, 32) == 32;
}

struct RecordFuzzIdentity {
  std::shared_ptr<pwt::DtlsCertificate> cert;
  std::shared_ptr<pwt::DtlsContext> ctx;
  pwt::RemoteFingerprint fp;
};

/** One certificate per side per process: generating keys per input would dominate the run. */
inline RecordFuzzIdentity MakeIdentity(bool keylog) {
  RecordFuzzIdentity id;
  pwt::CertificateStatus st;
  id.cert = pwt::DtlsCertificate::Generate(pwt::DtlsKeyType::kEcdsaP256, 86400, &st);
  if (st != pwt::CertificateStatus::kOk) std::abort();
  id.ctx = pwt::DtlsContext::Create(id.cert);
  if (!id.ctx) std::abort();
  if (keylog) SSL_CTX_set_keylog_callback(id.ctx->ssl_ctx(), RecordFuzzKeyLog);
  id.fp.digest.resize(32);
  if (id.cert->Fingerprint(pwt::FingerprintAlgorithm::kSha256, id.fp.digest.data(), 32) != 32) std::abort();
  return id;
}

inline void MoveAll(pwt::DtlsEngine& from, pwt::DtlsEngine& to, std::vector<uint8_t>& buf, std::vector<uint32_t>& lens) {
  while (!from.outgoing().empty()) {
    size_t n = from.outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size());
    if (n == 0) return;
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
      to.HandleDatagram(buf.data() + off, lens[i]);
      off += lens[i];
    }
  }
}

inline void FuzzDtlsRecordsOnce(const uint8_t* data, size_t size) {
  static RecordFuzzIdentity client_id = MakeIdentity(true);
  static RecordFuzzIdentity server_id = MakeIdentity(false);
  pwt::DtlsStatus st;
  pwt::DtlsEngineConfig cc;
  cc.role = pwt::DtlsRole::kClient;
  pwt::DtlsEngineConfig sc;
  sc.role = pwt::DtlsRole::kServer;
  auto client = pwt::DtlsEngine::Create(client_id.ctx, cc, &st);
  auto server = pwt::DtlsEngine::Create(server_id.ctx, sc, &st);
  if (!client || !server) std::abort();
  client->SetRemoteFingerprints({server_id.fp});
  server->SetRemoteFingerprints({client_id.fp});
  Secrets().set = false;
  client->Start();
  server->Start();
  std::vector<uint8_t> buf(64 * 1024);
  std::vector<uint32_t> lens(256);
  for (int i = 0; i < 20 && (!client->outgoing().empty() || !server->outgoing().empty()); ++i) {
    MoveAll(*client, *server, buf, lens);
    MoveAll(*server, *client, buf, lens);
  }
  if (server->state() != pwt::DtlsState::kConnected || !server->handed_over() || !Secrets().set) std::abort();
  const pwt::DtlsSuite* suite = pwt::FindDtlsSuite(0xC02B);
  // The client's keys, far ahead of what the real client wrote.
  auto peer = pwt::DtlsRecordLayer::Create(*suite, Secrets().master, Secrets().client_random,
                                           Secrets().server_random, true, 100);
  auto replayer = pwt::DtlsRecordLayer::Create(*suite, Secrets().master, Secrets().client_random,
                                               Secrets().server_random, true, 100);
  if (!peer || !replayer) std::abort();
  std::vector<uint8_t> rec(16384 + 64);
  std::vector<uint8_t> app(64 * 1024);
  const uint64_t counted_before = server->counters().datagrams_in;
  uint64_t fed = 0;
  size_t off = 0;
  while (off + 3 <= size && fed < 64) {
    const uint8_t op = data[off];
    size_t len = (static_cast<size_t>(data[off + 1]) << 8) | data[off + 2];
    off += 3;
    if (len > size - off) len = size - off;
    std::vector<uint8_t> bytes(data + off, data + off + len);
    off += len;
    const pwt::DtlsState before = server->state();
    ++fed;
    if ((op & 1) == 0) {
      server->HandleDatagram(bytes.empty() ? nullptr : bytes.data(), bytes.size());
      if (!server->outgoing().empty() || server->state() != before) {
        std::fprintf(stderr, "fuzz invariant broken: an unauthenticated datagram had an effect\n");
        std::abort();
      }
      continue;
    }
    const uint8_t type = bytes.empty() ? 23 : bytes[0];
    const uint8_t* plain = bytes.size() > 1 ? bytes.data() + 1 : nullptr;
    const size_t plain_len = bytes.size() > 1 ? bytes.size() - 1 : 0;
    // A replay: the same record sealed again at the sequence number the other layer just used.
    pwt::DtlsRecordLayer& layer = (op & 2) != 0 ? *replayer : *peer;
    size_t n = layer.Protect(type, plain, plain_len, rec.data(), rec.size());
    if (&layer == peer.get()) replayer = pwt::DtlsRecordLayer::Create(*suite, Secrets().master, Secrets().client_random,
                                                                       Secrets().server_random, true,
                                                                       peer->next_write_seq() - 1);
    if (n == 0) {
      server->HandleDatagram(nullptr, 0);
    } else {
      server->HandleDatagram(rec.data(), n);
    }
    const bool ending_alert = type == 21 && plain_len == 2 && (plain[1] == 0 || plain[0] == 2);
    if (server->state() != before && !ending_alert) {
      std::fprintf(stderr, "fuzz invariant broken: the state changed without a fatal alert or close_notify\n");
      std::abort();
    }
    while (!server->outgoing().empty()) {
      if (server->outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size()) == 0) break;
    }
    server->DrainData(app.data(), app.size(), lens.data(), lens.size());
  }
  if (server->counters().datagrams_in - counted_before != fed) {
    std::fprintf(stderr, "fuzz invariant broken: datagrams not counted\n");
    std::abort();
  }
  server->Close();
}

}  // namespace pwt_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pwt_fuzz::FuzzDtlsRecordsOnce(data, size);
  return 0;
}
