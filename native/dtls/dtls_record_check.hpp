// Shape check of a datagram as a sequence of DTLS 1.0/1.2 records (RFC 6347 section 4.1)
// before OpenSSL sees it, so malformed input is dropped and counted by reason.
#pragma once
#include <cstddef>
#include <cstdint>

namespace pwt {

/** Why a datagram is not a well-formed sequence of DTLS records. */
enum class RecordCheck : uint8_t {
  kOk = 0,
  kEmpty,
  kTruncatedHeader,   // fewer than 13 bytes left for a record header
  kBadContentType,    // not change_cipher_spec(20), alert(21), handshake(22), application_data(23)
  kBadVersion,        // not DTLS 1.0 (0xfeff) or 1.2 (0xfefd)
  kTruncatedBody,     // the record length runs past the datagram
  kRecordTooLong,     // longer than 2^14 + 2048 (RFC 6347 section 4.1 / RFC 5246 6.2.3)
};

/** Walks every record header of `data` with bounds checks. */
RecordCheck CheckDtlsRecords(const uint8_t* data, size_t len);

/** True when the first record is an epoch-0 handshake ClientHello (msg_type 1). */
bool IsClientHello(const uint8_t* data, size_t len);

}  // namespace pwt
