// ctest replay of the srtp-rtcp fuzz target (test/fuzz/native/srtp_rtcp_fuzz.cpp) over its committed corpus
// test/fuzz/corpus/srtp-rtcp/ plus 3000 deterministic mutations; runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "srtp-rtcp"
#define PWT_FUZZ_MUTATIONS 3000
#include "test/fuzz/native/srtp_rtcp_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
