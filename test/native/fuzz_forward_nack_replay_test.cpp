// ctest replay of the forward-nack fuzz target (test/fuzz/native/forward_nack_fuzz.cpp) over its
// committed corpus test/fuzz/corpus/forward-nack/ plus 5000 deterministic mutations; runs under the
// ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "forward-nack"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/forward_nack_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
