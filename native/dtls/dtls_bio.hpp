// A datagram-preserving BIO for OpenSSL's DTLS state machine: reads return exactly one
// datagram handed in by the engine, writes append one datagram to the engine's out queue.
// OpenSSL 3.0 has no BIO_s_dgram_mem (3.2+), and BIO_s_mem would merge datagrams.
#pragma once
#include <openssl/bio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "native/dtls/dtls_datagram_queue.hpp"

namespace pwt {

/** What the BIO reads from and writes to; owned by the engine, outlives the BIO. */
struct DtlsBioState {
  const uint8_t* in = nullptr;  // the one pending input datagram, or null
  size_t in_len = 0;
  DatagramQueue* out = nullptr;
  uint64_t out_dropped = 0;     // datagrams refused by a full out queue
  // Learned from the record headers OpenSSL writes (never from its internals): one past the
  // highest sequence number written in epoch 0 and epoch 1, so that a record layer of our own can
  // continue both after the handover (RFC 6347 section 4.1: never reuse one in an epoch).
  uint64_t next_write_seq[2] = {0, 0};
  bool wrote_epoch1 = false;
  // When set, every written datagram is also copied here (the engine keeps its last flight).
  std::vector<std::vector<uint8_t>>* capture = nullptr;
};

/** Creates a BIO over `state` (the BIO does not own it). */
BIO* NewDtlsBio(DtlsBioState* state);

}  // namespace pwt
