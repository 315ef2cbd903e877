// N-API glue for TCP framing (native/tcp, docs/udp.md "TCP framing"): a `TcpFrameReader` per
// connection (its reassembly state and SRTP route) and one `TcpFrameBatch` per thread (JS-owned
// arrays): `read` splits one received chunk into frames and unprotects them in one call, `protect`
// protects and frames a connection's queued packets for one write.
#include <napi.h>
#include <time.h>

#include <cstring>

#include "binding/forward_engine_binding.hpp"
#include "binding/module_registry.hpp"
#include "binding/srtp_session_binding.hpp"
#include "native/forward/forward_engine.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/tcp/tcp_frame_reader.hpp"
#include "native/tcp/tcp_frame_srtp.hpp"

namespace pwt {
namespace {

constexpr napi_type_tag kTcpReaderTypeTag = {0x2f6c1b8e7d4a9053ULL, 0x9e05a3c4b7d21f68ULL};

uint64_t MonotonicMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// Every engine transport of a router names its own sink (a UdpSocket or a TcpForwardSink); the
// batch's own sink is never used for them. Anything that would reach it is dropped.
class NoSink : public ForwardSink {
 public:
  void send(const UdpSendItem*, size_t) override {}
};

class TcpFrameReaderWrap : public Napi::ObjectWrap<TcpFrameReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpFrameReader",
                       {
                           InstanceMethod<&TcpFrameReaderWrap::SetSrtpSession>("setSrtpSession"),
                           InstanceMethod<&TcpFrameReaderWrap::SetForwardEngine>("setForwardEngine"),
                           InstanceMethod<&TcpFrameReaderWrap::State>("state"),
                       });
  }

  // new TcpFrameReader(framing 0 RFC 4571 | 1 TURN stream, maxFrame)
  explicit TcpFrameReaderWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TcpFrameReaderWrap>(info),
        reader_(info.Length() >= 1 && info[0].ToNumber().Uint32Value() == 1 ? TcpFraming::kTurnStream : TcpFraming::kRfc4571,
                info.Length() >= 2 ? info[1].ToNumber().Uint32Value() : 65535) {
    napi_type_tag_object(info.Env(), info.This(), &kTcpReaderTypeTag);
  }

  static TcpFrameReaderWrap* FromValue(Napi::Env env, Napi::Value v) {
    if (!v.IsObject()) return nullptr;
    bool tagged = false;
    if (napi_check_object_type_tag(env, v, &kTcpReaderTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
    return Unwrap(v.As<Napi::Object>());
  }

  TcpFrameReader& reader() { return reader_; }
  ForwardEngine* engine() const { return engine_; }
  SrtpSession* session() const { return session_; }
  uint16_t channel() const { return channel_; }

 private:
  // setSrtpSession(session | null, channel = 0) -> false when `session` is not a native SrtpSession
  Napi::Value SetSrtpSession(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
      session_ = nullptr;
      channel_ = 0;
      session_ref_.Reset();
      return Napi::Boolean::New(env, true);
    }
    SrtpSession* s = SrtpSessionFromValue(env, info[0]);
    if (!s) return Napi::Boolean::New(env, false);
    const uint32_t channel = info.Length() >= 2 ? info[1].ToNumber().Uint32Value() : 0;
    if (channel != 0 && (channel < 0x4000 || channel > 0x4fff)) return Napi::Boolean::New(env, false);
    session_ = s;
    channel_ = static_cast<uint16_t>(channel);
    session_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    return Napi::Boolean::New(env, true);
  }

  // setForwardEngine(engine | null) -> false when not a native ForwardEngine: the connection's
  // producers are forwarded inside its read batch (docs/sfu.md "Legs over TCP").
  Napi::Value SetForwardEngine(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
      engine_ = nullptr;
      engine_ref_.Reset();
      return Napi::Boolean::New(env, true);
    }
    ForwardEngine* e = ForwardEngineFromValue(env, info[0]);
    if (!e) return Napi::Boolean::New(env, false);
    engine_ = e;
    engine_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    return Napi::Boolean::New(env, true);
  }

  // state(out Float64Array(4)): [pending bytes, pending since (ms), announced length of the pending frame, error]
  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray()) return env.Undefined();
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_float64_array || ta.ElementLength() < 4) return env.Undefined();
    double* out = ta.As<Napi::Float64Array>().Data();
    out[0] = static_cast<double>(reader_.pending_bytes());
    out[1] = static_cast<double>(reader_.pending_since_ms());
    out[2] = reader_.pending_frame_length();
    out[3] = static_cast<double>(reader_.error());
    return env.Undefined();
  }

  TcpFrameReader reader_;
  SrtpSession* session_ = nullptr;
  uint16_t channel_ = 0;
  Napi::ObjectReference session_ref_;
  ForwardEngine* engine_ = nullptr;
  Napi::ObjectReference engine_ref_;
};

class TcpFrameBatchWrap : public Napi::ObjectWrap<TcpFrameBatchWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TcpFrameBatch",
                       {
                           InstanceMethod<&TcpFrameBatchWrap::Read>("read"),
                           InstanceMethod<&TcpFrameBatchWrap::Protect>("protect"),
                       });
  }

  // new TcpFrameBatch({ buffer, offsets, lengths, status, relayed, info, counters, out, results })
  explicit TcpFrameBatchWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TcpFrameBatchWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "TcpFrameBatch: options object expected").ThrowAsJavaScriptException();
      return;
    }
    Napi::Object o = info[0].As<Napi::Object>();
    if (!Take(o, "buffer", napi_uint8_array, &buffer_) || !Take(o, "offsets", napi_uint32_array, &offsets_) ||
        !Take(o, "lengths", napi_uint32_array, &lengths_) || !Take(o, "status", napi_uint8_array, &status_) ||
        !Take(o, "relayed", napi_uint8_array, &relayed_) || !Take(o, "info", napi_uint32_array, &info_) ||
        !Take(o, "counters", napi_float64_array, &counters_) || !Take(o, "out", napi_uint8_array, &out_) ||
        !Take(o, "results", napi_uint8_array, &results_)) {
      Napi::TypeError::New(env, "TcpFrameBatch: missing or mistyped arrays").ThrowAsJavaScriptException();
      return;
    }
    const size_t frames = offsets_.bytes / 4;
    // Every frame a reader may accept must fit an empty batch (TcpFrameReader::kMaxFrameBound).
    if (frames == 0 || lengths_.bytes / 4 < frames || status_.bytes < frames || relayed_.bytes < frames ||
        info_.bytes < 16 || counters_.bytes < kTcpCounterCount * sizeof(double) ||
        buffer_.bytes < TcpFrameReader::kMaxFrameBound || out_.bytes < 65535 + 4 + kTcpFrameOverhead) {
      Napi::RangeError::New(env, "TcpFrameBatch: arrays too small").ThrowAsJavaScriptException();
      return;
    }
    target_.buffer = static_cast<uint8_t*>(buffer_.data);
    target_.capacity = buffer_.bytes;
    target_.max_frames = frames;
    target_.offsets = static_cast<uint32_t*>(offsets_.data);
    target_.lengths = static_cast<uint32_t*>(lengths_.data);
  }

 private:
  struct PinnedArray {
    Napi::ObjectReference ref;
    void* data = nullptr;
    size_t bytes = 0;
  };

  static bool Take(Napi::Object o, const char* key, napi_typedarray_type type, PinnedArray* out) {
    Napi::Value v = o.Get(key);
    if (!v.IsTypedArray()) return false;
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != type) return false;
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    out->data = static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset();
    out->bytes = ta.ByteLength();
    out->ref = Napi::Persistent(ta.As<Napi::Object>());
    return true;
  }

  static bool Bytes(Napi::Value v, const uint8_t** data, size_t* length) {
    if (!v.IsTypedArray()) return false;
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array) return false;
    *data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    *length = ta.ByteLength();
    return true;
  }

  // read(reader, chunk Uint8Array, offset, nowMs) -> frames written into the batch; info[0] gets the
  // bytes of chunk consumed from offset, info[1] the reader's error (TcpFrameError), info[2] the bytes
  // it holds for an incomplete frame, info[3] 1 when that frame began in this read. -1 on misuse.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    TcpFrameReaderWrap* r = info.Length() >= 4 ? TcpFrameReaderWrap::FromValue(env, info[0]) : nullptr;
    const uint8_t* data = nullptr;
    size_t length = 0;
    if (!r || !Bytes(info[1], &data, &length)) return Napi::Number::New(env, -1);
    const size_t offset = info[2].ToNumber().Int64Value() < 0 ? 0 : static_cast<size_t>(info[2].ToNumber().Int64Value());
    if (offset > length) return Napi::Number::New(env, -1);
    const double now = info[3].ToNumber().DoubleValue();
    double* counters = static_cast<double*>(counters_.data);
    const TcpFrameCounters before = r->reader().counters();
    const bool was_broken = r->reader().error() != TcpFrameError::kNone;
    const uint64_t now_ms = now > 0 ? static_cast<uint64_t>(now) : 0;
    const TcpReadResult res = r->reader().read(data + offset, length - offset, target_, now_ms);
    const TcpFrameCounters& after = r->reader().counters();
    counters[kTcpReads] += 1;
    counters[kTcpFramesIn] += static_cast<double>(after.frames - before.frames);
    counters[kTcpBytesIn] += static_cast<double>(after.bytes - before.bytes);
    counters[kTcpEmptyFrames] += static_cast<double>(after.empty_frames - before.empty_frames);
    if (!was_broken && res.error != TcpFrameError::kNone) counters[kTcpStreamsBroken] += 1;
    uint8_t* status = static_cast<uint8_t*>(status_.data);
    tcp_unprotect_frames(target_, res.frames, r->session(), r->channel(), status, static_cast<uint8_t*>(relayed_.data), counters);
    ForwardEngine* engine = r->engine();
    if (engine && r->session() && r->channel() == 0 && res.frames > 0 && engine->has_batch_work()) {
      // docs/sfu.md "Legs over TCP": every clear frame comes from this connection's session, so each
      // slot names it as the session that unprotected it, as the port's batch does per datagram:
      // a producer's RTP is found by it, and so is the subscriber leg whose compound RTCP the engine
      // may consume (docs/sfu.md "What a subscriber's RTCP costs"), with or without a producer.
      UdpRecvTarget view;
      view.buffer = target_.buffer;
      view.capacity = target_.max_frames;
      view.lengths = target_.lengths;
      view.offsets = target_.offsets;
      const int n = res.frames < static_cast<int>(UdpSocket::kMaxBatch) ? res.frames : static_cast<int>(UdpSocket::kMaxBatch);
      for (int i = 0; i < n; ++i) slot_sessions_[i] = r->session();
      counters[kTcpForwarded] += engine->process_batch(view, n, status, no_table_, MonotonicMicros(), no_sink_, nullptr, slot_sessions_);
    }
    uint32_t* out = static_cast<uint32_t*>(info_.data);
    out[0] = static_cast<uint32_t>(res.consumed);
    out[1] = static_cast<uint32_t>(res.error);
    out[2] = static_cast<uint32_t>(r->reader().pending_bytes());
    out[3] = r->reader().pending_bytes() > 0 && r->reader().pending_since_ms() == now_ms ? 1 : 0;
    return Napi::Number::New(env, res.frames);
  }

  // protect(reader, pool Uint8Array, offsets Uint32Array, lengths Uint32Array, count) -> bytes of
  // `out` holding the protected frames back to back; info[0] gets the packets taken (a full `out`
  // takes fewer: call again with the rest), `results[i]` each one's SrtpStatus. -1 on misuse or
  // when the reader has no SRTP session.
  Napi::Value Protect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    TcpFrameReaderWrap* r = info.Length() >= 5 ? TcpFrameReaderWrap::FromValue(env, info[0]) : nullptr;
    const uint8_t* pool = nullptr;
    size_t pool_bytes = 0;
    if (!r || !r->session() || !Bytes(info[1], &pool, &pool_bytes) || !info[2].IsTypedArray() || !info[3].IsTypedArray()) {
      return Napi::Number::New(env, -1);
    }
    Napi::TypedArray offs = info[2].As<Napi::TypedArray>();
    Napi::TypedArray lens = info[3].As<Napi::TypedArray>();
    if (offs.TypedArrayType() != napi_uint32_array || lens.TypedArrayType() != napi_uint32_array) return Napi::Number::New(env, -1);
    const size_t count = info[4].ToNumber().Uint32Value();
    if (count > offs.ElementLength() || count > lens.ElementLength() || count > results_.bytes) return Napi::Number::New(env, -1);
    const uint32_t* offsets = offs.As<Napi::Uint32Array>().Data();
    const uint32_t* lengths = lens.As<Napi::Uint32Array>().Data();
    // Every packet must lie inside the pool and be one a frame can carry.
    for (size_t i = 0; i < count; ++i) {
      if (lengths[i] > 65535 || offsets[i] > pool_bytes || lengths[i] > pool_bytes - offsets[i]) return Napi::Number::New(env, -1);
    }
    size_t framed = 0;
    const size_t bytes = tcp_protect_frames(*r->session(), r->channel(), pool, offsets, lengths, count,
                                            static_cast<uint8_t*>(out_.data), out_.bytes,
                                            static_cast<uint8_t*>(results_.data), &framed, static_cast<double*>(counters_.data));
    static_cast<uint32_t*>(info_.data)[0] = static_cast<uint32_t>(framed);
    return Napi::Number::New(env, static_cast<double>(bytes));
  }

  PinnedArray buffer_, offsets_, lengths_, status_, relayed_, info_, counters_, out_, results_;
  TcpFrameTarget target_;
  UdpSessionTable no_table_;
  NoSink no_sink_;
  // The session of every slot of the current read (all the reader's own).
  SrtpSession* slot_sessions_[UdpSocket::kMaxBatch] = {};
};

void InitTcpFrame(Napi::Env env, Napi::Object exports) {
  exports.Set("TcpFrameReader", TcpFrameReaderWrap::Define(env));
  exports.Set("TcpFrameBatch", TcpFrameBatchWrap::Define(env));
  exports.Set("tcpCounterCount", Napi::Number::New(env, kTcpCounterCount));
}

}  // namespace

PWT_BINDING(tcp_frame, InitTcpFrame);

}  // namespace pwt
