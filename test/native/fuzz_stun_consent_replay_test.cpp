// ctest replay of the stun-consent fuzz target (test/fuzz/native/stun_consent_fuzz.cpp) over its
// committed corpus test/fuzz/corpus/stun-consent/ plus 5000 deterministic mutations; runs under the
// ASan/UBSan build too.
#define PWT_FUZZ_CORPUS_NAME "stun-consent"
#define PWT_FUZZ_MUTATIONS 5000
#include "test/fuzz/native/stun_consent_fuzz.cpp"
#include "test/fuzz/native/replay_main.cpp"
