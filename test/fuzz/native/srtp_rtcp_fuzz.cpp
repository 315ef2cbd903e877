// libFuzzer target: SRTCP unprotect and the protect/unprotect round trip for every profile
// (RFC 3711 section 3.4, RFC 7714 section 9.3). Input: an RTCP compound packet, clear or protected.
#include "test/fuzz/native/srtp_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pwt_fuzz::FuzzSrtpOnce(data, size, true);
  return 0;
}
