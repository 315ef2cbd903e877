// ctest replay of the stun-username-peek fuzz target (test/fuzz/native/stun_username_peek_fuzz.cpp)
// over its committed corpus test/fuzz/corpus/stun-username-peek/ plus 5000 deterministic mutations;
// runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "stun-username-peek"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/stun_username_peek_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
