// Custom BIO method over DtlsBioState (see dtls_bio.hpp).
#include "native/dtls/dtls_bio.hpp"

#include <cstring>
#include <mutex>

namespace pwt {
namespace {

int BioWrite(BIO* bio, const char* data, int len) {
  auto* state = static_cast<DtlsBioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  const size_t n = static_cast<size_t>(len);
  // RFC 6347 section 4.1 header: type(1) version(2) epoch(2) seq(6) length(2).
  for (size_t off = 0; n - off >= 13;) {
    uint16_t epoch = static_cast<uint16_t>((bytes[off + 3] << 8) | bytes[off + 4]);
    uint64_t seq = 0;
    for (size_t i = 5; i < 11; ++i) seq = (seq << 8) | bytes[off + i];
    if (epoch <= 1 && seq + 1 > state->next_write_seq[epoch]) state->next_write_seq[epoch] = seq + 1;
    if (epoch == 1) state->wrote_epoch1 = true;
    off += 13 + static_cast<size_t>((bytes[off + 11] << 8) | bytes[off + 12]);
    if (off > n) break;
  }
  if (state->capture != nullptr) state->capture->emplace_back(bytes, bytes + n);
  // A full queue drops the datagram as the network would; DTLS retransmission recovers
  // handshake flights, and the cap bounds what a peer can make us hold.
  if (!state->out->Push(bytes, n)) ++state->out_dropped;
  return len;
}

int BioRead(BIO* bio, char* out, int len) {
  auto* state = static_cast<DtlsBioState*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (state->in == nullptr) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // DTLS reads a whole datagram at once; a datagram larger than the buffer is truncated,
  // like recvfrom would, and the record layer discards what it cannot parse.
  size_t n = state->in_len < static_cast<size_t>(len) ? state->in_len : static_cast<size_t>(len);
  if (n > 0) std::memcpy(out, state->in, n);
  state->in = nullptr;
  state->in_len = 0;
  return static_cast<int>(n);
}

long BioCtrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    // Nothing is ever buffered inside this BIO.
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING: return 0;
    // MTU is set explicitly (SSL_set_mtu + SSL_OP_NO_QUERY_MTU); no IP/UDP overhead here.
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0;
    default: return 0;
  }
}

int BioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int BioDestroy(BIO* bio) {
  BIO_set_data(bio, nullptr);
  return 1;
}

BIO_METHOD* Method() {
  // Created once per process and never mutated afterwards, so worker threads share it safely.
  static BIO_METHOD* method = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pwt-dtls-datagram");
    if (m == nullptr) return;
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_create(m, BioCreate);
    BIO_meth_set_destroy(m, BioDestroy);
    method = m;
  });
  return method;
}

}  // namespace

BIO* NewDtlsBio(DtlsBioState* state) {
  BIO_METHOD* m = Method();
  if (m == nullptr) return nullptr;
  BIO* bio = BIO_new(m);
  if (bio != nullptr) BIO_set_data(bio, state);
  return bio;
}

}  // namespace pwt
