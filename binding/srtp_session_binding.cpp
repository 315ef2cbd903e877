// Thin N-API wrapper over pwt::SrtpSession: JS validates arguments and owns every buffer;
// one call protects or unprotects a whole batch in place; nothing is allocated per call.
#include "binding/srtp_session_binding.hpp"

#include <memory>

#include "binding/module_registry.hpp"
#include "native/srtp/srtp_session.hpp"

namespace pwt {
namespace {

// Marks objects created by this class so KeySrtpSessionFromDtls can refuse anything else.
constexpr napi_type_tag kSrtpSessionTypeTag = {0x5b1d6a0c3f2e4d71ULL, 0x9a8e2c4b7d106f35ULL};

// Packet kinds of the JS API: RTP, RTCP, or decided per packet by RFC 5761.
enum class Kind : uint32_t { kRtp = 0, kRtcp = 1, kAuto = 2 };

void ThrowCoded(Napi::Env env, bool range, const char* code, const char* message) {
  if (range) {
    Napi::RangeError err = Napi::RangeError::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    err.ThrowAsJavaScriptException();
  } else {
    Napi::TypeError err = Napi::TypeError::New(env, message);
    err.Set("code", Napi::String::New(env, code));
    err.ThrowAsJavaScriptException();
  }
}

template <typename T>
bool TypedArg(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* length) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  size_t len = 0;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, nullptr, nullptr) != napi_ok || type != want) return false;
  *data = static_cast<T*>(ptr);
  *length = len;
  return true;
}

bool U32Arg(napi_env env, napi_value v, uint32_t* out) { return napi_get_value_uint32(env, v, out) == napi_ok; }

class SrtpSessionWrap : public Napi::ObjectWrap<SrtpSessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SrtpSession",
                       {
                           InstanceMethod<&SrtpSessionWrap::Key>("key"),
                           InstanceMethod<&SrtpSessionWrap::ProtectBatch>("protectBatch"),
                           InstanceMethod<&SrtpSessionWrap::UnprotectBatch>("unprotectBatch"),
                           InstanceMethod<&SrtpSessionWrap::Bind>("bind"),
                           InstanceMethod<&SrtpSessionWrap::ReadCounters>("readCounters"),
                           InstanceMethod<&SrtpSessionWrap::Overhead>("overhead"),
                           InstanceMethod<&SrtpSessionWrap::Keyed>("keyed"),
                           InstanceMethod<&SrtpSessionWrap::Close>("close"),
                       });
  }

  // new SrtpSession(replayWindow, maxStreams)
  explicit SrtpSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SrtpSessionWrap>(info) {
    Napi::Env env = info.Env();
    uint32_t window = 0;
    uint32_t streams = 0;
    if (!U32Arg(env, info[0], &window) || !U32Arg(env, info[1], &streams)) {
      ThrowCoded(env, false, "ERR_SRTP_OPTIONS", "SrtpSession(replayWindow, maxStreams) takes two numbers");
      return;
    }
    SrtpSessionOptions options;
    options.replay_window = window;
    options.max_streams = streams;
    if (session_.Configure(options) != SrtpStatus::kOk) {
      ThrowCoded(env, true, "ERR_SRTP_OPTIONS", "replayWindow must be a multiple of 64 in [64, 32768], maxStreams in [1, 65536]");
      return;
    }
    napi_type_tag_object(env, info.This(), &kSrtpSessionTypeTag);
    // protectAt/unprotectAt are defined by the first bind(): most sessions never call them (the
    // socket's session table and SrtpBatch do the work), and the two functions cost about
    // 1.2 KiB of JS heap per session (docs/architecture.md, "What a connection costs").
  }

  ~SrtpSessionWrap() override {
    session_.Close();
    if (slot_ != nullptr) {
      slot_->wrap = nullptr;
      ReleaseSlot(slot_);
    }
  }

  SrtpSession* core() { return &session_; }

  SrtpStatus KeyFromDtls(const SrtpKeyingMaterial& km, bool is_client) {
    if (closed_) return SrtpStatus::kNotKeyed;
    return session_.KeyFromDtls(km, is_client);
  }

 private:
  bool CheckOpen(Napi::Env env) {
    if (!closed_) return true;
    Napi::Error err = Napi::Error::New(env, "the SRTP session is closed");
    err.Set("code", Napi::String::New(env, "ERR_SRTP_CLOSED"));
    err.ThrowAsJavaScriptException();
    return false;
  }

  // key(profileId, localKey, localSalt, remoteKey, remoteSalt)
  Napi::Value Key(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    uint32_t profile = 0;
    uint8_t* k[4];
    size_t n[4];
    if (!U32Arg(env, info[0], &profile)) {
      ThrowCoded(env, false, "ERR_SRTP_PROFILE", "profile must be a number");
      return env.Undefined();
    }
    for (int i = 0; i < 4; ++i) {
      if (!TypedArg(env, info[1 + i], napi_uint8_array, &k[i], &n[i])) {
        ThrowCoded(env, false, "ERR_SRTP_KEY_LENGTH", "keys and salts must be Uint8Arrays");
        return env.Undefined();
      }
    }
    const SrtpStatus st = session_.Key(static_cast<SrtpProfile>(profile), k[0], n[0], k[1], n[1], k[2], n[2], k[3], n[3]);
    if (st == SrtpStatus::kInvalidProfile) {
      ThrowCoded(env, false, "ERR_SRTP_PROFILE", "unknown SRTP protection profile");
    } else if (st == SrtpStatus::kInvalidKey) {
      ThrowCoded(env, true, "ERR_SRTP_KEY_LENGTH", "key or salt length does not match the profile");
    } else if (st != SrtpStatus::kOk) {
      ThrowCoded(env, false, "ERR_SRTP_CRYPTO", "OpenSSL failed to key the session");
    }
    return env.Undefined();
  }

  SrtpStatus ProtectOne(Kind kind, uint8_t* p, size_t len, size_t cap, size_t* out) {
    switch (kind) {
      case Kind::kRtp: return session_.protect_rtp(p, len, cap, out);
      case Kind::kRtcp: return session_.protect_rtcp(p, len, cap, out);
      case Kind::kAuto: break;
    }
    return session_.protect(p, len, cap, out);
  }

  SrtpStatus UnprotectOne(Kind kind, uint8_t* p, size_t len, size_t* out) {
    switch (kind) {
      case Kind::kRtp: return session_.unprotect_rtp(p, len, out);
      case Kind::kRtcp: return session_.unprotect_rtcp(p, len, out);
      case Kind::kAuto: break;
    }
    return session_.unprotect(p, len, out);
  }

  // Shared argument unpacking of the batch calls; false after throwing.
  struct Batch {
    Kind kind;
    uint8_t* buf;
    size_t buf_len;
    uint32_t* offsets;
    uint32_t* lengths;
    uint32_t* capacities;
    uint8_t* results;
    uint32_t count;
  };
  bool UnpackBatch(const Napi::CallbackInfo& info, bool with_capacities, Batch* b) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return false;
    size_t n_off = 0, n_len = 0, n_cap = 0, n_res = 0;
    uint32_t kind = 0;
    size_t i = 0;
    bool ok = U32Arg(env, info[i++], &kind) && kind <= 2 &&
              TypedArg(env, info[i++], napi_uint8_array, &b->buf, &b->buf_len) &&
              TypedArg(env, info[i++], napi_uint32_array, &b->offsets, &n_off) &&
              TypedArg(env, info[i++], napi_uint32_array, &b->lengths, &n_len);
    if (ok && with_capacities) ok = TypedArg(env, info[i++], napi_uint32_array, &b->capacities, &n_cap);
    ok = ok && TypedArg(env, info[i++], napi_uint8_array, &b->results, &n_res) && U32Arg(env, info[i++], &b->count);
    if (!ok || b->count > n_off || b->count > n_len || b->count > n_res || (with_capacities && b->count > n_cap)) {
      ThrowCoded(env, false, "ERR_SRTP_BATCH", "invalid batch arguments");
      return false;
    }
    b->kind = static_cast<Kind>(kind);
    return true;
  }

  // protectBatch(kind, buffer, offsets, lengths, capacities, results, count) -> packets protected.
  // lengths[i] is replaced by the protected length; results[i] is the SrtpStatus.
  Napi::Value ProtectBatch(const Napi::CallbackInfo& info) {
    Batch b;
    if (!UnpackBatch(info, true, &b)) return info.Env().Undefined();
    uint32_t ok = 0;
    for (uint32_t i = 0; i < b.count; ++i) {
      const size_t off = b.offsets[i], len = b.lengths[i], cap = b.capacities[i];
      if (off > b.buf_len || cap > b.buf_len - off || len > cap) {
        b.results[i] = static_cast<uint8_t>(SrtpStatus::kInvalidArgument);
        continue;
      }
      size_t out = 0;
      const SrtpStatus st = ProtectOne(b.kind, b.buf + off, len, cap, &out);
      b.results[i] = static_cast<uint8_t>(st);
      if (st == SrtpStatus::kOk) {
        b.lengths[i] = static_cast<uint32_t>(out);
        ++ok;
      }
    }
    return Napi::Number::New(info.Env(), ok);
  }

  // unprotectBatch(kind, buffer, offsets, lengths, results, count) -> packets accepted.
  Napi::Value UnprotectBatch(const Napi::CallbackInfo& info) {
    Batch b;
    if (!UnpackBatch(info, false, &b)) return info.Env().Undefined();
    uint32_t ok = 0;
    for (uint32_t i = 0; i < b.count; ++i) {
      const size_t off = b.offsets[i], len = b.lengths[i];
      if (off > b.buf_len || len > b.buf_len - off) {
        b.results[i] = static_cast<uint8_t>(SrtpStatus::kInvalidArgument);
        continue;
      }
      size_t out = 0;
      const SrtpStatus st = UnprotectOne(b.kind, b.buf + off, len, &out);
      b.results[i] = static_cast<uint8_t>(st);
      if (st == SrtpStatus::kOk) {
        b.lengths[i] = static_cast<uint32_t>(out);
        ++ok;
      }
    }
    return Napi::Number::New(info.Env(), ok);
  }

  // bind(out): remembers the caller's packet buffer for protectAt/unprotectAt, so that the
  // per-packet calls pass only numbers (a typed-array lookup costs more than the call itself
  // for small GCM packets). The reference keeps the memory alive; JS re-checks out.length
  // before every call, which is 0 once the buffer is detached.
  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpen(env)) return env.Undefined();
    uint8_t* data = nullptr;
    size_t len = 0;
    if (!TypedArg(env, info[0], napi_uint8_array, &data, &len)) {
      ThrowCoded(env, false, "ERR_SRTP_BUFFER", "bind takes a Uint8Array");
      return env.Undefined();
    }
    if (slot_ == nullptr) DefineFastMethods(env, info.This());
    bound_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    bound_ = data;
    bound_len_ = len;
    return env.Undefined();
  }

  // protectAt/unprotectAt(kind, offset, length[, capacity]) over the bound buffer: transforms
  // bound[offset, offset + length) in place and returns the output length, or -status.
  // They are plain N-API functions created per session with the session as their data, not
  // ObjectWrap methods: that skips the unwrap and wrapper layers (~100 ns -> ~30 ns a call,
  // which is a quarter of a 200 B GCM packet).
  struct FastSlot {
    SrtpSessionWrap* wrap;  // nullptr once the session is garbage-collected
    int refs;               // the session + its two functions
  };

  static void ReleaseSlot(FastSlot* slot) {
    if (--slot->refs == 0) delete slot;
  }

  static napi_value FastAt(napi_env env, napi_callback_info info, bool protect) {
    size_t argc = 4;
    napi_value argv[4];
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
    SrtpSessionWrap* self = static_cast<FastSlot*>(data)->wrap;
    Napi::Env e(env);
    if (self == nullptr || self->closed_) {
      Napi::Error err = Napi::Error::New(e, "the SRTP session is closed");
      err.Set("code", Napi::String::New(e, "ERR_SRTP_CLOSED"));
      err.ThrowAsJavaScriptException();
      return nullptr;
    }
    uint32_t kind = 0, off = 0, len = 0, cap = 0;
    if (argc < (protect ? 4u : 3u) || !U32Arg(env, argv[0], &kind) || kind > 2 || !U32Arg(env, argv[1], &off) ||
        !U32Arg(env, argv[2], &len) || (protect && !U32Arg(env, argv[3], &cap))) {
      ThrowCoded(e, false, "ERR_SRTP_BUFFER", "invalid packet arguments");
      return nullptr;
    }
    if (!protect) cap = len;
    if (self->bound_ == nullptr || off > self->bound_len_ || cap > self->bound_len_ - off || len > cap) {
      ThrowCoded(e, true, "ERR_SRTP_BUFFER", "packet outside the bound buffer");
      return nullptr;
    }
    uint8_t* p = self->bound_ + off;
    size_t out = 0;
    const SrtpStatus st = protect ? self->ProtectOne(static_cast<Kind>(kind), p, len, cap, &out)
                                  : self->UnprotectOne(static_cast<Kind>(kind), p, len, &out);
    napi_value result = nullptr;
    napi_create_double(env, st == SrtpStatus::kOk ? static_cast<double>(out) : -static_cast<double>(st), &result);
    return result;
  }
  static napi_value FastProtectAt(napi_env env, napi_callback_info info) { return FastAt(env, info, true); }
  static napi_value FastUnprotectAt(napi_env env, napi_callback_info info) { return FastAt(env, info, false); }

  // Defines protectAt/unprotectAt on `self` (non-writable, non-enumerable own properties).
  void DefineFastMethods(napi_env env, napi_value self) {
    slot_ = new FastSlot{this, 1};
    const char* names[2] = {"protectAt", "unprotectAt"};
    napi_callback cbs[2] = {FastProtectAt, FastUnprotectAt};
    napi_property_descriptor props[2] = {};
    for (int i = 0; i < 2; ++i) {
      napi_value fn = nullptr;
      if (napi_create_function(env, names[i], NAPI_AUTO_LENGTH, cbs[i], slot_, &fn) != napi_ok) return;
      // The function may outlive the session (someone kept a reference), so it owns a share
      // of the slot and sees wrap == nullptr after the session is gone.
      ++slot_->refs;
      if (napi_add_finalizer(env, fn, slot_, [](napi_env, void* d, void*) { ReleaseSlot(static_cast<FastSlot*>(d)); },
                             nullptr, nullptr) != napi_ok) {
        --slot_->refs;
        return;
      }
      props[i] = {names[i], nullptr, nullptr, nullptr, nullptr, fn, napi_default, nullptr};
    }
    napi_define_properties(env, self, 2, props);
  }


  // readCounters(Float64Array of kSrtpCounterSlots + 1): totals, drops by status, stream count.
  Napi::Value ReadCounters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    double* out = nullptr;
    size_t n = 0;
    if (!TypedArg(env, info[0], napi_float64_array, &out, &n) || n < kSrtpCounterSlots + 1) {
      ThrowCoded(env, false, "ERR_SRTP_BUFFER", "readCounters needs a Float64Array of the counter size");
      return env.Undefined();
    }
    uint64_t raw[kSrtpCounterSlots];
    session_.CopyCounters(raw);
    for (size_t i = 0; i < kSrtpCounterSlots; ++i) out[i] = static_cast<double>(raw[i]);
    out[kSrtpCounterSlots] = static_cast<double>(session_.stream_count());
    return env.Undefined();
  }

  // overhead(kind): bytes protect appends (0 until keyed).
  Napi::Value Overhead(const Napi::CallbackInfo& info) {
    uint32_t kind = 0;
    U32Arg(info.Env(), info[0], &kind);
    return Napi::Number::New(info.Env(), static_cast<double>(kind == 1 ? session_.rtcp_overhead() : session_.rtp_overhead()));
  }

  Napi::Value Keyed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), session_.keyed()); }

  // close(): wipes keys now instead of at garbage collection. Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    session_.Close();
    closed_ = true;
    bound_ref_.Reset();
    bound_ = nullptr;
    bound_len_ = 0;
    return info.Env().Undefined();
  }

  SrtpSession session_;
  bool closed_ = false;
  Napi::ObjectReference bound_ref_;
  uint8_t* bound_ = nullptr;
  size_t bound_len_ = 0;
  FastSlot* slot_ = nullptr;
};

void InitSrtpBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("SrtpSession", SrtpSessionWrap::Define(env));
}

}  // namespace

namespace {

SrtpSessionWrap* UnwrapTagged(Napi::Env env, Napi::Value session) {
  if (!session.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, session, &kSrtpSessionTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
  return SrtpSessionWrap::Unwrap(session.As<Napi::Object>());
}

}  // namespace

bool KeySrtpSessionFromDtls(Napi::Env env, Napi::Value session, const SrtpKeyingMaterial& km, bool is_dtls_client) {
  SrtpSessionWrap* wrap = UnwrapTagged(env, session);
  return wrap != nullptr && wrap->KeyFromDtls(km, is_dtls_client) == SrtpStatus::kOk;
}

SrtpSession* SrtpSessionFromValue(Napi::Env env, Napi::Value session) {
  SrtpSessionWrap* wrap = UnwrapTagged(env, session);
  return wrap != nullptr ? wrap->core() : nullptr;
}

PWT_BINDING(srtp, InitSrtpBinding);

}  // namespace pwt
