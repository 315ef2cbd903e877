// N-API glue of a plain/pipe transport's receive filter (native/forward/forward_plain_source.hpp;
// docs/scaling.md): the wrapped PlainRtpFilter class, and the lookup the UDP socket and forwarding
// engine bindings use.
#pragma once
#include <napi.h>

#include "native/forward/forward_plain_source.hpp"

namespace pwt {

/** The native core of the JS PlainRtpFilter object `value`, or nullptr. Hold a reference to it. */
ForwardPlainSource* ForwardPlainSourceFromValue(Napi::Env env, Napi::Value value);

}  // namespace pwt
