// ctest replay of the tcp-frame fuzz target (test/fuzz/native/tcp_frame_fuzz.cpp) over its committed
// corpus test/fuzz/corpus/tcp-frame/ plus 5000 deterministic mutations; runs under the ASan/UBSan
// build too.
#define PWT_FUZZ_CORPUS_NAME "tcp-frame"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/tcp_frame_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
