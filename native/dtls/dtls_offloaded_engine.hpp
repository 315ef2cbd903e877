// A DtlsEngine whose handshake (RFC 6347 section 4.2) runs on the DtlsHandshakeWorker thread while
// its owner thread (the JavaScript thread) sees snapshots; once the handshake is over it comes
// home and is driven in place as before (docs/dtls.md, "Handshake thread").
// Who owns the engine when: the worker while work is posted and not yet applied (posted_ !=
// applied_), the owner thread otherwise. Nothing else is shared: the work queue and the results
// cross under one mutex; posting and applying counts, snapshots and queues are owner-only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "native/dtls/dtls_datagram_queue.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_handshake_worker.hpp"

namespace pwt {

/**
 * Received datagrams waiting for the handshake thread, at most, per engine: a handshake needs a
 * handful; a flood beyond these while the thread is behind is dropped and counted
 * (dropped_backlog) instead of growing without bound.
 */
constexpr size_t kDtlsMaxBacklogDatagrams = 64;
constexpr size_t kDtlsMaxBacklogBytes = 256 * 1024;

/** What the owner sees of an engine that is on the worker, as of the last applied work. */
struct DtlsEngineSnapshot {
  DtlsState state = DtlsState::kNew;
  bool was_connected = false;
  bool handed_over = false;
  uint16_t srtp_profile = 0;
  uint16_t tls_version = 0;
  std::string failure_reason;
  std::string cipher_name;
  std::string cipher_standard_name;
  std::vector<uint8_t> peer_der;
  DtlsCounters counters;
  /** Retransmission deadline in steady-clock microseconds, or -1 when no timer runs. */
  int64_t deadline_us = -1;
  /** RFC 5764 keys exported on the worker when the state became connected (wiped when home). */
  bool has_keys = false;
  SrtpKeyingMaterial keys;
};

/** One engine, offloaded during its handshake. All public calls are owner-thread only, except RunOnWorker. */
class DtlsOffloadedEngine : public std::enable_shared_from_this<DtlsOffloadedEngine> {
 public:
  /**
   * `worker` must outlive every call that posts (the binding stops it before the environment
   * ends); null runs everything in place from the start (the in-thread path). `adaptive`: at the
   * handshake's first post (the client's start, the server's first datagram) the engine asks the
   * worker whether so few handshakes are in flight that it runs in place for good instead
   * (DtlsHandshakeWorker::ChooseInThread; docs/dtls.md "Handshake thread").
   */
  DtlsOffloadedEngine(std::unique_ptr<DtlsEngine> engine, DtlsHandshakeWorker* worker, bool adaptive = false);
  ~DtlsOffloadedEngine();
  DtlsOffloadedEngine(const DtlsOffloadedEngine&) = delete;
  DtlsOffloadedEngine& operator=(const DtlsOffloadedEngine&) = delete;

  // The engine's API (see dtls_engine.hpp); work that can run handshake crypto (the client's
  // first flight, datagrams, timeouts) is posted while the handshake runs, the rest runs in
  // place when nothing is posted. Results of posted work appear after ApplyResults.
  DtlsStatus Start();
  void HandleDatagrams(const uint8_t* data, const uint32_t* lens, size_t count);
  void HandleTimeout();
  /** -1 while work is posted (the result brings a fresh deadline) or no timer runs. */
  int64_t TimeoutUs() const;
  DtlsStatus SetRemoteFingerprints(std::vector<RemoteFingerprint> fingerprints);
  DtlsStatus Send(const uint8_t* data, size_t len);
  void Close();

  /** Moves the worker's finished work into the owner's view; returns how many posts it completed. */
  size_t ApplyResults();
  /** Work posted so far (the binding keeps its wake-up handle referenced while some is unapplied). */
  uint64_t posted() const { return posted_; }
  /**
   * Of the work posted, how much was dropped unrun because the engine was closed or abandoned while
   * it waited for an admission slot: it never comes back through the pool (the binding uncounts it).
   */
  uint64_t withdrawn() const { return withdrawn_; }
  /** Posted work whose results were applied, or withdrawn. */
  uint64_t applied() const { return applied_; }
  /**
   * Owner thread: the owner lets go of the engine (its wrapper is finalised). If it still waits for
   * an admission slot it leaves the FIFO and its posted work is withdrawn (nothing of it ran); true
   * then. Work already on a thread is unaffected: the pool holds the engine until it is applied.
   * The destructor does the same.
   */
  bool Abandon();
  /** True while posted work is not applied yet. */
  bool busy() const { return posted_ != applied_; }
  /** True once the engine is back on the owner thread for good (handshake over, nothing posted). */
  bool home() const { return home_; }
  /** Adaptive, and its handshake was chosen to run in place (on the owner thread). */
  bool chose_in_thread() const { return chose_in_thread_; }
  /** Whether work of this engine was ever posted to a handshake thread. */
  bool used_thread() const { return posted_ != 0; }

  size_t DrainOutgoing(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count);
  bool HasOutgoing() const;
  size_t DrainData(uint8_t* out, size_t cap, uint32_t* lens, size_t max_count);
  bool HasData() const;
  /** Data is handed out while connected and after the peer's close_notify, never after our Close(). */
  bool Deliverable() const;
  bool TakeStateChanged();

  DtlsState state() const;
  DtlsRole role() const { return role_; }
  bool was_connected() const;
  const std::string& failure_reason() const;
  uint16_t srtp_profile() const;
  std::string cipher_name() const;
  std::string cipher_standard_name() const;
  uint16_t tls_version() const;
  bool handed_over() const;
  const std::vector<uint8_t>& peer_certificate_der() const;
  DtlsCounters counters() const;
  /** RFC 5764 keys; those exported on the thread while it connected are handed out (no PRF here). */
  bool ExportSrtpKeyingMaterial(SrtpKeyingMaterial* km) const;
  /** True while the keys exported on the thread are kept (until the connection is no longer up). */
  bool holds_thread_keys() const { return snapshot_.has_keys; }
  /** The engine itself, only when nothing is posted (tests: the raw exporter); else null. */
  const DtlsEngine* idle_engine() const { return busy() ? nullptr : engine_.get(); }

  /** Owner thread: who to tell when results arrive (the binding's wrapper), null when gone. */
  void* owner() const { return owner_; }
  void set_owner(void* owner) { owner_ = owner; }

  /**
   * Owner thread: bytes the wrapper's datagram queues hold (its own and the worker's results). They
   * grow for the handshake's flights and are given back once it is over and they are drained.
   */
  size_t queue_capacity_bytes();

  /**
   * Worker thread: runs the posted work, then publishes the results. Datagrams, fingerprints,
   * sends and closes run in posting order; a posted timeout runs after them, so that a flight's
   * answer that waited in the queue stops the retransmission timer before the timer is looked at.
   */
  void RunOnWorker();
  /**
   * How many different threads have run this engine's work (tests: pinning holds when it stays
   * at most 1 for the engine's whole life). Any thread.
   */
  size_t worker_threads_seen();
  /**
   * Owner thread, called by the pool: the engine's admission slot is free now; its work waiting
   * since its first post is queued on its thread.
   */
  void Admitted();
  /** True while its first post waits for an admission slot (owner thread); Close() ends the wait. */
  bool awaiting_admission() const { return awaiting_admission_; }
  /**
   * Owner thread: true when it waits for a slot and its engine holds an OpenSSL SSL. Never, since
   * the SSL is made by the handshake's first step on the thread (tests: a waiting handshake holds
   * none of OpenSSL's state; nothing of the engine runs while it waits, so reading it is safe).
   */
  bool waiting_with_ssl() const { return awaiting_admission_ && engine_->holds_ssl(); }
  /** The thread this engine is pinned to, if it was posted (tests and diagnosis). */
  const DtlsWorkerPin& pin() const { return pin_; }

 private:
  struct Work {
    enum class Kind : uint8_t { kStart, kDatagrams, kTimeout, kFingerprints, kSend, kClose };
    Kind kind = Kind::kTimeout;
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> lens;
    std::vector<RemoteFingerprint> fingerprints;
  };
  struct Results {
    Results();
    DatagramQueue out;
    DatagramQueue data;
    bool state_changed = false;
    bool has_snapshot = false;
    DtlsEngineSnapshot snapshot;
    uint64_t refused_out = 0;
    uint64_t refused_data = 0;
    size_t completed = 0;
  };

  static void RunWork(DtlsEngine& engine, Work& work);
  /** False (nothing posted) when the datagrams would exceed the backlog bounds. */
  void HandleInPlace(const uint8_t* data, const uint32_t* lens, size_t count);
  static Work DatagramWork(const uint8_t* data, const uint32_t* lens, size_t count);
  bool PostDatagrams(Work work);
  static void Collect(DtlsEngine& engine, Results* r);
  void Post(Work work);
  /** Pins the engine to a thread at its first post, then queues it there. */
  void Enqueue();
  void RunInPlace(Work work);
  void Absorb(Results& r);
  /** At home: the keys exported on the thread go once the engine is no longer connected. */
  void WipeKeysIfOver();
  /** Connected, closed, failed or handed over: no more handshake flights. */
  static bool HandshakeOver(const DtlsEngineSnapshot& s);
  /** Connected (or handed over) with posted work still out: new work waits here, not on the thread. */
  bool Holding() const;
  /** False (nothing held) when the work would exceed the backlog bounds. */
  bool Hold(Work work);
  /**
   * Waiting for a slot: leaves the FIFO and drops the posted work unrun (counted in withdrawn_ and,
   * for datagrams, as dropped after close). False when it was not waiting.
   */
  bool LeaveAdmission();
  /** Moves the posted work out and empties the inbox's bounds (mu_ held). */
  void TakeInboxLocked(std::vector<Work>* out);
  /** Adaptive, before its first post: asks the worker, and stays home for good when told to. */
  void ChooseWhereToRun();
  /** In place by choice: once the handshake is over (or the engine goes) it stops counting. */
  void SettleInThread();

  std::unique_ptr<DtlsEngine> engine_;
  DtlsHandshakeWorker* worker_;
  // The one thread of the pool that runs this engine (assigned at the first post, released when
  // the engine is home for good): OpenSSL's SSL never runs on two threads.
  DtlsWorkerPin pin_;
  const DtlsRole role_;
  // Shared with the worker, under mu_.
  std::mutex mu_;
  std::vector<Work> inbox_;
  size_t inbox_datagrams_ = 0;
  size_t inbox_bytes_ = 0;
  bool queued_ = false;
  Results finished_;
  std::thread::id ran_on_{};
  size_t threads_seen_ = 0;
  // Owner thread only.
  uint64_t posted_ = 0;
  uint64_t applied_ = 0;
  bool home_ = false;
  bool awaiting_admission_ = false;
  // While waiting: the pool's shared admission state (its pool pointer is null once the pool stopped).
  std::shared_ptr<DtlsAdmission> waiting_in_;
  uint64_t withdrawn_ = 0;
  uint64_t withdrawn_datagrams_ = 0;
  bool started_ = false;
  const bool adaptive_;
  bool chose_in_thread_ = false;
  // Held while this engine's in-place handshake (by choice) counts in the pool's `in_thread`.
  std::shared_ptr<DtlsAdmission> in_thread_slot_;
  bool closed_by_owner_ = false;
  void* owner_ = nullptr;
  DatagramQueue out_;
  DatagramQueue data_;
  bool queues_released_ = false;  // out_ and data_ asked to give their handshake capacity back
  bool state_changed_ = false;
  uint64_t refused_out_ = 0;
  uint64_t refused_data_ = 0;
  uint64_t backlog_dropped_ = 0;
  // Work that arrived after the snapshot showed the connection up while posted work was still out:
  // run in place, in order, when the engine comes home (so a streaming peer cannot keep it away).
  std::vector<Work> held_;
  size_t held_datagrams_ = 0;
  size_t held_bytes_ = 0;
  DtlsEngineSnapshot snapshot_;
};

}  // namespace pwt
