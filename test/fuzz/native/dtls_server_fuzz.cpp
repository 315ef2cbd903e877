// libFuzzer target: the DTLS engine in the server role (RFC 6347 section 4.2: ClientHello,
// cookie exchange, client flights) fed arbitrary datagrams.
#include "test/fuzz/native/dtls_fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pwt_fuzz::FuzzDtlsOnce(data, size, pwt::DtlsRole::kServer);
  return 0;
}
