// ctest replay of the dtls-client fuzz target (test/fuzz/native/dtls_client_fuzz.cpp) over its committed corpus
// test/fuzz/corpus/dtls-client/ plus 2000 deterministic mutations; runs under the ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "dtls-client"
#define PWT_FUZZ_MUTATIONS 2000
#include "test/fuzz/native/dtls_client_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
