// ctest replay of the udp-turn-channel fuzz target (test/fuzz/native/udp_turn_channel_fuzz.cpp) over
// its committed corpus test/fuzz/corpus/udp-turn-channel/ plus 5000 deterministic mutations; runs
// under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "udp-turn-channel"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/udp_turn_channel_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
