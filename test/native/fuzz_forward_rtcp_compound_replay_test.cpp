// ctest replay of the forward-rtcp-compound fuzz target (test/fuzz/native/forward_rtcp_compound_fuzz.cpp)
// over its committed corpus test/fuzz/corpus/forward-rtcp-compound/ plus 5000 deterministic
// mutations; runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "forward-rtcp-compound"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/forward_rtcp_compound_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
