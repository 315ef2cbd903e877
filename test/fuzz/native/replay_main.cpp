// Standalone driver for the libFuzzer-form targets, for ctest (no libFuzzer needed): feeds every
// file of test/fuzz/corpus/<PWT_FUZZ_CORPUS_NAME>/, every truncation of each, and a bounded number
// of deterministic mutations (bit/byte flips, splices, 16-bit length tampering, insertions,
// deletions) through LLVMFuzzerTestOneInput. A finding aborts (target check or ASan/UBSan).
// Include after the target: #define PWT_FUZZ_CORPUS_NAME "srtp-rtp" before including this file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifndef PWT_FUZZ_CORPUS_NAME
#error "define PWT_FUZZ_CORPUS_NAME before including replay_main.cpp"
#endif
#ifndef PWT_FUZZ_MUTATIONS
#define PWT_FUZZ_MUTATIONS 3000
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// splitmix64: deterministic, so a failing mutation index reproduces.
struct ReplayRng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }
};

std::filesystem::path CorpusDir() {
  // __FILE__ is test/fuzz/native/replay_main.cpp as the compiler found it (absolute under CMake).
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "corpus" / PWT_FUZZ_CORPUS_NAME;
}

std::vector<uint8_t> Mutate(ReplayRng& rng, const std::vector<std::vector<uint8_t>>& seeds) {
  std::vector<uint8_t> d = seeds[rng.Below(seeds.size())];
  const size_t rounds = 1 + rng.Below(4);
  for (size_t r = 0; r < rounds; ++r) {
    const size_t n = d.size();
    switch (rng.Below(7)) {
      case 0:  // bit flips
        for (size_t i = 0, k = 1 + rng.Below(4); n && i < k; ++i) d[rng.Below(n)] ^= static_cast<uint8_t>(1u << rng.Below(8));
        break;
      case 1:  // byte set to an edge value or random
        if (n) d[rng.Below(n)] = static_cast<uint8_t>(rng.Below(3) == 0 ? 0 : rng.Below(3) == 0 ? 0xff : rng.Below(256));
        break;
      case 2:  // truncation
        d.resize(rng.Below(n + 1));
        break;
      case 3: {  // splice with another seed
        const std::vector<uint8_t>& o = seeds[rng.Below(seeds.size())];
        d.resize(rng.Below(n + 1));
        d.insert(d.end(), o.begin() + static_cast<std::ptrdiff_t>(rng.Below(o.size() + 1)), o.end());
        break;
      }
      case 4: {  // 16-bit big-endian length field set to an edge value or nudged
        if (n < 2) break;
        static const uint16_t kEdges[] = {0, 1, 2, 3, 4, 12, 13, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x4000, 0x7fff, 0xffff};
        const size_t at = rng.Below(n - 1);
        uint16_t v = static_cast<uint16_t>((d[at] << 8) | d[at + 1]);
        v = rng.Below(2) ? kEdges[rng.Below(sizeof kEdges / sizeof kEdges[0])] : static_cast<uint16_t>(v + rng.Below(9) - 4);
        d[at] = static_cast<uint8_t>(v >> 8);
        d[at + 1] = static_cast<uint8_t>(v);
        break;
      }
      case 5: {  // random insertion
        const size_t at = rng.Below(n + 1);
        const size_t len = 1 + rng.Below(rng.Below(8) == 0 ? 256 : 8);
        std::vector<uint8_t> fill(len);
        for (auto& b : fill) b = static_cast<uint8_t>(rng.Next());
        d.insert(d.begin() + static_cast<std::ptrdiff_t>(at), fill.begin(), fill.end());
        break;
      }
      default: {  // deletion
        if (!n) break;
        const size_t at = rng.Below(n);
        const size_t len = 1 + rng.Below(std::min<size_t>(16, n - at));
        d.erase(d.begin() + static_cast<std::ptrdiff_t>(at), d.begin() + static_cast<std::ptrdiff_t>(at + len));
      }
    }
  }
  if (d.size() > 4096) d.resize(4096);
  return d;
}

// Runs one input from an exactly sized heap copy, so ASan catches a read one past the end.
void RunOne(const std::vector<uint8_t>& input) {
  std::vector<uint8_t> copy(input);
  LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
}

}  // namespace

int main() {
  const std::filesystem::path dir = CorpusDir();
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  if (ec || files.empty()) {
    std::fprintf(stderr, "no corpus at %s\n", dir.c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  std::vector<std::vector<uint8_t>> seeds;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "corpus %s (%zu bytes)\n", f.filename().c_str(), seeds.back().size());
    RunOne(seeds.back());
    for (size_t len = 0; len < seeds.back().size(); ++len) {
      RunOne(std::vector<uint8_t>(seeds.back().begin(), seeds.back().begin() + static_cast<std::ptrdiff_t>(len)));
    }
  }
  ReplayRng rng{0x5eedull};
  for (int i = 0; i < PWT_FUZZ_MUTATIONS; ++i) RunOne(Mutate(rng, seeds));
  std::printf("ok: %zu corpus files, their truncations and %d mutations\n", files.size(), PWT_FUZZ_MUTATIONS);
  return 0;
}
