// ctest replay of the srtp-rtp fuzz target (test/fuzz/native/srtp_rtp_fuzz.cpp) over its committed corpus
// test/fuzz/corpus/srtp-rtp/ plus 3000 deterministic mutations; runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "srtp-rtp"
#define PWT_FUZZ_MUTATIONS 3000
#include "test/fuzz/native/srtp_rtp_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
