// The DTLS handshake worker thread (see dtls_handshake_worker.hpp; docs/dtls.md, "Handshake thread").
#include "native/dtls/dtls_handshake_worker.hpp"

#include "native/dtls/dtls_offloaded_engine.hpp"

#include <chrono>
#include <thread>

namespace pwt {

std::atomic<bool> DtlsHandshakeWorker::refuse_for_testing_{false};
std::atomic<unsigned> DtlsHandshakeWorker::delay_ms_for_testing_{0};

DtlsHandshakeWorker::DtlsHandshakeWorker(Notify notify, void* arg) : notify_(notify), notify_arg_(arg) {
  if (refuse_for_testing_.load()) return;
  started_ = pthread_create(&thread_, nullptr, &DtlsHandshakeWorker::ThreadMain, this) == 0;
}

void* DtlsHandshakeWorker::ThreadMain(void* self) {
  static_cast<DtlsHandshakeWorker*>(self)->Run();
  return nullptr;
}

DtlsHandshakeWorker::~DtlsHandshakeWorker() {
  Stop();
  pthread_cond_destroy(&cv_);
}

void DtlsHandshakeWorker::Enqueue(std::shared_ptr<DtlsOffloadedEngine> engine) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    queue_.push_back(std::move(engine));
  }
  pthread_cond_signal(&cv_);
}

std::vector<std::shared_ptr<DtlsOffloadedEngine>> DtlsHandshakeWorker::TakeDone() {
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(done_);
  return out;
}

void DtlsHandshakeWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  pthread_cond_signal(&cv_);
  if (started_) {
    pthread_join(thread_, nullptr);
    started_ = false;
  }
  // Released here, on the owner thread, after the worker is gone.
  std::deque<std::shared_ptr<DtlsOffloadedEngine>> queued;
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queue_);
    done.swap(done_);
  }
}

void DtlsHandshakeWorker::Run() {
  for (;;) {
    std::shared_ptr<DtlsOffloadedEngine> engine;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_ && queue_.empty()) pthread_cond_wait(&cv_, mu_.native_handle());
      if (stop_) return;
      engine = std::move(queue_.front());
      queue_.pop_front();
    }
    if (const unsigned ms = delay_ms_for_testing_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    engine->RunOnWorker();
    bool first = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      first = done_.empty();
      done_.push_back(std::move(engine));
    }
    // One wake for many engines: the owner takes every finished one per wake (and uv_async_send
    // coalesces anyway).
    if (first) notify_(notify_arg_);
  }
}

}  // namespace pwt
