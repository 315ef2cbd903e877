// ctest replay of the forward-rr fuzz target (test/fuzz/native/forward_rr_fuzz.cpp) over its
// committed corpus test/fuzz/corpus/forward-rr/ plus 5000 deterministic mutations; runs under the
// ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "forward-rr"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/forward_rr_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
