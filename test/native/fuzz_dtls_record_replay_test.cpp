// ctest replay of the dtls-record fuzz target (test/fuzz/native/dtls_record_fuzz.cpp) over its committed corpus
// test/fuzz/corpus/dtls-record/ plus 300 deterministic mutations (each input runs one handshake); under ASan/UBSan too.
#define PWT_FUZZ_CORPUS_NAME "dtls-record"
#define PWT_FUZZ_MUTATIONS 300
#include "test/fuzz/native/dtls_record_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
