// N-API glue for pwt::TcpForwardSink (docs/sfu.md "Legs over TCP"): the engine frames a TCP leg's
// datagrams into the sink during its flush; a libuv check handle then hands all pending bytes to
// JavaScript in ONE call per event-loop turn (`onBytes(buffer)`), which writes them to the Node socket
// that owns the connection. No JavaScript call per forwarded packet.
#include "binding/tcp_forward_sink_binding.hpp"

#include <uv.h>

#include <memory>

#include "binding/module_registry.hpp"
#include "native/tcp/tcp_forward_sink.hpp"

namespace pwt {
namespace {

constexpr napi_type_tag kTcpSinkTypeTag = {0x6d21f4a09c3b7e85ULL, 0x17c8e2b5a4f9d036ULL};

class TcpForwardSinkWrap : public Napi::ObjectWrap<TcpForwardSinkWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpForwardSink",
                       {
                           InstanceMethod<&TcpForwardSinkWrap::Stats>("stats"),
                           InstanceMethod<&TcpForwardSinkWrap::Close>("close"),
                       });
  }

  // new TcpForwardSink(onBytes(buffer: Buffer) => void, maxPendingBytes)
  explicit TcpForwardSinkWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TcpForwardSinkWrap>(info),
        sink_(this, info.Length() >= 2 && info[1].IsNumber() ? info[1].ToNumber().Uint32Value() : (1u << 20)) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) {
      Napi::TypeError::New(env, "TcpForwardSink: onBytes must be a function").ThrowAsJavaScriptException();
      return;
    }
    on_bytes_ = Napi::Persistent(info[0].As<Napi::Function>());
    env_ = env;
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "pwt:TcpForwardSink");
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return;
    check_ = new uv_check_t;
    uv_check_init(loop, check_);
    check_->data = this;
    // Only pending bytes keep the loop alive (and only until they are handed over).
    uv_unref(reinterpret_cast<uv_handle_t*>(check_));
    napi_type_tag_object(env, info.This(), &kTcpSinkTypeTag);
    napi_add_env_cleanup_hook(env, &TcpForwardSinkWrap::OnEnvCleanup, this);
  }

  ~TcpForwardSinkWrap() override {
    Shutdown();
    if (env_) napi_remove_env_cleanup_hook(env_, &TcpForwardSinkWrap::OnEnvCleanup, this);
  }

  ForwardSink* sink() { return sink_.closed() ? nullptr : &sink_; }

 private:
  class Sink : public TcpForwardSink {
   public:
    Sink(TcpForwardSinkWrap* owner, size_t max) : TcpForwardSink(max), owner_(owner) {}

   protected:
    void on_pending() override { owner_->Schedule(); }

   private:
    TcpForwardSinkWrap* owner_;
  };

  void Schedule() {
    if (sink_.closed() || !check_ || scheduled_) return;
    scheduled_ = true;
    uv_check_start(check_, &TcpForwardSinkWrap::OnCheck);
  }

  static void OnCheck(uv_check_t* handle) {
    auto* self = static_cast<TcpForwardSinkWrap*>(handle->data);
    if (!self) return;
    uv_check_stop(handle);
    self->scheduled_ = false;
    self->Deliver();
  }

  // Hands the pending bytes to JavaScript in one call (raw N-API: the environment may be tearing down).
  void Deliver() {
    if (sink_.closed() || sink_.pending().empty()) return;
    napi_env env = env_;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    const std::vector<uint8_t>& bytes = sink_.pending();
    napi_value buffer;
    void* copy = nullptr;
    if (napi_create_buffer_copy(env, bytes.size(), bytes.data(), &copy, &buffer) == napi_ok) {
      sink_.clear();
      napi_value result;
      const napi_status st = napi_make_callback(env, async_context_->operator napi_async_context(), Value(),
                                                on_bytes_.Value(), 1, &buffer, &result);
      if (st == napi_pending_exception) {
        napi_value error;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
      }
    }
    napi_close_handle_scope(env, scope);
  }

  // stats() -> [frames framed, datagrams dropped (past the pending bound), bytes pending]
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, Napi::Number::New(env, static_cast<double>(sink_.frames())));
    out.Set(1u, Napi::Number::New(env, static_cast<double>(sink_.dropped())));
    out.Set(2u, Napi::Number::New(env, static_cast<double>(sink_.pending().size())));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  void Shutdown() {
    // The sink's own flag is the one source of truth: the engine reads it before queueing, so the
    // transport's packets now drop as sink-closed (counted per consumer) instead of piling up for a
    // connection that is gone; this wrapper reads it too.
    if (sink_.closed()) return;
    sink_.close();
    sink_.clear();
    if (check_) {
      check_->data = nullptr;
      uv_check_stop(check_);
      uv_close(reinterpret_cast<uv_handle_t*>(check_), [](uv_handle_t* h) { delete reinterpret_cast<uv_check_t*>(h); });
      check_ = nullptr;
    }
    on_bytes_.Reset();
  }

  static void OnEnvCleanup(void* arg) { static_cast<TcpForwardSinkWrap*>(arg)->Shutdown(); }

  Sink sink_;
  Napi::FunctionReference on_bytes_;
  napi_env env_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  uv_check_t* check_ = nullptr;
  bool scheduled_ = false;
};

void InitTcpForwardSink(Napi::Env env, Napi::Object exports) {
  exports.Set("TcpForwardSink", TcpForwardSinkWrap::Define(env));
}

}  // namespace

ForwardSink* TcpForwardSinkFromValue(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &kTcpSinkTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
  TcpForwardSinkWrap* wrap = TcpForwardSinkWrap::Unwrap(value.As<Napi::Object>());
  return wrap ? wrap->sink() : nullptr;
}

PWT_BINDING(tcp_forward_sink, InitTcpForwardSink);

}  // namespace pwt
