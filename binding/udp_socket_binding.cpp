// N-API glue for pwt::UdpSocket: polls the fd on the libuv loop, hands each recvmmsg batch to
// JavaScript in ONE call (the batch lives in JS-owned typed arrays), and flushes the JS send
// pool with sendmmsg, keeping order under backpressure with a native queue.
#include <napi.h>
#include <uv.h>

#include <time.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "binding/udp_socket_binding.hpp"

#include "binding/forward_engine_binding.hpp"
#include "binding/forward_plain_source_binding.hpp"
#include "binding/module_registry.hpp"
#include "binding/pinned_array.hpp"
#include "binding/srtp_session_binding.hpp"
#include "native/srtp/srtp_session.hpp"
#include "native/stun/stun_consent_responder.hpp"
#include "native/udp/udp_reuseport_handoff.hpp"
#include "native/udp/udp_reuseport_steering.hpp"
#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {
namespace {

constexpr size_t kAddressRecord = 28;  // bytes per destination in the send pool (sockaddr_in6)
constexpr int kMaxBatchesPerWake = 16;  // then yield to the loop: fairness between sockets

constexpr size_t kSrtpRoom = 32;  // bytes JS reserves after a packet to be protected (tag + index)
// Kernel arrival times of the batch being read (target_.arrival_us once a socket has timestamps on):
// written and read within one ReadBatches call, so the sockets of a thread share one array instead
// of holding 512 bytes each (docs/udp.md "Cost per connection").
uint64_t* ThreadArrivals() {
  thread_local uint64_t arrivals[UdpSocket::kMaxBatch] = {};
  return arrivals;
}

constexpr napi_type_tag kUdpSocketTypeTag = {0x7b2d4e91c3a05f66ULL, 0x18e9c2d7a4f3b051ULL};

// A datagram that could not be sent at once (EAGAIN): kept in order until writable.
struct PendingDatagram {
  std::vector<uint8_t> data;
  UdpAddress address;
};

class UdpSocketWrap : public Napi::ObjectWrap<UdpSocketWrap>, private ForwardSink {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpSocket",
                       {
                           InstanceMethod<&UdpSocketWrap::Bind>("bind"),
                           InstanceMethod<&UdpSocketWrap::BufferSizes>("bufferSizes"),
                           InstanceMethod<&UdpSocketWrap::Resolve>("resolve"),
                           InstanceMethod<&UdpSocketWrap::Flush>("flush"),
                           InstanceMethod<&UdpSocketWrap::SetGso>("setGso"),
                           InstanceMethod<&UdpSocketWrap::SetGro>("setGro"),
                           InstanceMethod<&UdpSocketWrap::Ref>("ref"),
                           InstanceMethod<&UdpSocketWrap::Unref>("unref"),
                           InstanceMethod<&UdpSocketWrap::PendingCount>("pendingCount"),
                           InstanceMethod<&UdpSocketWrap::AddSrtpRoute>("addSrtpRoute"),
                           InstanceMethod<&UdpSocketWrap::SetSendPool>("setSendPool"),
                           InstanceMethod<&UdpSocketWrap::RemoveSrtpRoute>("removeSrtpRoute"),
                           InstanceMethod<&UdpSocketWrap::SetForwardEngine>("setForwardEngine"),
                           InstanceMethod<&UdpSocketWrap::ForwardRetransmitCompound>("forwardRetransmitCompound"),
                           InstanceMethod<&UdpSocketWrap::ForwardSenderReports>("forwardSenderReports"),
                           InstanceMethod<&UdpSocketWrap::SetPlainFilter>("setPlainFilter"),
                           InstanceMethod<&UdpSocketWrap::SetHandoff>("setHandoff"),
                           InstanceMethod<&UdpSocketWrap::SteerAddress>("steerAddress"),
                           InstanceMethod<&UdpSocketWrap::SteerUfrag>("steerUfrag"),
                           InstanceMethod<&UdpSocketWrap::ConnectFlow>("connectFlow"),
                           InstanceMethod<&UdpSocketWrap::AddConsentResponder>("addConsentResponder"),
                           InstanceMethod<&UdpSocketWrap::RemoveConsentResponder>("removeConsentResponder"),
                           InstanceMethod<&UdpSocketWrap::NoteAgentConsentCheck>("noteAgentConsentCheck"),
                           InstanceMethod<&UdpSocketWrap::TakeConsentAnswers>("takeConsentAnswers"),
                           InstanceMethod<&UdpSocketWrap::SendConsentChecks>("sendConsentChecks"),
                           InstanceMethod<&UdpSocketWrap::ConsentStats>("consentStats"),
                           InstanceMethod<&UdpSocketWrap::Close>("close"),
                       });
  }

  // new UdpSocket(recvBuffer, slotSize, recvLengths, recvAddresses, recvPorts, recvFamilies, recvStatus,
  //               recvRelays, sendBuffer, sendOffsets, sendLengths, sendAddresses, sendRoutes, counters, onBatch)
  // Positional: a socket's set-up reads no property by name (each named read makes and interns a
  // key string; docs/peer.md "Setup cost").
  explicit UdpSocketWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpSocketWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 15) {
      Napi::TypeError::New(env, "UdpSocket: 15 arguments expected (the pool arrays, slot size, onBatch)")
          .ThrowAsJavaScriptException();
      return;
    }
    if (!Take(info[0], &recv_buffer_) || !Take(info[2], &recv_lengths_) || !Take(info[3], &recv_addresses_) ||
        !Take(info[4], &recv_ports_) || !Take(info[5], &recv_families_) || !Take(info[6], &recv_status_) ||
        !Take(info[7], &recv_relays_) || !Take(info[8], &send_buffer_) || !Take(info[9], &send_offsets_) ||
        !Take(info[10], &send_lengths_) || !Take(info[11], &send_addresses_) || !Take(info[12], &send_routes_) ||
        !Take(info[13], &counters_)) {
      Napi::TypeError::New(env, "UdpSocket: missing or mistyped pool arrays").ThrowAsJavaScriptException();
      return;
    }
    Napi::Value cb = info[14];
    if (!cb.IsFunction()) {
      Napi::TypeError::New(env, "UdpSocket: onBatch must be a function").ThrowAsJavaScriptException();
      return;
    }
    on_batch_ = Napi::Persistent(cb.As<Napi::Function>());
    slot_size_ = info[1].ToNumber().Uint32Value();
    target_.buffer = static_cast<uint8_t*>(recv_buffer_.data());
    target_.slot_size = slot_size_;
    target_.capacity = slot_size_ ? recv_buffer_.bytes() / slot_size_ : 0;
    if (target_.capacity > UdpSocket::kMaxBatch) target_.capacity = UdpSocket::kMaxBatch;
    if (recv_lengths_.bytes() < target_.capacity * 4 || recv_addresses_.bytes() < target_.capacity * 16 ||
        recv_ports_.bytes() < target_.capacity * 2 || recv_families_.bytes() < target_.capacity ||
        recv_status_.bytes() < target_.capacity || recv_relays_.bytes() < target_.capacity * 2 ||
        send_routes_.bytes() < (send_lengths_.bytes() / 4) * 2 ||
        counters_.bytes() < kCounterCount * sizeof(double) || target_.capacity == 0) {
      Napi::RangeError::New(env, "UdpSocket: pool arrays too small").ThrowAsJavaScriptException();
      return;
    }
    target_.lengths = static_cast<uint32_t*>(recv_lengths_.data());
    target_.addresses = static_cast<uint8_t*>(recv_addresses_.data());
    target_.ports = static_cast<uint16_t*>(recv_ports_.data());
    target_.families = static_cast<uint8_t*>(recv_families_.data());
    socket_.set_counters(static_cast<double*>(counters_.data()));
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "pwt:UdpSocket");
    env_ = env;
    napi_type_tag_object(env, info.This(), &kUdpSocketTypeTag);
  }

  ~UdpSocketWrap() override { Shutdown(); }

  /** This socket's send side, for engine transports that send through it (plain/pipe, docs/scaling.md). */
  ForwardSink* sink() { return this; }

 private:
  // Pool arrays are held through binding/pinned_array.hpp: the thread's shared pools cost a socket no
  // reference of its own.
  static bool Take(Napi::Object o, const char* key, PinnedArray* out) { return out->Pin(o.Env(), o.Get(key)); }
  static bool Take(Napi::Value value, PinnedArray* out) { return out->Pin(value.Env(), value); }

  static bool TakeShared(Napi::Env env, Napi::Object o, const char* key, napi_typedarray_type type, PinnedArray* out) {
    return out->Pin(env, o.Get(key), &type) && out->data() != nullptr;
  }

  // bind(family 4|6, address, port, reusePort, ipv6Only, recvBufferSize, sendBufferSize, gso)
  // -> [status, errno] on failure, [0, 0, boundAddress, boundPort, 4|6] when bound (status 0 = ok,
  // see UdpStatus): binding, GSO and the bound address in one call (docs/peer.md "Setup cost").
  Napi::Value Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    UdpBindOptions opts;
    opts.family = info[0].ToNumber().Int32Value() == 6 ? AF_INET6 : AF_INET;
    opts.address = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : std::string();
    opts.port = static_cast<uint16_t>(info[2].ToNumber().Uint32Value());
    opts.reuse_port = info[3].ToBoolean();
    opts.ipv6_only = info[4].ToBoolean();
    opts.recv_buffer = info[5].ToNumber().Int32Value();
    opts.send_buffer = info[6].ToNumber().Int32Value();
    const bool gso = info.Length() > 7 && info[7].ToBoolean();
    int err = 0;
    UdpStatus st = closed_ ? UdpStatus::kClosed : socket_.bind(opts, &err);
    std::string ip;
    int family = 0;
    if (st == UdpStatus::kOk) {
      bind_options_ = opts;
      socket_.local_address(&ip, &bind_options_.port, &family);  // port 0 became a real one
      socket_.set_gso(gso);
      StartPolling(env);
    }
    Napi::Array out = Napi::Array::New(env, st == UdpStatus::kOk ? 5 : 2);
    out.Set(0u, Napi::Number::New(env, static_cast<int>(st)));
    out.Set(1u, Napi::Number::New(env, err));
    if (st == UdpStatus::kOk) {
      out.Set(2u, Napi::String::New(env, ip));
      out.Set(3u, Napi::Number::New(env, bind_options_.port));
      out.Set(4u, Napi::Number::New(env, family));
    }
    return out;
  }

  // bufferSizes() -> [SO_RCVBUF, SO_SNDBUF] as the kernel reports them, or null when not bound.
  Napi::Value BufferSizes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int recv_bytes = 0;
    int send_bytes = 0;
    if (closed_ || !socket_.buffer_sizes(&recv_bytes, &send_bytes)) return env.Null();
    Napi::Array out = Napi::Array::New(env, 2);
    out.Set(0u, Napi::Number::New(env, recv_bytes));
    out.Set(1u, Napi::Number::New(env, send_bytes));
    return out;
  }

  // resolve(family 4|6, ip, port, out Uint8Array(28), offset) -> bytes written (0: not an IP).
  Napi::Value Resolve(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[1].IsString() || !info[3].IsTypedArray()) {
      Napi::TypeError::New(env, "resolve: bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const int family = info[0].ToNumber().Int32Value() == 6 ? AF_INET6 : AF_INET;
    std::string ip = info[1].As<Napi::String>().Utf8Value();
    const uint16_t port = static_cast<uint16_t>(info[2].ToNumber().Uint32Value());
    Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
    const size_t offset = info[4].ToNumber().Uint32Value();
    UdpAddress addr;
    if (offset + kAddressRecord > out.ByteLength() || !udp_make_address(family, ip.c_str(), port, &addr)) {
      return Napi::Number::New(env, 0);
    }
    std::memset(out.Data() + offset, 0, kAddressRecord);
    std::memcpy(out.Data() + offset, &addr.storage, addr.length);
    return Napi::Number::New(env, addr.length);
  }

  // The family field of the sockaddr written by resolve() decides its length.
  static socklen_t AddressLength(const uint8_t* record) {
    sa_family_t family;
    std::memcpy(&family, record + offsetof(sockaddr, sa_family), sizeof(family));
    return family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }

  // flush(count): sends entries [0, count) of the JS send pool. Returns the number left queued
  // natively because the socket would block (they go out, in order, when it is writable).
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t count = info[0].ToNumber().Uint32Value();
    if (closed_ || !socket_.is_open()) return Napi::Number::New(env, -1);
    const uint32_t max_entries = static_cast<uint32_t>(send_lengths_.bytes() / 4);
    if (count > max_entries || count * kAddressRecord > send_addresses_.bytes() || count * 4 > send_offsets_.bytes()) {
      Napi::RangeError::New(env, "flush: count exceeds the send pool").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    uint8_t* base = static_cast<uint8_t*>(send_buffer_.data());
    const uint32_t* offsets = static_cast<const uint32_t*>(send_offsets_.data());
    const uint32_t* lengths = static_cast<const uint32_t*>(send_lengths_.data());
    const uint8_t* addrs = static_cast<const uint8_t*>(send_addresses_.data());
    const uint16_t* route_ids = static_cast<const uint16_t*>(send_routes_.data());
    double* c = socket_.counters();
    std::vector<UdpSendItem>& items = ThreadSendItems();
    items.clear();
    for (uint32_t i = 0; i < count; ++i) {
      const uint16_t route = route_ids[i];
      const size_t room = route ? kSrtpRoom : 0;
      if (static_cast<size_t>(offsets[i]) + lengths[i] + room > send_buffer_.bytes()) {
        Napi::RangeError::New(env, "flush: entry outside the send pool").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      uint32_t length = lengths[i];
      if (route) {
        // Protect in place; JS reserved kSrtpRoom bytes after the packet for the tag/index. A TURN
        // channel route's entry starts with 4 bytes of room for the ChannelData header (RFC 8656
        // §12.4), written here with the protected length; no padding over UDP (§12.5).
        SrtpSession* session = sessions_.session(route);
        const uint16_t channel = sessions_.channel(route);
        const uint32_t header = channel ? 4 : 0;
        size_t out_len = 0;
        if (!session || length < header ||
            session->protect(base + offsets[i] + header, length - header, length - header + kSrtpRoom, &out_len) != SrtpStatus::kOk ||
            out_len > 0xffff) {
          c[kSrtpProtectFailed] += 1;
          continue;
        }
        c[kSrtpProtected] += 1;
        length = static_cast<uint32_t>(out_len) + header;
        if (channel) {
          uint8_t* h = base + offsets[i];
          h[0] = static_cast<uint8_t>(channel >> 8);
          h[1] = static_cast<uint8_t>(channel);
          h[2] = static_cast<uint8_t>(out_len >> 8);
          h[3] = static_cast<uint8_t>(out_len);
          c[kChannelDataSent] += 1;
        }
      }
      const uint8_t* rec = addrs + i * kAddressRecord;
      items.push_back(UdpSendItem{base + offsets[i], length, reinterpret_cast<const sockaddr*>(rec), AddressLength(rec)});
    }
    const size_t ready = items.size();
    size_t sent = 0;
    if (!has_pending()) sent = socket_.send_batch(items.data(), ready);
    for (size_t i = sent; i < ready; ++i) {
      PendingDatagram p;
      p.data.assign(items[i].data, items[i].data + items[i].length);
      std::memcpy(&p.address.storage, items[i].address, items[i].address_length);
      p.address.length = items[i].address_length;
      if (!pending_) pending_ = std::make_unique<std::deque<PendingDatagram>>();
      pending_->push_back(std::move(p));
    }
    if (has_pending()) UpdatePoll();
    return Napi::Number::New(env, static_cast<double>(pending_count()));
  }

  Napi::Value SetGso(const Napi::CallbackInfo& info) {
    socket_.set_gso(info[0].ToBoolean());
    return Napi::Boolean::New(info.Env(), socket_.gso_enabled());
  }

  Napi::Value SetGro(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !closed_ && socket_.set_gro(info[0].ToBoolean()));
  }

  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    if (handoff_) {
      uv_ref(reinterpret_cast<uv_handle_t*>(handoff_->inbox_poll));
      for (auto& f : handoff_->flows) uv_ref(reinterpret_cast<uv_handle_t*>(&f.second->poll));
    }
    referenced_ = true;
    return info.Env().Undefined();
  }

  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    if (handoff_) {
      uv_unref(reinterpret_cast<uv_handle_t*>(handoff_->inbox_poll));
      for (auto& f : handoff_->flows) uv_unref(reinterpret_cast<uv_handle_t*>(&f.second->poll));
    }
    referenced_ = false;
    return info.Env().Undefined();
  }

  Napi::Value PendingCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(pending_count()));
  }

  // setSendPool({ sendBuffer, sendOffsets, sendLengths, sendAddresses, sendRoutes }): replaces the
  // send pool (JS grows it on demand; it flushes first, so no queued entry refers to the old one).
  Napi::Value SetSendPool(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return env.Undefined();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "setSendPool: options object expected").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object o = info[0].As<Napi::Object>();
    PinnedArray buffer, offsets, lengths, addresses, routes;
    if (!Take(o, "sendBuffer", &buffer) || !Take(o, "sendOffsets", &offsets) || !Take(o, "sendLengths", &lengths) ||
        !Take(o, "sendAddresses", &addresses) || !Take(o, "sendRoutes", &routes) ||
        routes.bytes() < (lengths.bytes() / 4) * 2 || addresses.bytes() < (lengths.bytes() / 4) * kAddressRecord ||
        offsets.bytes() < lengths.bytes()) {
      Napi::TypeError::New(env, "setSendPool: missing or mistyped pool arrays").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    send_buffer_ = std::move(buffer);
    send_offsets_ = std::move(offsets);
    send_lengths_ = std::move(lengths);
    send_addresses_ = std::move(addresses);
    send_routes_ = std::move(routes);
    return env.Undefined();
  }

  // addSrtpRoute(address record Uint8Array(28), srtpSession nativeHandle, channel = 0) -> route id
  // (1..65535), 0 when the session is not a native SrtpSession, the channel is outside 0x4000..0x4FFF
  // (RFC 8656 §12) or the table is full. With a channel the address is the TURN server's.
  Napi::Value AddSrtpRoute(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "addSrtpRoute: bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array rec = info[0].As<Napi::Uint8Array>();
    if (closed_) return Napi::Number::New(env, 0);
    SrtpSession* session = SrtpSessionFromValue(env, info[1]);
    if (rec.ByteLength() < kAddressRecord || !session) return Napi::Number::New(env, 0);
    const uint32_t channel = info.Length() >= 3 ? info[2].ToNumber().Uint32Value() : 0;
    if (channel != 0 && (channel < 0x4000 || channel > 0x4fff)) return Napi::Number::New(env, 0);
    sockaddr_storage ss{};
    std::memcpy(&ss, rec.Data(), kAddressRecord);
    UdpRemoteKey key = udp_remote_key(ss);
    key.channel = static_cast<uint16_t>(channel);
    const uint32_t id = sessions_.add(key, session);
    if (id == 0) return Napi::Number::New(env, 0);
    // The reference keeps the session's JS object (and so the SrtpSession) alive while routed.
    if (session_refs_.size() < id) session_refs_.resize(id);
    session_refs_[id - 1] = Napi::Persistent(info[1].As<Napi::Object>());
    return Napi::Number::New(env, static_cast<double>(id));
  }

  Napi::Value RemoveSrtpRoute(const Napi::CallbackInfo& info) {
    const uint32_t id = info[0].ToNumber().Uint32Value();
    if (sessions_.remove(id)) session_refs_[id - 1].Reset();
    return info.Env().Undefined();
  }

  // addConsentResponder(record Uint8Array (resolve()), localUfrag, remoteUfrag, password, controlling
  // [, remotePassword, tieBreaker Uint8Array(8), priority, timeoutMs]) -> registration id (0: refused):
  // consent checks from that remote are answered natively (native/stun/stun_consent_responder.hpp,
  // docs/ice.md "Consent checks answered natively"); with the last four, sendConsentChecks sends our
  // own checks to it and its verified answers are counted (docs/ice.md "Consent checks sent natively").
  Napi::Value AddConsentResponder(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsString() || !info[2].IsString() || !info[3].IsString()) {
      Napi::TypeError::New(env, "addConsentResponder: bad arguments").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array record = info[0].As<Napi::Uint8Array>();
    if (closed_ || record.ByteLength() < kAddressRecord) return Napi::Number::New(env, 0);
    UdpAddress destination;
    destination.length = AddressLength(record.Data());
    std::memcpy(&destination.storage, record.Data(), destination.length);
    const std::string local = info[1].As<Napi::String>().Utf8Value();
    const std::string remote = info[2].As<Napi::String>().Utf8Value();
    const std::string password = info[3].As<Napi::String>().Utf8Value();
    const bool sends = info.Length() >= 9 && info[5].IsString() && info[6].IsTypedArray() && info[7].IsNumber() && info[8].IsNumber();
    if (!sends) {
      return Napi::Number::New(env, consent_.add(udp_remote_key(destination.storage), destination, local, remote, password, info[4].ToBoolean()));
    }
    Napi::TypedArray tie = info[6].As<Napi::TypedArray>();
    if (tie.TypedArrayType() != napi_uint8_array || tie.ByteLength() != 8) {
      Napi::TypeError::New(env, "addConsentResponder: the tie-breaker is 8 bytes").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const std::string remote_password = info[5].As<Napi::String>().Utf8Value();
    const StunConsentCheckSetup setup{remote_password, info[7].As<Napi::Number>().Uint32Value(), tie.As<Napi::Uint8Array>().Data(),
                                      info[8].As<Napi::Number>().Uint32Value()};
    return Napi::Number::New(env, consent_.add(udp_remote_key(destination.storage), destination, local, remote, password,
                                               info[4].ToBoolean(), &setup));
  }

  // removeConsentResponder(id): its requests go to JavaScript again.
  Napi::Value RemoveConsentResponder(const Napi::CallbackInfo& info) {
    if (info.Length() >= 1) consent_.remove(info[0].ToNumber().Uint32Value());
    return info.Env().Undefined();
  }

  // takeConsentAnswers(out Uint32Array) -> entries written: (id, answered since the last take, of
  // those with USE-CANDIDATE, verified responses to our checks, ms since the last of them or
  // 0xFFFFFFFF), one call per tick for every registration of the port.
  Napi::Value TakeConsentAnswers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      Napi::TypeError::New(env, "takeConsentAnswers: needs a Uint32Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint32Array out = info[0].As<Napi::Uint32Array>();
    return Napi::Number::New(env, static_cast<double>(consent_.take_answered(out.Data(), out.ElementLength() / kStunConsentTakeStride, MonotonicMicros())));
  }

  // sendConsentChecks(ids Uint32Array, count) -> checks sent: one consent check for each of the first
  // `count` registrations named (those registered to send checks), built and sent in one call. The ids
  // for which none was sent (count - sent of them) are moved to the front of `ids`.
  Napi::Value SendConsentChecks(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[1].IsNumber()) {
      Napi::TypeError::New(env, "sendConsentChecks: needs a Uint32Array and a count").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (closed_) return Napi::Number::New(env, 0);
    Napi::Uint32Array ids = info[0].As<Napi::Uint32Array>();
    const size_t count = std::min<size_t>(ids.ElementLength(), info[1].As<Napi::Number>().Uint32Value());
    size_t sent = 0;
    size_t unsent = 0;
    uint32_t* data = ids.Data();
    for (size_t at = 0; at < count; at += UdpSocket::kMaxBatch) {
      const size_t built = consent_.build_checks(data + at, std::min<size_t>(UdpSocket::kMaxBatch, count - at), MonotonicMicros());
      if (built > 0) send(consent_.checks(), built);
      sent += built;
      // The ids not sent go to the front (never past what was read: unsent <= at + this chunk).
      for (size_t k = 0; k < consent_.unsent_count(); ++k) data[unsent++] = consent_.unsent()[k];
    }
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  // noteAgentConsentCheck(id, Uint8Array) -> bool: the agent sent this Binding request to the
  // registration's remote itself; its verified answer is then counted as the agent's, not as a drop.
  Napi::Value NoteAgentConsentCheck(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      Napi::TypeError::New(env, "noteAgentConsentCheck: needs an id and a Uint8Array").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Uint8Array msg = info[1].As<Napi::Uint8Array>();
    return Napi::Boolean::New(env, consent_.note_agent_check(info[0].As<Napi::Number>().Uint32Value(), msg.Data(), msg.ElementLength(), MonotonicMicros()));
  }

  // consentStats() -> { answered, declined, registrations, checksSent, responsesVerified, responsesDropped: {...} }
  Napi::Value ConsentStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("answered", consent_.counters().answered);
    o.Set("declined", consent_.counters().declined);
    o.Set("registrations", static_cast<double>(consent_.size()));
    const StunConsentCounters& c = consent_.counters();
    o.Set("checksSent", c.checks_sent);
    o.Set("responsesVerified", c.responses_verified);
    o.Set("responsesToAgent", c.responses_to_agent);
    Napi::Object dropped = Napi::Object::New(env);
    dropped.Set("unknownTransaction", c.responses_unknown_transaction);
    dropped.Set("badIntegrity", c.responses_bad_integrity);
    dropped.Set("badFingerprint", c.responses_bad_fingerprint);
    dropped.Set("errorResponse", c.responses_error);
    dropped.Set("malformed", c.responses_malformed);
    o.Set("responsesDropped", dropped);
    return o;
  }

  // setForwardEngine(engine | null) -> true when attached: the SFU engine (binding/forward_engine_binding.cpp)
  // then forwards its producers' packets inside each receive batch, before JavaScript runs.
  Napi::Value SetForwardEngine(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ForwardEngine* engine = info.Length() >= 1 ? ForwardEngineFromValue(env, info[0]) : nullptr;
    forward_ = closed_ ? nullptr : engine;
    // The engine logs arrivals for transport-cc feedback and jitter: with kernel receive timestamps
    // they are when the datagram arrived, not when a busy event loop read it (docs/udp.md).
    if (forward_ && !target_.arrival_us && socket_.set_receive_timestamps(true)) target_.arrival_us = ThreadArrivals();
    if (forward_) forward_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    else forward_ref_.Reset();
    return Napi::Boolean::New(env, forward_ != nullptr);
  }

  // forwardRetransmitCompound(transport id, rtcp Uint8Array, offset, length[, missConsumers Uint32Array,
  // missSeqs Uint16Array, missLayers Uint8Array]) -> misses written: the attached engine answers every
  // generic NACK of one compound RTCP packet received on that engine transport, for the transport's
  // consumers (docs/sfu.md "Retransmission"); with the three arrays (same length), the numbers no
  // cache held are written there (consumer id, producer-space number, spatial layer). Bad arguments: 0.
  Napi::Value ForwardRetransmitCompound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const auto zero = Napi::Number::New(env, 0);
    if (!forward_ || closed_ || info.Length() < 4 || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return zero;
    }
    Napi::Uint8Array rtcp = info[1].As<Napi::Uint8Array>();
    const double offset = info[2].ToNumber().DoubleValue();
    const double length = info[3].ToNumber().DoubleValue();
    if (!(offset >= 0) || !(length >= 0) || offset + length > static_cast<double>(rtcp.ElementLength())) return zero;
    ForwardNackMisses misses;
    const bool want_misses = info.Length() >= 7 && !info[4].IsUndefined();
    if (want_misses) {
      if (!info[4].IsTypedArray() || !info[5].IsTypedArray() || !info[6].IsTypedArray() ||
          info[4].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
          info[5].As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array ||
          info[6].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        return zero;
      }
      Napi::Uint32Array consumers = info[4].As<Napi::Uint32Array>();
      Napi::Uint16Array seqs = info[5].As<Napi::Uint16Array>();
      Napi::Uint8Array layers = info[6].As<Napi::Uint8Array>();
      misses.consumers = consumers.Data();
      misses.seqs = seqs.Data();
      misses.layers = layers.Data();
      misses.capacity = std::min({consumers.ElementLength(), seqs.ElementLength(), layers.ElementLength()});
    }
    forward_->retransmit_compound(info[0].ToNumber().Uint32Value(), rtcp.Data() + static_cast<size_t>(offset),
                                  static_cast<size_t>(length), MonotonicMicros(), *this, want_misses ? &misses : nullptr);
    return Napi::Number::New(env, static_cast<double>(misses.count));
  }

  // forwardSenderReports(consumer ids Uint32Array, unix ms Float64Array, count, sent Uint8Array) -> reports
  // sent: the attached engine sends each listed consumer leg's SR + SDES CNAME, built from its counters
  // and protected with its SRTCP context, in one flush through this socket (docs/sfu.md "RTCP per
  // leg"); sent[i] is 1 for each leg whose report left. One call per report tick for all due legs.
  Napi::Value ForwardSenderReports(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!forward_ || closed_ || info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        !info[3].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
        info[3].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return Napi::Number::New(env, 0);
    }
    Napi::Uint32Array ids = info[0].As<Napi::Uint32Array>();
    Napi::Float64Array unix_ms = info[1].As<Napi::Float64Array>();
    Napi::Uint8Array sent = info[3].As<Napi::Uint8Array>();
    const double count = info[2].ToNumber().DoubleValue();
    if (!(count >= 0) || count > static_cast<double>(ids.ElementLength()) || count > static_cast<double>(unix_ms.ElementLength()) ||
        count > static_cast<double>(sent.ElementLength())) {
      return Napi::Number::New(env, 0);
    }
    const size_t n = forward_->send_sender_reports(ids.Data(), unix_ms.Data(), static_cast<size_t>(count), MonotonicMicros(),
                                                   *this, sent.Data());
    return Napi::Number::New(env, static_cast<double>(n));
  }

  // setPlainFilter(filter | null) -> true when set: this socket is a plain/pipe transport's
  // (docs/scaling.md); each receive batch is filtered (only the remote's RTP/RTCP is admitted) before
  // the engine runs, and the engine takes clear packets as coming from that filter.
  Napi::Value SetPlainFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ForwardPlainSource* filter = info.Length() >= 1 ? ForwardPlainSourceFromValue(env, info[0]) : nullptr;
    plain_ = closed_ ? nullptr : filter;
    if (plain_) plain_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    else plain_ref_.Reset();
    return Napi::Boolean::New(env, plain_ != nullptr);
  }

  // setHandoff({ table: Int32Array (shared), self, inboxFd, outboxFds: Int32Array, counters: Float64Array,
  //              flowSockets: number (connected flow sockets at most, 0: none) })
  // -> true when set: this socket shares its port with other workers' sockets (SO_REUSEPORT); datagrams
  // of flows another worker owns go to it, and its channel's datagrams are read like received ones
  // (docs/scaling.md "One port across workers"). The channels' descriptors belong to the caller.
  Napi::Value SetHandoff(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "setHandoff: options object expected").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Object o = info[0].As<Napi::Object>();
    PinnedArray table, outboxes, counters;
    if (!TakeShared(env, o, "table", napi_int32_array, &table) || !Take(o, "outboxFds", &outboxes) || !Take(o, "counters", &counters) ||
        counters.bytes() < kHandoffCounterCount * sizeof(double) ||
        o.Get("outboxFds").As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      Napi::TypeError::New(env, "setHandoff: missing or mistyped arrays").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    const uint32_t self = o.Get("self").ToNumber().Uint32Value();
    const int inbox = o.Get("inboxFd").ToNumber().Int32Value();
    const size_t workers = outboxes.bytes() / sizeof(int32_t);
    if (closed_ || poll_ == nullptr || handoff_ || self >= workers || inbox < 0) return Napi::Boolean::New(env, false);
    auto steering = std::make_unique<ReuseportSteeringTable>(static_cast<uint32_t*>(table.data()), table.bytes() / sizeof(uint32_t));
    if (!steering->valid()) return Napi::Boolean::New(env, false);
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return Napi::Boolean::New(env, false);
    auto h = std::make_unique<Handoff>();
    h->inbox_poll = new uv_poll_t;
    h->inbox_poll->data = this;
    if (uv_poll_init(loop, h->inbox_poll, inbox) != 0) {
      delete h->inbox_poll;
      return Napi::Boolean::New(env, false);
    }
    if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(h->inbox_poll));
    uv_poll_start(h->inbox_poll, UV_READABLE, &UdpSocketWrap::OnInboxPoll);
    const int32_t* fds = static_cast<const int32_t*>(outboxes.data());
    h->outbox_fds.assign(fds, fds + workers);
    h->steering = std::move(steering);
    h->steering_mem = std::move(table);
    h->counters = std::move(counters);
    h->self = self;
    const Napi::Value limit = o.Get("flowSockets");
    h->flow_limit = limit.IsNumber() ? limit.As<Napi::Number>().Uint32Value() : 0;
    handoff_ = std::move(h);
    return Napi::Boolean::New(env, true);
  }

  // connectFlow(open: boolean, family 4|6, ip, port) -> true when a connected flow socket for that remote
  // is open (open) or none is left (close). A flow socket is bound to this socket's address and port with
  // SO_REUSEPORT and connect()ed to the remote: the kernel prefers it over the group's unconnected
  // sockets for that 4-tuple, so the flow reaches this worker without a hand-off (docs/scaling.md
  // "Connected flow sockets"). Refused (false, counted) past the `flowSockets` limit or when the OS refuses.
  Napi::Value ConnectFlow(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!handoff_ || closed_ || info.Length() < 4 || !info[2].IsString()) return Napi::Boolean::New(env, false);
    const bool v6 = info[1].ToNumber().Int32Value() == 6;
    std::string ip = info[2].As<Napi::String>().Utf8Value();
    const uint16_t port = static_cast<uint16_t>(info[3].ToNumber().Uint32Value());
    UdpAddress remote;
    if (!udp_make_address(v6 ? AF_INET6 : AF_INET, ip.c_str(), port, &remote)) return Napi::Boolean::New(env, false);
    const UdpRemoteKey key = udp_remote_key(remote.storage);
    FlowMap& flows = handoff_->flows;
    auto it = flows.find(key);
    if (!info[0].ToBoolean()) {
      if (it != flows.end()) CloseFlow(it);
      return Napi::Boolean::New(env, true);
    }
    if (it != flows.end()) return Napi::Boolean::New(env, true);
    double* c = HandoffCounters();
    // A dual-stack socket reaches an IPv4 remote by its IPv4-mapped address; a v4 socket no v6 remote.
    if (bind_options_.family == AF_INET6 && !v6) {
      ip = "::ffff:" + ip;
      if (!udp_make_address(AF_INET6, ip.c_str(), port, &remote)) return Napi::Boolean::New(env, false);
    } else if (bind_options_.family == AF_INET && v6) {
      c[kHandoffFlowRefused] += 1;
      return Napi::Boolean::New(env, false);
    }
    if (flows.size() >= handoff_->flow_limit) {
      c[kHandoffFlowRefused] += 1;
      return Napi::Boolean::New(env, false);
    }
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return Napi::Boolean::New(env, false);
    auto flow = std::make_unique<FlowSocket>();
    UdpBindOptions opts = bind_options_;
    opts.reuse_port = true;
    int err = 0;
    if (flow->socket.bind(opts, &err) != UdpStatus::kOk || flow->socket.connect(remote, &err) != UdpStatus::kOk ||
        uv_poll_init(loop, &flow->poll, flow->socket.fd()) != 0) {
      // Between bind and a failed connect the socket was an unconnected member of the group: whatever
      // the kernel queued on it in that instant is lost with it (counted as receive errors).
      c[kHandoffFlowRefused] += 1;
      return Napi::Boolean::New(env, false);
    }
    flow->owner = this;
    flow->key = key;
    flow->socket.set_counters(socket_.counters());
    // The flow's packets feed the same arrival log as the shared socket's: stamped by the kernel too.
    if (target_.arrival_us) flow->socket.set_receive_timestamps(true);
    flow->poll.data = flow.get();
    if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(&flow->poll));
    uv_poll_start(&flow->poll, UV_READABLE, &UdpSocketWrap::OnFlowPoll);
    flows.emplace(key, std::move(flow));
    c[kHandoffFlowSockets] = static_cast<double>(flows.size());
    return Napi::Boolean::New(env, true);
  }

  // A connected socket of one established flow, polled on this thread's loop; its datagrams are read
  // into the same receive batch as the shared socket's. Freed by its poll handle's close callback, so
  // a batch being read from it when JavaScript closes the flow still finds it (closed) in memory.
  struct FlowSocket {
    UdpSocket socket;
    uv_poll_t poll{};
    UdpSocketWrap* owner = nullptr;
    UdpRemoteKey key;
  };
  using FlowMap = std::unordered_map<UdpRemoteKey, std::unique_ptr<FlowSocket>, UdpRemoteKeyHash>;

  void CloseFlow(FlowMap::iterator it) {
    FlowSocket* flow = it->second.release();
    handoff_->flows.erase(it);
    HandoffCounters()[kHandoffFlowSockets] = static_cast<double>(handoff_->flows.size());
    uv_poll_stop(&flow->poll);
    flow->owner = nullptr;  // closed: a late poll callback does nothing; poll.data still names the flow
    flow->socket.set_counters(nullptr);
    flow->socket.close();
    uv_close(reinterpret_cast<uv_handle_t*>(&flow->poll), [](uv_handle_t* h) { delete static_cast<FlowSocket*>(h->data); });
  }

  static void OnFlowPoll(uv_poll_t* handle, int status, int) {
    auto* flow = static_cast<FlowSocket*>(handle->data);
    if (!flow || !flow->owner || flow->owner->closed_) return;
    (void)status;  // an error (a queued ICMP error) is read and counted by recv_batch
    flow->owner->ReadBatches(ReadSource::kFlow, &flow->socket);
  }

  // steerAddress(claim: boolean, family 4|6, ip, port) -> false when a claim found the table full:
  // this worker owns (or stops owning) the flow from that remote address.
  Napi::Value SteerAddress(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!handoff_ || closed_ || info.Length() < 4 || !info[2].IsString()) return Napi::Boolean::New(env, false);
    UdpAddress addr;
    const int family = info[1].ToNumber().Int32Value() == 6 ? AF_INET6 : AF_INET;
    const std::string ip = info[2].As<Napi::String>().Utf8Value();
    if (!udp_make_address(family, ip.c_str(), static_cast<uint16_t>(info[3].ToNumber().Uint32Value()), &addr)) {
      return Napi::Boolean::New(env, false);
    }
    const UdpRemoteKey key = udp_remote_key(addr.storage);
    if (!info[0].ToBoolean()) {
      handoff_->steering->release_address(key, handoff_->self);
      return Napi::Boolean::New(env, true);
    }
    const bool ok = handoff_->steering->claim_address(key, handoff_->self);
    if (!ok) HandoffCounters()[kHandoffSteeringFull] += 1;
    return Napi::Boolean::New(env, ok);
  }

  // steerUfrag(claim: boolean, ufrag) -> false when a claim found the table full: Binding requests
  // naming this local ufrag (RFC 8445 §7.2.2) belong to this worker.
  Napi::Value SteerUfrag(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!handoff_ || closed_ || info.Length() < 2 || !info[1].IsString()) return Napi::Boolean::New(env, false);
    const std::string ufrag = info[1].As<Napi::String>().Utf8Value();
    const uint8_t* bytes = reinterpret_cast<const uint8_t*>(ufrag.data());
    if (!info[0].ToBoolean()) {
      handoff_->steering->release_ufrag(bytes, ufrag.size(), handoff_->self);
      return Napi::Boolean::New(env, true);
    }
    const bool ok = handoff_->steering->claim_ufrag(bytes, ufrag.size(), handoff_->self);
    if (!ok) HandoffCounters()[kHandoffSteeringFull] += 1;
    return Napi::Boolean::New(env, ok);
  }

  // Only while the port is shared (handoff_ set).
  double* HandoffCounters() { return static_cast<double*>(handoff_->counters.data()); }

  // Marks and queues the slots of a network batch whose flow another worker owns: by source address,
  // else (a Binding request from a new address) by the local ufrag it names. Returns how many.
  int HandOff(int n) {
    Handoff& h = *handoff_;
    uint8_t* status = static_cast<uint8_t*>(recv_status_.data());
    int handed = 0;
    for (int i = 0; i < n; ++i) {
      if (status[i] != kRecvNotRouted) continue;  // a routed SRTP flow is this worker's by definition
      const UdpRemoteKey key = udp_remote_key(target_.addresses + static_cast<size_t>(i) * 16, target_.ports[i], target_.families[i]);
      int32_t owner = h.steering->owner_of_address(key);
      if (owner == ReuseportSteeringTable::kNoOwner) {
        const uint8_t* ufrag = nullptr;
        size_t length = 0;
        const uint8_t* data = target_.buffer + static_cast<size_t>(i) * target_.slot_size;
        if (stun_binding_request_ufrag(data, target_.lengths[i], &ufrag, &length)) owner = h.steering->owner_of_ufrag(ufrag, length);
      }
      if (owner == ReuseportSteeringTable::kNoOwner || static_cast<uint32_t>(owner) == h.self ||
          static_cast<size_t>(owner) >= h.outbox_fds.size()) {
        continue;
      }
      h.outbox.add(h.outbox_fds[static_cast<size_t>(owner)], h.self, target_, i);
      status[i] = kRecvHandedOff;
      ++handed;
    }
    if (handed) h.outbox.flush(HandoffCounters());
    return handed;
  }

  static void OnInboxPoll(uv_poll_t* handle, int status, int) {
    auto* self = static_cast<UdpSocketWrap*>(handle->data);
    if (!self || self->closed_ || status < 0) return;
    self->ReadBatches(ReadSource::kInbox, nullptr);
  }

  // ForwardSink: the engine's flush goes out like a JS flush, behind anything already queued.
  void send(const UdpSendItem* items, size_t count) override {
    if (closed_ || !socket_.is_open()) return;
    size_t sent = 0;
    if (!has_pending()) sent = socket_.send_batch(items, count);
    for (size_t i = sent; i < count; ++i) {
      PendingDatagram p;
      p.data.assign(items[i].data, items[i].data + items[i].length);
      std::memcpy(&p.address.storage, items[i].address, items[i].address_length);
      p.address.length = items[i].address_length;
      if (!pending_) pending_ = std::make_unique<std::deque<PendingDatagram>>();
      pending_->push_back(std::move(p));
    }
    if (has_pending()) UpdatePoll();
  }

  static uint64_t MonotonicMicros() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  void StartPolling(Napi::Env env) {
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return;
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (uv_poll_init(loop, poll_, socket_.fd()) != 0) {
      delete poll_;
      poll_ = nullptr;
      return;
    }
    if (!referenced_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    UpdatePoll();
    // Keeps the JS object alive while the socket is open, and lets worker termination close it.
    Napi::ObjectWrap<UdpSocketWrap>::Ref();
    napi_add_env_cleanup_hook(env, &UdpSocketWrap::OnEnvCleanup, this);
    cleanup_hook_ = true;
  }

  void UpdatePoll() {
    if (!poll_ || closed_) return;
    const int events = UV_READABLE | (!has_pending() ? 0 : UV_WRITABLE);
    if (events != poll_events_) {
      uv_poll_start(poll_, events, &UdpSocketWrap::OnPoll);
      poll_events_ = events;
    }
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<UdpSocketWrap*>(handle->data);
    if (!self || self->closed_) return;
    if (status < 0) {
      // A socket error (e.g. a queued ICMP error): recv_batch reads and counts it.
      events = UV_READABLE;
    }
    if (events & UV_WRITABLE) self->DrainPending();
    if (events & UV_READABLE) self->ReadBatches(ReadSource::kSocket, &self->socket_);
  }

  void DrainPending() {
    std::vector<UdpSendItem>& items = ThreadSendItems();
    while (has_pending() && !closed_) {
      items.clear();
      const size_t n = pending_->size() < 1024 ? pending_->size() : 1024;
      for (size_t i = 0; i < n; ++i) {
        const PendingDatagram& p = (*pending_)[i];
        items.push_back(UdpSendItem{p.data.data(), static_cast<uint32_t>(p.data.size()),
                                     reinterpret_cast<const sockaddr*>(&p.address.storage), p.address.length});
      }
      const size_t sent = socket_.send_batch(items.data(), n);
      pending_->erase(pending_->begin(), pending_->begin() + static_cast<std::ptrdiff_t>(sent));
      if (sent < n) break;
    }
    UpdatePoll();
  }

  enum class ReadSource { kSocket, kInbox, kFlow };

  // Reads up to kMaxBatchesPerWake batches from the socket, a connected flow socket, or the hand-off
  // channel (`kInbox`): unprotects routed SRTP in place, passes other workers' flows on (network
  // batches only, so a datagram is handed off at most once), forwards producers' packets, then ONE
  // JavaScript call per batch unless nothing is left for it.
  void ReadBatches(ReadSource source, UdpSocket* from) {
    const bool inbox = source == ReadSource::kInbox;
    // Raw N-API calls with status checks: during environment teardown libuv may still report
    // readability while JS can no longer run, and the C++ wrappers would then abort the process.
    napi_env env = env_;
    // The handle scope, callback and receiver are made when the first batch needs JavaScript: a wake
    // whose batches the engine consumed alone makes no N-API call at all (docs/sfu.md "Data path").
    napi_handle_scope scope = nullptr;
    napi_value callback = nullptr;
    napi_value receiver = nullptr;
    // Datagrams split from a GRO buffer and not yet delivered are not readable on the fd any more:
    // they are delivered before yielding, whatever the wake limit (at most 8 x 64 of them).
    for (int b = 0; (b < kMaxBatchesPerWake || (!inbox && from->has_pending_receive())) && !closed_; ++b) {
      // A flow socket closed by the previous batch's JavaScript is still in memory, and refuses to read.
      if (!inbox && !from->is_open()) break;
      const int n = inbox ? handoff_recv_batch(inbox_fd(), target_, HandoffCounters()) : from->recv_batch(target_);
      if (n <= 0) break;
      if (source == ReadSource::kFlow) HandoffCounters()[kHandoffFlowReceived] += n;
      uint8_t* status = static_cast<uint8_t*>(recv_status_.data());
      // The session of each unprotected slot is kept for the forwarding engine (one 5-tuple lookup per packet).
      // The session of each slot, on the stack: n <= target_.capacity <= kMaxBatch (the constructor caps it).
      SrtpSession* recv_sessions[UdpSocket::kMaxBatch];
      sessions_.unprotect_batch(target_, n, status, socket_.counters(), static_cast<uint16_t*>(recv_relays_.data()),
                                recv_sessions);
      // One clock read per batch, for the consent answers and the engine's arrival times alike.
      const uint64_t now_us = MonotonicMicros();
      int done = (handoff_ && !inbox) ? HandOff(n) : 0;
      if (!consent_.empty()) {
        // Consent checks on selected pairs are answered here, not in JavaScript (docs/ice.md).
        // So are the answers to our own consent checks (docs/ice.md "Consent checks sent natively").
        const int consumed = consent_.answer_batch(target_, n, status, now_us);
        if (consent_.answer_count() > 0) send(consent_.responses(), consent_.answer_count());
        done += consumed;
      }
      if (plain_) {
        // docs/scaling.md: a plain/pipe socket admits only its remote's RTP/RTCP; the rest is counted.
        plain_->filter_batch(target_, n, status);
        for (int i = 0; i < n; ++i) done += status[i] == kRecvRejected ? 1 : 0;
      }
      if (forward_ && forward_->has_batch_work()) {
        // docs/sfu.md: forwarded packets and consumed subscriber RTCP never reach JavaScript; a batch
        // of nothing else needs no call. Subscriber RTCP is consumed with or without a producer.
        const void* clear_source = plain_ && !plain_->srtp() ? plain_ : nullptr;
        // Hand-off batches were unprotected here too, so the kept sessions hold for every source.
        done += forward_->process_batch(target_, n, status, sessions_, now_us, *this, clear_source, recv_sessions);
      }
      if (done == n) {
        if (static_cast<size_t>(n) < target_.capacity) break;
        continue;
      }
      if (scope == nullptr) {
        if (napi_open_handle_scope(env, &scope) != napi_ok) {
          scope = nullptr;
          break;
        }
        callback = on_batch_.Value();
        receiver = Value();
      }
      napi_value argv[1];
      napi_value result;
      if (napi_create_int32(env, n, &argv[0]) != napi_ok) break;
      // Counts hand-off and flow-socket batches too, which this socket's kBatches does not (docs/udp.md).
      socket_.counters()[kJsCalls] += 1;
      // Reports read by JavaScript inside this callback are timed by their arrival (docs/sfu.md "RTCP per leg").
      ForwardBatchClock& clock = CurrentForwardBatch();
      const ForwardBatchClock outer = clock;
      clock = ForwardBatchClock{&target_, n, now_us};
      const napi_status st = napi_make_callback(env, async_context_->operator napi_async_context(), receiver,
                                                callback, 1, argv, &result);
      clock = outer;
      if (st == napi_pending_exception) {
        // The JS wrapper catches listener errors, so this is a bug of ours: report it as an
        // uncaught exception rather than unwinding into libuv.
        napi_value error;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
        break;
      }
      if (st != napi_ok) {
        // JS cannot run any more (the environment is shutting down): stop reading.
        Shutdown();
        break;
      }
      if (static_cast<size_t>(n) < target_.capacity) break;  // drained
    }
    if (scope != nullptr) napi_close_handle_scope(env, scope);
  }

  int inbox_fd() const {
    int fd = -1;
    if (handoff_) uv_fileno(reinterpret_cast<const uv_handle_t*>(handoff_->inbox_poll), &fd);
    return fd;
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<UdpSocketWrap*>(arg);
    self->cleanup_hook_ = false;  // the hook is being run: do not remove it again
    self->Shutdown();
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    if (poll_) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      if (cleanup_hook_) {
        napi_remove_env_cleanup_hook(env_, &UdpSocketWrap::OnEnvCleanup, this);
        cleanup_hook_ = false;
      }
      // Balances the Ref() taken when polling started. Not during GC finalisation, when the
      // reference count is already zero.
      if (!finalizing_) {
        uint32_t count = 0;
        napi_ref self_ref = static_cast<const Napi::Reference<Napi::Object>&>(*this);
        napi_reference_unref(env_, self_ref, &count);  // status ignored: may run during teardown
      }
    }
    if (handoff_) {
      // The channel's descriptor belongs to the pool (lib/native/reuseport-handoff.ts): only stop polling it.
      uv_poll_t* inbox_poll = handoff_->inbox_poll;
      uv_poll_stop(inbox_poll);
      inbox_poll->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(inbox_poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      while (!handoff_->flows.empty()) CloseFlow(handoff_->flows.begin());
      handoff_.reset();
    }
    socket_.close();
    socket_.set_counters(nullptr);
    pending_.reset();
    sessions_.clear();
    forward_ = nullptr;
    plain_ = nullptr;
    if (!finalizing_) {
      for (Napi::ObjectReference& r : session_refs_) r.Reset();
      forward_ref_.Reset();
      plain_ref_.Reset();
      // The listener closure refers to the JS socket that owns this wrap: a strong reference kept
      // after close would keep both (and the pools) alive for ever. Nothing reads them once closed.
      on_batch_.Reset();
      for (PinnedArray* a : {&recv_buffer_, &recv_lengths_, &recv_addresses_, &recv_ports_, &recv_families_, &send_buffer_,
                             &send_offsets_, &send_lengths_, &send_addresses_, &counters_, &recv_status_, &recv_relays_, &send_routes_}) {
        a->Reset();
      }
    }
  }

  void Finalize(Napi::Env) override { finalizing_ = true; }

  Napi::Env env_ = Napi::Env(nullptr);
  UdpSocket socket_;
  UdpRecvTarget target_;
  size_t slot_size_ = 0;
  PinnedArray recv_buffer_, recv_lengths_, recv_addresses_, recv_ports_, recv_families_;
  PinnedArray send_buffer_, send_offsets_, send_lengths_, send_addresses_, counters_;
  PinnedArray recv_status_, recv_relays_, send_routes_;
  // The items of a flush: scratch filled and used within one native call, shared by every socket of
  // the thread (docs/udp.md "Cost per connection"), so an idle socket keeps none of its own (it kept a
  // flight's worth; a receive batch's slot sessions, 0.5 KiB per socket before, are on the stack).
  static std::vector<UdpSendItem>& ThreadSendItems() {
    thread_local std::vector<UdpSendItem> items;
    return items;
  }
  UdpSessionTable sessions_;
  StunConsentResponder consent_;
  std::vector<Napi::ObjectReference> session_refs_;  // index id - 1
  ForwardEngine* forward_ = nullptr;  // owned by forward_ref_'s JS object
  Napi::ObjectReference forward_ref_;
  ForwardPlainSource* plain_ = nullptr;  // owned by plain_ref_'s JS object
  Napi::ObjectReference plain_ref_;
  Napi::FunctionReference on_batch_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  // Datagrams waiting for the socket to become writable: made by the first EAGAIN (an idle socket
  // never has one; an empty std::deque already allocates its map and a 512-byte block).
  std::unique_ptr<std::deque<PendingDatagram>> pending_;
  bool has_pending() const { return pending_ && !pending_->empty(); }
  size_t pending_count() const { return pending_ ? pending_->size() : 0; }
  uv_poll_t* poll_ = nullptr;
  int poll_events_ = 0;
  // Shared port (docs/scaling.md "One port across workers"): the steering table over shared memory,
  // the channels to every worker by index, this worker's channel, and the hand-off counters.
  // Made by setHandoff: a socket that never shares its port holds one pointer for all of it (about
  // 230 bytes less per socket, docs/udp.md "Cost per connection").
  struct Handoff {
    std::unique_ptr<ReuseportSteeringTable> steering;
    PinnedArray steering_mem, counters;
    std::vector<int> outbox_fds;
    uint32_t self = 0;
    uv_poll_t* inbox_poll = nullptr;  // freed by its close callback
    HandoffOutbox outbox;
    // Connected flow sockets by remote (docs/scaling.md "Connected flow sockets"), at most flow_limit.
    FlowMap flows;
    size_t flow_limit = 0;
  };
  std::unique_ptr<Handoff> handoff_;
  UdpBindOptions bind_options_;
  bool closed_ = false;
  bool referenced_ = true;
  bool cleanup_hook_ = false;
  bool finalizing_ = false;
};

void InitUdp(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpSocket", UdpSocketWrap::Define(env));
  exports.Set("udpCounterCount", Napi::Number::New(env, kCounterCount));
}

}  // namespace

ForwardSink* UdpSocketSinkFromValue(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &kUdpSocketTypeTag, &tagged) != napi_ok || !tagged) return nullptr;
  UdpSocketWrap* wrap = UdpSocketWrap::Unwrap(value.As<Napi::Object>());
  return wrap ? wrap->sink() : nullptr;
}

}  // namespace pwt

PWT_BINDING(udp, ::pwt::InitUdp);
