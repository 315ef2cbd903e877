// Writes the seed corpora of the DTLS fuzz targets: one real handshake between two of our engines,
// recorded as the targets read input (datagrams, each behind a 16-bit big-endian length).
// dtls-server gets the client's datagrams, dtls-client the server's: first flight alone, then all.
// Built and run by `node scripts/fuzz.mjs --make-dtls-seeds` (links the ctest build's pwt_core).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"
#include "native/dtls/dtls_engine.hpp"

using namespace pwt;

namespace {

void Append(std::vector<uint8_t>& out, const uint8_t* d, size_t n) {
  out.push_back(static_cast<uint8_t>(n >> 8));
  out.push_back(static_cast<uint8_t>(n));
  out.insert(out.end(), d, d + n);
}

void Save(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_dtls_seeds <corpus root>\n");
    return 2;
  }
  const std::string root = argv[1];
  CertificateStatus cs;
  auto ccert = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 86400, &cs);
  auto scert = DtlsCertificate::Generate(DtlsKeyType::kEcdsaP256, 86400, &cs);
  DtlsEngineConfig cc;
  cc.role = DtlsRole::kClient;
  DtlsEngineConfig sc;
  sc.role = DtlsRole::kServer;
  DtlsStatus st;
  auto client = DtlsEngine::Create(DtlsContext::Create(ccert), cc, &st);
  auto server = DtlsEngine::Create(DtlsContext::Create(scert), sc, &st);
  client->Start();
  server->Start();
  std::vector<uint8_t> from_client_first, from_client_all, from_server_first, from_server_all;
  std::vector<uint8_t> buf(64 * 1024);
  std::vector<uint32_t> lens(256);
  for (int round = 0; round < 20; ++round) {
    size_t moved = 0;
    for (int dir = 0; dir < 2; ++dir) {
      DtlsEngine& from = dir == 0 ? *client : *server;
      DtlsEngine& to = dir == 0 ? *server : *client;
      std::vector<uint8_t>& first = dir == 0 ? from_client_first : from_server_first;
      std::vector<uint8_t>& all = dir == 0 ? from_client_all : from_server_all;
      const bool first_flight = all.empty();
      while (!from.outgoing().empty()) {
        size_t n = from.outgoing().DrainInto(buf.data(), buf.size(), lens.data(), lens.size());
        size_t off = 0;
        for (size_t i = 0; i < n; ++i) {
          if (first_flight) Append(first, buf.data() + off, lens[i]);
          Append(all, buf.data() + off, lens[i]);
          to.HandleDatagram(buf.data() + off, lens[i]);
          off += lens[i];
        }
        moved += n;
      }
    }
    if (moved == 0) break;
  }
  Save(root + "/dtls-server/client-hello", from_client_first);
  Save(root + "/dtls-server/client-flights", from_client_all);
  Save(root + "/dtls-client/server-first-flight", from_server_first);
  Save(root + "/dtls-client/server-flights", from_server_all);
  std::printf("client %zu bytes, server %zu bytes\n", from_client_all.size(), from_server_all.size());
  return 0;
}
