// A DtlsEngine offloaded to the handshake worker while it handshakes (see dtls_offloaded_engine.hpp;
// docs/dtls.md, "Handshake thread").
#include "native/dtls/dtls_offloaded_engine.hpp"

#include <openssl/crypto.h>

#include <chrono>
#include <utility>

#include "native/dtls/dtls_handshake_worker.hpp"

namespace pwt {
namespace {

int64_t SteadyNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The queues between the threads hold what the engine's own queues may hold (DtlsEngineConfig).
const DtlsEngineConfig kQueueCaps;

void WipeKeys(DtlsEngineSnapshot* s) {
  if (s->has_keys) s->keys.wipe();
  s->has_keys = false;
}

}  // namespace

DtlsOffloadedEngine::Results::Results()
    : out(kQueueCaps.max_out_bytes, kQueueCaps.max_out_count), data(kQueueCaps.max_data_bytes, kQueueCaps.max_data_count) {}

DtlsOffloadedEngine::DtlsOffloadedEngine(std::unique_ptr<DtlsEngine> engine, DtlsHandshakeWorker* worker, bool adaptive)
    : engine_(std::move(engine)),
      worker_(worker),
      role_(engine_->role()),
      home_(worker == nullptr),
      adaptive_(adaptive && worker != nullptr),
      out_(kQueueCaps.max_out_bytes, kQueueCaps.max_out_count),
      data_(kQueueCaps.max_data_bytes, kQueueCaps.max_data_count) {}

DtlsOffloadedEngine::~DtlsOffloadedEngine() {
  // Destroyed while waiting for a slot (its owner dropped it): out of the FIFO, never admitted.
  LeaveAdmission();
  pin_.Release();
  if (in_thread_slot_) in_thread_slot_->in_thread.fetch_sub(1, std::memory_order_relaxed);
  WipeKeys(&snapshot_);
  WipeKeys(&finished_.snapshot);
}

void DtlsOffloadedEngine::RunWork(DtlsEngine& engine, Work& work) {
  switch (work.kind) {
    case Work::Kind::kStart: engine.Start(); break;
    case Work::Kind::kDatagrams: {
      size_t off = 0;
      for (uint32_t len : work.lens) {
        engine.HandleDatagram(work.bytes.data() + off, len);
        off += len;
      }
      break;
    }
    case Work::Kind::kTimeout: engine.HandleTimeout(); break;
    case Work::Kind::kFingerprints: engine.SetRemoteFingerprints(std::move(work.fingerprints)); break;
    case Work::Kind::kSend: engine.Send(work.bytes.data(), work.bytes.size()); break;
    case Work::Kind::kClose: engine.Close(); break;
  }
}

// Runs on whichever thread owns the engine right now.
void DtlsOffloadedEngine::Collect(DtlsEngine& engine, Results* r) {
  r->refused_out += engine.outgoing().MoveInto(&r->out);
  r->refused_data += engine.MoveDataInto(&r->data);
  if (engine.TakeStateChanged()) r->state_changed = true;
  DtlsEngineSnapshot& s = r->snapshot;
  s.state = engine.state();
  s.was_connected = engine.was_connected();
  s.handed_over = engine.handed_over();
  s.srtp_profile = engine.srtp_profile();
  s.tls_version = engine.tls_version();
  s.failure_reason = engine.failure_reason();
  s.cipher_name = engine.cipher_name();
  s.cipher_standard_name = engine.cipher_standard_name();
  if (s.peer_der.empty()) s.peer_der = engine.peer_certificate_der();
  s.counters = engine.counters();
  int64_t us = engine.TimeoutUs();
  s.deadline_us = us < 0 ? -1 : SteadyNowUs() + us;
  if (!s.has_keys && engine.state() == DtlsState::kConnected && engine.srtp_profile() != 0) {
    s.has_keys = engine.ExportSrtpKeyingMaterial(&s.keys);
  }
  r->has_snapshot = true;
}

void DtlsOffloadedEngine::Post(Work work) {
  ++posted_;
  bool enqueue = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(work));
    if (!queued_) enqueue = queued_ = true;
  }
  if (enqueue) Enqueue();
}

void DtlsOffloadedEngine::Enqueue() {
  if (awaiting_admission_) return;  // queued_ stays set: the work waits in the inbox until Admitted
  if (!pin_.pinned()) {
    const size_t role = role_ == DtlsRole::kServer ? 1 : 0;
    if (!worker_->Admit(role, shared_from_this())) {
      // No timer runs meanwhile: busy() holds TimeoutUs at -1, and nothing of the handshake ran yet
      // (the client's first flight is its posted Start; the server's ClientHello waits here).
      awaiting_admission_ = true;
      waiting_in_ = worker_->admission();
      return;
    }
    pin_ = worker_->Assign(role);
  }
  worker_->Enqueue(pin_, shared_from_this());
}

void DtlsOffloadedEngine::Admitted() {
  if (!awaiting_admission_ || home_) return;
  awaiting_admission_ = false;
  waiting_in_.reset();
  // The pool chose this engine for the free slot: assigned here, not asked again (the queue behind
  // it is not empty, so Admit would put it back at the end).
  pin_ = worker_->Assign(role_ == DtlsRole::kServer ? 1 : 0);
  worker_->Enqueue(pin_, shared_from_this());
}

bool DtlsOffloadedEngine::LeaveAdmission() {
  if (!awaiting_admission_) return false;
  awaiting_admission_ = false;
  // Through the shared state: after the pool stopped (environment teardown) there is no FIFO left.
  if (waiting_in_ && waiting_in_->pool != nullptr) {
    waiting_in_->pool->Withdraw(role_ == DtlsRole::kServer ? 1 : 0, this);
  }
  waiting_in_.reset();
  // Not admitted: no thread has this engine, so the inbox is the owner's to empty.
  std::vector<Work> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TakeInboxLocked(&dropped);
  }
  for (const Work& w : dropped) {
    if (w.kind == Work::Kind::kDatagrams) withdrawn_datagrams_ += w.lens.size();
  }
  withdrawn_ += posted_ - applied_;
  applied_ = posted_;
  return true;
}

bool DtlsOffloadedEngine::Abandon() { return LeaveAdmission(); }

void DtlsOffloadedEngine::TakeInboxLocked(std::vector<Work>* out) {
  out->swap(inbox_);
  inbox_datagrams_ = 0;
  inbox_bytes_ = 0;
  queued_ = false;
}

void DtlsOffloadedEngine::RunInPlace(Work work) {
  RunWork(*engine_, work);
  Results r;
  Collect(*engine_, &r);
  Absorb(r);
}

void DtlsOffloadedEngine::RunOnWorker() {
  std::vector<Work> work;
  {
    std::lock_guard<std::mutex> lock(mu_);
    TakeInboxLocked(&work);
    const std::thread::id self = std::this_thread::get_id();
    if (threads_seen_ == 0 || ran_on_ != self) {
      ran_on_ = self;
      ++threads_seen_;
    }
  }
  if (work.empty()) return;
  // The engine is pinned to this thread (one thread runs one engine at a time), so it is never
  // driven twice at once nor on two threads. A timeout posted before datagrams that arrived while
  // the engine waited in the queue runs after them: the answer to the flight stops its timer
  // (DTLSv1_handle_timeout then finds nothing expired) instead of the flight going out again.
  bool timeout = false;
  for (Work& w : work) {
    if (w.kind == Work::Kind::kTimeout) {
      timeout = true;
    } else {
      RunWork(*engine_, w);
    }
  }
  if (timeout) engine_->HandleTimeout();
  Results r;
  Collect(*engine_, &r);
  r.completed = work.size();
  std::lock_guard<std::mutex> lock(mu_);
  finished_.refused_out += r.refused_out + r.out.MoveInto(&finished_.out);
  finished_.refused_data += r.refused_data + r.data.MoveInto(&finished_.data);
  finished_.state_changed = finished_.state_changed || r.state_changed;
  // Keys exported by an earlier run stay with the newest snapshot until the owner takes them.
  if (finished_.snapshot.has_keys && !r.snapshot.has_keys) {
    r.snapshot.keys = finished_.snapshot.keys;
    r.snapshot.has_keys = true;
  }
  WipeKeys(&finished_.snapshot);
  finished_.snapshot = std::move(r.snapshot);
  WipeKeys(&r.snapshot);
  finished_.has_snapshot = true;
  finished_.completed += r.completed;
}

size_t DtlsOffloadedEngine::worker_threads_seen() {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_seen_;
}

size_t DtlsOffloadedEngine::ApplyResults() {
  Results r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::swap(r.state_changed, finished_.state_changed);
    std::swap(r.has_snapshot, finished_.has_snapshot);
    std::swap(r.refused_out, finished_.refused_out);
    std::swap(r.refused_data, finished_.refused_data);
    std::swap(r.completed, finished_.completed);
    if (r.has_snapshot) {
      r.snapshot = std::move(finished_.snapshot);
      WipeKeys(&finished_.snapshot);
    }
    finished_.out.MoveInto(&r.out);
    finished_.data.MoveInto(&r.data);
    // The worker's result queues grew for the handshake's flights; once it is over they stay empty
    // (every later call runs in place), so an idle connection keeps none of that capacity.
    if (r.has_snapshot && HandshakeOver(r.snapshot)) {
      finished_.out.ReleaseWhenEmpty();
      finished_.data.ReleaseWhenEmpty();
    }
  }
  Absorb(r);
  return r.completed;
}

bool DtlsOffloadedEngine::HandshakeOver(const DtlsEngineSnapshot& s) {
  return s.handed_over || s.state == DtlsState::kConnected || s.state == DtlsState::kClosed || s.state == DtlsState::kFailed;
}

size_t DtlsOffloadedEngine::queue_capacity_bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return out_.capacity_bytes() + data_.capacity_bytes() + finished_.out.capacity_bytes() + finished_.data.capacity_bytes();
}

// Owner thread: takes results (of in-place or worker runs) into the owner's view.
void DtlsOffloadedEngine::Absorb(Results& r) {
  refused_out_ += r.refused_out + r.out.MoveInto(&out_);
  refused_data_ += r.refused_data + r.data.MoveInto(&data_);
  if (r.state_changed) state_changed_ = true;
  applied_ += r.completed;
  if (r.has_snapshot) {
    if (snapshot_.has_keys && !r.snapshot.has_keys) {
      r.snapshot.keys = snapshot_.keys;
      r.snapshot.has_keys = true;
    }
    WipeKeys(&snapshot_);
    snapshot_ = std::move(r.snapshot);
    WipeKeys(&r.snapshot);
    // Closed by the owner while work was posted: earlier work's results never reopen it.
    if (closed_by_owner_) snapshot_.state = DtlsState::kClosed;
  }
  // The owner's queues grew for the handshake's flights (as the engine's own, which it gives back
  // at handover): given back once drained, so an idle connection holds none of that capacity. Until
  // it is home, a worker's late result (a retransmitted flight) may grow them again: asked each time.
  // At home they are not used (calls go to the engine), so no allocation is repeated per call.
  if (HandshakeOver(snapshot_) && (!home_ || !queues_released_)) {
    queues_released_ = true;
    out_.ReleaseWhenEmpty();
    data_.ReleaseWhenEmpty();
  }
  // Each result of a handshake still out gives the pool a chance to reclaim stale slots for
  // engines that wait (a stalled peer's own retransmission timer brings such results).
  if (!home_ && worker_ != nullptr) worker_->AdmitWaiting(role_ == DtlsRole::kServer ? 1 : 0);
  if (home_ || busy()) return;
  // Back home once the handshake is over: OpenSSL's SSL is gone (handover), or the connection
  // is connected, closed or failed. From now on every call runs in place, as without offload.
  if (HandshakeOver(snapshot_)) {
    home_ = true;
    // Nothing will be posted again: the thread it was pinned to counts one engine less.
    pin_.Release();
    {
      // Nothing is posted (not busy): the worker's result queues stay empty from now on; the last
      // run that filled them may have ended before the handshake did, so give them back here too.
      std::lock_guard<std::mutex> lock(mu_);
      finished_.out.ReleaseWhenEmpty();
      finished_.data.ReleaseWhenEmpty();
    }
    // At home every accessor reads the engine: the snapshot's copies (the peer's certificate DER,
    // names, the failure reason, made by Collect on the worker) go, so a connection keeps one copy
    // of the certificate, not two. The RFC 5764 keys exported on the thread stay while the
    // connection is up, so that keySrtp runs no exporter (PRF) on this thread; wiped when it is no
    // longer connected (WipeKeysIfOver). What the engine keeps is made again here, on the owner
    // thread, so the handshake thread's malloc arena holds nothing of an idle connection and the
    // trim after the burst can give its pages back (docs/dtls.md "Handover").
    DtlsEngineSnapshot home;
    home.has_keys = snapshot_.has_keys && engine_->state() == DtlsState::kConnected;
    if (home.has_keys) home.keys = snapshot_.keys;
    WipeKeys(&snapshot_);
    engine_->RelocateKeptState();
    snapshot_ = std::move(home);
    WipeKeys(&home);
    // A move from a short string copies into the old buffer and keeps it: swapped out explicitly.
    std::string().swap(snapshot_.failure_reason);
    std::string().swap(snapshot_.cipher_name);
    std::string().swap(snapshot_.cipher_standard_name);
    std::vector<uint8_t>().swap(snapshot_.peer_der);
    std::vector<Work> held;
    held.swap(held_);
    held_datagrams_ = 0;
    held_bytes_ = 0;
    for (Work& w : held) RunWork(*engine_, w);
    WipeKeysIfOver();
  }
}

bool DtlsOffloadedEngine::Holding() const {
  return !home_ && busy() && (snapshot_.handed_over || snapshot_.state == DtlsState::kConnected);
}

bool DtlsOffloadedEngine::Hold(Work work) {
  if (held_datagrams_ + work.lens.size() > kDtlsMaxBacklogDatagrams || held_bytes_ + work.bytes.size() > kDtlsMaxBacklogBytes) {
    return false;
  }
  held_datagrams_ += work.lens.size();
  held_bytes_ += work.bytes.size();
  held_.push_back(std::move(work));
  return true;
}

void DtlsOffloadedEngine::ChooseWhereToRun() {
  if (!adaptive_ || home_ || posted_ != 0 || chose_in_thread_) return;
  if (!worker_->ChooseInThread()) return;
  // Nothing was ever posted, so the owner thread owns the engine: from now on every call runs in
  // place, as on the in-thread path; the pool never pins it (no slot, no thread).
  chose_in_thread_ = true;
  home_ = true;
  in_thread_slot_ = worker_->admission();
}

void DtlsOffloadedEngine::SettleInThread() {
  if (!in_thread_slot_) return;
  if (!engine_->handed_over()) {
    const DtlsState s = engine_->state();
    if (s != DtlsState::kConnected && s != DtlsState::kClosed && s != DtlsState::kFailed) return;
  }
  in_thread_slot_->in_thread.fetch_sub(1, std::memory_order_relaxed);
  in_thread_slot_.reset();
}

DtlsStatus DtlsOffloadedEngine::Start() {
  // The client's start is its handshake's first post (its ClientHello needs a key share).
  if (role_ == DtlsRole::kClient && !started_) ChooseWhereToRun();
  if (home_) {
    DtlsStatus st = engine_->Start();
    SettleInThread();
    return st;
  }
  if (started_) return DtlsStatus::kInvalidState;
  started_ = true;
  Work w;
  w.kind = Work::Kind::kStart;
  // The server only waits for a ClientHello; the client's first flight needs its key share.
  if (role_ == DtlsRole::kServer && !busy()) {
    RunInPlace(std::move(w));
  } else {
    Post(std::move(w));
    // Seen as connecting at once, as the in-place engine would be.
    snapshot_.state = DtlsState::kConnecting;
    state_changed_ = true;
  }
  return DtlsStatus::kOk;
}

// Datagrams handed to the engine where it lives (the JavaScript thread).
void DtlsOffloadedEngine::HandleInPlace(const uint8_t* data, const uint32_t* lens, size_t count) {
  size_t off = 0;
  for (size_t i = 0; i < count; ++i) {
    engine_->HandleDatagram(data + off, lens[i]);
    off += lens[i];
  }
}

// A copy of the batch for the handshake thread or the held queue.
DtlsOffloadedEngine::Work DtlsOffloadedEngine::DatagramWork(const uint8_t* data, const uint32_t* lens, size_t count) {
  Work w;
  w.kind = Work::Kind::kDatagrams;
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += lens[i];
  w.bytes.assign(data, data + total);
  w.lens.assign(lens, lens + count);
  return w;
}

void DtlsOffloadedEngine::WipeKeysIfOver() {
  if (snapshot_.has_keys && engine_->state() != DtlsState::kConnected) WipeKeys(&snapshot_);
}

void DtlsOffloadedEngine::HandleDatagrams(const uint8_t* data, const uint32_t* lens, size_t count) {
  // The started server's first datagram (its ClientHello) is its handshake's first post (one not
  // started drops it, DtlsEngine::HandleDatagram, and is not counted as a handshake in flight).
  if (count != 0 && role_ == DtlsRole::kServer && started_) ChooseWhereToRun();
  if (home_) {
    HandleInPlace(data, lens, count);
    WipeKeysIfOver();
    SettleInThread();
    return;
  }
  if (Holding()) {
    if (!Hold(DatagramWork(data, lens, count))) backlog_dropped_ += count;
    return;
  }
  // The client's last step (the server's Finished) goes to the thread too: it ends with the
  // handover (key block, record layer, SSL_free), which is OpenSSL work of the handshake. Media that
  // arrives before the result keys SRTP is kept by the peer transport meanwhile (docs/dtls.md,
  // "Media before the keys").
  if (!PostDatagrams(DatagramWork(data, lens, count))) backlog_dropped_ += count;
}

bool DtlsOffloadedEngine::PostDatagrams(Work work) {
  bool enqueue = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_datagrams_ + work.lens.size() > kDtlsMaxBacklogDatagrams ||
        inbox_bytes_ + work.bytes.size() > kDtlsMaxBacklogBytes) {
      return false;
    }
    inbox_datagrams_ += work.lens.size();
    inbox_bytes_ += work.bytes.size();
    inbox_.push_back(std::move(work));
    if (!queued_) enqueue = queued_ = true;
  }
  ++posted_;
  if (enqueue) Enqueue();
  // Waiting for a slot: the peer's retransmission is a moment to look for stale slots.
  if (awaiting_admission_) worker_->AdmitWaiting(role_ == DtlsRole::kServer ? 1 : 0);
  return true;
}

void DtlsOffloadedEngine::HandleTimeout() {
  if (home_) {
    engine_->HandleTimeout();
    WipeKeysIfOver();
    SettleInThread();
    return;
  }
  if (busy()) return;  // the posted work's result brings a fresh deadline
  Work w;
  w.kind = Work::Kind::kTimeout;
  Post(std::move(w));
}

int64_t DtlsOffloadedEngine::TimeoutUs() const {
  if (home_) return engine_->TimeoutUs();
  if (busy() || snapshot_.deadline_us < 0) return -1;
  int64_t left = snapshot_.deadline_us - SteadyNowUs();
  return left < 0 ? 0 : left;
}

DtlsStatus DtlsOffloadedEngine::SetRemoteFingerprints(std::vector<RemoteFingerprint> fingerprints) {
  if (home_ || !busy()) {
    if (home_) {
      DtlsStatus st = engine_->SetRemoteFingerprints(std::move(fingerprints));
      WipeKeysIfOver();
      SettleInThread();
      return st;
    }
    // Nothing posted: the engine is ours; checking a list (and verifying a finished handshake's
    // certificate digest) is cheap, so it runs here and the caller sees its status.
    DtlsStatus st = engine_->SetRemoteFingerprints(std::move(fingerprints));
    Results r;
    Collect(*engine_, &r);
    Absorb(r);
    return st;
  }
  if (snapshot_.state == DtlsState::kClosed || snapshot_.state == DtlsState::kFailed) return DtlsStatus::kInvalidState;
  if (fingerprints.empty()) return DtlsStatus::kInvalidArgument;
  for (const RemoteFingerprint& fp : fingerprints) {
    size_t want = FingerprintLength(fp.algorithm);
    if (want == 0 || fp.digest.size() != want) return DtlsStatus::kInvalidArgument;
  }
  Work w;
  w.kind = Work::Kind::kFingerprints;
  w.fingerprints = std::move(fingerprints);
  Post(std::move(w));
  return DtlsStatus::kOk;
}

DtlsStatus DtlsOffloadedEngine::Send(const uint8_t* data, size_t len) {
  if (home_) {
    DtlsStatus st = engine_->Send(data, len);
    WipeKeysIfOver();
    return st;
  }
  if (snapshot_.state != DtlsState::kConnected) return DtlsStatus::kInvalidState;
  if (len == 0) return DtlsStatus::kInvalidArgument;
  if (len > kDtlsMaxRecordPayload) return DtlsStatus::kTooLarge;
  Work w;
  w.kind = Work::Kind::kSend;
  w.bytes.assign(data, data + len);
  if (Holding()) {
    // Bounded like received datagrams; a record beyond is lost as on a full queue (counted).
    if (!Hold(std::move(w))) ++refused_out_;
  } else if (busy()) {
    Post(std::move(w));
  } else {
    RunInPlace(std::move(w));
  }
  return DtlsStatus::kOk;
}

void DtlsOffloadedEngine::Close() {
  if (home_) {
    engine_->Close();
    WipeKeysIfOver();
    SettleInThread();
    return;
  }
  if (snapshot_.state == DtlsState::kClosed || snapshot_.state == DtlsState::kFailed) return;
  Work w;
  w.kind = Work::Kind::kClose;
  // Still waiting for a slot: nothing of the handshake ran on a thread (a client's Start, a
  // server's ClientHello are only posted), so the wait ends here and the close runs in place: the
  // engine never takes a slot nor a thread, and a client's first flight is never made.
  LeaveAdmission();
  if (busy()) {
    // After work already held (it was called first), else after the posted work.
    if (!held_.empty()) {
      held_.push_back(std::move(w));
    } else {
      Post(std::move(w));
    }
    closed_by_owner_ = true;
    // Closed from the caller's point of view now (W3C close is synchronous); the engine follows
    // when the worker reaches this work. What the posted work produces (records sent before the
    // close, the close_notify alert) comes back in out_ like any result; the owner keeps its
    // socket until then and sends it (lib/transport/peer-transport.ts close()).
    snapshot_.state = DtlsState::kClosed;
    state_changed_ = true;
  } else {
    RunInPlace(std::move(w));
  }
}

size_t DtlsOffloadedEngine::DrainOutgoing(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count) {
  size_t n = out_.DrainInto(out, cap, lens, max_count);
  if (n != 0 || !home_) return n;
  return engine_->outgoing().DrainInto(out, cap, lens, max_count);
}

bool DtlsOffloadedEngine::HasOutgoing() const { return !out_.empty() || (home_ && !engine_->outgoing().empty()); }

size_t DtlsOffloadedEngine::DrainData(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count) {
  if (!Deliverable()) return 0;
  size_t n = data_.DrainInto(out, cap, lens, max_count);
  if (n != 0 || !home_) return n;
  return engine_->DrainData(out, cap, lens, max_count);
}

// Data is handed out while connected, and after the peer's close_notify (what it sent before the
// close); never after the owner's Close().
bool DtlsOffloadedEngine::Deliverable() const {
  if (closed_by_owner_) return false;
  DtlsState s = state();
  return s == DtlsState::kConnected || (s == DtlsState::kClosed && was_connected());
}

bool DtlsOffloadedEngine::HasData() const {
  if (!Deliverable()) return false;
  return !data_.empty() || (home_ && engine_->HasData());
}

bool DtlsOffloadedEngine::TakeStateChanged() {
  bool changed = state_changed_;
  state_changed_ = false;
  if (home_ && engine_->TakeStateChanged()) changed = true;
  return changed;
}

DtlsState DtlsOffloadedEngine::state() const {
  if (closed_by_owner_) return DtlsState::kClosed;
  return home_ ? engine_->state() : snapshot_.state;
}
bool DtlsOffloadedEngine::was_connected() const { return home_ ? engine_->was_connected() : snapshot_.was_connected; }
const std::string& DtlsOffloadedEngine::failure_reason() const {
  return home_ ? engine_->failure_reason() : snapshot_.failure_reason;
}
uint16_t DtlsOffloadedEngine::srtp_profile() const { return home_ ? engine_->srtp_profile() : snapshot_.srtp_profile; }
std::string DtlsOffloadedEngine::cipher_name() const { return home_ ? engine_->cipher_name() : snapshot_.cipher_name; }
std::string DtlsOffloadedEngine::cipher_standard_name() const {
  return home_ ? engine_->cipher_standard_name() : snapshot_.cipher_standard_name;
}
uint16_t DtlsOffloadedEngine::tls_version() const { return home_ ? engine_->tls_version() : snapshot_.tls_version; }
bool DtlsOffloadedEngine::handed_over() const { return home_ ? engine_->handed_over() : snapshot_.handed_over; }
const std::vector<uint8_t>& DtlsOffloadedEngine::peer_certificate_der() const {
  return home_ ? engine_->peer_certificate_der() : snapshot_.peer_der;
}

DtlsCounters DtlsOffloadedEngine::counters() const {
  DtlsCounters c = home_ ? engine_->counters() : snapshot_.counters;
  c.dropped_out_queue_full += refused_out_;
  c.dropped_data_queue_full += refused_data_;
  c.dropped_backlog += backlog_dropped_;
  // Received while waiting for a slot, dropped unrun when it was closed there.
  c.datagrams_in += withdrawn_datagrams_;
  c.dropped_after_close += withdrawn_datagrams_;
  return c;
}

bool DtlsOffloadedEngine::ExportSrtpKeyingMaterial(SrtpKeyingMaterial* km) const {
  if (home_ && !snapshot_.has_keys) return engine_->ExportSrtpKeyingMaterial(km);
  if (closed_by_owner_ || state() != DtlsState::kConnected || !snapshot_.has_keys) return false;
  // Exported on the thread when the handshake connected (Collect): no PRF on the owner's thread.
  *km = snapshot_.keys;
  return true;
}

}  // namespace pwt
