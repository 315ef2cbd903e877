// N-API glue for pwt::ForwardEngine (native/forward/forward_engine.hpp; docs/sfu.md): JavaScript
// installs transports, producers and consumers; the engine runs inside the UDP socket's receive batch
// (UdpSocket.setForwardEngine), so no JavaScript runs per forwarded packet. Thin: lib/native/forward.ts
// validates arguments; this file checks invariants and keeps the SRTP sessions' JS objects alive.
#include "binding/forward_engine_binding.hpp"

#include <sys/socket.h>
#include <time.h>

#include <cstring>
#include <unordered_map>

#include "binding/forward_plain_source_binding.hpp"
#include "binding/module_registry.hpp"
#include "binding/srtp_session_binding.hpp"
#include "binding/tcp_forward_sink_binding.hpp"
#include "binding/udp_socket_binding.hpp"

namespace pwt {
namespace {

constexpr napi_type_tag kForwardEngineTypeTag = {0x3c7e91d2a4b85f06ULL, 0x81f2d6c0e59a3b47ULL};
constexpr size_t kAddressRecord = 28;  // as lib/transport/source/udp-socket.ts resolves destinations

// Producer/consumer stats layouts (lib/native/forward.ts reads them in this order).
constexpr size_t kProducerStats = 12;
constexpr size_t kProducerLayerReceiveStats = 10;
constexpr size_t kConsumerStats = 9 + kForwardDropCount;
// Written after the drops when the array has room: the leg's receiver-report counters (as
// consumerReceiverReports, first 9) and the feedback the engine consumed (NACK packets, PLIs, FIRs).
constexpr size_t kConsumerFeedbackStats = 12;
constexpr uint32_t kMaxCachePackets = 32768;
constexpr size_t kConsumerLayerStats = 5;
constexpr size_t kConsumerReportStats = 10;  // doubles per leg of consumerReceiverReports

bool AddressFromRecord(Napi::Value v, sockaddr_storage* out, socklen_t* len) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array || ta.ByteLength() < kAddressRecord) return false;
  const uint8_t* rec = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  std::memset(out, 0, sizeof *out);
  std::memcpy(out, rec, kAddressRecord);
  if (out->ss_family == AF_INET) *len = sizeof(sockaddr_in);
  else if (out->ss_family == AF_INET6) *len = sizeof(sockaddr_in6);
  else return false;
  return true;
}

class ForwardEngineWrap : public Napi::ObjectWrap<ForwardEngineWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ForwardEngine",
                       {
                           InstanceMethod<&ForwardEngineWrap::AddTransport>("addTransport"),
                           InstanceMethod<&ForwardEngineWrap::AddPlainTransport>("addPlainTransport"),
                           InstanceMethod<&ForwardEngineWrap::SetTransportAddress>("setTransportAddress"),
                           InstanceMethod<&ForwardEngineWrap::SetTransportRoute>("setTransportRoute"),
                           InstanceMethod<&ForwardEngineWrap::RemoveTransport>("removeTransport"),
                           InstanceMethod<&ForwardEngineWrap::AddProducer>("addProducer"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerTap>("setProducerTap"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerClockRate>("setProducerClockRate"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerTransportCc>("setProducerTransportCc"),
                           InstanceMethod<&ForwardEngineWrap::DrainProducerArrivals>("drainProducerArrivals"),
                           InstanceMethod<&ForwardEngineWrap::ProducerArrivalsOverwritten>("producerArrivalsOverwritten"),
                           InstanceMethod<&ForwardEngineWrap::RemoveProducer>("removeProducer"),
                           InstanceMethod<&ForwardEngineWrap::AddSimulcastProducer>("addSimulcastProducer"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerLayer>("setProducerLayer"),
                           InstanceMethod<&ForwardEngineWrap::AddProducerRepairSsrc>("addProducerRepairSsrc"),
                           InstanceMethod<&ForwardEngineWrap::AddProducerRtx>("addProducerRtx"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerCodecs>("setProducerCodecs"),
                           InstanceMethod<&ForwardEngineWrap::SetConsumerLayers>("setConsumerLayers"),
                           InstanceMethod<&ForwardEngineWrap::SetConsumerRoundTripTime>("setConsumerRoundTripTime"),
                           InstanceMethod<&ForwardEngineWrap::SetConsumerCname>("setConsumerCname"),
                           InstanceMethod<&ForwardEngineWrap::TakeConsumerReceiverReferenceTime>("takeConsumerReceiverReferenceTime"),
                           InstanceMethod<&ForwardEngineWrap::ConsumerLayers>("consumerLayers"),
                           InstanceMethod<&ForwardEngineWrap::AddConsumer>("addConsumer"),
                           InstanceMethod<&ForwardEngineWrap::SetConsumerPaused>("setConsumerPaused"),
                           InstanceMethod<&ForwardEngineWrap::SetConsumerProducer>("setConsumerProducer"),
                           InstanceMethod<&ForwardEngineWrap::ContinueConsumerNumbering>("continueConsumerNumbering"),
                           InstanceMethod<&ForwardEngineWrap::RemoveConsumer>("removeConsumer"),
                           InstanceMethod<&ForwardEngineWrap::ProducerStats>("producerStats"),
                           InstanceMethod<&ForwardEngineWrap::ProducerLayerPackets>("producerLayerPackets"),
                           InstanceMethod<&ForwardEngineWrap::ProducerLayerReceive>("producerLayerReceive"),
                           InstanceMethod<&ForwardEngineWrap::SetProducerAbsSendTime>("setProducerAbsSendTime"),
                           InstanceMethod<&ForwardEngineWrap::DrainProducerSendTimes>("drainProducerSendTimes"),
                           InstanceMethod<&ForwardEngineWrap::EnableTransportSendLog>("enableTransportSendLog"),
                           InstanceMethod<&ForwardEngineWrap::CollectTransportSends>("collectTransportSends"),
                           InstanceMethod<&ForwardEngineWrap::TransportSendsOverwritten>("transportSendsOverwritten"),
                           InstanceMethod<&ForwardEngineWrap::ConsumerStats>("consumerStats"),
                           InstanceMethod<&ForwardEngineWrap::ReadReceiverReports>("readReceiverReports"),
                           InstanceMethod<&ForwardEngineWrap::ConsumerReceiverReports>("consumerReceiverReports"),
                           InstanceMethod<&ForwardEngineWrap::SetTransportRtcpKinds>("setTransportRtcpKinds"),
                           InstanceMethod<&ForwardEngineWrap::TakeKeyFrameRequests>("takeKeyFrameRequests"),
                       });
  }

  // new ForwardEngine(counters Float64Array(forwardCounterCount))
  explicit ForwardEngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ForwardEngineWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[0].As<Napi::TypedArray>().ByteLength() < kFwdCounterCount * sizeof(double)) {
      Napi::TypeError::New(env, "ForwardEngine: a Float64Array of forwardCounterCount counters expected")
          .ThrowAsJavaScriptException();
      return;
    }
    Napi::Float64Array counters = info[0].As<Napi::Float64Array>();
    engine_.set_counters(counters.Data());
    counters_ = Napi::Persistent(counters.As<Napi::Object>());
    napi_type_tag_object(env, info.This(), &kForwardEngineTypeTag);
  }

  ForwardEngine* core() { return &engine_; }

 private:
  // addTransport(srtpSession nativeHandle, address record, socket? native UdpSocket) -> id (0: not a
  // session, bad address or socket, full). With a socket, the transport's datagrams leave through it.
  Napi::Value AddTransport(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SrtpSession* session = info.Length() >= 2 ? SrtpSessionFromValue(env, info[0]) : nullptr;
    const bool has_socket = info.Length() >= 3 && !info[2].IsUndefined() && !info[2].IsNull();
    // The sink: a native UdpSocket, or a TCP leg's TcpForwardSink (docs/sfu.md "Legs over TCP").
    ForwardSink* sink = has_socket ? UdpSocketSinkFromValue(env, info[2]) : nullptr;
    if (has_socket && !sink) sink = TcpForwardSinkFromValue(env, info[2]);
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!session || (has_socket && !sink) || !AddressFromRecord(info[1], &ss, &len)) return Napi::Number::New(env, 0);
    const uint32_t id = engine_.add_transport(session, reinterpret_cast<const sockaddr*>(&ss), len, sink);
    if (id) {
      refs_[Key('t', id)] = Napi::Persistent(info[0].As<Napi::Object>());
      if (has_socket) refs_[Key('s', id)] = Napi::Persistent(info[2].As<Napi::Object>());
    }
    return Napi::Number::New(env, id);
  }

  // addPlainTransport(filter PlainRtpFilter, srtpSession nativeHandle | null, socket native UdpSocket)
  //   -> id (0: bad arguments, full): sends to the filter's remote, in the clear without a session
  //   (docs/scaling.md), through the transport's own socket.
  Napi::Value AddPlainTransport(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3) return Napi::Number::New(env, 0);
    ForwardPlainSource* filter = ForwardPlainSourceFromValue(env, info[0]);
    const bool has_session = !info[1].IsNull() && !info[1].IsUndefined();
    SrtpSession* session = has_session ? SrtpSessionFromValue(env, info[1]) : nullptr;
    ForwardSink* sink = UdpSocketSinkFromValue(env, info[2]);
    if (!filter || !sink || (has_session && !session)) return Napi::Number::New(env, 0);
    const uint32_t id = engine_.add_plain_transport(filter, session, sink);
    if (id) {
      refs_[Key('t', id)] = Napi::Persistent(info[0].As<Napi::Object>());
      refs_[Key('s', id)] = Napi::Persistent(info[2].As<Napi::Object>());
      if (has_session) refs_[Key('k', id)] = Napi::Persistent(info[1].As<Napi::Object>());
    }
    return Napi::Number::New(env, id);
  }

  Napi::Value SetTransportAddress(const Napi::CallbackInfo& info) {
    sockaddr_storage ss;
    socklen_t len = 0;
    const bool ok = info.Length() >= 2 && AddressFromRecord(info[1], &ss, &len) &&
                    engine_.set_transport_address(info[0].ToNumber().Uint32Value(), reinterpret_cast<const sockaddr*>(&ss), len);
    return Napi::Boolean::New(info.Env(), ok);
  }

  // setTransportRoute(id, srtpSession nativeHandle, address record, sink native UdpSocket |
  //   TcpForwardSink) -> false when the transport is unknown or plain, or an argument is not what it
  //   should be. The engine keeps the references of the new session and sink, drops the old ones.
  Napi::Value SetTransportRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4) return Napi::Boolean::New(env, false);
    const uint32_t id = info[0].ToNumber().Uint32Value();
    SrtpSession* session = SrtpSessionFromValue(env, info[1]);
    ForwardSink* sink = UdpSocketSinkFromValue(env, info[3]);
    if (!sink) sink = TcpForwardSinkFromValue(env, info[3]);
    sockaddr_storage ss;
    socklen_t len = 0;
    if (!session || !sink || !AddressFromRecord(info[2], &ss, &len) ||
        !engine_.set_transport_route(id, session, reinterpret_cast<const sockaddr*>(&ss), len, sink)) {
      return Napi::Boolean::New(env, false);
    }
    refs_[Key('t', id)] = Napi::Persistent(info[1].As<Napi::Object>());
    refs_[Key('s', id)] = Napi::Persistent(info[3].As<Napi::Object>());
    return Napi::Boolean::New(env, true);
  }

  Napi::Value RemoveTransport(const Napi::CallbackInfo& info) {
    const uint32_t id = info[0].ToNumber().Uint32Value();
    const bool ok = engine_.remove_transport(id);
    if (ok) {
      refs_.erase(Key('t', id));
      refs_.erase(Key('s', id));
      refs_.erase(Key('k', id));
    }
    return Napi::Boolean::New(info.Env(), ok);
  }

  // addProducer(source: srtpSession nativeHandle | PlainRtpFilter, ssrc, tap, cachePackets) -> id (0:
  // not a source, already a producer, or a cache above 32768 packets)
  Napi::Value AddProducer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const void* source = nullptr;
    if (info.Length() >= 4) {
      if (ForwardPlainSource* plain = ForwardPlainSourceFromValue(env, info[0])) source = plain;
      else source = SrtpSessionFromValue(env, info[0]);
    }
    const uint32_t cache = info.Length() >= 4 ? info[3].ToNumber().Uint32Value() : 0;
    if (!source || cache > kMaxCachePackets) return Napi::Number::New(env, 0);
    const uint32_t id = engine_.add_producer(source, info[1].ToNumber().Uint32Value(), info[2].ToBoolean(), cache);
    if (id) refs_[Key('p', id)] = Napi::Persistent(info[0].As<Napi::Object>());
    return Napi::Number::New(env, id);
  }

  // addSimulcastProducer(srtpSession nativeHandle, layers 2..8, tap, cachePackets) -> id (0: refused)
  Napi::Value AddSimulcastProducer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SrtpSession* session = info.Length() >= 4 ? SrtpSessionFromValue(env, info[0]) : nullptr;
    const uint32_t layers = info.Length() >= 4 ? info[1].ToNumber().Uint32Value() : 0;
    const uint32_t cache = info.Length() >= 4 ? info[3].ToNumber().Uint32Value() : 0;
    if (!session || cache > kMaxCachePackets || layers < 2 || layers > ForwardEngine::kMaxLayers) return Napi::Number::New(env, 0);
    const uint32_t id = engine_.add_simulcast_producer(session, static_cast<uint8_t>(layers), info[2].ToBoolean(), cache);
    if (id) refs_[Key('p', id)] = Napi::Persistent(info[0].As<Napi::Object>());
    return Napi::Number::New(env, id);
  }

  // setProducerLayer(id, layer, ssrc) -> false when unknown, out of range or the SSRC is taken
  Napi::Value SetProducerLayer(const Napi::CallbackInfo& info) {
    if (info.Length() < 3) return Napi::Boolean::New(info.Env(), false);
    const uint32_t layer = info[1].ToNumber().Uint32Value();
    const bool ok = layer < ForwardEngine::kMaxLayers &&
                    engine_.set_producer_layer(info[0].ToNumber().Uint32Value(), static_cast<uint8_t>(layer), info[2].ToNumber().Uint32Value());
    return Napi::Boolean::New(info.Env(), ok);
  }

  Napi::Value AddProducerRepairSsrc(const Napi::CallbackInfo& info) {
    if (info.Length() < 2) return Napi::Boolean::New(info.Env(), false);
    return Napi::Boolean::New(info.Env(), engine_.add_producer_repair_ssrc(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Uint32Value()));
  }

  // addProducerRtx(id, rtxSsrc, rtxPayloadType, originalPayloadType) -> false when refused
  Napi::Value AddProducerRtx(const Napi::CallbackInfo& info) {
    if (info.Length() < 4) return Napi::Boolean::New(info.Env(), false);
    const uint32_t rtx_pt = info[2].ToNumber().Uint32Value();
    const uint32_t pt = info[3].ToNumber().Uint32Value();
    const bool ok = rtx_pt <= 127 && pt <= 127 &&
                    engine_.add_producer_rtx(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Uint32Value(),
                                             static_cast<uint8_t>(rtx_pt), static_cast<uint8_t>(pt));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // setProducerCodecs(id, Uint8Array(128) of ForwardLayerCodec per payload type)
  Napi::Value SetProducerCodecs(const Napi::CallbackInfo& info) {
    if (info.Length() < 2 || !info[1].IsTypedArray()) return Napi::Boolean::New(info.Env(), false);
    Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_uint8_array || ta.ByteLength() != 128) return Napi::Boolean::New(info.Env(), false);
    const uint8_t* codecs = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    return Napi::Boolean::New(info.Env(), engine_.set_producer_codecs(info[0].ToNumber().Uint32Value(), codecs));
  }

  // setConsumerLayers(id, spatial, temporal 0..3) -> false when unknown or out of range
  Napi::Value SetConsumerLayers(const Napi::CallbackInfo& info) {
    if (info.Length() < 3) return Napi::Boolean::New(info.Env(), false);
    const uint32_t spatial = info[1].ToNumber().Uint32Value();
    const uint32_t temporal = info[2].ToNumber().Uint32Value();
    const bool ok = spatial < ForwardEngine::kMaxLayers && temporal <= ForwardLayerState::kMaxTemporal &&
                    engine_.set_consumer_layers(info[0].ToNumber().Uint32Value(), static_cast<uint8_t>(spatial), static_cast<uint8_t>(temporal));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // setConsumerRoundTripTime(id, microseconds 0..2^32-1; 0: unknown) -> false when unknown
  Napi::Value SetConsumerRoundTripTime(const Napi::CallbackInfo& info) {
    if (info.Length() < 2) return Napi::Boolean::New(info.Env(), false);
    const double us = info[1].ToNumber().DoubleValue();
    const bool ok = us >= 0 && us <= 4294967295.0 &&
                    engine_.set_consumer_round_trip_time(info[0].ToNumber().Uint32Value(), static_cast<uint32_t>(us));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // setConsumerCname(id, cname Uint8Array (UTF-8, at most 255 bytes)) -> false when unknown or too long:
  // the CNAME of the leg's natively sent reports (UdpSocket.forwardSenderReports).
  Napi::Value SetConsumerCname(const Napi::CallbackInfo& info) {
    if (info.Length() < 2 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return Napi::Boolean::New(info.Env(), false);
    }
    Napi::Uint8Array cname = info[1].As<Napi::Uint8Array>();
    return Napi::Boolean::New(info.Env(), engine_.set_consumer_cname(info[0].ToNumber().Uint32Value(), cname.Data(),
                                                                     cname.ElementLength()));
  }

  // takeConsumerReceiverReferenceTime(id, out Float64Array(3)) -> false when unknown or none pending:
  // [RRTR sender SSRC, LRR, delay since it arrived in 1/65536 s] of the consumer's RRTR the engine
  // consumed and no native SR answered yet (RFC 3611 §4.5); taken: the caller's report answers it.
  Napi::Value TakeConsumerReceiverReferenceTime(const Napi::CallbackInfo& info) {
    const uint32_t id = info.Length() >= 1 ? info[0].ToNumber().Uint32Value() : 0;
    double* out = StatsOut(info, 3);
    ForwardDlrrItem item;
    if (!out || !engine_.take_consumer_receiver_reference_time(id, MonotonicMicros(), &item)) {
      return Napi::Boolean::New(info.Env(), false);
    }
    out[0] = item.ssrc;
    out[1] = item.last_rr;
    out[2] = item.delay_since_last_rr;
    return Napi::Boolean::New(info.Env(), true);
  }

  // consumerLayers(id, out Float64Array(5)) -> false when unknown:
  // [currentSpatial (-1: none yet), currentTemporal (-1: none yet), targetSpatial, targetTemporal, switches]
  // currentTemporal is capped at the highest temporal layer seen on the current spatial layer.
  Napi::Value ConsumerLayers(const Napi::CallbackInfo& info) {
    const uint32_t id = info.Length() >= 1 ? info[0].ToNumber().Uint32Value() : 0;
    const ForwardLayerState* s = engine_.consumer_layers(id);
    double* out = StatsOut(info, kConsumerLayerStats);
    if (!s || !out) return Napi::Boolean::New(info.Env(), false);
    const bool none = s->current_spatial == ForwardLayerState::kNone;
    const uint8_t seen = none ? 0 : engine_.producer_max_temporal(engine_.consumer_producer(id), s->current_spatial);
    out[0] = none ? -1 : s->current_spatial;
    out[1] = none ? -1 : (s->current_temporal < seen ? s->current_temporal : seen);
    out[2] = s->target_spatial;
    out[3] = s->target_temporal;
    out[4] = static_cast<double>(s->switches);
    return Napi::Boolean::New(info.Env(), true);
  }

  Napi::Value SetProducerTap(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_.set_producer_tap(info[0].ToNumber().Uint32Value(), info[1].ToBoolean()));
  }

  Napi::Value SetProducerClockRate(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_.set_producer_clock_rate(info[0].ToNumber().Uint32Value(),
                                                                          info[1].ToNumber().Uint32Value()));
  }

  Napi::Value SetProducerTransportCc(const Napi::CallbackInfo& info) {
    const uint32_t ext = info[1].ToNumber().Uint32Value();
    return Napi::Boolean::New(info.Env(), ext <= 255 && engine_.set_producer_transport_cc(info[0].ToNumber().Uint32Value(),
                                                                                      static_cast<uint8_t>(ext)));
  }

  // drainProducerArrivals(id, seqs Uint16Array, agesUs Float64Array) -> n: the oldest n logged
  // arrivals, each as its transport-wide sequence number and µs since it arrived.
  Napi::Value DrainProducerArrivals(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ForwardArrivalLog* log = engine_.producer_arrivals(info[0].ToNumber().Uint32Value());
    if (!log || info.Length() < 3 || !info[1].IsTypedArray() || !info[2].IsTypedArray()) return Napi::Number::New(env, 0);
    Napi::TypedArray s = info[1].As<Napi::TypedArray>();
    Napi::TypedArray a = info[2].As<Napi::TypedArray>();
    if (s.TypedArrayType() != napi_uint16_array || a.TypedArrayType() != napi_float64_array) return Napi::Number::New(env, 0);
    uint16_t* seqs = reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(s.ArrayBuffer().Data()) + s.ByteOffset());
    double* ages = reinterpret_cast<double*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
    const size_t max = s.ElementLength() < a.ElementLength() ? s.ElementLength() : a.ElementLength();
    uint64_t times[256];
    const uint64_t now = MonotonicMicros();
    size_t total = 0;
    while (total < max) {
      const size_t want = max - total < 256 ? max - total : 256;
      const size_t n = log->drain(seqs + total, times, want);
      for (size_t i = 0; i < n; ++i) ages[total + i] = static_cast<double>(now > times[i] ? now - times[i] : 0);
      total += n;
      if (n < want) break;
    }
    return Napi::Number::New(env, static_cast<double>(total));
  }

  Napi::Value SetProducerAbsSendTime(const Napi::CallbackInfo& info) {
    const uint32_t ext = info[1].ToNumber().Uint32Value();
    return Napi::Boolean::New(info.Env(), ext <= 255 && engine_.set_producer_abs_send_time(info[0].ToNumber().Uint32Value(),
                                                                                        static_cast<uint8_t>(ext)));
  }

  // enableTransportSendLog(id, capacity) -> bool: keep transport-cc send records of the leg
  // (docs/sfu.md "Automatic layer selection"); the ring is allocated here, once.
  Napi::Value EnableTransportSendLog(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2) return Napi::Boolean::New(env, false);
    ForwardLegSendLog* log = engine_.transport_send_log(info[0].ToNumber().Uint32Value());
    const uint32_t capacity = info[1].ToNumber().Uint32Value();
    if (!log || capacity > 65536) return Napi::Boolean::New(env, false);
    if (!log->enabled() || capacity == 0) log->enable(capacity);
    return Napi::Boolean::New(env, true);
  }

  // collectTransportSends(id, seqs Uint16Array, sizes Uint32Array, agesUs Float64Array) -> n: the
  // records sent since the last call, oldest first: transport-wide number, bytes, µs since sent.
  Napi::Value CollectTransportSends(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4) return Napi::Number::New(env, 0);
    ForwardLegSendLog* log = engine_.transport_send_log(info[0].ToNumber().Uint32Value());
    if (!log) return Napi::Number::New(env, 0);
    for (size_t i = 1; i < 4; ++i) if (!info[i].IsTypedArray()) return Napi::Number::New(env, 0);
    Napi::TypedArray q = info[1].As<Napi::TypedArray>();
    Napi::TypedArray z = info[2].As<Napi::TypedArray>();
    Napi::TypedArray a = info[3].As<Napi::TypedArray>();
    if (q.TypedArrayType() != napi_uint16_array || z.TypedArrayType() != napi_uint32_array ||
        a.TypedArrayType() != napi_float64_array) {
      return Napi::Number::New(env, 0);
    }
    auto data = [](Napi::TypedArray x) { return static_cast<uint8_t*>(x.ArrayBuffer().Data()) + x.ByteOffset(); };
    uint16_t* seqs = reinterpret_cast<uint16_t*>(data(q));
    uint32_t* sizes = reinterpret_cast<uint32_t*>(data(z));
    double* ages = reinterpret_cast<double*>(data(a));
    size_t max = q.ElementLength();
    if (z.ElementLength() < max) max = z.ElementLength();
    if (a.ElementLength() < max) max = a.ElementLength();
    ForwardLegSend chunk[128];
    const uint64_t now = MonotonicMicros();
    size_t total = 0;
    while (total < max) {
      const size_t want = max - total < 128 ? max - total : 128;
      const size_t n = log->collect(chunk, want);
      for (size_t i = 0; i < n; ++i) {
        seqs[total + i] = chunk[i].seq;
        sizes[total + i] = chunk[i].size;
        ages[total + i] = static_cast<double>(now > chunk[i].sent_us ? now - chunk[i].sent_us : 0);
      }
      total += n;
      if (n < want) break;
    }
    return Napi::Number::New(env, static_cast<double>(total));
  }

  Napi::Value TransportSendsOverwritten(const Napi::CallbackInfo& info) {
    ForwardLegSendLog* log = engine_.transport_send_log(info[0].ToNumber().Uint32Value());
    return Napi::Number::New(info.Env(), log ? static_cast<double>(log->overwritten()) : 0);
  }

  // drainProducerSendTimes(id, ssrcs Uint32Array, absSendTimes Int32Array, lengths Uint32Array,
  // agesUs Float64Array) -> n: the oldest n logged packets, each with its SSRC, abs-send-time (-1:
  // none), bytes and µs since it arrived (REMB, docs/sfu.md).
  Napi::Value DrainProducerSendTimes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ForwardSendTimeLog* log = engine_.producer_send_times(info[0].ToNumber().Uint32Value());
    if (!log || info.Length() < 5) return Napi::Number::New(env, 0);
    for (size_t i = 1; i < 5; ++i) if (!info[i].IsTypedArray()) return Napi::Number::New(env, 0);
    Napi::TypedArray s = info[1].As<Napi::TypedArray>();
    Napi::TypedArray t = info[2].As<Napi::TypedArray>();
    Napi::TypedArray l = info[3].As<Napi::TypedArray>();
    Napi::TypedArray a = info[4].As<Napi::TypedArray>();
    if (s.TypedArrayType() != napi_uint32_array || t.TypedArrayType() != napi_int32_array ||
        l.TypedArrayType() != napi_uint32_array || a.TypedArrayType() != napi_float64_array) {
      return Napi::Number::New(env, 0);
    }
    auto data = [](Napi::TypedArray x) { return static_cast<uint8_t*>(x.ArrayBuffer().Data()) + x.ByteOffset(); };
    uint32_t* ssrcs = reinterpret_cast<uint32_t*>(data(s));
    int32_t* times = reinterpret_cast<int32_t*>(data(t));
    uint32_t* lengths = reinterpret_cast<uint32_t*>(data(l));
    double* ages = reinterpret_cast<double*>(data(a));
    size_t max = s.ElementLength();
    if (t.ElementLength() < max) max = t.ElementLength();
    if (l.ElementLength() < max) max = l.ElementLength();
    if (a.ElementLength() < max) max = a.ElementLength();
    ForwardSendTime chunk[128];
    const uint64_t now = MonotonicMicros();
    size_t total = 0;
    while (total < max) {
      const size_t want = max - total < 128 ? max - total : 128;
      const size_t n = log->drain(chunk, want);
      for (size_t i = 0; i < n; ++i) {
        ssrcs[total + i] = chunk[i].ssrc;
        times[total + i] = chunk[i].abs_send_time;
        lengths[total + i] = chunk[i].length;
        ages[total + i] = static_cast<double>(now > chunk[i].arrival_us ? now - chunk[i].arrival_us : 0);
      }
      total += n;
      if (n < want) break;
    }
    return Napi::Number::New(env, static_cast<double>(total));
  }

  // producerArrivalsOverwritten(id) -> arrivals the producer's log overwrote before a drain (-1: unknown)
  Napi::Value ProducerArrivalsOverwritten(const Napi::CallbackInfo& info) {
    const ForwardArrivalLog* log = info.Length() >= 1 ? engine_.producer_arrivals(info[0].ToNumber().Uint32Value()) : nullptr;
    return Napi::Number::New(info.Env(), log ? static_cast<double>(log->overwritten()) : -1.0);
  }

  Napi::Value RemoveProducer(const Napi::CallbackInfo& info) {
    const uint32_t id = info[0].ToNumber().Uint32Value();
    const bool ok = engine_.remove_producer(id);
    if (ok) refs_.erase(Key('p', id));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // addConsumer(producer, transport, ssrc, payloadTypes Uint8Array(128), extensionIds Uint8Array(256),
  //             absSendTimeId, transportCcId, clockRate, rtxPayloadType (255: none), rtxSsrc)
  //   -> id (0: unknown producer/transport, bad maps)
  Napi::Value AddConsumer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 10 || !info[3].IsTypedArray() || !info[4].IsTypedArray()) return Napi::Number::New(env, 0);
    Napi::TypedArray pts = info[3].As<Napi::TypedArray>();
    Napi::TypedArray exts = info[4].As<Napi::TypedArray>();
    if (pts.TypedArrayType() != napi_uint8_array || pts.ByteLength() != 128 ||
        exts.TypedArrayType() != napi_uint8_array || exts.ByteLength() != 256) {
      return Napi::Number::New(env, 0);
    }
    ForwardConsumerParams p;
    p.ssrc = info[2].ToNumber().Uint32Value();
    std::memcpy(p.payload_types, static_cast<const uint8_t*>(pts.ArrayBuffer().Data()) + pts.ByteOffset(), 128);
    std::memcpy(p.extension_ids, static_cast<const uint8_t*>(exts.ArrayBuffer().Data()) + exts.ByteOffset(), 256);
    for (uint8_t& pt : p.payload_types) {
      // A mapped payload type must stay a valid RTP type that RFC 5761 does not read as RTCP.
      if (pt != kForwardUnmapped && (pt > 127 || (pt >= 64 && pt <= 95))) return Napi::Number::New(env, 0);
    }
    p.extension_ids[0] = 0;
    p.abs_send_time_id = static_cast<uint8_t>(info[5].ToNumber().Uint32Value());
    p.transport_cc_id = static_cast<uint8_t>(info[6].ToNumber().Uint32Value());
    p.clock_rate = info[7].ToNumber().Uint32Value();
    const uint32_t rtx_pt = info[8].ToNumber().Uint32Value();
    p.rtx_ssrc = info[9].ToNumber().Uint32Value();
    if (p.clock_rate == 0 || (rtx_pt != kForwardUnmapped && (rtx_pt > 127 || (rtx_pt >= 64 && rtx_pt <= 95)))) {
      return Napi::Number::New(env, 0);
    }
    p.rtx_payload_type = static_cast<uint8_t>(rtx_pt);
    return Napi::Number::New(env, engine_.add_consumer(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Uint32Value(), p));
  }

  Napi::Value SetConsumerPaused(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_.set_consumer_paused(info[0].ToNumber().Uint32Value(), info[1].ToBoolean()));
  }

  Napi::Value SetConsumerProducer(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(),
                              engine_.set_consumer_producer(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Uint32Value()));
  }

  Napi::Value ContinueConsumerNumbering(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(),
                              engine_.continue_consumer_numbering(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Uint32Value()));
  }

  Napi::Value RemoveConsumer(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_.remove_consumer(info[0].ToNumber().Uint32Value()));
  }

  static double* StatsOut(const Napi::CallbackInfo& info, size_t count) {
    if (info.Length() < 2 || !info[1].IsTypedArray()) return nullptr;
    Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_float64_array || ta.ByteLength() < count * sizeof(double)) return nullptr;
    return reinterpret_cast<double*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
  }

  // The clock the UDP socket binding passes to the engine as now_us.
  static uint64_t MonotonicMicros() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  }

  // producerStats(id, out Float64Array(10)) -> false when unknown:
  // [packets, bytes, forwarded, lastSequence, lastTimestamp, cached,
  //  baseSequence, extendedHighestSequence, receivedA1, jitter (timestamp units), rtxReceived, rtxDropped]
  Napi::Value ProducerStats(const Napi::CallbackInfo& info) {
    const ForwardProducerCounters* c = engine_.producer_counters(info[0].ToNumber().Uint32Value());
    double* out = StatsOut(info, kProducerStats);
    if (!c || !out) return Napi::Boolean::New(info.Env(), false);
    out[0] = static_cast<double>(c->packets);
    out[1] = static_cast<double>(c->bytes);
    out[2] = static_cast<double>(c->forwarded);
    out[3] = c->last_sequence;
    out[4] = c->last_timestamp;
    out[5] = static_cast<double>(c->cached);
    out[6] = c->receive.base_seq;
    out[7] = c->receive.extended_highest();
    out[8] = static_cast<double>(c->receive.received);
    out[9] = c->receive.jitter_q4 / 16.0;
    out[10] = static_cast<double>(c->rtx_received);
    out[11] = static_cast<double>(c->rtx_dropped);
    return Napi::Boolean::New(info.Env(), true);
  }

  // producerLayerPackets(id, out Float64Array(n)) -> layers written (0: unknown producer or bad out):
  // packets accepted on each spatial layer, lowest first (RTX not counted).
  Napi::Value ProducerLayerPackets(const Napi::CallbackInfo& info) {
    double* out = StatsOut(info, 1);
    if (!out) return Napi::Number::New(info.Env(), 0);
    const size_t room = info[1].As<Napi::TypedArray>().ElementLength();
    uint64_t packets[ForwardEngine::kMaxLayers] = {};
    const uint8_t max = static_cast<uint8_t>(room < ForwardEngine::kMaxLayers ? room : ForwardEngine::kMaxLayers);
    const uint8_t n = engine_.producer_layer_packets(info[0].ToNumber().Uint32Value(), packets, max);
    for (uint8_t i = 0; i < n; ++i) out[i] = static_cast<double>(packets[i]);
    return Napi::Number::New(info.Env(), n);
  }

  // producerLayerReceive(id, layer, out Float64Array(10)) -> false when unknown: one spatial layer's
  // SSRC as RFC 3550 §A.1/§A.8 sees it: [packets, bytes, baseSequence, extendedHighestSequence,
  // receivedA1, jitter (timestamp units), bytes of VP8 TID 0, 1, 2, 3 (while layer-aware)]
  Napi::Value ProducerLayerReceive(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[2].IsTypedArray()) return Napi::Boolean::New(env, false);
    Napi::TypedArray ta = info[2].As<Napi::TypedArray>();
    if (ta.TypedArrayType() != napi_float64_array || ta.ByteLength() < kProducerLayerReceiveStats * sizeof(double)) {
      return Napi::Boolean::New(env, false);
    }
    const uint32_t layer = info[1].ToNumber().Uint32Value();
    if (layer >= ForwardEngine::kMaxLayers) return Napi::Boolean::New(env, false);
    uint64_t bytes = 0;
    uint64_t packets[ForwardEngine::kMaxLayers] = {};
    const uint32_t id = info[0].ToNumber().Uint32Value();
    const ForwardReceiveStats* r = engine_.producer_layer_receive(id, static_cast<uint8_t>(layer), &bytes);
    if (!r) return Napi::Boolean::New(env, false);
    engine_.producer_layer_packets(id, packets, ForwardEngine::kMaxLayers);
    double* out = reinterpret_cast<double*>(static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset());
    out[0] = static_cast<double>(packets[layer]);
    out[1] = static_cast<double>(bytes);
    out[2] = r->base_seq;
    out[3] = r->extended_highest();
    out[4] = static_cast<double>(r->received);
    out[5] = r->jitter_q4 / 16.0;
    uint64_t temporal[4] = {};
    engine_.producer_layer_temporal_bytes(id, static_cast<uint8_t>(layer), temporal);
    for (int t = 0; t < 4; ++t) out[6 + t] = static_cast<double>(temporal[t]);
    return Napi::Boolean::New(env, true);
  }

  // consumerStats(id, out Float64Array(9 + drops)) -> false when unknown:
  // [packets, bytes, nacks, retransmitted, payloadBytes, lastTimestamp, µs since the last send (-1: none),
  //  resend interval µs, the RTT it came from µs (0: unknown), drops...]
  Napi::Value ConsumerStats(const Napi::CallbackInfo& info) {
    const ForwardConsumerCounters* c = engine_.consumer_counters(info[0].ToNumber().Uint32Value());
    double* out = StatsOut(info, kConsumerStats);
    if (!c || !out) return Napi::Boolean::New(info.Env(), false);
    out[0] = static_cast<double>(c->packets);
    out[1] = static_cast<double>(c->bytes);
    out[2] = static_cast<double>(c->nacks);
    out[3] = static_cast<double>(c->retransmitted);
    out[4] = static_cast<double>(c->payload_bytes);
    out[5] = c->last_timestamp;
    const uint64_t now = MonotonicMicros();
    out[6] = c->last_sent_us == 0 ? -1.0 : static_cast<double>(now > c->last_sent_us ? now - c->last_sent_us : 0);
    uint64_t interval_us = 0;
    uint32_t rtt_us = 0;
    engine_.consumer_resend_interval(info[0].ToNumber().Uint32Value(), &interval_us, &rtt_us);
    out[7] = static_cast<double>(interval_us);
    out[8] = rtt_us;
    for (size_t i = 0; i < kForwardDropCount; ++i) out[9 + i] = static_cast<double>(c->dropped[i]);
    if (info[1].As<Napi::TypedArray>().ByteLength() >= (kConsumerStats + kConsumerFeedbackStats) * sizeof(double)) {
      double* f = out + kConsumerStats;
      const ForwardLegReceiverReport* r = engine_.consumer_receiver_report(info[0].ToNumber().Uint32Value());
      f[0] = r ? static_cast<double>(r->blocks) : 0;
      f[1] = r ? r->fraction_lost : 0;
      f[2] = r ? r->cumulative_lost : 0;
      f[3] = r ? r->highest_seq : 0;
      f[4] = r ? r->jitter : 0;
      f[5] = !r || r->last_block_us == 0 ? -1.0 : static_cast<double>(now > r->last_block_us ? now - r->last_block_us : 0);
      f[6] = r ? r->rtt_us : 0;
      f[7] = r ? static_cast<double>(r->rtt_measurements) : 0;
      f[8] = r ? r->rtt_total_us : 0;
      f[9] = static_cast<double>(c->nack_packets);
      f[10] = static_cast<double>(c->plis);
      f[11] = static_cast<double>(c->firs);
    }
    return Napi::Boolean::New(info.Env(), true);
  }

  // setTransportRtcpKinds(transport id, kinds) -> false when unknown or plain: which kinds of its
  // subscriber's compound RTCP the engine consumes in the receive batch (ForwardRtcpKind bits, 0:
  // none; docs/sfu.md "What a subscriber's RTCP costs").
  Napi::Value SetTransportRtcpKinds(const Napi::CallbackInfo& info) {
    if (info.Length() < 2) return Napi::Boolean::New(info.Env(), false);
    return Napi::Boolean::New(info.Env(), engine_.set_transport_rtcp_kinds(info[0].ToNumber().Uint32Value(),
                                                                           info[1].ToNumber().Uint32Value()));
  }

  // takeKeyFrameRequests(out Uint32Array) -> pairs written (consumer id, PLI/FIR entries): consumers
  // whose subscriber sent a PLI or FIR in a compound the engine consumed since the last call.
  Napi::Value TakeKeyFrameRequests(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      return Napi::Number::New(info.Env(), 0);
    }
    Napi::Uint32Array out = info[0].As<Napi::Uint32Array>();
    return Napi::Number::New(info.Env(), static_cast<double>(engine_.take_keyframe_requests(out.Data(), out.ElementLength() / 2)));
  }

  // readReceiverReports(transport id, rtcp Uint8Array, offset, length) -> report blocks applied: the
  // SR/RR report blocks of one compound RTCP packet that engine transport received update its
  // consumer legs' receiver-report counters and round-trip times (docs/sfu.md "RTCP per leg").
  // Bad arguments: 0.
  Napi::Value ReadReceiverReports(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto zero = Napi::Number::New(env, 0);
    if (info.Length() < 4 || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return zero;
    }
    Napi::Uint8Array rtcp = info[1].As<Napi::Uint8Array>();
    const double offset = info[2].ToNumber().DoubleValue();
    const double length = info[3].ToNumber().DoubleValue();
    if (!(offset >= 0) || !(length >= 0) || offset + length > static_cast<double>(rtcp.ElementLength())) return zero;
    const uint8_t* data = rtcp.Data() + static_cast<size_t>(offset);
    // Timed at the datagram's arrival, not now: loop lag or a GC pause before this call is no RTT.
    const uint64_t arrival_us = forward_report_arrival_us(CurrentForwardBatch(), data, MonotonicMicros());
    const size_t n = engine_.read_receiver_reports(info[0].ToNumber().Uint32Value(), data, static_cast<size_t>(length), arrival_us);
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // consumerReceiverReports(ids Uint32Array, count, out Float64Array(count * 10)) -> legs written, per
  // leg i at out[i * 10]: [report blocks (-1: unknown consumer), fraction lost (1/256), cumulative
  // lost, extended highest sequence, jitter (timestamp units), µs since the last block (-1: none),
  // last RTT µs (0: none), RTT measurements, total RTT µs, LSRs that matched no natively sent SR].
  // One call for any number of legs (stats, the policy layer's tick). Bad arguments: 0.
  Napi::Value ConsumerReceiverReports(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto zero = Napi::Number::New(env, 0);
    if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      return zero;
    }
    Napi::Uint32Array ids = info[0].As<Napi::Uint32Array>();
    Napi::Float64Array out = info[2].As<Napi::Float64Array>();
    const double count = info[1].ToNumber().DoubleValue();
    if (!(count >= 0) || count > static_cast<double>(ids.ElementLength()) ||
        count * kConsumerReportStats > static_cast<double>(out.ElementLength())) {
      return zero;
    }
    const uint64_t now = MonotonicMicros();
    const size_t n = static_cast<size_t>(count);
    for (size_t i = 0; i < n; ++i) {
      double* o = out.Data() + i * kConsumerReportStats;
      const ForwardLegReceiverReport* r = engine_.consumer_receiver_report(ids[i]);
      if (!r) {
        o[0] = -1;
        for (size_t k = 1; k < kConsumerReportStats; ++k) o[k] = 0;
        continue;
      }
      o[0] = static_cast<double>(r->blocks);
      o[1] = r->fraction_lost;
      o[2] = r->cumulative_lost;
      o[3] = r->highest_seq;
      o[4] = r->jitter;
      o[5] = r->last_block_us == 0 ? -1.0 : static_cast<double>(now > r->last_block_us ? now - r->last_block_us : 0);
      o[6] = r->rtt_us;
      o[7] = static_cast<double>(r->rtt_measurements);
      o[8] = r->rtt_total_us;
      o[9] = static_cast<double>(r->rtt_unmatched);
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  static uint64_t Key(char kind, uint32_t id) { return (static_cast<uint64_t>(kind) << 32) | id; }

  ForwardEngine engine_;
  Napi::ObjectReference counters_;
  // The SRTP sessions', plain filters' and sockets' JS objects, kept alive while a transport or
  // producer names them ('t'/'p': the session or filter, 's': the socket, 'k': a pipe's session).
  std::unordered_map<uint64_t, Napi::ObjectReference> refs_;
};

void InitForward(Napi::Env env, Napi::Object exports) {
  exports.Set("ForwardEngine", ForwardEngineWrap::Define(env));
  exports.Set("forwardCounterCount", Napi::Number::New(env, kFwdCounterCount));
  Napi::Array names = Napi::Array::New(env, kForwardDropCount);
  for (size_t i = 0; i < kForwardDropCount; ++i) names.Set(i, ForwardDropName(static_cast<ForwardDrop>(i)));
  exports.Set("forwardDropNames", names);
}

}  // namespace

ForwardBatchClock& CurrentForwardBatch() {
  thread_local ForwardBatchClock batch;
  return batch;
}

ForwardEngine* ForwardEngineFromValue(Napi::Env env, Napi::Value engine) {
  if (!engine.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, engine, &kForwardEngineTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
  ForwardEngineWrap* wrap = ForwardEngineWrap::Unwrap(engine.As<Napi::Object>());
  return wrap ? wrap->core() : nullptr;
}

PWT_BINDING(forward, InitForward);

}  // namespace pwt
