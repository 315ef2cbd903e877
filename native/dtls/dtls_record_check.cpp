// DTLS record header walk (RFC 6347 section 4.1): type(1) version(2) epoch(2) seq(6) length(2).
#include "native/dtls/dtls_record_check.hpp"

namespace pwt {
namespace {
constexpr size_t kHeader = 13;
constexpr size_t kMaxRecordBody = 16384 + 2048;
}  // namespace

RecordCheck CheckDtlsRecords(const uint8_t* data, size_t len, size_t min_protected_body) {
  if (len == 0) return RecordCheck::kEmpty;
  size_t off = 0;
  while (off < len) {
    if (len - off < kHeader) return RecordCheck::kTruncatedHeader;
    uint8_t type = data[off];
    if (type < 20 || type > 23) return RecordCheck::kBadContentType;
    uint16_t version = static_cast<uint16_t>((data[off + 1] << 8) | data[off + 2]);
    if (version != 0xfeff && version != 0xfefd) return RecordCheck::kBadVersion;
    size_t body = static_cast<size_t>((data[off + 11] << 8) | data[off + 12]);
    if (body > kMaxRecordBody) return RecordCheck::kRecordTooLong;
    if (len - off - kHeader < body) return RecordCheck::kTruncatedBody;
    if (body != 0 && body < min_protected_body && RecordEpoch(data, off) != 0) return RecordCheck::kShortProtected;
    off += kHeader + body;
  }
  return RecordCheck::kOk;
}

uint16_t RecordEpoch(const uint8_t* data, size_t off) {
  return static_cast<uint16_t>((data[off + 3] << 8) | data[off + 4]);
}

uint64_t RecordSequence(const uint8_t* data, size_t off) {
  uint64_t seq = 0;
  for (size_t i = 5; i < 11; ++i) seq = (seq << 8) | data[off + i];
  return seq;
}

size_t NextRecord(const uint8_t* data, size_t off) {
  return off + kHeader + static_cast<size_t>((data[off + 11] << 8) | data[off + 12]);
}

bool NoRecordHasEpoch(const uint8_t* data, size_t len, uint16_t epoch) {
  for (size_t off = 0; off < len; off = NextRecord(data, off)) {
    if (RecordEpoch(data, off) == epoch) return false;
  }
  return true;
}

bool IsClientHello(const uint8_t* data, size_t len) {
  // epoch (bytes 3-4) must be 0 and the handshake msg_type (first body byte) 1.
  return len > kHeader && data[0] == 22 && data[3] == 0 && data[4] == 0 && data[kHeader] == 1;
}

}  // namespace pwt
