// The DTLS handshake worker: one native thread that runs the OpenSSL handshakes (RFC 6347
// section 4.2) of DtlsOffloadedEngines off the JavaScript thread (docs/dtls.md, "Handshake thread").
// Contract: the owner thread posts engines with Enqueue; the worker runs each one's queued work,
// then calls `notify` (thread-safe, coalescing: uv_async_send) and the owner takes the finished
// engines with TakeDone. No JavaScript, no libuv pool: its own thread, created with pthread_create
// so that a refused thread (RLIMIT_NPROC, a pids cgroup) is a return value, not std::terminate
// under -fno-exceptions: running() is then false and the owner keeps the handshakes in-thread.
#pragma once
#include <deque>
#include <memory>
#include <mutex>
#include <pthread.h>

#include <atomic>
#include <vector>

namespace pwt {

class DtlsOffloadedEngine;

/** One thread running handshake work; one per owner thread (Node environment). */
class DtlsHandshakeWorker {
 public:
  /** Called on the worker thread when finished engines wait in TakeDone; must be thread-safe. */
  using Notify = void (*)(void* arg);

  /** Starts the thread; if it cannot be created, running() is false and nothing else works. */
  DtlsHandshakeWorker(Notify notify, void* arg);
  /** Stops and joins the thread (Stop). */
  ~DtlsHandshakeWorker();
  DtlsHandshakeWorker(const DtlsHandshakeWorker&) = delete;
  DtlsHandshakeWorker& operator=(const DtlsHandshakeWorker&) = delete;

  /** Whether the thread was created (false: the owner must not Enqueue). */
  bool running() const { return started_; }
  /**
   * Test hook: while set, creating the thread fails as if pthread_create had refused (EAGAIN), so
   * the owner's fallback to in-thread handshakes can be tested without exhausting a real limit.
   */
  static void SetRefuseThreadsForTesting(bool refuse) { refuse_for_testing_.store(refuse); }
  /** Test hook: the thread sleeps this long before each engine's work (a slow, loaded machine). */
  static void SetDelayForTesting(unsigned ms) { delay_ms_for_testing_.store(ms); }

  /** Owner thread: runs the engine's queued work on the worker, in posting order. */
  void Enqueue(std::shared_ptr<DtlsOffloadedEngine> engine);
  /** Owner thread: the engines whose work finished since the last call. */
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> TakeDone();
  /**
   * Owner thread: lets the current piece of work finish, drops what is still queued (the engines
   * are released, never run again) and joins the thread; no notify after it returns. Idempotent.
   */
  void Stop();

 private:
  void Run();
  static void* ThreadMain(void* self);

  Notify notify_;
  void* notify_arg_;
  std::mutex mu_;
  // A POSIX condition, not std::condition_variable: libstdc++ 12 versions its wait() as
  // GLIBCXX_3.4.30, above the prebuilds' floor of GLIBCXX_3.4.29 (docs/native-build.md).
  pthread_cond_t cv_ = PTHREAD_COND_INITIALIZER;
  std::deque<std::shared_ptr<DtlsOffloadedEngine>> queue_;
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> done_;
  bool stop_ = false;
  // Only the owner thread touches these (Stop joins the thread once).
  pthread_t thread_{};
  bool started_ = false;
  static std::atomic<bool> refuse_for_testing_;
  static std::atomic<unsigned> delay_ms_for_testing_;
};

}  // namespace pwt
