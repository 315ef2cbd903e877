// N-API glue of the SFU forwarding engine (native/forward): the wrapped ForwardEngine class, and the
// lookup the UDP socket binding uses to run an engine inside its receive batch (docs/sfu.md).
#pragma once
#include <napi.h>

#include "native/forward/forward_engine.hpp"

namespace pwt {

/**
 * The native core of the JS ForwardEngine object `engine`, or nullptr when it is not one. The
 * pointer lives as long as the JS object: hold a reference to it.
 */
ForwardEngine* ForwardEngineFromValue(Napi::Env env, Napi::Value engine);

/**
 * This thread's receive batch being delivered to JavaScript (the UDP socket binding sets it around
 * its batch callback and restores the previous value after): readReceiverReports times a report
 * read inside that callback by the datagram's arrival (forward_report_arrival_us).
 */
ForwardBatchClock& CurrentForwardBatch();

}  // namespace pwt
