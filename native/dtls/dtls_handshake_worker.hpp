// The DTLS handshake worker: a small pool of native threads (up to min(hardware threads, 4) per
// owner thread) that runs the OpenSSL handshakes (RFC 6347 section 4.2) of DtlsOffloadedEngines off
// the JavaScript thread (docs/dtls.md, "Handshake thread").
// Contract: the owner thread pins each engine to one thread with Assign (the least-loaded one) and
// posts it with Enqueue on that pin; the thread runs the engine's queued work, then calls `notify`
// (thread-safe, coalescing: uv_async_send) and the owner takes the finished engines with TakeDone.
// An engine is only ever run by the thread it is pinned to, so OpenSSL's SSL of one engine never
// runs on two threads at once (nor moves between them). No JavaScript, no libuv pool: its own
// threads, created with pthread_create so that a refused thread (RLIMIT_NPROC, a pids cgroup) is a
// return value, not std::terminate under -fno-exceptions. The first thread is created with the
// pool: refused, running() is false and the owner keeps the handshakes in-thread. Later ones are
// created lazily when every running thread has engines pinned; a refused one is not asked for again
// and the pool goes on with the threads it has.
// Admission: at most `limit` engines of each role hold a pin (have a handshake in flight) at once;
// an engine whose first post finds its role full waits in that role's FIFO (Admit returns false)
// and is assigned and queued by the pool when a pin of its role is released (docs/dtls.md,
// "Handshakes in flight"). An engine closed or destroyed while it waits leaves the FIFO (Withdraw):
// it never takes a slot, and its owner uncounts the work it had posted (nothing of it ran). Client
// and server count apart, so a process holding both ends of its connections never has every slot
// taken by clients whose servers wait for one. A slot held longer
// than the stale time (a peer that went silent mid-handshake) stops counting when someone waits,
// so stalled peers cannot keep the others waiting until OpenSSL gives up on them.
#pragma once
#include <array>
#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <vector>

namespace pwt {

class DtlsOffloadedEngine;
class DtlsHandshakeWorker;

/** What the admission of one role did so far (owner thread). */
struct DtlsAdmissionStats {
  /** Engines holding a pin now (handshakes in flight), and the most at once so far. */
  size_t in_flight = 0;
  size_t peak_in_flight = 0;
  /** Engines waiting for a slot now (closed or destroyed ones leave at once). */
  size_t waiting = 0;
  /** Engines that had to wait for a slot, since the pool was made. */
  uint64_t waited = 0;
  /** Slots that stopped counting because their handshake held them past the stale time. */
  uint64_t reclaimed = 0;
};

/**
 * The pool's admission state, shared with the pins so that a pin released after the pool is gone
 * touches no freed memory (pool is then null). Counts are atomics: a pin is released on a handshake
 * thread only while the pool stops (after `pool` was cleared).
 */
struct DtlsAdmission {
  DtlsHandshakeWorker* pool = nullptr;
  std::array<std::atomic<size_t>, 2> in_flight{};
  /**
   * Handshakes of adaptive engines that chose to run on the owner thread and are not over yet
   * (docs/dtls.md "Handshake thread"): they count toward the next engines' choice.
   */
  std::atomic<size_t> in_thread{0};
};

/** Where the adaptive engines of one pool ran their handshakes (owner thread). */
struct DtlsAdaptiveStats {
  /** In-thread handshakes by choice not over yet. */
  size_t in_thread_now = 0;
  /** Adaptive engines that ran their handshake on the owner thread, and on the pool, so far. */
  uint64_t chose_in_thread = 0;
  uint64_t chose_pool = 0;
};

/**
 * Where an engine is pinned: its thread's index and that thread's count of pinned engines, which the
 * pin holds until Release (shared, so an engine released after the pool is gone touches no freed
 * memory).
 */
struct DtlsWorkerPin {
  size_t lane = 0;
  /** 0 client, 1 server: the admission slot the pin holds. */
  size_t role = 0;
  std::shared_ptr<std::atomic<size_t>> load;
  std::shared_ptr<DtlsAdmission> admission;
  /** True while the pin counts in `admission` (false once released or reclaimed as stale). */
  std::shared_ptr<std::atomic<bool>> counted;
  bool pinned() const { return load != nullptr; }
  /**
   * Owner thread: the engine no longer needs its thread (home for good, or destroyed); its
   * admission slot goes to the first engine of its role waiting for one.
   */
  void Release();
};

/** Threads running handshake work; one pool per owner thread (Node environment). */
class DtlsHandshakeWorker {
 public:
  /** Called on a worker thread when finished engines wait in TakeDone; must be thread-safe. */
  using Notify = void (*)(void* arg);
  /** The most threads a pool runs. */
  static constexpr size_t kMaxThreads = 4;
  /** min(hardware threads, kMaxThreads), at least 1. */
  static size_t DefaultThreads();
  /** Handshakes in flight per role at once unless the owner says otherwise (0: no limit). */
  static constexpr size_t kDefaultInFlight = 64;
  /**
   * A slot held this long (ms) stops counting once an engine waits: a handshake on loopback takes
   * milliseconds, one across the world a few round trips plus its 1 s first timeout; a stalled peer
   * would otherwise hold its slot until OpenSSL's 12 timeouts (minutes).
   */
  static constexpr int64_t kDefaultStaleMs = 5000;

  /**
   * Starts the first thread; if it cannot be created, running() is false and nothing else works.
   * `max_threads` 0 means DefaultThreads(); larger than kMaxThreads is kMaxThreads.
   */
  DtlsHandshakeWorker(Notify notify, void* arg, size_t max_threads = 0, size_t max_in_flight = kDefaultInFlight);
  /** Stops and joins the threads (Stop). */
  ~DtlsHandshakeWorker();
  DtlsHandshakeWorker(const DtlsHandshakeWorker&) = delete;
  DtlsHandshakeWorker& operator=(const DtlsHandshakeWorker&) = delete;

  /** Whether the first thread was created (false: the owner must not Assign or Enqueue). */
  bool running() const { return lanes_started_ > 0; }
  /** Threads created so far (owner thread). */
  size_t threads() const { return lanes_started_; }
  /** Threads this pool may create. */
  size_t max_threads() const { return max_lanes_; }
  /** Engines pinned to thread `lane` and not released yet (owner thread). */
  size_t pinned(size_t lane) const { return lane < kMaxThreads ? (*loads_)[lane].load(std::memory_order_relaxed) : 0; }
  /** Threads after the first that were refused (the pool then stops growing). */
  size_t refused_threads() const { return refused_; }
  /**
   * Test hook: while set, creating a thread fails as if pthread_create had refused (EAGAIN), so the
   * owner's fallback to in-thread handshakes can be tested without exhausting a real limit.
   */
  static void SetRefuseThreadsForTesting(bool refuse) { refuse_from_for_testing_.store(refuse ? 0 : -1); }
  /** Test hook: each pool's threads from the `n`th on (0-based) are refused; negative: none. */
  static void SetRefuseThreadsFromForTesting(int n) { refuse_from_for_testing_.store(n); }
  /** Test hook: the threads sleep this long before each engine's work (a slow, loaded machine). */
  static void SetDelayForTesting(unsigned ms) { delay_ms_for_testing_.store(ms); }

  /**
   * Owner thread, at an engine's first post: true when its role has a free slot (then Assign);
   * false when it must wait: it is queued, and the pool calls its Admitted() once a slot is free.
   */
  bool Admit(size_t role, const std::shared_ptr<DtlsOffloadedEngine>& engine);
  /** Owner thread: gives free slots to the engines of `role` waiting for one, in order. */
  void AdmitWaiting(size_t role);
  /**
   * Owner thread: `engine` (queued by Admit, not admitted yet) leaves `role`'s FIFO: it was closed
   * or is being destroyed. By address: a destructor's weak references are already expired.
   */
  void Withdraw(size_t role, const DtlsOffloadedEngine* engine);
  /** The admission state the pool shares (an engine waiting reaches Withdraw through it). */
  const std::shared_ptr<DtlsAdmission>& admission() const { return admission_; }
  /** Owner thread: admission figures of `role` (0 client, 1 server). */
  DtlsAdmissionStats admission_stats(size_t role) const;
  /** The limit per role (0: none). */
  size_t max_in_flight() const { return max_in_flight_; }
  /** Owner thread: the stale time, ms (tests shorten it). */
  void set_stale_ms(int64_t ms) { stale_ms_ = ms; }

  /**
   * An adaptive engine runs its handshake on the owner thread while fewer than this many
   * handshakes of the environment are in flight (on the pool, waiting for a slot, or in-thread by
   * choice): one connection with both ends in the process (client, then server) runs without a
   * thread hop; in a burst the first ones do and the rest go to the pool (docs/dtls.md
   * "Handshake thread", measured there).
   */
  static constexpr size_t kDefaultAdaptiveInThread = 2;
  /** Owner thread: handshakes in flight now, on every path (the adaptive choice reads it). */
  size_t handshakes_in_flight() const;
  /**
   * Owner thread, at an adaptive engine's first post: true when it should run in-thread (then it
   * counts in the admission's `in_thread` until the engine releases it), false for the pool.
   */
  bool ChooseInThread();
  /** Owner thread: the adaptive limit (0: every adaptive engine goes to the pool). */
  void set_adaptive_in_thread(size_t n) { adaptive_in_thread_ = n; }
  size_t adaptive_in_thread() const { return adaptive_in_thread_; }
  /** Owner thread: where adaptive engines ran so far. */
  DtlsAdaptiveStats adaptive_stats() const;

  /**
   * Owner thread: pins a new engine to the thread with the fewest pinned engines, first creating
   * another thread when every running one has some and the pool may grow; the pin holds one
   * admission slot of `role`. Requires running().
   */
  DtlsWorkerPin Assign(size_t role = 0);
  /** Owner thread: runs the engine's queued work on its pinned thread, in posting order. */
  void Enqueue(const DtlsWorkerPin& pin, std::shared_ptr<DtlsOffloadedEngine> engine);
  /** Owner thread: the engines whose work finished since the last call. */
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> TakeDone();
  /**
   * Owner thread: lets each thread's current piece of work finish, drops what is still queued (the
   * engines are released, never run again) and joins every thread; no notify after it returns.
   * Idempotent.
   */
  void Stop();

 private:
  struct Lane {
    DtlsHandshakeWorker* pool = nullptr;
    size_t index = 0;  // names the thread pwt-dtls-<index + 1>
    std::mutex mu;
    // A POSIX condition, not std::condition_variable: libstdc++ 12 versions its wait() as
    // GLIBCXX_3.4.30, above the prebuilds' floor of GLIBCXX_3.4.29 (docs/native-build.md).
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    std::deque<std::shared_ptr<DtlsOffloadedEngine>> queue;
    bool stop = false;
    // Idle-time work (the first lane only): keys taken from the pools so far, and whether the thread
    // sleeps until woken (DtlsLibraryContextAddIdleWorker). Atomics, so that a handshake taking a
    // key (the JavaScript thread's, in place) touches `mu` only to wake a thread that sleeps without
    // a deadline: never while the thread merely holds `mu` between two keys or two waits.
    std::atomic<uint64_t> idle_pokes{0};
    std::atomic<bool> idle_sleeping{false};
    // Only the owner thread touches these.
    pthread_t thread{};
    bool started = false;
  };

  bool StartLane(size_t i);
  // Registered with the library context: a handshake (in place or on a thread) took a pooled key.
  static void WakeForIdleWork(void* pool);
  bool idle_worker_registered_ = false;
  void Run(Lane& lane);
  static void* ThreadMain(void* lane);

  Notify notify_;
  void* notify_arg_;
  const size_t max_lanes_;
  std::array<std::unique_ptr<Lane>, kMaxThreads> lanes_;
  // Pinned engines per thread (owner thread only; atomics so that the pins can share them).
  std::shared_ptr<std::array<std::atomic<size_t>, kMaxThreads>> loads_;
  // Admission (owner thread, but the counts, which pins share).
  const size_t max_in_flight_;
  std::shared_ptr<DtlsAdmission> admission_;
  // Engines waiting for a slot, oldest first; weak (the owner holds them) but never expired: an
  // engine withdraws itself when closed or destroyed while it waits.
  struct Waiter {
    const DtlsOffloadedEngine* address;
    std::weak_ptr<DtlsOffloadedEngine> engine;
  };
  std::array<std::deque<Waiter>, 2> waiting_;
  std::array<size_t, 2> peak_in_flight_{};
  std::array<uint64_t, 2> waited_{};
  std::array<bool, 2> admitting_{};
  std::array<uint64_t, 2> reclaimed_{};
  // The counting pins of each role in the order they were assigned, with when (steady ms); entries
  // of released pins are dropped when they reach the front.
  struct Holder {
    int64_t since_ms;
    std::weak_ptr<std::atomic<bool>> counted;
  };
  std::array<std::deque<Holder>, 2> holders_;
  int64_t stale_ms_ = kDefaultStaleMs;
  size_t adaptive_in_thread_ = kDefaultAdaptiveInThread;
  uint64_t chose_in_thread_ = 0;
  uint64_t chose_pool_ = 0;
  /** Drops released pins from the front of `role`'s holders and, when `reclaim`, uncounts stale ones. */
  void PruneHolders(size_t role, bool reclaim);
  // Owner thread only.
  size_t lanes_started_ = 0;
  size_t refused_ = 0;
  bool grow_refused_ = false;
  bool stopped_ = false;
  // Finished engines of every thread, under done_mu_.
  std::mutex done_mu_;
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> done_;
  bool done_closed_ = false;
  static std::atomic<int> refuse_from_for_testing_;
  static std::atomic<unsigned> delay_ms_for_testing_;
};

}  // namespace pwt
