// ctest replay of the dtls-server fuzz target (test/fuzz/native/dtls_server_fuzz.cpp) over its committed corpus
// test/fuzz/corpus/dtls-server/ plus 2000 deterministic mutations; runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "dtls-server"
#define PWT_FUZZ_MUTATIONS 2000
#include "test/fuzz/native/dtls_server_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
