// libFuzzer target: the DTLS engine in the client role (RFC 6347 section 4.2: HelloVerifyRequest,
// server flight) fed arbitrary datagrams after its ClientHello.
#include "test/fuzz/native/dtls_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pwt_fuzz::FuzzDtlsOnce(data, size, pwt::DtlsRole::kClient);
  return 0;
}
