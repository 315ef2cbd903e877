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
  kShortProtected,    // epoch != 0, body of 1 byte or more but shorter than the cipher's overhead
};

/**
 * Walks every record header of `data` with bounds checks. `min_protected_body` (0 disables the
 * check) is the smallest body a protected (epoch != 0) record can have under the negotiated
 * cipher: a shorter non-empty one cannot be genuine, and OpenSSL 3.0 turns some of those into a
 * fatal internal_error instead of discarding them (RFC 6347 section 4.1.2.7 says discard).
 * Empty records are left to OpenSSL, which discards them silently.
 */
RecordCheck CheckDtlsRecords(const uint8_t* data, size_t len, size_t min_protected_body = 0);

/** True when no record of a well-formed datagram (CheckDtlsRecords said kOk) has this epoch. */
bool NoRecordHasEpoch(const uint8_t* data, size_t len, uint16_t epoch);

/** Epoch (bytes 3-4) and 48-bit sequence number (bytes 5-10) of the record at `off`. */
uint16_t RecordEpoch(const uint8_t* data, size_t off);
uint64_t RecordSequence(const uint8_t* data, size_t off);
/** Offset of the record after the one at `off` (the datagram must be well-formed). */
size_t NextRecord(const uint8_t* data, size_t off);

/** True when the first record is an epoch-0 handshake ClientHello (msg_type 1). */
bool IsClientHello(const uint8_t* data, size_t len);

}  // namespace pwt
