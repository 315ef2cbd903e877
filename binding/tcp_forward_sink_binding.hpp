// N-API glue of the TCP forward sink (binding/tcp_forward_sink_binding.cpp): the lookup the engine
// binding uses to send a transport's datagrams over a TCP leg (docs/sfu.md "Legs over TCP").
#pragma once
#include <napi.h>

#include "native/forward/forward_engine.hpp"

namespace pwt {

/** The JS TcpForwardSink object `value` as a ForwardSink, or nullptr. Hold a reference to it. */
ForwardSink* TcpForwardSinkFromValue(Napi::Env env, Napi::Value value);

}  // namespace pwt
