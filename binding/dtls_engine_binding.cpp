// N-API glue for pwt::DtlsEngine: one call per batch of datagrams or records, moved through
// JS-owned pool arrays pinned at construction (buffer + lengths + counters); no allocation
// per call. SRTP keying material goes from the engine straight to a native SRTP session.
// With `handshakeThread`, the handshake runs on this environment's DtlsHandshakeWorker and
// results come back through one uv_async wake per batch of engines (docs/dtls.md, "Handshake thread").
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "binding/dtls_certificate_binding.hpp"
#include "binding/module_registry.hpp"
#include "binding/pinned_array.hpp"
#include "native/dtls/dtls_engine.hpp"
#include "native/dtls/dtls_handshake_worker.hpp"
#include "native/dtls/dtls_library_context.hpp"
#include "native/dtls/dtls_offloaded_engine.hpp"
#include "native/dtls/dtls_unique_owners.hpp"
#if __has_include("binding/srtp_session_binding.hpp")
#include "binding/srtp_session_binding.hpp"
#define PWT_DTLS_HAS_SRTP_SESSION 1
#endif

namespace pwt {
namespace {

// Bits of the flags every driving call returns.
constexpr uint32_t kFlagTransmit = 1;      // records are waiting in pollTransmit
constexpr uint32_t kFlagData = 2;          // application data is waiting in pollData
constexpr uint32_t kFlagStateChanged = 4;  // state() changed since the last call

class DtlsEngineWrap;

// One per Node environment (main thread or worker_thread), created with its first offloaded
// engine: the worker thread, the uv_async that wakes this loop, and the count of posted work not
// yet applied (the async handle keeps the loop alive only while some is).
class DtlsHandshakeHub {
 public:
  static DtlsHandshakeHub* Get(napi_env env);
  DtlsHandshakeWorker* worker() { return &worker_; }
  void AddPending(uint64_t n) {
    pending_ += n;
    UpdateRef();
  }
  // Posted work that will never come back through OnAsync (withdrawn while waiting for a slot).
  void DropPending(uint64_t n) {
    pending_ = n > pending_ ? 0 : pending_ - n;
    UpdateRef();
  }
  // Whether `hub` is this thread's live hub (false once its environment was cleaned up).
  static bool Live(const DtlsHandshakeHub* hub);

 private:
  DtlsHandshakeHub(napi_env env, size_t threads, size_t in_flight)
      : env_(env), worker_(&DtlsHandshakeHub::Notify, this, threads, in_flight) {}
  static void Notify(void* arg) { uv_async_send(&static_cast<DtlsHandshakeHub*>(arg)->async_); }
  static void OnAsync(uv_async_t* handle);
  static void OnEnvCleanup(void* arg);
  static void OnExit();
  void UpdateRef() {
    if (pending_ > 0) {
      uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
    }
  }

  napi_env env_;
  uv_async_t async_{};
  napi_async_context context_ = nullptr;
  uint64_t pending_ = 0;
  DtlsHandshakeWorker worker_;
};

// Handshake threads refused so far in this process (all environments).
std::atomic<uint64_t> g_thread_start_failures{0};

// The hub of the environment running on this thread (each environment has its own thread).
thread_local DtlsHandshakeHub* tls_hub = nullptr;

class DtlsEngineWrap : public Napi::ObjectWrap<DtlsEngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DtlsEngine",
                       {
                           InstanceMethod<&DtlsEngineWrap::Start>("start"),
                           InstanceMethod<&DtlsEngineWrap::HandleInput>("handleInput"),
                           InstanceMethod<&DtlsEngineWrap::HandleTimeout>("handleTimeout"),
                           InstanceMethod<&DtlsEngineWrap::TimeoutUs>("timeoutUs"),
                           InstanceMethod<&DtlsEngineWrap::PollTransmit>("pollTransmit"),
                           InstanceMethod<&DtlsEngineWrap::PollData>("pollData"),
                           InstanceMethod<&DtlsEngineWrap::Send>("send"),
                           InstanceMethod<&DtlsEngineWrap::Close>("close"),
                           InstanceMethod<&DtlsEngineWrap::SetRemoteFingerprints>("setRemoteFingerprints"),
                           InstanceMethod<&DtlsEngineWrap::State>("state"),
                           InstanceMethod<&DtlsEngineWrap::FailureReason>("failureReason"),
                           InstanceMethod<&DtlsEngineWrap::WasConnected>("wasConnected"),
                           InstanceMethod<&DtlsEngineWrap::SrtpProfileId>("srtpProfile"),
                           InstanceMethod<&DtlsEngineWrap::CipherSuite>("cipherSuite"),
                           InstanceMethod<&DtlsEngineWrap::CipherSuiteStandardName>("cipherSuiteStandardName"),
                           InstanceMethod<&DtlsEngineWrap::TlsVersion>("tlsVersion"),
                           InstanceMethod<&DtlsEngineWrap::HandedOver>("handedOver"),
                           InstanceMethod<&DtlsEngineWrap::AwaitingThread>("awaitingThread"),
                           InstanceMethod<&DtlsEngineWrap::OnHandshakeThread>("onHandshakeThread"),
                           StaticMethod<&DtlsEngineWrap::HandshakeThreadRefusals>("handshakeThreadRefusals"),
                           StaticMethod<&DtlsEngineWrap::HandshakeAdmission>("handshakeAdmission"),
                           StaticMethod<&DtlsEngineWrap::KeyPools>("keyPools"),
                           InstanceMethod<&DtlsEngineWrap::RemoteCertificate>("remoteCertificate"),
                           InstanceMethod<&DtlsEngineWrap::Counters>("counters"),
                           InstanceMethod<&DtlsEngineWrap::KeySrtp>("keySrtp"),
                           InstanceMethod<&DtlsEngineWrap::ExportKeyingMaterialForTest>("exportKeyingMaterialForTest"),
                       });
  }

  // new DtlsEngine(certificate, role (1 = server), mtu, initialTimeoutMs, maxTimeoutMs, profiles: Uint16Array,
  //                keepSsl, handshakeThread, onWake | undefined, buffer: Uint8Array, lengths: Uint32Array,
  //                counters: Float64Array)
  // Positional: a connection's set-up reads no property by name (each named read makes and
  // interns a key string; docs/peer.md "Setup cost").
  explicit DtlsEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsEngineWrap>(info) {
    Napi::Env env = info.Env();
    std::shared_ptr<DtlsContext> context = info.Length() > 0 ? DtlsCertificateWrap::ContextOf(info[0]) : nullptr;
    if (!context || info.Length() < 12) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT",
                     "DtlsEngine: (certificate, role, mtu, initialTimeoutMs, maxTimeoutMs, profiles, keepSsl, "
                     "handshakeThread, onWake, buffer, lengths, counters) expected");
      return;
    }
    DtlsEngineConfig cfg;
    cfg.role = info[1].ToNumber().Int32Value() == 1 ? DtlsRole::kServer : DtlsRole::kClient;
    cfg.mtu = info[2].ToNumber().Uint32Value();
    cfg.initial_timeout_ms = info[3].ToNumber().Uint32Value();
    cfg.max_timeout_ms = info[4].ToNumber().Uint32Value();
    Napi::Value profiles = info[5];
    if (env.IsExceptionPending()) return;
    if (!profiles.IsTypedArray() || profiles.As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: profiles must be a Uint16Array");
      return;
    }
    Napi::Uint16Array p = profiles.As<Napi::Uint16Array>();
    // keepSsl: OpenSSL's SSL for the whole connection (diagnosis, PWT_DTLS_KEEP_SSL; docs/dtls.md).
    cfg.keep_ssl = info[6].ToBoolean().Value();
    cfg.srtp_profiles.clear();
    for (size_t i = 0; i < p.ElementLength(); ++i) cfg.srtp_profiles.push_back(static_cast<SrtpProfile>(p[i]));
    if (!Pin(info[9], napi_uint8_array, &buffer_) || !Pin(info[10], napi_uint32_array, &lengths_) ||
        !Pin(info[11], napi_float64_array, &counters_) || counters_.bytes() < DtlsCounters::kCount * 8 ||
        buffer_.bytes() < kDtlsMaxDatagram || lengths_.bytes() < 4) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: pool arrays missing or too small");
      return;
    }
    // handshakeThread: 0 (or false) in-thread, 1 (or true) on the handshake thread, 2 adaptive (the
    // engine chooses at its handshake's first post; docs/dtls.md "Handshake thread"). onWake(flags)
    // is called when the worker's results arrive.
    Napi::Value on_wake = info[8];
    const uint32_t thread_mode = info[7].IsNumber() ? info[7].As<Napi::Number>().Uint32Value() : (info[7].ToBoolean().Value() ? 1 : 0);
    const bool threaded = thread_mode != 0;
    if (env.IsExceptionPending()) return;
    if (threaded && !on_wake.IsFunction()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "DtlsEngine: handshakeThread needs an onWake function");
      return;
    }
    // No hub (the thread or its wake-up could not be set up): the in-thread path, whose results
    // every call returns at once; the transport works the same, only on this thread.
    DtlsHandshakeHub* hub = threaded ? DtlsHandshakeHub::Get(env) : nullptr;
    DtlsStatus st = DtlsStatus::kInternal;
    std::unique_ptr<DtlsEngine> engine = DtlsEngine::Create(std::move(context), cfg, &st);
    if (!engine) {
      ThrowDtlsError(env, st == DtlsStatus::kInvalidArgument ? "RangeError" : "Error",
                     st == DtlsStatus::kInvalidArgument ? "ERR_DTLS_ARGUMENT" : "ERR_DTLS_INTERNAL",
                     st == DtlsStatus::kInvalidArgument ? "DtlsEngine: option out of range" : "DtlsEngine: OpenSSL setup failed");
      return;
    }
    engine_ = std::make_shared<DtlsOffloadedEngine>(std::move(engine), hub ? hub->worker() : nullptr, thread_mode == 2);
    if (hub) {
      hub_ = hub;
      engine_->set_owner(this);
      // Kept on the object itself, not in a persistent reference: the callback closes over the
      // transport that holds this object, and a strong native reference would keep both alive
      // for ever (the object is found through the wrapper's weak reference when results arrive).
      info.This().As<Napi::Object>().Set("onWake", on_wake);
    }
  }

  ~DtlsEngineWrap() override {
    if (!engine_) return;
    engine_->set_owner(nullptr);
    // Finalised while waiting for an admission slot: the engine leaves the FIFO and its posted work
    // is withdrawn (else it would be destroyed with that work counted for ever, the wake-up handle
    // referenced and the process never exiting). Work already on a thread comes back through the
    // hub as before (the pool holds the engine until then).
    engine_->Abandon();
    if (DtlsHandshakeHub::Live(hub_)) NotePosted();
  }

  // Called by the hub on this thread once the worker's results for this engine are applied.
  void Wake(napi_env env, napi_async_context context, napi_value self) {
    napi_value fn;
    napi_valuetype type;
    if (napi_get_named_property(env, self, "onWake", &fn) != napi_ok || napi_typeof(env, fn, &type) != napi_ok ||
        type != napi_function) {
      return;
    }
    napi_value flags = Flags(Napi::Env(env));
    napi_value result;
    const napi_status status = napi_make_callback(env, context, self, fn, 1, &flags, &result);
    if (status == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
    }
  }

  // Counts the work this call posted so the hub keeps the loop alive until it is applied.
  // Work withdrawn unrun (the engine closed or abandoned while waiting for a slot) is uncounted.
  void NotePosted() {
    if (!hub_) return;
    const uint64_t posted = engine_->posted();
    if (posted != posted_seen_) hub_->AddPending(posted - posted_seen_);
    posted_seen_ = posted;
    const uint64_t withdrawn = engine_->withdrawn();
    if (withdrawn != withdrawn_seen_) hub_->DropPending(withdrawn - withdrawn_seen_);
    withdrawn_seen_ = withdrawn;
  }

 private:
  // The thread's shared pool (lib/dtls/dtls-transport.ts) is held through binding/pinned_array.hpp:
  // an engine adds no reference of its own for it.
  static bool Pin(Napi::Value value, napi_typedarray_type type, PinnedArray* out) {
    return out->Pin(value.Env(), value, &type);
  }

  uint32_t* lens() const { return static_cast<uint32_t*>(lengths_.data()); }
  size_t max_lens() const { return lengths_.bytes() / 4; }

  Napi::Value Flags(Napi::Env env) {
    uint32_t flags = 0;
    NotePosted();
    if (engine_->HasOutgoing()) flags |= kFlagTransmit;
    if (engine_->HasData()) flags |= kFlagData;
    if (engine_->TakeStateChanged()) flags |= kFlagStateChanged;
    return Napi::Number::New(env, flags);
  }

  bool Ready(Napi::Env env) {
    if (engine_) return true;
    ThrowDtlsError(env, "Error", "ERR_DTLS_INTERNAL", "DtlsEngine: not constructed");
    return false;
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (engine_->Start() != DtlsStatus::kOk) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "DtlsEngine: already started");
      return env.Undefined();
    }
    return Flags(env);
  }

  // handleInput(count): datagrams back to back in pool.buffer, their lengths in pool.lengths.
  Napi::Value HandleInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint32_t count = info[0].ToNumber().Uint32Value();
    if (env.IsExceptionPending()) return env.Undefined();
    if (count > max_lens()) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "handleInput: count exceeds the pool");
      return env.Undefined();
    }
    size_t off = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t len = lens()[i];
      if (len > buffer_.bytes() - off) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "handleInput: lengths exceed the pool buffer");
        return env.Undefined();
      }
      off += len;
    }
    engine_->HandleDatagrams(static_cast<uint8_t*>(buffer_.data()), lens(), count);
    return Flags(env);
  }

  Napi::Value HandleTimeout(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->HandleTimeout();
    return Flags(env);
  }

  Napi::Value TimeoutUs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<double>(engine_->TimeoutUs()));
  }

  // pollTransmit() -> count of whole datagrams written to pool.buffer / pool.lengths.
  Napi::Value PollTransmit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    size_t n = engine_->DrainOutgoing(static_cast<uint8_t*>(buffer_.data()), buffer_.bytes(), lens(), max_lens());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value PollData(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    size_t n = engine_->DrainData(static_cast<uint8_t*>(buffer_.data()), buffer_.bytes(), lens(), max_lens());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // send(count): application-data records back to back in the pool; returns flags.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    uint32_t count = info[0].ToNumber().Uint32Value();
    if (env.IsExceptionPending()) return env.Undefined();
    if (count > max_lens()) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "send: count exceeds the pool");
      return env.Undefined();
    }
    size_t off = 0;
    for (uint32_t i = 0; i < count; ++i) {
      size_t len = lens()[i];
      if (len > buffer_.bytes() - off) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "send: lengths exceed the pool buffer");
        return env.Undefined();
      }
      DtlsStatus st = engine_->Send(static_cast<uint8_t*>(buffer_.data()) + off, len);
      if (st == DtlsStatus::kInvalidState) {
        ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "send: the DTLS transport is not connected");
        return env.Undefined();
      }
      if (st == DtlsStatus::kTooLarge || st == DtlsStatus::kInvalidArgument) {
        ThrowDtlsError(env, "RangeError", "ERR_DTLS_RECORD_SIZE", "send: a record must hold 1..16384 bytes");
        return env.Undefined();
      }
      off += len;
    }
    return Flags(env);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->Close();
    return Flags(env);
  }

  // setRemoteFingerprints(algorithms: Uint8Array, digests: Uint8Array back to back) -> flags
  Napi::Value SetRemoteFingerprints(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "setRemoteFingerprints: Uint8Arrays expected");
      return env.Undefined();
    }
    Napi::Uint8Array algos = info[0].As<Napi::Uint8Array>();
    Napi::Uint8Array digests = info[1].As<Napi::Uint8Array>();
    std::vector<RemoteFingerprint> list;
    size_t off = 0;
    for (size_t i = 0; i < algos.ElementLength(); ++i) {
      RemoteFingerprint fp;
      fp.algorithm = static_cast<FingerprintAlgorithm>(algos[i]);
      size_t len = FingerprintLength(fp.algorithm);
      if (len == 0 || len > digests.ElementLength() - off) {
        ThrowDtlsError(env, "TypeError", "ERR_DTLS_FINGERPRINT", "setRemoteFingerprints: digest length mismatch");
        return env.Undefined();
      }
      fp.digest.assign(digests.Data() + off, digests.Data() + off + len);
      off += len;
      list.push_back(std::move(fp));
    }
    DtlsStatus st = engine_->SetRemoteFingerprints(std::move(list));
    if (st == DtlsStatus::kInvalidState) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "setRemoteFingerprints: the transport is closed");
      return env.Undefined();
    }
    if (st != DtlsStatus::kOk) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_FINGERPRINT", "setRemoteFingerprints: invalid fingerprint list");
      return env.Undefined();
    }
    return Flags(env);
  }

  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, static_cast<int>(engine_->state()));
  }

  Napi::Value FailureReason(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->failure_reason());
  }

  Napi::Value WasConnected(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Boolean::New(env, engine_->was_connected());
  }

  Napi::Value SrtpProfileId(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, engine_->srtp_profile());
  }

  Napi::Value CipherSuite(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->cipher_name());
  }

  // cipherSuiteStandardName() -> IANA cipher suite name, '' before the handshake.
  Napi::Value CipherSuiteStandardName(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::String::New(env, engine_->cipher_standard_name());
  }

  // tlsVersion() -> wire version (0xFEFD for DTLS 1.2), 0 before the handshake.
  Napi::Value TlsVersion(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Number::New(env, engine_->tls_version());
  }

  // handedOver() -> true once the engine's own record layer replaced OpenSSL's SSL.
  Napi::Value HandedOver(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Boolean::New(env, engine_->handed_over());
  }

  // awaitingThread() -> true while work posted to the handshake thread is not yet applied.
  Napi::Value AwaitingThread(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    return Napi::Boolean::New(env, engine_->busy());
  }

  // onHandshakeThread() -> true when this engine's handshake runs on the environment's handshake
  // thread; false on the in-thread path (not asked for, or the thread was refused).
  Napi::Value OnHandshakeThread(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    // An adaptive engine that chose the in-place path runs on this thread.
    return Napi::Boolean::New(env, hub_ != nullptr && !engine_->chose_in_thread());
  }

  // DtlsEngine.handshakeThreadRefusals() -> times this process could not create a handshake thread
  // (each time one engine fell back to the in-thread path).
  static Napi::Value HandshakeThreadRefusals(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(g_thread_start_failures.load()));
  }

  // DtlsEngine.handshakeAdmission() -> this environment's handshakes in flight on its handshake
  // threads (docs/dtls.md "Handshakes in flight"): Float64Array [limit, then per role (client,
  // server): in flight, most at once, waiting now, waited so far, reclaimed as stale], or null before its first
  // offloaded handshake.
  static Napi::Value HandshakeAdmission(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (tls_hub == nullptr) return env.Null();
    DtlsHandshakeWorker* w = tls_hub->worker();
    Napi::Float64Array out = Napi::Float64Array::New(env, 14);
    out[0] = static_cast<double>(w->max_in_flight());
    for (size_t role = 0; role < 2; ++role) {
      const DtlsAdmissionStats s = w->admission_stats(role);
      out[1 + role * 5] = static_cast<double>(s.in_flight);
      out[2 + role * 5] = static_cast<double>(s.peak_in_flight);
      out[3 + role * 5] = static_cast<double>(s.waiting);
      out[4 + role * 5] = static_cast<double>(s.waited);
      out[5 + role * 5] = static_cast<double>(s.reclaimed);
    }
    // The adaptive choice: in-thread handshakes by choice now, then so far in-thread and on the pool.
    const DtlsAdaptiveStats a = w->adaptive_stats();
    out[11] = static_cast<double>(a.in_thread_now);
    out[12] = static_cast<double>(a.chose_in_thread);
    out[13] = static_cast<double>(a.chose_pool);
    return out;
  }

  // DtlsEngine.keyPools() -> the process's ECDHE key pools (docs/dtls.md "Library context"):
  // Float64Array, per group (X25519, then P-256): [keys pooled now, capacity, taken by handshakes,
  // asked for while empty, made in idle time, CPU ms those took]; all zero when pooling is off.
  static Napi::Value KeyPools(const Napi::CallbackInfo& info) {
    Napi::Float64Array out = Napi::Float64Array::New(info.Env(), 12);
    for (size_t g = 0; g < 2; ++g) {
      const DtlsKeyPoolStats s = DtlsLibraryContextKeyPoolStats(static_cast<DtlsKeyPoolGroup>(g));
      out[g * 6 + 0] = static_cast<double>(s.pooled);
      out[g * 6 + 1] = static_cast<double>(s.capacity);
      out[g * 6 + 2] = static_cast<double>(s.taken);
      out[g * 6 + 3] = static_cast<double>(s.missed);
      out[g * 6 + 4] = static_cast<double>(s.made);
      out[g * 6 + 5] = static_cast<double>(s.made_cpu_ns) / 1e6;
    }
    return out;
  }

  // remoteCertificate() -> Buffer (DER) or null before the handshake completed.
  Napi::Value RemoteCertificate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    // Copied at the end of the handshake: the SSL that held it is gone after the handover.
    const std::vector<uint8_t>& der = engine_->peer_certificate_der();
    if (der.empty()) return env.Null();
    return Napi::Buffer<uint8_t>::Copy(env, der.data(), der.size());
  }

  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    engine_->counters().ToArray(static_cast<double*>(counters_.data()));
    NotePosted();
    return env.Undefined();
  }

  // keySrtp(session) -> true once the session holds keys derived from this handshake.
  Napi::Value KeySrtp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
#ifdef PWT_DTLS_HAS_SRTP_SESSION
    SrtpKeyingMaterial km;
    if (!engine_->ExportSrtpKeyingMaterial(&km)) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE",
                     "keySrtp: needs a connected transport with a negotiated SRTP profile");
      return env.Undefined();
    }
    bool ok = KeySrtpSessionFromDtls(env, info[0], km, engine_->role() == DtlsRole::kClient);
    km.wipe();
    if (env.IsExceptionPending()) return env.Undefined();
    return Napi::Boolean::New(env, ok);
#else
    ThrowDtlsError(env, "Error", "ERR_DTLS_SRTP_UNAVAILABLE", "keySrtp: this build has no native SRTP session");
    return env.Undefined();
#endif
  }

  // For tests that compare with other implementations only: the raw RFC 5705 exporter output.
  Napi::Value ExportKeyingMaterialForTest(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Ready(env)) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
      ThrowDtlsError(env, "TypeError", "ERR_DTLS_ARGUMENT", "exportKeyingMaterialForTest(label, length)");
      return env.Undefined();
    }
    uint32_t len = info[1].As<Napi::Number>().Uint32Value();
    if (len == 0 || len > 1024) {
      ThrowDtlsError(env, "RangeError", "ERR_DTLS_ARGUMENT", "exportKeyingMaterialForTest: length 1..1024");
      return env.Undefined();
    }
    std::vector<uint8_t> out(len);
    const DtlsEngine* idle = engine_->idle_engine();
    if (idle == nullptr || !idle->ExportKeyingMaterialForTest(info[0].As<Napi::String>().Utf8Value(), out.data(), len)) {
      ThrowDtlsError(env, "Error", "ERR_DTLS_STATE", "exportKeyingMaterialForTest: not connected");
      return env.Undefined();
    }
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  std::shared_ptr<DtlsOffloadedEngine> engine_;
  DtlsHandshakeHub* hub_ = nullptr;
  uint64_t posted_seen_ = 0;
  uint64_t withdrawn_seen_ = 0;
  PinnedArray buffer_;
  PinnedArray lengths_;
  PinnedArray counters_;
};

// A refused thread (or its wake-up handle): the engine runs its handshake in-thread, and the next
// one tries again. Counted (handshakeThreadRefusals, as the stats' 'refused' says); said once per
// process.
void CountThreadStartFailure() {
  if (g_thread_start_failures.fetch_add(1) == 0) {
    std::fprintf(stderr,
                 "pure-webrtc-transport: the DTLS handshake thread could not be created; "
                 "handshakes run on the JavaScript thread (docs/dtls.md \"Handshake thread\")\n");
  }
}

DtlsHandshakeHub* DtlsHandshakeHub::Get(napi_env env) {
  if (tls_hub != nullptr) return tls_hub;
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    CountThreadStartFailure();
    return nullptr;
  }
  const char* refuse = std::getenv("PWT_TEST_REFUSE_HANDSHAKE_THREAD");
  DtlsHandshakeWorker::SetRefuseThreadsForTesting(refuse != nullptr && refuse[0] == '1');
  const char* delay = std::getenv("PWT_TEST_HANDSHAKE_THREAD_DELAY_MS");
  DtlsHandshakeWorker::SetDelayForTesting(delay != nullptr ? static_cast<unsigned>(std::strtoul(delay, nullptr, 10) % 1000) : 0);
  // PWT_DTLS_HANDSHAKE_THREADS=N (1..4) caps the pool; unset or invalid: min(hardware threads, 4).
  const char* threads_env = std::getenv("PWT_DTLS_HANDSHAKE_THREADS");
  const unsigned long threads = threads_env != nullptr ? std::strtoul(threads_env, nullptr, 10) : 0;
  // PWT_DTLS_HANDSHAKES_IN_FLIGHT=N: at most N handshakes of each role at once on the threads, the
  // others wait for a slot (docs/dtls.md "Handshakes in flight"); 0: no limit; unset or invalid:
  // DtlsHandshakeWorker::kDefaultInFlight.
  const char* in_flight_env = std::getenv("PWT_DTLS_HANDSHAKES_IN_FLIGHT");
  char* in_flight_end = nullptr;
  const unsigned long in_flight_value = in_flight_env != nullptr ? std::strtoul(in_flight_env, &in_flight_end, 10) : 0;
  const bool in_flight_valid = in_flight_env != nullptr && in_flight_end != in_flight_env && *in_flight_end == '\0' &&
                               in_flight_value <= 1000000;
  const size_t in_flight = in_flight_valid ? in_flight_value : DtlsHandshakeWorker::kDefaultInFlight;
  auto* hub = new DtlsHandshakeHub(env, threads <= DtlsHandshakeWorker::kMaxThreads ? threads : 0, in_flight);
  // PWT_DTLS_ADAPTIVE_IN_THREAD=N: the adaptive engines' limit (handshakes in flight below which one
  // runs in-thread; 0 sends every one to the pool), for measuring it (docs/dtls.md).
  const char* adaptive_env = std::getenv("PWT_DTLS_ADAPTIVE_IN_THREAD");
  char* adaptive_end = nullptr;
  const unsigned long adaptive = adaptive_env != nullptr ? std::strtoul(adaptive_env, &adaptive_end, 10) : 0;
  if (adaptive_env != nullptr && adaptive_end != adaptive_env && *adaptive_end == '\0' && adaptive <= 1000000) {
    hub->worker_.set_adaptive_in_thread(adaptive);
  }
  if (!hub->worker_.running()) {
    // The thread was refused (RLIMIT_NPROC, a pids cgroup, many worker_threads).
    delete hub;
    CountThreadStartFailure();
    return nullptr;
  }
  if (uv_async_init(loop, &hub->async_, &DtlsHandshakeHub::OnAsync) != 0) {
    hub->worker_.Stop();
    delete hub;
    CountThreadStartFailure();
    return nullptr;
  }
  hub->async_.data = hub;
  uv_unref(reinterpret_cast<uv_handle_t*>(&hub->async_));
  napi_value name;
  napi_create_string_utf8(env, "pwt:DtlsHandshake", NAPI_AUTO_LENGTH, &name);
  napi_value resource;
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &hub->context_);
  napi_add_env_cleanup_hook(env, &DtlsHandshakeHub::OnEnvCleanup, hub);
  tls_hub = hub;
  // process.exit() runs no environment cleanup hook but does run atexit handlers, OpenSSL's among
  // them (registered when Node started, so it runs after ours): the thread must not be inside a
  // handshake while OpenSSL's global state is torn down.
  static const bool exit_hook = std::atexit(&DtlsHandshakeHub::OnExit) == 0;
  (void)exit_hook;
  return hub;
}

bool DtlsHandshakeHub::Live(const DtlsHandshakeHub* hub) { return hub != nullptr && hub == tls_hub; }

void DtlsHandshakeHub::OnExit() {
  // Called on the thread that exits the process (the main thread); a hub of that thread is joined.
  if (tls_hub != nullptr) tls_hub->worker_.Stop();
}

void DtlsHandshakeHub::OnAsync(uv_async_t* handle) {
  auto* hub = static_cast<DtlsHandshakeHub*>(handle->data);
  std::vector<std::shared_ptr<DtlsOffloadedEngine>> done = hub->worker_.TakeDone();
  if (done.empty()) return;
  napi_env env = hub->env_;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  // Apply every result first, holding each wrapper's object (a local handle keeps it from being
  // collected while the callbacks below run), then call back once per engine.
  // An engine is listed once per job it finished: each wrapper is woken once (KeepUniqueOwners, O(n)).
  std::vector<DtlsEngineWrap*> owners;
  owners.reserve(done.size());
  uint64_t completed = 0;
  for (const std::shared_ptr<DtlsOffloadedEngine>& engine : done) {
    completed += engine->ApplyResults();
    owners.push_back(static_cast<DtlsEngineWrap*>(engine->owner()));
  }
  KeepUniqueOwners(owners);
  std::vector<std::pair<DtlsEngineWrap*, napi_value>> wake;
  wake.reserve(owners.size());
  for (DtlsEngineWrap* wrap : owners) {
    napi_value self = wrap->Value();
    if (self != nullptr) wake.emplace_back(wrap, self);
  }
  hub->pending_ = completed > hub->pending_ ? 0 : hub->pending_ - completed;
  hub->UpdateRef();
  for (const auto& w : wake) w.first->Wake(env, hub->context_, w.second);
  napi_close_handle_scope(env, scope);
}

void DtlsHandshakeHub::OnEnvCleanup(void* arg) {
  auto* hub = static_cast<DtlsHandshakeHub*>(arg);
  hub->worker_.Stop();  // joined: no Notify after this
  if (hub->context_ != nullptr) napi_async_destroy(hub->env_, hub->context_);
  if (tls_hub == hub) tls_hub = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&hub->async_),
           [](uv_handle_t* h) { delete static_cast<DtlsHandshakeHub*>(h->data); });
}

void InitDtlsEngine(Napi::Env env, Napi::Object exports) { exports.Set("DtlsEngine", DtlsEngineWrap::Define(env)); }

}  // namespace
}  // namespace pwt

PWT_BINDING(dtls_engine, pwt::InitDtlsEngine);
