// An SRTP/SRTCP session (RFC 3711 section 3.2 cryptographic contexts, one per direction):
// per-SSRC stream state created on first authenticated use, ROC estimation (appendix A),
// replay windows (3.3.2), SRTCP E flag + 31-bit index (3.4), in-place protect/unprotect.
// Usable from any native code (the UDP receive path calls it directly); not thread-safe:
// one session belongs to one thread, like the libuv loop that drives it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "native/srtp/srtp_cipher.hpp"
#include "native/srtp/srtp_keying.hpp"
#include "native/srtp/srtp_packet.hpp"
#include "native/srtp/srtp_replay_window.hpp"
#include "native/srtp/srtp_status.hpp"

namespace pwt {

/** Limits fixed when the session is created. */
struct SrtpSessionOptions {
  /** Replay window in packets: a multiple of 64 in [64, 32768] (1024 suits video). */
  size_t replay_window = 1024;
  /** Most SSRCs per direction and packet kind; further new SSRCs are dropped and counted. */
  size_t max_streams = 64;
};

/** Counters of one session; `dropped` is indexed by SrtpStatus (received packets only). */
struct SrtpCounters {
  uint64_t rtp_protected = 0;
  uint64_t rtp_unprotected = 0;
  uint64_t rtcp_protected = 0;
  uint64_t rtcp_unprotected = 0;
  /** protect calls that failed (buffer too small, malformed, index exhausted, not keyed). */
  uint64_t protect_failed = 0;
  uint64_t dropped[kSrtpStatusCount] = {};
};

/** Number of uint64 values SrtpCounters flattens to (see SrtpSession::CopyCounters). */
constexpr size_t kSrtpCounterSlots = 5 + kSrtpStatusCount;

/** Protect/unprotect for both directions of one SRTP session. */
class SrtpSession {
 public:
  SrtpSession() = default;
  ~SrtpSession() { Close(); }
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  /** True when the options are in range. */
  static bool ValidOptions(const SrtpSessionOptions& options) noexcept;
  /** Sets the limits; only before the first Key() (returns kInvalidArgument otherwise). */
  SrtpStatus Configure(const SrtpSessionOptions& options) noexcept;

  /**
   * Keys (or rekeys, dropping every stream state) the session: `local` protects what we send,
   * `remote` unprotects what we receive. Lengths are checked against the profile.
   */
  SrtpStatus Key(SrtpProfile profile, const uint8_t* local_key, size_t local_key_len, const uint8_t* local_salt,
                 size_t local_salt_len, const uint8_t* remote_key, size_t remote_key_len,
                 const uint8_t* remote_salt, size_t remote_salt_len) noexcept;
  /** RFC 5764 4.2: the DTLS client protects with km.client and unprotects with km.server. */
  SrtpStatus KeyFromDtls(const SrtpKeyingMaterial& km, bool is_dtls_client) noexcept;
  /** Wipes keys and stream state; the session counts later input as kNotKeyed. */
  void Close() noexcept;

  bool keyed() const noexcept { return keyed_; }
  SrtpProfile profile() const noexcept { return profile_; }
  /** Bytes protect_rtp / protect_rtcp append under the current profile (0 while not keyed). */
  size_t rtp_overhead() const noexcept { return keyed_ ? params_.rtp_tag_len : 0; }
  size_t rtcp_overhead() const noexcept { return keyed_ ? params_.rtcp_tag_len + kSrtcpIndexLen : 0; }
  /** Transforms keyed so far (0 to 4: each is keyed by its first packet, see Key). */
  size_t keyed_transforms() const noexcept;
  /**
   * Whether the master key and salt of a direction (`local`: ours, for protect) are still stored:
   * from Key until both transforms of that direction (RTP and RTCP) are keyed, then wiped.
   */
  bool holds_master_key(bool local) const noexcept;

  /** Protects the RTP packet buf[0, len) in place; capacity must leave room for the tag. */
  SrtpStatus protect_rtp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) noexcept {
    return protect_rtp(buf, len, capacity, out_len, buf);
  }
  /**
   * Protects out of place: buf holds the packet's header (as it is to be sent); its clear payload is
   * read from `payload` at the same offsets (payload[hdr, len)) and its ciphertext and tag written to
   * buf. The output is the bytes the in-place call gives for the packet buf[0, hdr) || payload[hdr, len).
   */
  SrtpStatus protect_rtp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len, const uint8_t* payload) noexcept;
  /** Unprotects in place; on success *out_len is the clear packet length. Failures are counted. */
  SrtpStatus unprotect_rtp(uint8_t* buf, size_t len, size_t* out_len) noexcept;
  /** Protects the RTCP compound packet in place (tag + E/index appended). */
  SrtpStatus protect_rtcp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) noexcept;
  /** Unprotects an SRTCP packet in place. Failures are counted. */
  SrtpStatus unprotect_rtcp(uint8_t* buf, size_t len, size_t* out_len) noexcept;
  /** RFC 5761 demultiplexing: unprotect_rtcp when IsRtcpPacket, otherwise unprotect_rtp. */
  SrtpStatus unprotect(uint8_t* buf, size_t len, size_t* out_len) noexcept;
  /** RFC 5761 demultiplexing: protect_rtcp when IsRtcpPacket, otherwise protect_rtp. */
  SrtpStatus protect(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) noexcept;

  const SrtpCounters& counters() const noexcept { return counters_; }
  /** Writes kSrtpCounterSlots values: the four totals, protect_failed, then drops by status. */
  void CopyCounters(uint64_t* out) const noexcept;
  /** Streams currently held (all four tables). */
  size_t stream_count() const noexcept;

 private:
  struct SendStream {
    uint32_t ssrc;
    bool started;
    uint64_t highest;  // RTP: highest index sent; RTCP: next SRTCP index
  };
  struct RecvStream {
    uint32_t ssrc;
    SrtpReplayWindow window;
  };

  /** A master key and salt of one direction, kept until both its transforms are keyed (then wiped; Close wipes it too). */
  struct MasterKey {
    uint8_t key[32];
    uint8_t salt[14];
  };

  /**
   * Keys `cipher` from the stored master key of its direction when its first packet comes: an idle
   * connection never allocates the OpenSSL contexts of transforms it does not use.
   */
  SrtpStatus Ready(SrtpCipher& cipher, SrtpPacketKind kind, bool local) noexcept;
  SendStream* FindOrAddSend(std::vector<SendStream>& table, uint32_t ssrc) noexcept;
  static RecvStream* FindRecv(std::vector<RecvStream>& table, uint32_t ssrc) noexcept;
  RecvStream* AddRecv(std::vector<RecvStream>& table, uint32_t ssrc) noexcept;
  SrtpStatus Drop(SrtpStatus status) noexcept {
    ++counters_.dropped[static_cast<size_t>(status)];
    return status;
  }
  SrtpStatus ProtectFailed(SrtpStatus status) noexcept {
    ++counters_.protect_failed;
    return status;
  }

  SrtpSessionOptions options_;
  SrtpProfile profile_ = SrtpProfile::kAes128CmHmacSha1_80;
  SrtpProfileParams params_{};
  MasterKey local_{};
  MasterKey remote_{};
  bool keyed_ = false;
  bool ever_keyed_ = false;
  SrtpCipher rtp_out_;
  SrtpCipher rtp_in_;
  SrtpCipher rtcp_out_;
  SrtpCipher rtcp_in_;
  std::vector<SendStream> rtp_send_;
  std::vector<SendStream> rtcp_send_;
  std::vector<RecvStream> rtp_recv_;
  std::vector<RecvStream> rtcp_recv_;
  SrtpCounters counters_;
};

}  // namespace pwt
