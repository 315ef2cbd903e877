// DTLS engine tests: handshakes in both roles for every SRTP profile with identical RFC 5764
// keying material on both ends, fingerprint checks, PEM import, MTU, application data,
// close_notify and hostile datagrams (run under ASan/UBSan by scripts/run-tests.mjs).
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_datagram_queue.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_library_context.hpp"
#include "native/dtls/dtls_record_check.hpp"
#include "native/memory/native_heap_stats.hpp"
#include "test/native/check.hpp"
#include "test/native/key_pool_idle_work.hpp"

using namespace pwt;

namespace pwt {
struct DtlsEngineTestAccess {
  // The next MakeSsl fails as if OpenSSL refused (an allocation failure: nothing else can make it fail).
  static void FailMakeSsl(DtlsEngine& e) { e.fail_make_ssl_for_test_ = true; }
  // Makes the SSL without running any of the handshake (what Create used to do).
  static bool MakeSsl(DtlsEngine& e) { return e.EnsureSsl(); }
};
}  // namespace pwt

namespace {

std::shared_ptr<DtlsCertificate> MakeCert(DtlsKeyType type = DtlsKeyType::kEcdsaP256) {
  CertificateStatus st;
  auto cert = DtlsCertificate::Generate(type, 30L * 86400, &st);
  CHECK(st == CertificateStatus::kOk);
  return cert;
}

RemoteFingerprint Sha256Of(const DtlsCertificate& cert) {
  RemoteFingerprint fp;
  fp.algorithm = FingerprintAlgorithm::kSha256;
  fp.digest.resize(32);
  CHECK_EQ(cert.Fingerprint(FingerprintAlgorithm::kSha256, fp.digest.data(), fp.digest.size()), 32u);
  return fp;
}

struct Pair {
  std::shared_ptr<DtlsCertificate> client_cert = MakeCert();
  std::shared_ptr<DtlsCertificate> server_cert = MakeCert();
  std::unique_ptr<DtlsEngine> client;
  std::unique_ptr<DtlsEngine> server;
  size_t max_datagram = 0;

  Pair(DtlsEngineConfig client_cfg, DtlsEngineConfig server_cfg, bool set_fingerprints = true) {
    client_cfg.role = DtlsRole::kClient;
    server_cfg.role = DtlsRole::kServer;
    DtlsStatus st;
    client = DtlsEngine::Create(DtlsContext::Create(client_cert), client_cfg, &st);
    CHECK(st == DtlsStatus::kOk);
    server = DtlsEngine::Create(DtlsContext::Create(server_cert), server_cfg, &st);
    CHECK(st == DtlsStatus::kOk);
    if (set_fingerprints) {
      CHECK(client->SetRemoteFingerprints({Sha256Of(*server_cert)}) == DtlsStatus::kOk);
      CHECK(server->SetRemoteFingerprints({Sha256Of(*client_cert)}) == DtlsStatus::kOk);
    }
  }

  // Moves every queued datagram from `from` to `to`; returns how many moved.
  size_t Move(DtlsEngine& from, DtlsEngine& to) {
    std::vector<uint8_t> buf(64 * 1024);
    std::vector<uint32_t> lens(256);
    size_t moved = 0;
    while (!from.outgoing().empty()) {
      size_t n = from.outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size());
      size_t off = 0;
      for (size_t i = 0; i < n; ++i) {
        if (lens[i] > max_datagram) max_datagram = lens[i];
        to.HandleDatagram(buf.data() + off, lens[i]);
        off += lens[i];
      }
      moved += n;
    }
    return moved;
  }

  void Pump(int rounds = 20) {
    for (int i = 0; i < rounds; ++i) {
      size_t moved = Move(*client, *server) + Move(*server, *client);
      if (moved == 0) break;
    }
  }
};

void TestHandshakeEveryProfile() {
  const SrtpProfile profiles[] = {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAeadAes256Gcm,
                                  SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAes128CmHmacSha1_32};
  for (SrtpProfile profile : profiles) {
    DtlsEngineConfig only;
    only.srtp_profiles = {profile};
    Pair p(only, DtlsEngineConfig{});
    CHECK(p.client->Start() == DtlsStatus::kOk);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    p.Pump();
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.server->state() == DtlsState::kConnected);
    CHECK_EQ(p.client->srtp_profile(), static_cast<uint16_t>(profile));
    CHECK_EQ(p.server->srtp_profile(), static_cast<uint16_t>(profile));
    CHECK(p.max_datagram <= 1200);
    SrtpKeyingMaterial a;
    SrtpKeyingMaterial b;
    CHECK(p.client->ExportSrtpKeyingMaterial(&a));
    CHECK(p.server->ExportSrtpKeyingMaterial(&b));
    size_t key_len = 0;
    size_t salt_len = 0;
    CHECK(SrtpProfileLengths(static_cast<uint16_t>(profile), &key_len, &salt_len));
    CHECK_EQ(a.client.key_len, key_len);
    CHECK_EQ(a.client.salt_len, salt_len);
    CHECK(a.profile == b.profile);
    CHECK_MEM(a.client.key.data(), b.client.key.data(), key_len);
    CHECK_MEM(a.server.key.data(), b.server.key.data(), key_len);
    CHECK_MEM(a.client.salt.data(), b.client.salt.data(), salt_len);
    CHECK_MEM(a.server.salt.data(), b.server.salt.data(), salt_len);
    CHECK(std::memcmp(a.client.key.data(), a.server.key.data(), key_len) != 0);
    // The split must be the exporter output in RFC 5764 section 4.2 order.
    std::vector<uint8_t> raw(2 * (key_len + salt_len));
    CHECK(p.server->ExportKeyingMaterialForTest("EXTRACTOR-dtls_srtp", raw.data(), raw.size()));
    CHECK_MEM(raw.data(), a.client.key.data(), key_len);
    CHECK_MEM(raw.data() + key_len, a.server.key.data(), key_len);
    CHECK_MEM(raw.data() + 2 * key_len, a.client.salt.data(), salt_len);
    CHECK_MEM(raw.data() + 2 * key_len + salt_len, a.server.salt.data(), salt_len);
    a.wipe();
    b.wipe();
  }
}

void TestServerPreferenceAndRsa() {
  // Default preference list on both ends: AEAD_AES_128_GCM wins; RSA certificates work too.
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
  p.client_cert = MakeCert(DtlsKeyType::kRsa2048);
  DtlsStatus st;
  DtlsEngineConfig cc;
  cc.role = DtlsRole::kClient;
  p.client = DtlsEngine::Create(DtlsContext::Create(p.client_cert), cc, &st);
  CHECK(p.client->SetRemoteFingerprints({Sha256Of(*p.server_cert)}) == DtlsStatus::kOk);
  CHECK(p.server->SetRemoteFingerprints({Sha256Of(*p.client_cert)}) == DtlsStatus::kOk);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK_EQ(p.client->srtp_profile(), static_cast<uint16_t>(SrtpProfile::kAeadAes128Gcm));
  CHECK(p.client->cipher_name().find("GCM") != std::string::npos);
  // What stats report (W3C transport.dtlsCipher / tlsVersion): the IANA name and wire version,
  // the same on both ends.
  CHECK(p.client->cipher_standard_name().rfind("TLS_ECDHE_", 0) == 0);
  CHECK(p.client->cipher_standard_name().find("_GCM_") != std::string::npos);
  CHECK(p.client->cipher_standard_name() == p.server->cipher_standard_name());
  CHECK_EQ(p.client->tls_version(), static_cast<uint16_t>(0xFEFD));
  CHECK_EQ(p.server->tls_version(), static_cast<uint16_t>(0xFEFD));
  CHECK(!p.client->peer_certificate_der().empty());
}

// An RSA certificate on the server's side too (older stacks; ours on request): the server signs
// its ServerKeyExchange with RSA, the suite is ECDHE-RSA, and each side decodes the other's RSA
// key in the handshakes' library context (docs/dtls.md, "Library context"). Both RSA, then an RSA
// server with an ECDSA client.
void TestRsaServer() {
  for (bool rsa_client : {true, false}) {
    Pair p(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
    p.server_cert = MakeCert(DtlsKeyType::kRsa2048);
    if (rsa_client) p.client_cert = MakeCert(DtlsKeyType::kRsa2048);
    DtlsStatus st;
    DtlsEngineConfig cc;
    cc.role = DtlsRole::kClient;
    DtlsEngineConfig sc;
    sc.role = DtlsRole::kServer;
    p.client = DtlsEngine::Create(DtlsContext::Create(p.client_cert), cc, &st);
    p.server = DtlsEngine::Create(DtlsContext::Create(p.server_cert), sc, &st);
    CHECK(p.client->SetRemoteFingerprints({Sha256Of(*p.server_cert)}) == DtlsStatus::kOk);
    CHECK(p.server->SetRemoteFingerprints({Sha256Of(*p.client_cert)}) == DtlsStatus::kOk);
    p.client->Start();
    p.server->Start();
    p.Pump();
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.server->state() == DtlsState::kConnected);
    CHECK(p.client->cipher_standard_name().rfind("TLS_ECDHE_RSA_WITH_", 0) == 0);
    SrtpKeyingMaterial a;
    SrtpKeyingMaterial b;
    CHECK(p.client->ExportSrtpKeyingMaterial(&a));
    CHECK(p.server->ExportSrtpKeyingMaterial(&b));
    CHECK_MEM(a.client.key.data(), b.client.key.data(), a.client.key_len);
    a.wipe();
    b.wipe();
  }
}

void TestWrongFingerprint() {
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
  auto other = MakeCert();
  CHECK(p.client->SetRemoteFingerprints({Sha256Of(*other)}) == DtlsStatus::kOk);
  CHECK(p.server->SetRemoteFingerprints({Sha256Of(*p.client_cert)}) == DtlsStatus::kOk);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kFailed);
  CHECK(p.client->failure_reason().find("fingerprint") != std::string::npos);
  // Nothing negotiated is reported for a handshake that did not complete.
  CHECK(p.client->cipher_standard_name().empty());
  CHECK_EQ(p.client->tls_version(), static_cast<uint16_t>(0));
  CHECK(p.server->state() != DtlsState::kConnected);
  SrtpKeyingMaterial km;
  CHECK(!p.client->ExportSrtpKeyingMaterial(&km));
  CHECK(!p.server->ExportSrtpKeyingMaterial(&km));
}

void TestLateFingerprints() {
  // The remote description may arrive after the handshake: connected only once verified,
  // and a wrong late fingerprint fails without ever exposing keys.
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnecting);
  CHECK(p.server->state() == DtlsState::kConnecting);
  SrtpKeyingMaterial km;
  CHECK(!p.client->ExportSrtpKeyingMaterial(&km));
  // sha-512 and sha-1 entries: any listed algorithm may match.
  RemoteFingerprint fp512;
  fp512.algorithm = FingerprintAlgorithm::kSha512;
  fp512.digest.resize(64);
  CHECK_EQ(p.server_cert->Fingerprint(FingerprintAlgorithm::kSha512, fp512.digest.data(), 64), 64u);
  RemoteFingerprint wrong1;
  wrong1.algorithm = FingerprintAlgorithm::kSha1;
  wrong1.digest.assign(20, 0xab);
  CHECK(p.client->SetRemoteFingerprints({wrong1, fp512}) == DtlsStatus::kOk);
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.client->ExportSrtpKeyingMaterial(&km));
  CHECK(p.server->SetRemoteFingerprints({wrong1}) == DtlsStatus::kOk);
  CHECK(p.server->state() == DtlsState::kFailed);
  CHECK(!p.server->ExportSrtpKeyingMaterial(&km));
  // Re-setting a list that still names the peer keeps the session; one that does not fails it.
  CHECK(p.client->SetRemoteFingerprints({fp512}) == DtlsStatus::kOk);
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.client->SetRemoteFingerprints({wrong1}) == DtlsStatus::kOk);
  CHECK(p.client->state() == DtlsState::kFailed);
  CHECK(!p.client->ExportSrtpKeyingMaterial(&km));
  // Bad lengths are misuse (and a failed engine refuses new lists).
  RemoteFingerprint bad;
  bad.algorithm = FingerprintAlgorithm::kSha256;
  bad.digest.assign(31, 0);
  CHECK(p.client->SetRemoteFingerprints({bad}) == DtlsStatus::kInvalidState);
  Pair q(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
  CHECK(q.client->SetRemoteFingerprints({bad}) == DtlsStatus::kInvalidArgument);
  CHECK(q.client->SetRemoteFingerprints({}) == DtlsStatus::kInvalidArgument);
}

void TestPem() {
  auto cert = MakeCert();
  std::string cert_pem = cert->CertificatePem();
  std::string key_pem = cert->PrivateKeyPem();
  CHECK(cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CertificateStatus st;
  auto loaded = DtlsCertificate::FromPem(cert_pem, key_pem, &st);
  CHECK(st == CertificateStatus::kOk);
  uint8_t a[32];
  uint8_t b[32];
  CHECK_EQ(cert->Fingerprint(FingerprintAlgorithm::kSha256, a, 32), 32u);
  CHECK_EQ(loaded->Fingerprint(FingerprintAlgorithm::kSha256, b, 32), 32u);
  CHECK_MEM(a, b, 32);
  CHECK_EQ(loaded->expires_ms(), cert->expires_ms());
  CHECK(loaded->KeyTypeName() == "ECDSA");
  auto other = MakeCert();
  CHECK(!DtlsCertificate::FromPem(cert_pem, other->PrivateKeyPem(), &st));
  CHECK(st == CertificateStatus::kKeyMismatch);
  CHECK(!DtlsCertificate::FromPem("garbage", key_pem, &st));
  CHECK(st == CertificateStatus::kPemCertificateInvalid);
  CHECK(!DtlsCertificate::FromPem(cert_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", &st));
  CHECK(st == CertificateStatus::kPemKeyInvalid);
  // A PEM identity handshakes.
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{}, false);
  p.server_cert = loaded;
  DtlsStatus ds;
  DtlsEngineConfig sc;
  sc.role = DtlsRole::kServer;
  p.server = DtlsEngine::Create(DtlsContext::Create(loaded), sc, &ds);
  CHECK(p.client->SetRemoteFingerprints({Sha256Of(*cert)}) == DtlsStatus::kOk);
  CHECK(p.server->SetRemoteFingerprints({Sha256Of(*p.client_cert)}) == DtlsStatus::kOk);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
}

void TestDataAndClose() {
  DtlsEngineConfig small;
  small.mtu = 600;
  Pair p(small, small);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.max_datagram <= 600);
  uint8_t msg[1000];
  for (size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<uint8_t>(i);
  for (int i = 0; i < 10; ++i) CHECK(p.client->Send(msg, 100 + i) == DtlsStatus::kOk);
  CHECK(p.client->Send(msg, 0) == DtlsStatus::kInvalidArgument);
  std::vector<uint8_t> big(kDtlsMaxRecordPayload + 1);
  CHECK(p.client->Send(big.data(), big.size()) == DtlsStatus::kTooLarge);
  p.Move(*p.client, *p.server);
  std::vector<uint8_t> out(64 * 1024);
  uint32_t lens[32];
  size_t n = p.server->DrainData(out.data(), out.size(), lens, 32);
  CHECK_EQ(n, 10u);
  size_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    CHECK_EQ(lens[i], 100 + i);
    CHECK_MEM(out.data() + off, msg, lens[i]);
    off += lens[i];
  }
  CHECK_EQ(p.server->counters().data_records_in, 10u);
  // A record sent right before close_notify (an SCTP ABORT) is still delivered after the close
  // (RFC 5246 section 7.2.1); DrainData hands it out although the state is closed.
  CHECK(p.client->Send(msg, 7) == DtlsStatus::kOk);
  p.client->Close();
  CHECK(p.client->state() == DtlsState::kClosed);
  CHECK(p.client->Send(msg, 10) == DtlsStatus::kInvalidState);
  p.Move(*p.client, *p.server);
  CHECK(p.server->state() == DtlsState::kClosed);
  CHECK(p.server->HasData());
  n = p.server->DrainData(out.data(), out.size(), lens, 32);
  CHECK_EQ(n, 1u);
  CHECK_EQ(lens[0], 7u);
  CHECK_MEM(out.data(), msg, 7);
  CHECK(!p.server->HasData());
  CHECK_EQ(p.client->TimeoutUs(), -1);
}

// Records the peer sent before its close_notify stay deliverable until our own Close(), which
// empties the queue although the state is already closed (dtls_engine.hpp, DataDeliverable).
void TestOwnCloseAfterPeerCloseEmptiesData() {
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{});
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  const uint8_t msg[5] = {1, 2, 3, 4, 5};
  CHECK(p.client->Send(msg, sizeof msg) == DtlsStatus::kOk);
  CHECK(p.client->Send(msg, 3) == DtlsStatus::kOk);
  p.client->Close();
  p.Move(*p.client, *p.server);
  CHECK(p.server->state() == DtlsState::kClosed);
  CHECK(p.server->HasData());
  p.server->Close();
  CHECK(p.server->state() == DtlsState::kClosed);
  CHECK(!p.server->HasData());
  uint8_t out[64];
  uint32_t lens[4];
  CHECK_EQ(p.server->DrainData(out, sizeof out, lens, 4), 0u);
}

void TestHostileInput() {
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{});
  uint8_t junk[2000];
  // Before start: dropped as not started.
  p.server->HandleDatagram(junk, 10);
  CHECK_EQ(p.server->counters().dropped_not_started, 1u);
  p.client->Start();
  p.server->Start();
  // Random garbage, empty and oversize datagrams into both ends mid-handshake.
  for (int i = 0; i < 200; ++i) {
    RAND_bytes(junk, sizeof junk);
    size_t len = static_cast<size_t>(junk[0]) * 7 % sizeof junk;
    p.server->HandleDatagram(junk, len);
    p.client->HandleDatagram(junk, len);
  }
  std::vector<uint8_t> huge(kDtlsMaxDatagram + 1, 22);
  p.server->HandleDatagram(huge.data(), huge.size());
  CHECK_EQ(p.server->counters().dropped_too_large, 1u);
  CHECK(p.server->counters().dropped_malformed >= 150u);
  // Truncations of the real ClientHello are dropped by the record walk, never crash.
  std::vector<uint8_t> hello(4096);
  uint32_t lens[8];
  size_t n = p.client->outgoing().DrainInto(hello.data(), hello.size(), lens, 8);
  CHECK_EQ(n, 1u);
  uint64_t before = p.server->counters().dropped_malformed;
  for (uint32_t cut = 0; cut < lens[0]; ++cut) p.server->HandleDatagram(hello.data(), cut);
  CHECK_EQ(p.server->counters().dropped_malformed - before, static_cast<uint64_t>(lens[0]));
  CHECK(CheckDtlsRecords(hello.data(), lens[0]) == RecordCheck::kOk);
  CHECK(IsClientHello(hello.data(), lens[0]));
  p.server->HandleDatagram(hello.data(), lens[0]);
  CHECK_EQ(p.server->counters().client_hellos, 1u);
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
  // Record-shaped garbage after the handshake (bad MAC, old epoch): dropped by OpenSSL.
  for (int i = 0; i < 100; ++i) {
    RAND_bytes(junk, 64);
    junk[0] = static_cast<uint8_t>(20 + i % 4);
    junk[1] = 0xfe;
    junk[2] = 0xfd;
    junk[11] = 0;
    junk[12] = 51;
    p.server->HandleDatagram(junk, 64);
  }
  CHECK(p.server->state() == DtlsState::kConnected);
  uint8_t ping[4] = {1, 2, 3, 4};
  CHECK(p.server->Send(ping, 4) == DtlsStatus::kOk);
  p.Move(*p.server, *p.client);
  std::vector<uint8_t> out(1024);
  CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 8), 1u);
}

std::vector<uint8_t> Record(uint8_t type, uint16_t version, uint16_t epoch, uint64_t seq, size_t body_len) {
  std::vector<uint8_t> r(13 + body_len);
  r[0] = type;
  r[1] = static_cast<uint8_t>(version >> 8);
  r[2] = static_cast<uint8_t>(version);
  r[3] = static_cast<uint8_t>(epoch >> 8);
  r[4] = static_cast<uint8_t>(epoch);
  for (int i = 0; i < 6; ++i) r[5 + i] = static_cast<uint8_t>(seq >> (8 * (5 - i)));
  r[11] = static_cast<uint8_t>(body_len >> 8);
  r[12] = static_cast<uint8_t>(body_len);
  if (body_len != 0) RAND_bytes(r.data() + 13, static_cast<int>(body_len));
  return r;
}

uint64_t Discarded(const DtlsCounters& c) {
  return c.dropped_malformed + c.dropped_wrong_epoch + c.dropped_replayed + c.dropped_unauthenticated;
}

// After the handshake no single unauthenticated datagram may fail the engine or make it send
// anything (RFC 6347 section 4.1.2.7: invalid records are silently discarded), and each one is
// counted under exactly one reason.
// Run with the record layer of our own (the default) and with OpenSSL kept: the same drops, counted alike.
void TestForgedRecordsAfterHandshake(bool keep_ssl) {
  DtlsEngineConfig cfg;
  cfg.keep_ssl = keep_ssl;
  Pair p(cfg, cfg);
  p.client->Start();
  p.server->Start();
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
  CHECK(p.client->cipher_name().find("GCM") != std::string::npos);
  for (DtlsEngine* e : {p.client.get(), p.server.get()}) {
    // The reported reproducer: alert, epoch 1, 2-byte body (OpenSSL 3.0: fatal internal_error).
    const uint8_t repro[] = {0x15, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x6a, 0xcf, 0xc0, 0x00, 0x02, 0x01, 0x00};
    uint64_t before = e->counters().dropped_malformed;
    e->HandleDatagram(repro, sizeof repro);
    CHECK(e->state() == DtlsState::kConnected);
    CHECK(e->outgoing().empty());
    CHECK_EQ(e->counters().dropped_malformed - before, 1u);
    // Every body shorter than the AES-GCM explicit nonce + tag, every content type.
    for (uint8_t type = 20; type <= 23; ++type) {
      for (size_t len = 1; len < 24; ++len) {
        before = e->counters().dropped_malformed;
        std::vector<uint8_t> r = Record(type, 0xfefd, 1, 1000 + len, len);
        e->HandleDatagram(r.data(), r.size());
        CHECK(e->state() == DtlsState::kConnected);
        CHECK(e->outgoing().empty());
        CHECK_EQ(e->counters().dropped_malformed - before, 1u);
      }
    }
    // A short protected record hidden behind a valid-looking one drops the whole datagram.
    std::vector<uint8_t> two = Record(23, 0xfefd, 1, 50, 40);
    std::vector<uint8_t> tail = Record(23, 0xfefd, 1, 51, 5);
    two.insert(two.end(), tail.begin(), tail.end());
    before = e->counters().dropped_malformed;
    e->HandleDatagram(two.data(), two.size());
    CHECK_EQ(e->counters().dropped_malformed - before, 1u);
    // A sweep of shapes: epochs, versions, types and lengths around every boundary.
    const uint16_t epochs[] = {0, 1, 2, 0xffff};
    const uint16_t versions[] = {0xfeff, 0xfefd};
    const size_t lengths[] = {0, 1, 15, 16, 17, 23, 24, 25, 40, 100, 1000, 16384, 16385, 17000, 17728, 17729, 18432};
    uint64_t fed = 0;
    uint64_t discarded_before = Discarded(e->counters());
    for (uint16_t epoch : epochs) {
      for (uint16_t version : versions) {
        for (uint8_t type = 20; type <= 23; ++type) {
          for (size_t len : lengths) {
            std::vector<uint8_t> r = Record(type, version, epoch, 2000 + fed, len);
            if (epoch == 0 && type == 21 && len >= 2) r[13] = 2;  // plaintext fatal alert
            e->HandleDatagram(r.data(), r.size());
            ++fed;
            CHECK(e->state() == DtlsState::kConnected);
            CHECK(e->outgoing().empty());
          }
        }
      }
    }
    CHECK_EQ(Discarded(e->counters()) - discarded_before, fed);
    // Plaintext close_notify and fatal alert at epoch 0: the wrong epoch, ignored.
    uint64_t wrong = e->counters().dropped_wrong_epoch;
    std::vector<uint8_t> close_notify = Record(21, 0xfefd, 0, 90, 2);
    close_notify[13] = 1;
    close_notify[14] = 0;
    e->HandleDatagram(close_notify.data(), close_notify.size());
    CHECK(e->state() == DtlsState::kConnected);
    CHECK_EQ(e->counters().dropped_wrong_epoch - wrong, 1u);
  }
  // Genuine records: a copy is counted as replayed, a tampered one as unauthenticated, and
  // neither delivers anything; the genuine record still delivers afterwards.
  std::vector<uint8_t> buf(4096);
  uint32_t lens[8];
  std::vector<uint8_t> out(4096);
  uint8_t ping[4] = {1, 2, 3, 4};
  CHECK(p.server->Send(ping, 4) == DtlsStatus::kOk);
  CHECK_EQ(p.server->outgoing().DrainInto(buf.data(), buf.size(), lens, 8), 1u);
  std::vector<uint8_t> genuine(buf.begin(), buf.begin() + lens[0]);
  p.client->HandleDatagram(genuine.data(), genuine.size());
  CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 8), 1u);
  uint64_t replayed = p.client->counters().dropped_replayed;
  p.client->HandleDatagram(genuine.data(), genuine.size());
  CHECK_EQ(p.client->counters().dropped_replayed - replayed, 1u);
  CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 8), 0u);
  CHECK(p.server->Send(ping, 4) == DtlsStatus::kOk);
  CHECK_EQ(p.server->outgoing().DrainInto(buf.data(), buf.size(), lens, 8), 1u);
  std::vector<uint8_t> next(buf.begin(), buf.begin() + lens[0]);
  std::vector<uint8_t> tampered = next;
  tampered.back() ^= 1;
  uint64_t unauth = p.client->counters().dropped_unauthenticated;
  p.client->HandleDatagram(tampered.data(), tampered.size());
  CHECK_EQ(p.client->counters().dropped_unauthenticated - unauth, 1u);
  CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 8), 0u);
  p.client->HandleDatagram(next.data(), next.size());
  CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 8), 1u);
  CHECK(p.client->state() == DtlsState::kConnected);
  // An authenticated close_notify still closes normally (not failed).
  p.server->Close();
  p.Move(*p.server, *p.client);
  CHECK(p.client->state() == DtlsState::kClosed);
}

// A flood of ClientHellos from other (unauthenticated) clients at one server engine: the
// engine holds one handshake, answers none of them beyond bounded queues, and the first
// client still completes.
void TestClientHelloFlood() {
  // OpenSSL's retransmission timer reads the real clock; pushed far out, so that a slow
  // (sanitizer, loaded machine) loop cannot add retransmitted flights to what is measured.
  DtlsEngineConfig patient;
  patient.initial_timeout_ms = 60000;
  Pair p(patient, patient);
  p.client->Start();
  p.server->Start();
  p.Move(*p.client, *p.server);  // the legitimate ClientHello
  size_t first_flight = p.server->outgoing().count();
  CHECK(first_flight >= 1u);
  std::vector<uint8_t> hello(4096);
  uint32_t lens[8];
  for (int i = 0; i < 300; ++i) {
    DtlsStatus st;
    DtlsEngineConfig cc;
    auto other = DtlsEngine::Create(DtlsContext::Create(p.client_cert), cc, &st);
    other->Start();
    size_t n = other->outgoing().DrainInto(hello.data(), hello.size(), lens, 8);
    CHECK_EQ(n, 1u);
    p.server->HandleDatagram(hello.data(), lens[0]);
  }
  CHECK_EQ(p.server->counters().client_hellos, 301u);
  CHECK(p.server->outgoing().count() <= 4 * first_flight);
  CHECK(p.server->outgoing().bytes() <= 256u * 1024u);
  // Our engine's only state is the one SSL; deliver the server's queue and finish.
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
}

void TestQueueBounds() {
  DatagramQueue q(100, 3);
  uint8_t b[60] = {};
  CHECK(q.Push(b, 40));
  CHECK(q.Push(b, 40));
  CHECK(!q.Push(b, 40));  // byte cap
  CHECK(q.Push(b, 10));
  CHECK(!q.Push(b, 1));   // count cap
  uint8_t out[100];
  uint32_t lens[4];
  CHECK_EQ(q.DrainInto(out, 50, lens, 4), 1u);  // second does not fit
  CHECK_EQ(q.count(), 2u);
  CHECK_EQ(q.DrainInto(out, 100, lens, 4), 2u);
  CHECK(q.empty());
}

void TestBadConfig() {
  DtlsStatus st;
  DtlsEngineConfig cfg;
  cfg.mtu = 100;
  CHECK(!DtlsEngine::Create(DtlsContext::Create(MakeCert()), cfg, &st));
  CHECK(st == DtlsStatus::kInvalidArgument);
  cfg.mtu = 1200;
  cfg.srtp_profiles = {static_cast<SrtpProfile>(0x0099)};
  CHECK(!DtlsEngine::Create(DtlsContext::Create(MakeCert()), cfg, &st));
  CHECK(st == DtlsStatus::kInvalidArgument);
  // A profile listed twice: OpenSSL refuses such a list when the SSL is made, which is now later
  // (at the handshake's first step), so Create refuses it at once.
  cfg.srtp_profiles = {SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmHmacSha1_80, SrtpProfile::kAeadAes128Gcm};
  CHECK(!DtlsEngine::Create(DtlsContext::Create(MakeCert()), cfg, &st));
  CHECK(st == DtlsStatus::kInvalidArgument);
}

// The SSL is made at the handshake's first step, not by Create (docs/dtls.md "Handshake thread"):
// the client's Start, the server's first datagram; it is freed at the handover (or kept with
// keep_ssl).
void TestSslMadeLazily(bool keep_ssl) {
  DtlsEngineConfig cfg;
  cfg.keep_ssl = keep_ssl;
  Pair p(cfg, cfg);
  CHECK(!p.client->holds_ssl());
  CHECK(!p.server->holds_ssl());
  // Nothing to do before the start: counted, no SSL made for it.
  const uint8_t hello[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  p.server->HandleDatagram(hello, sizeof hello);
  CHECK_EQ(p.server->counters().dropped_not_started, uint64_t{1});
  CHECK(!p.server->holds_ssl());
  // The server's start makes nothing: connecting, no timer, no flight.
  CHECK(p.server->Start() == DtlsStatus::kOk);
  CHECK(p.server->state() == DtlsState::kConnecting);
  CHECK(p.server->TakeStateChanged());
  CHECK(!p.server->holds_ssl());
  CHECK_EQ(p.server->TimeoutUs(), int64_t{-1});
  CHECK(p.server->outgoing().empty());
  p.server->HandleTimeout();
  CHECK(p.server->outgoing().empty());
  CHECK(p.client->Start() == DtlsStatus::kOk);
  CHECK(p.client->holds_ssl());
  CHECK(!p.client->outgoing().empty());
  CHECK(p.client->TimeoutUs() >= 0);
  // A malformed datagram is dropped before OpenSSL sees it: still no SSL.
  const uint8_t junk[] = {22, 0xfe};
  p.server->HandleDatagram(junk, sizeof junk);
  CHECK(!p.server->holds_ssl());
  CHECK(p.Move(*p.client, *p.server) > 0);
  CHECK(p.server->holds_ssl());
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
  CHECK(p.client->holds_ssl() == keep_ssl);
  CHECK(p.server->holds_ssl() == keep_ssl);
  CHECK(p.client->handed_over() == !keep_ssl);
  // A server closed before its peer's first datagram never makes one.
  Pair q(cfg, cfg);
  CHECK(q.server->Start() == DtlsStatus::kOk);
  q.server->Close();
  CHECK(q.server->state() == DtlsState::kClosed);
  CHECK(q.server->outgoing().empty());
  CHECK(!q.server->holds_ssl());
}

// OpenSSL refusing to make the SSL at the handshake's first step (an allocation failure) fails the
// engine like any handshake failure: state failed with a reason, a state change to report, nothing
// sent; later input is dropped and counted.
void TestSslSetupFailure() {
  Pair p(DtlsEngineConfig{}, DtlsEngineConfig{});
  DtlsEngineTestAccess::FailMakeSsl(*p.client);
  CHECK(p.client->Start() == DtlsStatus::kOk);
  CHECK(p.client->state() == DtlsState::kFailed);
  CHECK(p.client->TakeStateChanged());
  CHECK(p.client->failure_reason().rfind("DTLS setup failed", 0) == 0);
  CHECK(p.client->outgoing().empty());
  CHECK(!p.client->holds_ssl());
  CHECK_EQ(p.client->TimeoutUs(), int64_t{-1});
  CHECK(p.client->Send(reinterpret_cast<const uint8_t*>("x"), 1) == DtlsStatus::kInvalidState);
  // The server fails at its first datagram (a genuine ClientHello from another client).
  Pair q(DtlsEngineConfig{}, DtlsEngineConfig{});
  DtlsEngineTestAccess::FailMakeSsl(*q.server);
  CHECK(q.server->Start() == DtlsStatus::kOk);
  CHECK(q.server->TakeStateChanged());
  CHECK(q.client->Start() == DtlsStatus::kOk);
  std::vector<uint8_t> flight(64 * 1024);
  std::vector<uint32_t> lens(64);
  const size_t n = q.client->outgoing().DrainInto(flight.data(), flight.size(), lens.data(), lens.size());
  CHECK_EQ(n, size_t{1});
  q.server->HandleDatagram(flight.data(), lens[0]);
  CHECK(q.server->state() == DtlsState::kFailed);
  CHECK(q.server->TakeStateChanged());
  CHECK(q.server->failure_reason().rfind("DTLS setup failed", 0) == 0);
  CHECK(q.server->outgoing().empty());
  CHECK(!q.server->holds_ssl());
  CHECK_EQ(q.server->counters().dropped_after_close, uint64_t{1});
  // The peer's retransmission: dropped and counted, no second attempt.
  q.server->HandleDatagram(flight.data(), lens[0]);
  CHECK_EQ(q.server->counters().dropped_after_close, uint64_t{2});
  CHECK(!q.server->holds_ssl());
  q.server->Close();
  CHECK(q.server->state() == DtlsState::kFailed);
}

// What an SSL holds before any of its handshake ran (what every engine held from its creation, and
// a handshake waiting for an admission slot held, before the SSL was made lazily). glibc's totals
// only; a sanitizer build has none.
void TestSslCostBeforeHandshake() {
  constexpr size_t kEngines = 64;
  auto context = DtlsContext::Create(MakeCert());
  std::vector<std::unique_ptr<DtlsEngine>> engines;
  DtlsEngineConfig cfg;
  cfg.role = DtlsRole::kServer;
  for (size_t i = 0; i < kEngines; ++i) {
    DtlsStatus st;
    engines.push_back(DtlsEngine::Create(context, cfg, &st));
    CHECK(st == DtlsStatus::kOk);
    CHECK(engines.back()->Start() == DtlsStatus::kOk);
  }
  const NativeHeapStats before = ReadNativeHeapStats();
  for (auto& e : engines) CHECK(DtlsEngineTestAccess::MakeSsl(*e));
  const NativeHeapStats made = ReadNativeHeapStats();
  for (auto& e : engines) CHECK(e->holds_ssl());
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  CHECK(!before.supported && !made.supported);
#else
  CHECK(before.supported);
  const int64_t per_ssl = (static_cast<int64_t>(made.in_use) - static_cast<int64_t>(before.in_use)) / int64_t{kEngines};
  // OpenSSL 3.0's SSL_new: the SSL, its session-independent state, the DTLS state and queues.
  CHECK(per_ssl >= 1024);
  std::printf("an SSL before its handshake: %lld B\n", static_cast<long long>(per_ssl));
#endif
}

}  // namespace

// With the SSL kept (keep_ssl), once connected both engines free OpenSSL's record buffers; whatever writes first afterwards
// (a record, close_notify, a timeout) gets them back instead of writing through a freed buffer
// (the crash SSL_free_buffers used to cause; run under ASan by scripts/run-tests.mjs).
void TestIdleBuffersReleased() {
  // Only with OpenSSL kept for the whole connection (PWT_DTLS_KEEP_SSL); by default it is freed.
  DtlsEngineConfig keep;
  keep.keep_ssl = true;
  {
    Pair p(keep, keep);
    p.client->Start();
    p.server->Start();
    p.Pump();
    CHECK(p.client->state() == DtlsState::kConnected && p.server->state() == DtlsState::kConnected);
    CHECK(p.client->record_buffers_released());
    CHECK(p.server->record_buffers_released());
    // No retransmission timer runs once connected: a timeout leaves the buffers freed.
    p.server->HandleTimeout();
    CHECK(p.server->record_buffers_released());
    uint8_t msg[1200];
    for (size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<uint8_t>(i * 7);
    CHECK(p.server->Send(msg, sizeof msg) == DtlsStatus::kOk);
    CHECK(!p.server->record_buffers_released());
    p.Move(*p.server, *p.client);
    CHECK(!p.client->record_buffers_released());
    std::vector<uint8_t> out(4096);
    uint32_t lens[4];
    CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens, 4), 1u);
    CHECK_EQ(lens[0], sizeof msg);
    CHECK_MEM(out.data(), msg, sizeof msg);
    CHECK(p.client->Send(msg, 10) == DtlsStatus::kOk);
    p.Move(*p.client, *p.server);
    CHECK_EQ(p.server->DrainData(out.data(), out.size(), lens, 4), 1u);
  }
  {
    // A handshake flight that arrives again after the connection is made (a retransmission the
    // peer's timer sent, or a replay) sets the buffers up for SSL_read; they are freed again
    // afterwards, for as long as no application data has passed.
    Pair p(keep, keep);
    p.client->Start();
    p.server->Start();
    std::vector<std::vector<uint8_t>> last_client_flight;
    std::vector<uint8_t> buf(64 * 1024);
    std::vector<uint32_t> lens(256);
    for (int round = 0; round < 20; ++round) {
      std::vector<std::vector<uint8_t>> flight;
      while (!p.client->outgoing().empty()) {
        size_t n = p.client->outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size());
        size_t off = 0;
        for (size_t i = 0; i < n; ++i) {
          flight.emplace_back(buf.data() + off, buf.data() + off + lens[i]);
          off += lens[i];
        }
      }
      for (const auto& d : flight) p.server->HandleDatagram(d.data(), d.size());
      if (!flight.empty()) last_client_flight = flight;
      if (p.Move(*p.server, *p.client) == 0 && flight.empty()) break;
    }
    CHECK(p.client->state() == DtlsState::kConnected && p.server->state() == DtlsState::kConnected);
    CHECK(!last_client_flight.empty());
    CHECK(p.server->record_buffers_released());
    for (const auto& d : last_client_flight) p.server->HandleDatagram(d.data(), d.size());
    CHECK(p.server->state() == DtlsState::kConnected);
    CHECK(p.server->record_buffers_released());
    // Whatever the server answered (a retransmitted last flight) leaves the client released too.
    p.Move(*p.server, *p.client);
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.client->record_buffers_released());
    // Application data still flows both ways, and then the buffers stay.
    uint8_t msg[300];
    for (size_t i = 0; i < sizeof msg; ++i) msg[i] = static_cast<uint8_t>(i * 3);
    CHECK(p.client->Send(msg, sizeof msg) == DtlsStatus::kOk);
    p.Move(*p.client, *p.server);
    CHECK(!p.server->record_buffers_released());
    std::vector<uint8_t> out(4096);
    CHECK_EQ(p.server->DrainData(out.data(), out.size(), lens.data(), 4), 1u);
    CHECK_MEM(out.data(), msg, sizeof msg);
    for (const auto& d : last_client_flight) p.server->HandleDatagram(d.data(), d.size());
    CHECK(!p.server->record_buffers_released());
    CHECK(p.server->Send(msg, 10) == DtlsStatus::kOk);
    p.Move(*p.server, *p.client);
    CHECK_EQ(p.client->DrainData(out.data(), out.size(), lens.data(), 4), 1u);
  }
  {
    // close_notify is the first thing written after the release.
    Pair p(keep, keep);
    p.client->Start();
    p.server->Start();
    p.Pump();
    CHECK(p.server->record_buffers_released());
    p.server->Close();
    CHECK(p.server->state() == DtlsState::kClosed);
    p.Move(*p.server, *p.client);
    CHECK(p.client->state() == DtlsState::kClosed);
  }
}

// OpenSSL's own retransmission inside a read: the client's timer expired while the server's answer
// (its flight split over several datagrams by a 256-byte MTU) was on the way; reading only the first
// datagram makes OpenSSL resend the ClientHello (dtls1_read_failed). Counted as retransmits_on_read,
// not as retransmit_timeouts; the handshake still completes.
void TestRetransmitOnPartialFlight() {
  DtlsEngineConfig client_cfg;
  client_cfg.initial_timeout_ms = 50;
  DtlsEngineConfig server_cfg;
  server_cfg.mtu = kDtlsMinMtu;
  Pair p(client_cfg, server_cfg);
  CHECK(p.client->Start() == DtlsStatus::kOk);
  CHECK(p.server->Start() == DtlsStatus::kOk);
  CHECK(p.Move(*p.client, *p.server) >= 1);  // ClientHello
  std::vector<uint8_t> buf(64 * 1024);
  std::vector<uint32_t> lens(256);
  size_t n = p.server->outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size());
  CHECK(n >= 3);  // the server's flight over several datagrams
  CHECK(p.client->outgoing().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // the client's 50 ms timer expired
  p.client->HandleDatagram(buf.data(), lens[0]);
  CHECK_EQ(p.client->counters().retransmits_on_read, 1u);
  CHECK_EQ(p.client->counters().retransmit_timeouts, 0u);
  CHECK(!p.client->outgoing().empty());  // the ClientHello again
  size_t off = lens[0];
  for (size_t i = 1; i < n; ++i) {
    p.client->HandleDatagram(buf.data() + off, lens[i]);
    off += lens[i];
  }
  p.Pump();
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
  CHECK_EQ(p.client->counters().retransmit_timeouts, 0u);
  // A datagram read with the timer running but not expired resends nothing.
  CHECK_EQ(p.server->counters().retransmits_on_read, 0u);
}

// ECDHE keys made in idle time (docs/dtls.md, "Library context"): once the X25519 pool is
// filled (what the handshake threads do when idle), each handshake takes one pooled key on each
// side (the server's by group name, the client's from the server's key as template), none made
// on the spot, and the handshakes agree on their keying material.
void TestHandshakesTakePooledKeys() {
  {
    // The first handshake of the process asks for X25519 keys: the pool fills from then on.
    Pair warm(DtlsEngineConfig{}, DtlsEngineConfig{});
    CHECK(warm.client->Start() == DtlsStatus::kOk);
    CHECK(warm.server->Start() == DtlsStatus::kOk);
    warm.Pump();
    CHECK(warm.client->state() == DtlsState::kConnected);
  }
  FillPools();
  const DtlsKeyPoolStats before = DtlsLibraryContextKeyPoolStats(DtlsKeyPoolGroup::kX25519);
  CHECK(before.enabled);
  // Both ends of one connection asked before the first fill: the first fill target, not doubled.
  CHECK_EQ(before.target, std::min<size_t>(64, before.capacity));
  CHECK_EQ(before.pooled, before.target);
  constexpr int kPairs = 8;
  for (int i = 0; i < kPairs; ++i) {
    Pair p(DtlsEngineConfig{}, DtlsEngineConfig{});
    CHECK(p.client->Start() == DtlsStatus::kOk);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    p.Pump();
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.server->state() == DtlsState::kConnected);
    SrtpKeyingMaterial a;
    SrtpKeyingMaterial b;
    CHECK(p.client->ExportSrtpKeyingMaterial(&a));
    CHECK(p.server->ExportSrtpKeyingMaterial(&b));
    CHECK_MEM(a.client.key.data(), b.client.key.data(), a.client.key_len);
    a.wipe();
    b.wipe();
  }
  const DtlsKeyPoolStats after = DtlsLibraryContextKeyPoolStats(DtlsKeyPoolGroup::kX25519);
  CHECK_EQ(after.taken - before.taken, static_cast<uint64_t>(2 * kPairs));
  CHECK_EQ(after.missed, before.missed);
  CHECK_EQ(after.pooled, before.pooled - 2 * kPairs);
}

int main() {
  TestRetransmitOnPartialFlight();
  TestHandshakeEveryProfile();
  TestServerPreferenceAndRsa();
  TestRsaServer();
  TestWrongFingerprint();
  TestLateFingerprints();
  TestPem();
  TestDataAndClose();
  TestOwnCloseAfterPeerCloseEmptiesData();
  TestIdleBuffersReleased();
  TestHostileInput();
  TestForgedRecordsAfterHandshake(false);
  TestForgedRecordsAfterHandshake(true);
  TestClientHelloFlood();
  TestQueueBounds();
  TestBadConfig();
  TestSslMadeLazily(false);
  TestSslMadeLazily(true);
  TestSslSetupFailure();
  TestSslCostBeforeHandshake();
  TestHandshakesTakePooledKeys();
  TEST_MAIN_END();
}
