// DtlsHandshakeWorker + DtlsOffloadedEngine (docs/dtls.md, "Handshake thread"): handshakes whose
// OpenSSL work runs on the worker thread connect with the same RFC 5764 keys on both ends; 200
// pairs closed or dropped at seeded random points of their handshakes neither crash nor leak
// (ASan/LSan build) nor leave work unapplied; Stop with work still queued releases it; the
// wrapper's queues hold no capacity once a handshake is over. The pool: 120 pairs on four threads,
// each engine run by one thread for life (thread-id check); close, drop and Stop while four threads
// work; the second thread refused; a queued timeout runs after the answer queued with it; the
// adaptive choice (in place for one pair at a time, the pool for a burst). Also run
// under ThreadSanitizer by hand (no preset: -DCMAKE_CXX_FLAGS=-fsanitize=thread, OpenSSL itself
// uninstrumented): clean on 2026-12-06.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_handshake_worker.hpp"
#include "native/dtls/dtls_library_context.hpp"
#include "native/dtls/dtls_offloaded_engine.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace pwt {
struct DtlsEngineTestAccess {
  // The engine's next MakeSsl fails as if OpenSSL refused (an allocation failure).
  static void FailMakeSsl(DtlsEngine& e) { e.fail_make_ssl_for_test_ = true; }
};
}  // namespace pwt

namespace {

// The owner side of the wake: the worker signals, the test thread waits (bounded).
struct Wake {
  std::mutex mu;
  std::condition_variable cv;
  bool pending = false;
  static void Notify(void* arg) {
    auto* self = static_cast<Wake*>(arg);
    {
      std::lock_guard<std::mutex> lock(self->mu);
      self->pending = true;
    }
    self->cv.notify_one();
  }
  // Generous: a loaded machine may take long; the loops below are bounded by count as well.
  bool WaitFor(std::chrono::milliseconds ms = std::chrono::milliseconds(20000)) {
    std::unique_lock<std::mutex> lock(mu);
    bool got = cv.wait_for(lock, ms, [this] { return pending; });
    pending = false;
    return got;
  }
};

std::shared_ptr<DtlsContext> MakeContext() {
  CertificateStatus st;
  auto cert = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 30L * 86400, &st);
  CHECK(st == CertificateStatus::kOk);
  return DtlsContext::Create(cert);
}

RemoteFingerprint Sha256Of(const DtlsContext& ctx) {
  RemoteFingerprint fp;
  fp.algorithm = FingerprintAlgorithm::kSha256;
  fp.digest.resize(32);
  CHECK_EQ(ctx.certificate()->Fingerprint(FingerprintAlgorithm::kSha256, fp.digest.data(), 32), 32u);
  return fp;
}

std::shared_ptr<DtlsOffloadedEngine> MakeEngine(const std::shared_ptr<DtlsContext>& own, const DtlsContext& peer,
                                                DtlsRole role, DtlsHandshakeWorker* worker, bool adaptive = false) {
  DtlsEngineConfig cfg;
  cfg.role = role;
  DtlsStatus st;
  auto engine = DtlsEngine::Create(own, cfg, &st);
  CHECK(st == DtlsStatus::kOk);
  auto offloaded = std::make_shared<DtlsOffloadedEngine>(std::move(engine), worker, adaptive);
  CHECK(offloaded->SetRemoteFingerprints({Sha256Of(peer)}) == DtlsStatus::kOk);
  return offloaded;
}

// Moves what `from` has to send into `to`; returns the count.
size_t Move(DtlsOffloadedEngine& from, DtlsOffloadedEngine& to) {
  std::vector<uint8_t> buf(64 * 1024);
  std::vector<uint32_t> lens(256);
  size_t moved = 0;
  for (;;) {
    size_t n = from.DrainOutgoing(buf.data(), buf.size(), lens.data(), lens.size());
    if (n == 0) return moved;
    to.HandleDatagrams(buf.data(), lens.data(), n);
    moved += n;
  }
}

struct Pair {
  std::shared_ptr<DtlsOffloadedEngine> client;
  std::shared_ptr<DtlsOffloadedEngine> server;
};

// Deterministic pseudo-random numbers (no clock, no global state): a 64-bit LCG.
struct Lcg {
  uint64_t s;
  uint32_t Next(uint32_t bound) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>((s >> 33) % bound);
  }
};

void TestHandshakesOnWorker() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(40);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    p.server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kInvalidState);
    CHECK(p.client->state() == DtlsState::kConnecting);
    // Work is posted: no timer is reported until its result brings one.
    CHECK(p.client->busy());
    CHECK_EQ(p.client->TimeoutUs(), -1);
  }
  size_t connected = 0;
  for (int round = 0; round < 400 && connected < pairs.size(); ++round) {
    for (const auto& e : worker.TakeDone()) e->ApplyResults();
    connected = 0;
    bool moved = false;
    for (Pair& p : pairs) {
      moved = Move(*p.client, *p.server) > 0 || moved;
      moved = Move(*p.server, *p.client) > 0 || moved;
      if (p.client->state() == DtlsState::kConnected && p.server->state() == DtlsState::kConnected) ++connected;
    }
    if (!moved && connected < pairs.size()) wake.WaitFor();
  }
  CHECK_EQ(connected, pairs.size());
  for (Pair& p : pairs) {
    CHECK(p.client->home());
    CHECK(p.server->home());
    CHECK(p.client->handed_over());
    CHECK(!p.client->peer_certificate_der().empty());
    SrtpKeyingMaterial kc;
    SrtpKeyingMaterial ks;
    CHECK(p.client->ExportSrtpKeyingMaterial(&kc));
    CHECK(p.server->ExportSrtpKeyingMaterial(&ks));
    CHECK_MEM(kc.client.key.data(), ks.client.key.data(), kc.client.key_len);
    CHECK_MEM(kc.server.salt.data(), ks.server.salt.data(), kc.server.salt_len);
    // The keys come from the thread's export (keySrtp runs no PRF on the owner's thread) and are
    // the engine's own.
    CHECK(p.client->holds_thread_keys());
    CHECK(p.server->holds_thread_keys());
    SrtpKeyingMaterial own;
    CHECK(p.client->idle_engine()->ExportSrtpKeyingMaterial(&own));
    CHECK_MEM(own.client.key.data(), kc.client.key.data(), kc.client.key_len);
    CHECK_MEM(own.server.salt.data(), kc.server.salt.data(), kc.server.salt_len);
    own.wipe();
    kc.wipe();
    ks.wipe();
    // Home: application data runs in place, both ways.
    const uint8_t msg[] = {'h', 'i'};
    CHECK(p.client->Send(msg, sizeof msg) == DtlsStatus::kOk);
    Move(*p.client, *p.server);
    uint8_t out[64];
    uint32_t len = 0;
    CHECK_EQ(p.server->DrainData(out, sizeof out, &len, 1), 1u);
    CHECK_EQ(len, 2u);
    p.client->Close();
    Move(*p.client, *p.server);
    CHECK(p.server->state() == DtlsState::kClosed);
    // Closed (by us, by the peer's close_notify): the kept keys are wiped and not handed out.
    CHECK(!p.client->holds_thread_keys());
    CHECK(!p.server->holds_thread_keys());
    CHECK(!p.client->ExportSrtpKeyingMaterial(&kc));
    CHECK(!p.server->ExportSrtpKeyingMaterial(&ks));
  }
}

// Closes (or drops) one end of each pair at a seeded random point of its handshake: after the
// pair has exchanged 0..9 datagrams, whether or not work is posted on the worker at that moment.
void TestCloseAtRandomPoints() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  Lcg rng{20261205};
  const size_t kPairs = 200;
  std::vector<Pair> pairs(kPairs);
  std::vector<uint32_t> close_after(kPairs);
  std::vector<uint32_t> how(kPairs);
  std::vector<size_t> exchanged(kPairs, 0);
  std::vector<bool> acted(kPairs, false);
  for (size_t i = 0; i < kPairs; ++i) {
    pairs[i].client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    pairs[i].server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    pairs[i].server->Start();
    pairs[i].client->Start();
    close_after[i] = rng.Next(10);
    how[i] = rng.Next(4);  // close the client, close the server, drop the client, drop both
  }
  size_t acted_while_busy = 0;
  for (int step = 0; step < 2000; ++step) {
    for (const auto& e : worker.TakeDone()) e->ApplyResults();
    bool moved = false;
    for (size_t i = 0; i < kPairs; ++i) {
      Pair& p = pairs[i];
      if (p.client && p.server) {
        size_t n = Move(*p.client, *p.server) + Move(*p.server, *p.client);
        exchanged[i] += n;
        moved = moved || n > 0;
      }
      if (acted[i] || exchanged[i] < close_after[i]) continue;
      acted[i] = true;
      moved = true;
      if ((p.client && p.client->busy()) || (p.server && p.server->busy())) ++acted_while_busy;
      switch (how[i]) {
        case 0:
          p.client->Close();
          CHECK(p.client->state() == DtlsState::kClosed);
          break;
        case 1:
          p.server->Close();
          CHECK(p.server->state() == DtlsState::kClosed);
          break;
        case 2: p.client.reset(); break;
        default:
          p.client.reset();
          p.server.reset();
          break;
      }
    }
    if (moved) continue;
    bool busy = false;
    for (const Pair& p : pairs) busy = busy || (p.client && p.client->busy()) || (p.server && p.server->busy());
    if (busy) {
      wake.WaitFor();
      continue;
    }
    // Settled with fewer datagrams than drawn (a handshake takes about six): act after it.
    bool pending = false;
    for (size_t i = 0; i < kPairs; ++i) {
      if (!acted[i]) {
        close_after[i] = 0;
        pending = true;
      }
    }
    if (!pending) break;
  }
  size_t unacted = 0;
  for (size_t i = 0; i < kPairs; ++i) {
    const Pair& p = pairs[i];
    if (!acted[i]) ++unacted;
    // Settled: nothing posted and unapplied, and a closed end stays closed whatever its posted
    // work did afterwards.
    CHECK(!p.client || !p.client->busy());
    CHECK(!p.server || !p.server->busy());
    if (how[i] == 0 && acted[i]) CHECK(p.client->state() == DtlsState::kClosed);
    if (how[i] == 1 && acted[i]) CHECK(p.server->state() == DtlsState::kClosed);
  }
  CHECK_EQ(unacted, 0u);
  std::fprintf(stderr, "close at random points: %zu of %zu acted on while work was posted\n", acted_while_busy, kPairs);
}

void TestStopWithQueuedWork() {
  Wake wake;
  auto worker = std::make_unique<DtlsHandshakeWorker>(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(30);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, worker.get());
    p.server = MakeEngine(b, *a, DtlsRole::kServer, worker.get());
    p.client->Start();
  }
  // Drop half of the owners at once; the worker keeps the others' work alive until it stops.
  for (size_t i = 0; i < pairs.size(); i += 2) pairs[i] = Pair{};
  worker->Stop();
  worker->Stop();  // idempotent
  CHECK(worker->TakeDone().empty());
  worker.reset();
  pairs.clear();
}

// While the thread is behind (here: stopped, so nothing drains), received datagrams wait in a
// bounded backlog; the rest is dropped and counted, never stored.
void TestBacklogBound() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  worker.Stop();
  auto a = MakeContext();
  auto b = MakeContext();
  auto server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
  CHECK(server->Start() == DtlsStatus::kOk);
  // A well-formed handshake record header with a short body: what a flood would look like.
  std::vector<uint8_t> datagram = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 0, 0, 0};
  const uint32_t len = static_cast<uint32_t>(datagram.size());
  for (int i = 0; i < 100; ++i) server->HandleDatagrams(datagram.data(), &len, 1);
  CHECK_EQ(server->counters().dropped_backlog, 100u - kDtlsMaxBacklogDatagrams);
  CHECK_EQ(server->posted(), static_cast<uint64_t>(kDtlsMaxBacklogDatagrams));
  // Bytes bound: one batch larger than kDtlsMaxBacklogBytes is refused whole.
  std::vector<uint8_t> big(kDtlsMaxBacklogBytes + 1, 0);
  const uint32_t big_len = static_cast<uint32_t>(big.size());
  auto other = MakeEngine(b, *a, DtlsRole::kServer, &worker);
  other->Start();
  other->HandleDatagrams(big.data(), &big_len, 1);
  CHECK_EQ(other->counters().dropped_backlog, 1u);
}

void TestInPlaceWithoutWorker() {
  auto a = MakeContext();
  auto b = MakeContext();
  Pair p{MakeEngine(a, *b, DtlsRole::kClient, nullptr), MakeEngine(b, *a, DtlsRole::kServer, nullptr)};
  CHECK(p.client->home());
  p.server->Start();
  p.client->Start();
  for (int i = 0; i < 20; ++i) {
    if (Move(*p.client, *p.server) + Move(*p.server, *p.client) == 0) break;
  }
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.server->state() == DtlsState::kConnected);
  CHECK_EQ(p.client->posted(), 0u);
}

// The SSL is made on the thread by the handshake's first step; if OpenSSL refuses to make it, the
// failure comes back like any handshake failure: a result with the state change, failed with the
// reason, the engine home, nothing sent, no slot or work left counted.
void TestSslSetupFailureOnThread() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  for (DtlsRole failing : {DtlsRole::kClient, DtlsRole::kServer}) {
    DtlsEngineConfig cfg;
    DtlsStatus st;
    cfg.role = failing;
    auto raw = DtlsEngine::Create(failing == DtlsRole::kClient ? a : b, cfg, &st);
    CHECK(st == DtlsStatus::kOk);
    DtlsEngineTestAccess::FailMakeSsl(*raw);
    auto bad = std::make_shared<DtlsOffloadedEngine>(std::move(raw), &worker);
    auto good = MakeEngine(failing == DtlsRole::kClient ? b : a, failing == DtlsRole::kClient ? *a : *b,
                           failing == DtlsRole::kClient ? DtlsRole::kServer : DtlsRole::kClient, &worker);
    Pair p = failing == DtlsRole::kClient ? Pair{bad, good} : Pair{good, bad};
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
    bad->TakeStateChanged();  // connecting (a client's is reported at once)
    for (int round = 0; round < 200 && bad->state() != DtlsState::kFailed; ++round) {
      for (const auto& e : worker.TakeDone()) e->ApplyResults();
      Move(*p.client, *p.server);
      if (bad->state() != DtlsState::kFailed && !bad->HasOutgoing()) wake.WaitFor(std::chrono::milliseconds(200));
    }
    CHECK(bad->state() == DtlsState::kFailed);
    CHECK(bad->TakeStateChanged());
    CHECK(bad->failure_reason().rfind("DTLS setup failed", 0) == 0);
    CHECK(!bad->HasOutgoing());
    CHECK(bad->home());
    CHECK(!bad->busy());
    CHECK_EQ(worker.admission_stats(failing == DtlsRole::kServer ? 1 : 0).in_flight, 0u);
    good->Close();
    for (int round = 0; round < 50 && good->busy(); ++round) {
      for (const auto& e : worker.TakeDone()) e->ApplyResults();
      if (good->busy()) wake.WaitFor(std::chrono::milliseconds(200));
    }
  }
}

// A thread the system refuses (the test hook stands in for pthread_create's EAGAIN) is a state,
// not std::terminate: running() is false, Stop and the destructor are safe, and a new worker
// starts once threads are allowed again.
void TestRefusedThread() {
  Wake wake;
  DtlsHandshakeWorker::SetRefuseThreadsForTesting(true);
  {
    DtlsHandshakeWorker refused(&Wake::Notify, &wake);
    CHECK(!refused.running());
    refused.Stop();
    CHECK(refused.TakeDone().empty());
  }
  DtlsHandshakeWorker::SetRefuseThreadsForTesting(false);
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  CHECK(worker.running());
}

// A peer that streams records from the moment it connected: once the snapshot shows the
// connection up, new datagrams and sends wait on the owner (bounded) instead of being posted, so
// the engine comes home as soon as the work already out is back, and then runs them in place.
void TestHeldAfterConnected() {
  Wake wake;
  // The thread sleeps before each piece of work, so what the test posts behind a finished piece
  // is still out when the test applies that piece (the test never waits on this for correctness:
  // if the stray did come back first, the run says so and tries again).
  DtlsHandshakeWorker::SetDelayForTesting(300);
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  Pair p;
  for (int attempt = 0; attempt < 3; ++attempt) {
    p = Pair{MakeEngine(a, *b, DtlsRole::kClient, &worker), MakeEngine(b, *a, DtlsRole::kServer, &worker)};
    p.server->Start();
    p.client->Start();
    // Each time the server's work comes back during the handshake, a stray record is posted
    // behind it before the result is applied: the result that connects it leaves the stray out.
    for (int round = 0; round < 200 && p.server->state() != DtlsState::kConnected; ++round) {
      for (const auto& e : worker.TakeDone()) {
        if (e == p.server && p.server->state() != DtlsState::kConnected) {
          const uint8_t stray[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 1, 0};
          const uint32_t len = sizeof stray;
          p.server->HandleDatagrams(stray, &len, 1);
        }
        e->ApplyResults();
      }
      bool moved = Move(*p.client, *p.server) > 0;
      moved = Move(*p.server, *p.client) > 0 || moved;
      if (!moved && p.server->state() != DtlsState::kConnected) wake.WaitFor();
    }
    CHECK(p.server->state() == DtlsState::kConnected);
    if (p.server->busy()) break;
    std::printf("# TestHeldAfterConnected: attempt %d came home at once; again\n", attempt);
  }
  DtlsHandshakeWorker::SetDelayForTesting(0);
  CHECK(p.server->busy());
  // Connected, work still out: what comes now is held, not posted.
  const uint64_t posted = p.server->posted();
  // The client's last step (the server's Finished, then the handover) runs on the thread too: its
  // results are applied; the server's are left out (its stray record must stay out for now).
  bool server_done = false;
  for (int i = 0; i < 200 && p.client->state() != DtlsState::kConnected; ++i) {
    const bool moved = Move(*p.server, *p.client) > 0;
    for (const auto& e : worker.TakeDone()) {
      if (e == p.server) {
        server_done = true;
      } else {
        e->ApplyResults();
      }
    }
    if (!moved && p.client->state() != DtlsState::kConnected) wake.WaitFor();
  }
  CHECK(p.client->state() == DtlsState::kConnected);
  CHECK(p.client->home());
  const uint8_t up[] = {'u', 'p'};
  CHECK(p.client->Send(up, sizeof up) == DtlsStatus::kOk);
  Move(*p.client, *p.server);
  const uint8_t down[] = {'d', 'o', 'w', 'n'};
  CHECK(p.server->Send(down, sizeof down) == DtlsStatus::kOk);
  CHECK_EQ(p.server->posted(), posted);
  CHECK(!p.server->home());
  // The posted work comes back: home, and the held datagram and send ran in place, in order.
  if (server_done) p.server->ApplyResults();
  for (int round = 0; round < 50 && !p.server->home(); ++round) {
    for (const auto& e : worker.TakeDone()) e->ApplyResults();
    if (!p.server->home()) wake.WaitFor();
  }
  CHECK(p.server->home());
  uint8_t out[64];
  uint32_t len = 0;
  CHECK_EQ(p.server->DrainData(out, sizeof out, &len, 1), 1u);
  CHECK_EQ(len, 2u);
  Move(*p.server, *p.client);
  CHECK_EQ(p.client->DrainData(out, sizeof out, &len, 1), 1u);
  CHECK_EQ(len, 4u);
}

// The wrapper's datagram queues grow for the handshake's flights and are given back once it is over
// and drained, in place and on the worker (docs/dtls.md "Handshake thread"): an idle connection
// holds none of that capacity (counted in bytes; about 1.2 KiB per connection before).
void TestQueuesGivenBackAfterHandshake() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake);
  auto a = MakeContext();
  auto b = MakeContext();
  for (DtlsHandshakeWorker* w : {static_cast<DtlsHandshakeWorker*>(nullptr), &worker}) {
    std::vector<Pair> pairs(10);
    for (Pair& p : pairs) {
      p.client = MakeEngine(a, *b, DtlsRole::kClient, w);
      p.server = MakeEngine(b, *a, DtlsRole::kServer, w);
      CHECK(p.server->Start() == DtlsStatus::kOk);
      CHECK(p.client->Start() == DtlsStatus::kOk);
    }
    size_t connected = 0;
    size_t most = 0;  // the most any end's wrapper held while its handshake ran
    for (int round = 0; round < 400 && connected < pairs.size(); ++round) {
      if (w) for (const auto& e : w->TakeDone()) e->ApplyResults();
      connected = 0;
      bool moved = false;
      for (Pair& p : pairs) {
        for (auto* e : {p.client.get(), p.server.get()}) most = std::max(most, e->queue_capacity_bytes());
        moved = Move(*p.client, *p.server) > 0 || moved;
        moved = Move(*p.server, *p.client) > 0 || moved;
        if (p.client->state() == DtlsState::kConnected && p.server->state() == DtlsState::kConnected) ++connected;
      }
      if (w && !moved && connected < pairs.size()) wake.WaitFor();
    }
    CHECK_EQ(connected, pairs.size());
    // On the worker a certificate flight passed through them; in place (no worker) calls go to the
    // engine, whose own queues give their capacity back at handover (dtls_engine_test).
    if (w) CHECK(most >= 512);
    // Results of work posted before the handshake ended are applied, what they sent is delivered.
    for (int round = 0; round < 400; ++round) {
      if (w) for (const auto& e : w->TakeDone()) e->ApplyResults();
      bool busy = false;
      for (Pair& p : pairs) {
        Move(*p.client, *p.server);
        Move(*p.server, *p.client);
        busy = busy || p.client->busy() || p.server->busy();
      }
      if (!busy) break;
      wake.WaitFor();
    }
    for (Pair& p : pairs) {
      CHECK(!p.client->busy() && !p.server->busy());
      CHECK_EQ(p.client->queue_capacity_bytes(), size_t{0});
      CHECK_EQ(p.server->queue_capacity_bytes(), size_t{0});
    }
  }
}

// Drives every pair until both ends are connected or `rounds` passes are spent; returns how many are.
// `after_results` (optional) runs each pass once the finished work is applied.
size_t ConnectAll(DtlsHandshakeWorker& worker, Wake& wake, std::vector<Pair>& pairs, int rounds = 600,
                  const std::function<void()>& after_results = nullptr) {
  size_t connected = 0;
  for (int round = 0; round < rounds && connected < pairs.size(); ++round) {
    for (const auto& e : worker.TakeDone()) e->ApplyResults();
    if (after_results) after_results();
    connected = 0;
    bool moved = false;
    for (Pair& p : pairs) {
      moved = Move(*p.client, *p.server) > 0 || moved;
      moved = Move(*p.server, *p.client) > 0 || moved;
      if (p.client->state() == DtlsState::kConnected && p.server->state() == DtlsState::kConnected) ++connected;
    }
    if (!moved && connected < pairs.size()) wake.WaitFor();
  }
  return connected;
}

// Many engines on a pool of four threads: every thread gets engines (the least-loaded one is
// chosen), every engine's work ran on exactly one thread for its whole life (the thread-id check
// in RunOnWorker), the engines spread over different threads, and each thread's count of pinned
// engines is back to zero once they are all home.
void TestPoolManyEnginesInParallel() {
  Wake wake;
  // No admission limit here: all 120 clients are pinned at once (the spread is what is checked).
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 4, 0);
  CHECK(worker.running());
  CHECK_EQ(worker.max_threads(), 4u);
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(120);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    p.server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
  }
  // The clients' first flights are posted: the pool grew to four threads and spread them.
  CHECK_EQ(worker.threads(), 4u);
  size_t per_lane[DtlsHandshakeWorker::kMaxThreads] = {};
  for (Pair& p : pairs) {
    CHECK(p.client->pin().pinned());
    ++per_lane[p.client->pin().lane];
  }
  for (size_t i = 0; i < 4; ++i) CHECK_EQ(per_lane[i], pairs.size() / 4);
#if defined(__linux__)
  // The threads are named pwt-dtls-1 .. pwt-dtls-4 (what top -H and perf show).
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name.rfind("pwt-dtls-", 0) == 0) names.insert(name);
  }
  CHECK_EQ(names.size(), 4u);
  for (const char* n : {"pwt-dtls-1", "pwt-dtls-2", "pwt-dtls-3", "pwt-dtls-4"}) CHECK(names.count(n) == 1);
#endif
  CHECK_EQ(ConnectAll(worker, wake, pairs), pairs.size());
  std::vector<std::thread::id> ids;
  for (Pair& p : pairs) {
    for (DtlsOffloadedEngine* e : {p.client.get(), p.server.get()}) {
      CHECK(e->home());
      CHECK(!e->pin().pinned());  // released once home
      CHECK_EQ(e->worker_threads_seen(), 1u);
    }
  }
  for (size_t i = 0; i < 4; ++i) CHECK_EQ(worker.pinned(i), 0u);
  // Home: the keys agree on both ends as with one thread.
  for (Pair& p : pairs) {
    SrtpKeyingMaterial kc;
    SrtpKeyingMaterial ks;
    CHECK(p.client->ExportSrtpKeyingMaterial(&kc));
    CHECK(p.server->ExportSrtpKeyingMaterial(&ks));
    CHECK_MEM(kc.client.key.data(), ks.client.key.data(), kc.client.key_len);
    kc.wipe();
    ks.wipe();
  }
}

// Closes, drops and stops while four threads are in the middle of handshakes (each piece of work
// made slow), then releases engines after the pool itself is gone: no crash, no leak, no use after
// free (ASan/UBSan build), and engines closed by the owner stay closed.
void TestCloseWhileThreadsWork() {
  Wake wake;
  DtlsHandshakeWorker::SetDelayForTesting(2);
  auto worker = std::make_unique<DtlsHandshakeWorker>(&Wake::Notify, &wake, 4);
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(60);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, worker.get());
    p.server = MakeEngine(b, *a, DtlsRole::kServer, worker.get());
    p.server->Start();
    p.client->Start();
  }
  CHECK_EQ(worker->threads(), 4u);
  Lcg rng{14};
  std::vector<bool> closed(pairs.size(), false);
  // A few exchanges, so that engines are at different points, some with work out.
  for (int round = 0; round < 6; ++round) {
    for (const auto& e : worker->TakeDone()) e->ApplyResults();
    for (Pair& p : pairs) {
      if (!p.client || !p.server) continue;
      Move(*p.client, *p.server);
      Move(*p.server, *p.client);
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      Pair& p = pairs[i];
      if (!p.client || !p.server || closed[i] || rng.Next(8) != 0) continue;
      switch (rng.Next(3)) {
        case 0:
          closed[i] = true;
          p.client->Close();
          CHECK(p.client->state() == DtlsState::kClosed);
          break;
        case 1: p.server.reset(); break;
        default: p = Pair{}; break;
      }
    }
    wake.WaitFor(std::chrono::milliseconds(50));
  }
  size_t busy = 0;
  for (const Pair& p : pairs) busy += (p.client && p.client->busy()) + (p.server && p.server->busy());
  std::fprintf(stderr, "close while threads work: %zu engines with work out at Stop\n", busy);
  worker->Stop();
  CHECK(worker->TakeDone().empty());
  worker.reset();
  DtlsHandshakeWorker::SetDelayForTesting(0);
  // The engines outlive the pool: closed ones stay closed, and dropping them releases their pins
  // into the counts the pins share (the pool's own memory is gone).
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (closed[i]) CHECK(pairs[i].client->state() == DtlsState::kClosed);
  }
  pairs.clear();
}

// The second thread refused: the pool keeps its first thread, counts the refusal, asks no more, and
// every handshake still completes there.
void TestSecondThreadRefused() {
  Wake wake;
  DtlsHandshakeWorker::SetRefuseThreadsFromForTesting(1);
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 4);
  CHECK(worker.running());
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(12);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    p.server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    p.server->Start();
    p.client->Start();
  }
  DtlsHandshakeWorker::SetRefuseThreadsFromForTesting(-1);
  CHECK_EQ(worker.threads(), 1u);
  CHECK_EQ(worker.refused_threads(), 1u);
  CHECK_EQ(ConnectAll(worker, wake, pairs), pairs.size());
  // Allowed again, the pool still does not grow (a refusal ends it): one thread ran everything.
  CHECK_EQ(worker.threads(), 1u);
  for (Pair& p : pairs) {
    CHECK_EQ(p.client->pin().pinned(), false);
    CHECK_EQ(p.client->worker_threads_seen(), 1u);
  }
}

// A posted timeout that waited in the queue behind the answer to its flight: the answer runs
// first, so the flight is not sent again (no retransmission counted) although the timer had expired.
void TestTimeoutAfterQueuedAnswer() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 1);
  auto a = MakeContext();
  auto b = MakeContext();
  DtlsEngineConfig cfg;
  cfg.role = DtlsRole::kClient;
  cfg.initial_timeout_ms = 50;
  cfg.max_timeout_ms = 50;
  DtlsStatus st;
  auto client_engine = DtlsEngine::Create(a, cfg, &st);
  CHECK(st == DtlsStatus::kOk);
  auto client = std::make_shared<DtlsOffloadedEngine>(std::move(client_engine), &worker);
  CHECK(client->SetRemoteFingerprints({Sha256Of(*b)}) == DtlsStatus::kOk);
  auto server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
  server->Start();
  client->Start();
  auto settle = [&](DtlsOffloadedEngine& e) {
    for (int i = 0; i < 200 && e.busy(); ++i) {
      wake.WaitFor(std::chrono::milliseconds(100));
      for (const auto& d : worker.TakeDone()) d->ApplyResults();
    }
    CHECK(!e.busy());
  };
  settle(*client);
  Move(*client, *server);  // ClientHello
  settle(*server);
  // The client's timer expires (the first flight's answer, the server's flight, is not in yet).
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  CHECK_EQ(client->TimeoutUs(), 0);
  // The owner's timer fires and posts the timeout; the answer arrives before the thread runs it.
  // (The thread sleeps 1.5 s before it takes the engine's inbox; the answer is posted at once, and
  // 1.5 s is far more than a loaded machine's preemption between the two posts.)
  DtlsHandshakeWorker::SetDelayForTesting(1500);
  client->HandleTimeout();
  CHECK(client->busy());
  Move(*server, *client);
  settle(*client);
  DtlsHandshakeWorker::SetDelayForTesting(0);
  CHECK_EQ(client->counters().retransmit_timeouts, 0u);
  std::vector<Pair> pairs{Pair{client, server}};
  CHECK_EQ(ConnectAll(worker, wake, pairs), 1u);
}

}  // namespace

// Admission (docs/dtls.md "Handshakes in flight"): 60 pairs started at once on a pool that lets
// 4 handshakes of each role in flight: every pair connects, the count in flight never goes above 4
// per role (checked after every step of the loop, and by the pool's own peak), later clients wait
// (no first flight, no timer) until a slot frees, and every slot is free again at the end.
void TestAdmissionBoundsHandshakesInFlight() {
  Wake wake;
  const size_t kLimit = 4;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 2, kLimit);
  CHECK_EQ(worker.max_in_flight(), kLimit);
  auto a = MakeContext();
  auto b = MakeContext();
  std::vector<Pair> pairs(60);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    p.server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
  }
  size_t waiting = 0;
  for (Pair& p : pairs) {
    if (!p.client->awaiting_admission()) continue;
    ++waiting;
    CHECK(!p.client->pin().pinned());
    CHECK(p.client->busy());
    CHECK_EQ(p.client->TimeoutUs(), -1);  // no retransmission timer while it waits
    CHECK(!p.client->HasOutgoing());      // its ClientHello is not made yet
    CHECK(p.client->awaiting_admission() && !p.client->waiting_with_ssl());  // nor its SSL
    CHECK(p.client->state() == DtlsState::kConnecting);
  }
  CHECK_EQ(waiting, pairs.size() - kLimit);
  CHECK_EQ(worker.admission_stats(0).in_flight, kLimit);
  CHECK_EQ(worker.admission_stats(0).waiting, pairs.size() - kLimit);
  const size_t connected = ConnectAll(worker, wake, pairs, 3000, [&] {
    CHECK(worker.admission_stats(0).in_flight <= kLimit);
    CHECK(worker.admission_stats(1).in_flight <= kLimit);
  });
  CHECK_EQ(connected, pairs.size());
  for (size_t role = 0; role < 2; ++role) {
    const DtlsAdmissionStats st = worker.admission_stats(role);
    CHECK_EQ(st.peak_in_flight, kLimit);
    CHECK_EQ(st.in_flight, 0u);
    CHECK_EQ(st.waiting, 0u);
  }
  CHECK_EQ(worker.admission_stats(0).waited, pairs.size() - kLimit);
  for (Pair& p : pairs) {
    CHECK(p.client->home());
    CHECK(p.server->home());
    // A waiting handshake retransmitted nothing: its timer did not run while it waited.
    CHECK_EQ(p.client->counters().retransmit_timeouts, 0u);
    CHECK_EQ(p.server->counters().retransmit_timeouts, 0u);
  }
}

// A peer that starts a handshake and never finishes holds its server's slot only until that
// server is closed (or dropped, or OpenSSL gives up: a failed handshake is over too), or, once its
// slot is older than the stale time, until the waiting server's peer sends its ClientHello again;
// the server waiting behind it then gets the slot and connects. Limit 1 per role.
void TestAdmissionSlotReleasedByStalledPeer() {
  for (int drop = 0; drop < 3; ++drop) {
    Wake wake;
    DtlsHandshakeWorker worker(&Wake::Notify, &wake, 1, 1);
    if (drop == 2) worker.set_stale_ms(50);
    auto a = MakeContext();
    auto b = MakeContext();
    // The stalled peer: its ClientHello reaches server A, then it goes away without a word.
    Pair stalled;
    stalled.client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    stalled.server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    stalled.server->Start();
    stalled.client->Start();
    for (int i = 0; i < 200 && !stalled.client->HasOutgoing(); ++i) {
      wake.WaitFor(std::chrono::milliseconds(100));
      for (const auto& e : worker.TakeDone()) e->ApplyResults();
    }
    CHECK(Move(*stalled.client, *stalled.server) > 0);
    stalled.client.reset();  // its client slot is free again
    CHECK_EQ(worker.admission_stats(0).in_flight, 0u);
    CHECK_EQ(worker.admission_stats(1).in_flight, 1u);
    for (int i = 0; i < 200 && stalled.server->busy(); ++i) {
      wake.WaitFor(std::chrono::milliseconds(100));
      for (const auto& e : worker.TakeDone()) e->ApplyResults();
    }
    CHECK(stalled.server->HasOutgoing());  // it answered and now waits for a flight that never comes
    CHECK_EQ(worker.admission_stats(1).in_flight, 1u);
    // A good pair behind it: its server waits for the slot with the ClientHello in hand.
    std::vector<Pair> good(1);
    good[0].client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    good[0].server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
    good[0].server->Start();
    good[0].client->Start();
    for (int i = 0; i < 200 && !good[0].client->HasOutgoing(); ++i) {
      wake.WaitFor(std::chrono::milliseconds(100));
      for (const auto& e : worker.TakeDone()) e->ApplyResults();
    }
    std::vector<uint8_t> hello(4096);
    uint32_t hello_len = 0;
    CHECK_EQ(good[0].client->DrainOutgoing(hello.data(), hello.size(), &hello_len, 1), 1u);
    good[0].server->HandleDatagrams(hello.data(), &hello_len, 1);
    CHECK(good[0].server->awaiting_admission());
    CHECK(!good[0].server->waiting_with_ssl());  // it holds the ClientHello, not an SSL
    CHECK_EQ(worker.admission_stats(1).waiting, 1u);
    CHECK_EQ(good[0].server->TimeoutUs(), -1);
    if (drop == 0) {
      stalled.server->Close();
    } else if (drop == 1) {
      stalled.server.reset();
    } else {
      // Stale: the stalled server's slot is older than 50 ms; the peer's copy of its ClientHello
      // (its retransmission) finds the waiting server and the slot stops counting.
      std::this_thread::sleep_for(std::chrono::milliseconds(80));
      good[0].server->HandleDatagrams(hello.data(), &hello_len, 1);
      CHECK_EQ(worker.admission_stats(1).reclaimed, 1u);
    }
    CHECK(!good[0].server->awaiting_admission());
    CHECK_EQ(worker.admission_stats(1).waiting, 0u);
    CHECK_EQ(ConnectAll(worker, wake, good), 1u);
    CHECK_EQ(worker.admission_stats(1).waited, 1u);
    if (drop == 2) {
      // The reclaimed slot's engine ends later: it is not uncounted twice.
      CHECK_EQ(worker.admission_stats(1).in_flight, 0u);
      stalled.server->Close();
      CHECK(stalled.server->home());
    }
    CHECK_EQ(worker.admission_stats(1).in_flight, 0u);
    if (drop != 2) CHECK_EQ(worker.admission_stats(1).reclaimed, 0u);
  }
}

// The owner's count of posted work not applied yet (the binding's hub: its wake-up handle keeps the
// process alive while it is not 0): work posted, less work withdrawn unrun, less work ApplyResults
// completed.
struct PendingLedger {
  uint64_t pending = 0;
  // Called after each call on `e`, as the binding's NotePosted: what it posted or withdrew since.
  void Note(const DtlsOffloadedEngine& e, uint64_t* posted_seen, uint64_t* withdrawn_seen) {
    pending += e.posted() - *posted_seen;
    *posted_seen = e.posted();
    CHECK(e.withdrawn() - *withdrawn_seen <= pending);
    pending -= e.withdrawn() - *withdrawn_seen;
    *withdrawn_seen = e.withdrawn();
  }
  void Apply(DtlsHandshakeWorker& worker) {
    for (const auto& e : worker.TakeDone()) {
      const size_t n = e->ApplyResults();
      CHECK(n <= pending);
      pending -= n;
    }
  }
};

// A handshake waiting for an admission slot that is destroyed, abandoned by its owner (the
// binding's wrapper finalised) or closed leaves the FIFO at once, its posted work withdrawn unrun:
// the owner's count of pending work comes back to 0 (before, a finalised waiter kept it above 0 and
// the process never exited), no slot stays counted, and a closed waiter never runs on a thread (no
// key share, no ClientHello, no slot taken). One destroyed after its admission comes back through
// the pool as any other. Limit 1 per role.
void TestAdmissionWaiterClosedOrDestroyed() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 1, 1);
  auto a = MakeContext();
  auto b = MakeContext();
  PendingLedger ledger;
  struct Seen {
    uint64_t posted = 0;
    uint64_t withdrawn = 0;
  };
  // A holds the one client slot.
  auto holder = MakeEngine(a, *b, DtlsRole::kClient, &worker);
  Seen hs;
  CHECK(holder->Start() == DtlsStatus::kOk);
  ledger.Note(*holder, &hs.posted, &hs.withdrawn);
  CHECK(holder->pin().pinned());
  // Four wait behind it: destroyed, abandoned then destroyed, closed, and one that waits on.
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> w(4);
  std::vector<Seen> ws(4);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = MakeEngine(a, *b, DtlsRole::kClient, &worker);
    CHECK(w[i]->Start() == DtlsStatus::kOk);
    ledger.Note(*w[i], &ws[i].posted, &ws[i].withdrawn);
    CHECK(w[i]->awaiting_admission());
    CHECK(w[i]->busy());
  }
  CHECK_EQ(worker.admission_stats(0).waiting, 4u);
  CHECK_EQ(ledger.pending, 5u);
  // Destroyed while waiting (no Abandon): out of the FIFO. Its one post is the owner's to uncount
  // (the binding does it through Abandon, below); here it is taken off by hand.
  w[0].reset();
  ledger.pending -= 1;
  CHECK_EQ(worker.admission_stats(0).waiting, 3u);
  // Abandoned (the binding's wrapper finalised): withdrawn, counted, then destroyed.
  CHECK(w[1]->Abandon());
  CHECK(!w[1]->awaiting_admission());
  CHECK(!w[1]->busy());
  CHECK_EQ(w[1]->withdrawn(), 1u);
  ledger.Note(*w[1], &ws[1].posted, &ws[1].withdrawn);
  CHECK(!w[1]->Abandon());  // once
  w[1].reset();
  CHECK_EQ(worker.admission_stats(0).waiting, 2u);
  CHECK_EQ(ledger.pending, 3u);
  // Closed while waiting: the close runs in place, the engine is home and closed.
  w[2]->Close();
  ledger.Note(*w[2], &ws[2].posted, &ws[2].withdrawn);
  CHECK(!w[2]->awaiting_admission());
  CHECK(!w[2]->busy());
  CHECK(w[2]->home());
  CHECK(w[2]->state() == DtlsState::kClosed);
  CHECK(w[2]->TakeStateChanged());
  CHECK_EQ(w[2]->withdrawn(), 1u);
  CHECK_EQ(worker.admission_stats(0).waiting, 1u);
  CHECK_EQ(worker.admission_stats(0).in_flight, 1u);
  CHECK_EQ(ledger.pending, 2u);
  // The holder's first flight comes back; then it is closed: its slot goes to w[3], the one still
  // waiting (not to a closed or destroyed one).
  for (int i = 0; i < 200 && holder->busy(); ++i) {
    wake.WaitFor(std::chrono::milliseconds(100));
    ledger.Apply(worker);
  }
  CHECK(!holder->busy());
  CHECK(holder->HasOutgoing());
  holder->Close();
  ledger.Note(*holder, &hs.posted, &hs.withdrawn);
  CHECK(holder->home());
  CHECK(!w[3]->awaiting_admission());
  CHECK(w[3]->pin().pinned());
  CHECK_EQ(worker.admission_stats(0).waiting, 0u);
  CHECK_EQ(worker.admission_stats(0).in_flight, 1u);
  // Destroyed after its admission: the pool holds it until its work is applied, then the slot is free.
  w[3].reset();
  for (int i = 0; i < 200 && ledger.pending > 0; ++i) {
    wake.WaitFor(std::chrono::milliseconds(100));
    ledger.Apply(worker);
  }
  CHECK_EQ(ledger.pending, 0u);
  CHECK_EQ(worker.admission_stats(0).in_flight, 0u);
  CHECK_EQ(worker.admission_stats(0).peak_in_flight, 1u);
  CHECK_EQ(worker.admission_stats(0).waited, 4u);
  // The closed waiter never ran: no thread saw it, no first flight, nothing on the wire.
  CHECK_EQ(w[2]->worker_threads_seen(), 0u);
  CHECK(!w[2]->HasOutgoing());
  CHECK_EQ(w[2]->counters().retransmit_timeouts, 0u);

  // A server closed while it waits with the ClientHello in hand: the datagram is dropped unrun
  // (counted as dropped after close), nothing is answered.
  auto client = MakeEngine(a, *b, DtlsRole::kClient, &worker);
  auto busy_server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
  auto server = MakeEngine(b, *a, DtlsRole::kServer, &worker);
  Seen cs, bs, ss;
  CHECK(client->Start() == DtlsStatus::kOk);
  ledger.Note(*client, &cs.posted, &cs.withdrawn);
  for (int i = 0; i < 200 && client->busy(); ++i) {
    wake.WaitFor(std::chrono::milliseconds(100));
    ledger.Apply(worker);
  }
  std::vector<uint8_t> hello(4096);
  uint32_t hello_len = 0;
  CHECK_EQ(client->DrainOutgoing(hello.data(), hello.size(), &hello_len, 1), 1u);
  CHECK(busy_server->Start() == DtlsStatus::kOk);
  CHECK(server->Start() == DtlsStatus::kOk);
  busy_server->HandleDatagrams(hello.data(), &hello_len, 1);
  ledger.Note(*busy_server, &bs.posted, &bs.withdrawn);
  server->HandleDatagrams(hello.data(), &hello_len, 1);
  ledger.Note(*server, &ss.posted, &ss.withdrawn);
  CHECK(server->awaiting_admission());
  CHECK_EQ(worker.admission_stats(1).waiting, 1u);
  server->Close();
  ledger.Note(*server, &ss.posted, &ss.withdrawn);
  CHECK(server->home());
  CHECK(server->state() == DtlsState::kClosed);
  CHECK_EQ(worker.admission_stats(1).waiting, 0u);
  CHECK_EQ(server->counters().datagrams_in, 1u);
  CHECK_EQ(server->counters().dropped_after_close, 1u);
  CHECK_EQ(server->counters().client_hellos, 0u);
  busy_server->Close();
  client->Close();
  ledger.Note(*busy_server, &bs.posted, &bs.withdrawn);
  ledger.Note(*client, &cs.posted, &cs.withdrawn);
  for (int i = 0; i < 200 && ledger.pending > 0; ++i) {
    wake.WaitFor(std::chrono::milliseconds(100));
    ledger.Apply(worker);
  }
  CHECK_EQ(ledger.pending, 0u);
  CHECK_EQ(server->worker_threads_seen(), 0u);
  CHECK(!server->HasOutgoing());
  for (size_t role = 0; role < 2; ++role) {
    CHECK_EQ(worker.admission_stats(role).in_flight, 0u);
    CHECK_EQ(worker.admission_stats(role).waiting, 0u);
  }
}

// The adaptive choice (docs/dtls.md "Handshake thread"): one pair at a time runs both of its
// handshakes in place (nothing posted, no pin, no slot) and connects with the same keys; the count
// of in-place handshakes comes back to 0 once they are over, so the next pair does the same. Ten
// pairs started at once: the first two clients run in place (fewer than two in flight when they
// start), the other eight clients and all ten servers (their ClientHello finds ten in flight) go to
// the pool, and all connect. A handshake in place closed or dropped mid-way stops counting.
void TestAdaptiveChoice() {
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 2, 0);
  CHECK_EQ(worker.adaptive_in_thread(), DtlsHandshakeWorker::kDefaultAdaptiveInThread);
  auto a = MakeContext();
  auto b = MakeContext();
  for (int round = 0; round < 2; ++round) {
    Pair p{MakeEngine(a, *b, DtlsRole::kClient, &worker, true), MakeEngine(b, *a, DtlsRole::kServer, &worker, true)};
    CHECK(!p.client->home());
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
    CHECK(p.client->chose_in_thread() && p.client->home() && !p.client->busy());
    CHECK(p.client->HasOutgoing());  // the ClientHello, made in place
    CHECK_EQ(worker.adaptive_stats().in_thread_now, 1u);
    for (int i = 0; i < 20; ++i) {
      if (Move(*p.client, *p.server) + Move(*p.server, *p.client) == 0) break;
    }
    CHECK(p.server->chose_in_thread());
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.server->state() == DtlsState::kConnected);
    CHECK_EQ(p.client->posted(), 0u);
    CHECK_EQ(p.server->posted(), 0u);
    CHECK(!p.client->pin().pinned() && !p.server->pin().pinned());
    SrtpKeyingMaterial kc;
    SrtpKeyingMaterial ks;
    CHECK(p.client->ExportSrtpKeyingMaterial(&kc));
    CHECK(p.server->ExportSrtpKeyingMaterial(&ks));
    CHECK_MEM(kc.client.key.data(), ks.client.key.data(), kc.client.key_len);
    kc.wipe();
    ks.wipe();
    CHECK_EQ(worker.adaptive_stats().in_thread_now, 0u);
    CHECK_EQ(worker.admission_stats(0).peak_in_flight, 0u);
  }
  CHECK_EQ(worker.adaptive_stats().chose_in_thread, 4u);
  CHECK_EQ(worker.adaptive_stats().chose_pool, 0u);

  std::vector<Pair> pairs(10);
  for (Pair& p : pairs) {
    p.client = MakeEngine(a, *b, DtlsRole::kClient, &worker, true);
    p.server = MakeEngine(b, *a, DtlsRole::kServer, &worker, true);
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
  }
  for (size_t i = 0; i < pairs.size(); ++i) CHECK_EQ(pairs[i].client->chose_in_thread(), i < 2);
  CHECK_EQ(worker.adaptive_stats().in_thread_now, 2u);
  CHECK_EQ(worker.handshakes_in_flight(), 10u);
  CHECK_EQ(ConnectAll(worker, wake, pairs), pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    CHECK(!pairs[i].server->chose_in_thread());
    CHECK(pairs[i].server->used_thread());
    CHECK_EQ(pairs[i].client->used_thread(), i >= 2);
  }
  CHECK_EQ(worker.adaptive_stats().chose_in_thread, 6u);
  CHECK_EQ(worker.adaptive_stats().chose_pool, 18u);
  CHECK_EQ(worker.adaptive_stats().in_thread_now, 0u);
  CHECK_EQ(worker.handshakes_in_flight(), 0u);
  pairs.clear();

  // Closed mid-handshake, and dropped mid-handshake: no longer counted.
  auto closed = MakeEngine(a, *b, DtlsRole::kClient, &worker, true);
  CHECK(closed->Start() == DtlsStatus::kOk);
  CHECK(closed->chose_in_thread());
  CHECK_EQ(worker.adaptive_stats().in_thread_now, 1u);
  closed->Close();
  CHECK_EQ(worker.adaptive_stats().in_thread_now, 0u);
  {
    auto dropped = MakeEngine(a, *b, DtlsRole::kClient, &worker, true);
    CHECK(dropped->Start() == DtlsStatus::kOk);
    CHECK_EQ(worker.adaptive_stats().in_thread_now, 1u);
  }
  CHECK_EQ(worker.adaptive_stats().in_thread_now, 0u);
  // Limit 0: every adaptive engine goes to the pool.
  worker.set_adaptive_in_thread(0);
  auto pooled = MakeEngine(a, *b, DtlsRole::kClient, &worker, true);
  CHECK(pooled->Start() == DtlsStatus::kOk);
  CHECK(!pooled->chose_in_thread() && pooled->busy());
  pooled->Close();
  for (int i = 0; i < 100 && pooled->busy(); ++i) {
    for (const auto& e : worker.TakeDone()) e->ApplyResults();
    if (pooled->busy()) wake.WaitFor(std::chrono::milliseconds(200));
  }
  CHECK(!pooled->busy());
  worker.Stop();
}

// One in-place (adaptive) pair at a time, as a process with one connection at a time runs them:
// nothing is posted to the thread, yet the ECDHE key taken (or asked for while the pool is empty)
// wakes the sleeping thread, which fills the pool in idle time; later pairs take pooled keys
// (docs/dtls.md "Library context"). Before, the thread slept until posted work came, the pool
// stayed empty and every handshake made its key on the spot. Runs first: the pools are
// process-wide and no handshake has asked for a key yet.
void TestInPlaceHandshakesRefillPools() {
  using G = DtlsKeyPoolGroup;
  if (!DtlsLibraryContextKeyPoolStats(G::kX25519).enabled) return;  // PWT_DTLS_KEY_POOL=0
  Wake wake;
  DtlsHandshakeWorker worker(&Wake::Notify, &wake, 1, 0);
  auto a = MakeContext();
  auto b = MakeContext();
  auto run_pair = [&]() {
    Pair p{MakeEngine(a, *b, DtlsRole::kClient, &worker, true), MakeEngine(b, *a, DtlsRole::kServer, &worker, true)};
    CHECK(p.server->Start() == DtlsStatus::kOk);
    CHECK(p.client->Start() == DtlsStatus::kOk);
    for (int i = 0; i < 20; ++i) {
      if (Move(*p.client, *p.server) + Move(*p.server, *p.client) == 0) break;
    }
    CHECK(p.client->chose_in_thread() && p.server->chose_in_thread());
    CHECK(p.client->state() == DtlsState::kConnected);
    CHECK(p.server->state() == DtlsState::kConnected);
    CHECK_EQ(p.client->posted() + p.server->posted(), 0u);
  };
  // Waits (bounded: 20 s, a loaded machine) until the idle thread made more than `made` keys.
  auto wait_made_above = [&](uint64_t made) {
    for (int i = 0; i < 2000 && DtlsLibraryContextKeyPoolStats(G::kX25519).made <= made; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return DtlsLibraryContextKeyPoolStats(G::kX25519).made > made;
  };
  const DtlsKeyPoolStats s0 = DtlsLibraryContextKeyPoolStats(G::kX25519);
  run_pair();
  const DtlsKeyPoolStats s1 = DtlsLibraryContextKeyPoolStats(G::kX25519);
  CHECK(s1.missed > s0.missed);  // the first pair's keys: made on the spot, the group now wanted
  CHECK(wait_made_above(s1.made));
  // Full once the thread is done (64 keys), then a pair takes both its keys from the pool.
  for (int i = 0; i < 2000 && DtlsLibraryContextKeyPoolStats(G::kX25519).pooled < s1.target; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const DtlsKeyPoolStats s2 = DtlsLibraryContextKeyPoolStats(G::kX25519);
  CHECK_EQ(s2.pooled, s2.target);
  run_pair();
  const DtlsKeyPoolStats s3 = DtlsLibraryContextKeyPoolStats(G::kX25519);
  CHECK_EQ(s3.taken, s2.taken + 2);
  CHECK_EQ(s3.missed, s2.missed);
  // The thread, asleep again once the pool was full, is woken by those takes and refills.
  for (int i = 0; i < 2000 && DtlsLibraryContextKeyPoolStats(G::kX25519).pooled < s3.target; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK_EQ(DtlsLibraryContextKeyPoolStats(G::kX25519).pooled, s3.target);
  CHECK(DtlsLibraryContextKeyPoolStats(G::kX25519).made > s3.made);
  CHECK_EQ(worker.adaptive_stats().chose_pool, 0u);
  worker.Stop();
}

int main() {
  TestInPlaceHandshakesRefillPools();
  TestAdaptiveChoice();
  TestSslSetupFailureOnThread();
  TestAdmissionWaiterClosedOrDestroyed();
  TestAdmissionBoundsHandshakesInFlight();
  TestAdmissionSlotReleasedByStalledPeer();
  TestPoolManyEnginesInParallel();
  TestCloseWhileThreadsWork();
  TestSecondThreadRefused();
  TestTimeoutAfterQueuedAnswer();
  TestHeldAfterConnected();
  TestRefusedThread();
  TestInPlaceWithoutWorker();
  TestHandshakesOnWorker();
  TestCloseAtRandomPoints();
  TestStopWithQueuedWork();
  TestBacklogBound();
  TestQueuesGivenBackAfterHandshake();
  TEST_MAIN_END();
}
