// N-API glue of the UDP socket (binding/udp_socket_binding.cpp): the lookup the forwarding engine
// binding uses to send a transport's datagrams through a given socket (docs/scaling.md).
#pragma once
#include <napi.h>

#include "native/forward/forward_engine.hpp"

namespace pwt {

/** The send side of the JS UdpSocket object `value` as a ForwardSink, or nullptr. Hold a reference. */
ForwardSink* UdpSocketSinkFromValue(Napi::Env env, Napi::Value value);

}  // namespace pwt
