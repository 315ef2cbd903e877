// The DTLS handshake threads (see dtls_handshake_worker.hpp; docs/dtls.md, "Handshake thread").
#include "native/dtls/dtls_handshake_worker.hpp"

#include "native/dtls/dtls_library_context.hpp"
#include "native/dtls/dtls_offloaded_engine.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

namespace pwt {

std::atomic<int> DtlsHandshakeWorker::refuse_from_for_testing_{-1};
std::atomic<unsigned> DtlsHandshakeWorker::delay_ms_for_testing_{0};

size_t DtlsHandshakeWorker::DefaultThreads() {
  const unsigned hw = std::thread::hardware_concurrency();
  if (hw == 0) return 1;
  return hw < kMaxThreads ? hw : kMaxThreads;
}

DtlsHandshakeWorker::DtlsHandshakeWorker(Notify notify, void* arg, size_t max_threads, size_t max_in_flight)
    : notify_(notify),
      notify_arg_(arg),
      max_lanes_(max_threads == 0 ? DefaultThreads() : (max_threads < kMaxThreads ? max_threads : kMaxThreads)),
      loads_(std::make_shared<std::array<std::atomic<size_t>, kMaxThreads>>()),
      max_in_flight_(max_in_flight),
      admission_(std::make_shared<DtlsAdmission>()) {
  for (auto& l : *loads_) l.store(0, std::memory_order_relaxed);
  for (auto& n : admission_->in_flight) n.store(0, std::memory_order_relaxed);
  admission_->pool = this;
  StartLane(0);
}

namespace {
int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void DtlsWorkerPin::Release() {
  if (load) load->fetch_sub(1, std::memory_order_relaxed);
  load.reset();
  if (!admission) return;
  std::shared_ptr<DtlsAdmission> a = std::move(admission);
  admission.reset();
  std::shared_ptr<std::atomic<bool>> c = std::move(counted);
  counted.reset();
  // A slot reclaimed as stale was uncounted then: not twice.
  if (c && c->exchange(false)) a->in_flight[role].fetch_sub(1, std::memory_order_relaxed);
  if (a->pool != nullptr) a->pool->AdmitWaiting(role);
}

void DtlsHandshakeWorker::PruneHolders(size_t role, bool reclaim) {
  const int64_t now = reclaim ? SteadyNowMs() : 0;
  auto& q = holders_[role];
  while (!q.empty()) {
    std::shared_ptr<std::atomic<bool>> c = q.front().counted.lock();
    if (c && c->load(std::memory_order_relaxed)) {
      if (!reclaim || now - q.front().since_ms < stale_ms_) return;
      if (c->exchange(false)) {
        admission_->in_flight[role].fetch_sub(1, std::memory_order_relaxed);
        ++reclaimed_[role];
      }
    }
    q.pop_front();
  }
}

bool DtlsHandshakeWorker::Admit(size_t role, const std::shared_ptr<DtlsOffloadedEngine>& engine) {
  role = role != 0 ? 1 : 0;
  // Earlier waiters go first: a free slot with a queue means AdmitWaiting has not run yet.
  if (max_in_flight_ == 0 ||
      (waiting_[role].empty() && admission_->in_flight[role].load(std::memory_order_relaxed) < max_in_flight_)) {
    return true;
  }
  waiting_[role].push_back(Waiter{engine.get(), engine});
  ++waited_[role];
  return false;
}

void DtlsHandshakeWorker::Withdraw(size_t role, const DtlsOffloadedEngine* engine) {
  role = role != 0 ? 1 : 0;
  // Searched from the front: engines given up on are most often the ones that waited longest.
  auto& q = waiting_[role];
  for (auto it = q.begin(); it != q.end(); ++it) {
    if (it->address == engine) {
      q.erase(it);
      return;
    }
  }
}

void DtlsHandshakeWorker::AdmitWaiting(size_t role) {
  role = role != 0 ? 1 : 0;
  // Admitted() may release another pin: the loop, not recursion, serves that slot too. Entries are
  // never expired (a destroyed engine withdrew itself); the check stays as a guard.
  if (admitting_[role] || waiting_[role].empty()) return;
  admitting_[role] = true;
  // Slots held past the stale time stop counting first.
  if (!stopped_) PruneHolders(role, true);
  while (!stopped_ && !waiting_[role].empty() &&
         (max_in_flight_ == 0 || admission_->in_flight[role].load(std::memory_order_relaxed) < max_in_flight_)) {
    std::shared_ptr<DtlsOffloadedEngine> next = waiting_[role].front().engine.lock();
    waiting_[role].pop_front();
    if (next) next->Admitted();
  }
  admitting_[role] = false;
}

size_t DtlsHandshakeWorker::handshakes_in_flight() const {
  return admission_->in_flight[0].load(std::memory_order_relaxed) + admission_->in_flight[1].load(std::memory_order_relaxed) +
         waiting_[0].size() + waiting_[1].size() + admission_->in_thread.load(std::memory_order_relaxed);
}

bool DtlsHandshakeWorker::ChooseInThread() {
  if (!stopped_ && handshakes_in_flight() < adaptive_in_thread_) {
    admission_->in_thread.fetch_add(1, std::memory_order_relaxed);
    ++chose_in_thread_;
    return true;
  }
  ++chose_pool_;
  return false;
}

DtlsAdaptiveStats DtlsHandshakeWorker::adaptive_stats() const {
  DtlsAdaptiveStats s;
  s.in_thread_now = admission_->in_thread.load(std::memory_order_relaxed);
  s.chose_in_thread = chose_in_thread_;
  s.chose_pool = chose_pool_;
  return s;
}

DtlsAdmissionStats DtlsHandshakeWorker::admission_stats(size_t role) const {
  role = role != 0 ? 1 : 0;
  DtlsAdmissionStats s;
  s.in_flight = admission_->in_flight[role].load(std::memory_order_relaxed);
  s.peak_in_flight = peak_in_flight_[role];
  s.waiting = waiting_[role].size();
  s.waited = waited_[role];
  s.reclaimed = reclaimed_[role];
  return s;
}

bool DtlsHandshakeWorker::StartLane(size_t i) {
  auto lane = std::make_unique<Lane>();
  lane->pool = this;
  lane->index = i;
  const int refuse_from = refuse_from_for_testing_.load();
  if (refuse_from >= 0 && i >= static_cast<size_t>(refuse_from)) return false;
  if (pthread_create(&lane->thread, nullptr, &DtlsHandshakeWorker::ThreadMain, lane.get()) != 0) return false;
  lane->started = true;
#if defined(__linux__)
  // Named so top -H, perf and /proc/self/task/*/comm tell the handshake threads from Node's (at
  // most 15 bytes; failing to set the name changes nothing else).
  char name[16];
  std::snprintf(name, sizeof name, "pwt-dtls-%zu", i + 1);
  pthread_setname_np(lane->thread, name);
#endif
  lanes_[i] = std::move(lane);
  lanes_started_ = i + 1;
  if (i == 0) {
    // The first thread refills the ECDHE key pools when idle; handshakes that run in place post
    // nothing to it, so a key they take wakes it (docs/dtls.md "Library context").
    DtlsLibraryContextAddIdleWorker(&DtlsHandshakeWorker::WakeForIdleWork, this);
    idle_worker_registered_ = true;
  }
  return true;
}

void DtlsHandshakeWorker::WakeForIdleWork(void* pool) {
  Lane& lane = *static_cast<DtlsHandshakeWorker*>(pool)->lanes_[0];
  // Sequentially consistent with Run's store of idle_sleeping and load of idle_pokes: either the
  // thread sees this poke before it sleeps, or this sees it sleeping and signals under `mu`, which
  // the thread holds until pthread_cond_wait has it waiting (no lost wake).
  lane.idle_pokes.fetch_add(1);
  if (!lane.idle_sleeping.load()) return;
  std::lock_guard<std::mutex> lock(lane.mu);
  pthread_cond_signal(&lane.cv);
}

void* DtlsHandshakeWorker::ThreadMain(void* lane) {
  auto* l = static_cast<Lane*>(lane);
#if defined(__APPLE__)
  // macOS names only the calling thread (Linux: named by StartLane, before anyone can look).
  char name[16];
  std::snprintf(name, sizeof name, "pwt-dtls-%zu", l->index + 1);
  pthread_setname_np(name);
#endif
  l->pool->Run(*l);
  return nullptr;
}

DtlsHandshakeWorker::~DtlsHandshakeWorker() {
  Stop();
  for (auto& lane : lanes_) {
    if (lane) pthread_cond_destroy(&lane->cv);
  }
}

DtlsWorkerPin DtlsHandshakeWorker::Assign(size_t role) {
  role = role != 0 ? 1 : 0;
  size_t best = 0;
  size_t best_load = static_cast<size_t>(-1);
  for (size_t i = 0; i < lanes_started_; ++i) {
    const size_t load = (*loads_)[i].load(std::memory_order_relaxed);
    if (load < best_load) {
      best = i;
      best_load = load;
    }
  }
  // Every thread has engines: one more thread, if the pool may grow (a refusal ends the growing).
  if (best_load > 0 && !stopped_ && !grow_refused_ && lanes_started_ < max_lanes_) {
    if (StartLane(lanes_started_)) {
      best = lanes_started_ - 1;
    } else {
      grow_refused_ = true;
      ++refused_;
    }
  }
  DtlsWorkerPin pin;
  pin.lane = best;
  (*loads_)[best].fetch_add(1, std::memory_order_relaxed);
  pin.load = std::shared_ptr<std::atomic<size_t>>(loads_, &(*loads_)[best]);
  pin.role = role;
  pin.admission = admission_;
  pin.counted = std::make_shared<std::atomic<bool>>(true);
  if (max_in_flight_ != 0) {
    // Bounded by the handshakes assigned within the stale time: older ones leave here.
    PruneHolders(role, true);
    holders_[role].push_back(Holder{SteadyNowMs(), pin.counted});
  }
  const size_t now = admission_->in_flight[role].fetch_add(1, std::memory_order_relaxed) + 1;
  if (now > peak_in_flight_[role]) peak_in_flight_[role] = now;
  return pin;
}

void DtlsHandshakeWorker::Enqueue(const DtlsWorkerPin& pin, std::shared_ptr<DtlsOffloadedEngine> engine) {
  if (pin.lane >= lanes_started_) return;
  Lane& lane = *lanes_[pin.lane];
  {
    std::lock_guard<std::mutex> lock(lane.mu);
    if (lane.stop) return;
    lane.queue.push_back(std::move(engine));
  }
  pthread_cond_signal(&lane.cv);
}

std::vector<std::shared_ptr<DtlsOffloadedEngine>> DtlsHandshakeWorker::TakeDone() {
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> out;
  std::lock_guard<std::mutex> lock(done_mu_);
  out.swap(done_);
  return out;
}

void DtlsHandshakeWorker::Stop() {
  stopped_ = true;
  // No wake reaches the lanes once this returns (the library context runs wakes under its lock).
  if (idle_worker_registered_) {
    DtlsLibraryContextRemoveIdleWorker(this);
    idle_worker_registered_ = false;
  }
  // Pins released from now on (some on the handshake threads, as they stop) admit no one; the
  // lane mutex below orders this before any thread sees `stop`.
  admission_->pool = nullptr;
  for (auto& w : waiting_) w.clear();
  for (size_t i = 0; i < lanes_started_; ++i) {
    Lane& lane = *lanes_[i];
    {
      std::lock_guard<std::mutex> lock(lane.mu);
      lane.stop = true;
    }
    pthread_cond_signal(&lane.cv);
  }
  for (size_t i = 0; i < lanes_started_; ++i) {
    Lane& lane = *lanes_[i];
    if (lane.started) {
      pthread_join(lane.thread, nullptr);
      lane.started = false;
    }
  }
  // Released here, on the owner thread, after every thread is gone.
  std::vector<std::deque<std::shared_ptr<DtlsOffloadedEngine>>> queued(lanes_started_);
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> done;
  for (size_t i = 0; i < lanes_started_; ++i) {
    std::lock_guard<std::mutex> lock(lanes_[i]->mu);
    queued[i].swap(lanes_[i]->queue);
  }
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done_closed_ = true;
    done.swap(done_);
  }
}

void DtlsHandshakeWorker::Run(Lane& lane) {
  for (;;) {
    std::shared_ptr<DtlsOffloadedEngine> engine;
    {
      std::unique_lock<std::mutex> lock(lane.mu);
      while (!lane.stop && lane.queue.empty()) {
        // No handshake work: one piece of idle-time work (an ECDHE key for the pools, docs/dtls.md
        // "Library context"), then look at the queue again; sleep once there is none (until work
        // comes, or for the while the pools ask to wait).
        const uint64_t pokes = lane.idle_pokes.load();
        lock.unlock();
        uint32_t retry_ms = 0;
        const bool worked = DtlsLibraryContextIdleWork(&retry_ms);
        lock.lock();
        if (worked) continue;
        if (lane.stop || !lane.queue.empty()) break;
        if (retry_ms == 0) {
          // Nothing to do until a handshake takes a key (WakeForIdleWork); one taken while we
          // looked means look again.
          lane.idle_sleeping.store(true);
          if (lane.idle_pokes.load() == pokes) pthread_cond_wait(&lane.cv, lane.mu.native_handle());
          lane.idle_sleeping.store(false);
          continue;
        }
        timespec deadline{};
        clock_gettime(CLOCK_REALTIME, &deadline);  // the condition's clock
        deadline.tv_sec += retry_ms / 1000;
        deadline.tv_nsec += static_cast<long>(retry_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
          deadline.tv_sec += 1;
          deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&lane.cv, lane.mu.native_handle(), &deadline);
      }
      if (lane.stop) return;
      engine = std::move(lane.queue.front());
      lane.queue.pop_front();
    }
    if (const unsigned ms = delay_ms_for_testing_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    engine->RunOnWorker();
    {
      // Stopping: the owner releases what is left; this engine is released here, with no notify.
      std::lock_guard<std::mutex> lock(lane.mu);
      if (lane.stop) return;
    }
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      if (done_closed_) return;
      first = done_.empty();
      done_.push_back(std::move(engine));
    }
    // One wake for many engines: the owner takes every finished one per wake (and uv_async_send
    // coalesces anyway).
    if (first) notify_(notify_arg_);
  }
}

}  // namespace pwt
