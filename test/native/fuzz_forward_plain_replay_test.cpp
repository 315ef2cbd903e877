// ctest replay of the forward-plain fuzz target (test/fuzz/native/forward_plain_fuzz.cpp) over its
// committed corpus test/fuzz/corpus/forward-plain/ plus 5000 deterministic mutations; runs under the
// ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "forward-plain"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/forward_plain_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
