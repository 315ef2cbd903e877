// SrtpSession: stream tables, index estimation, replay checks and counters around the
// keyed transforms (RFC 3711 sections 3.3 and 3.4, RFC 7714 sections 8 and 9).
#include "native/srtp/srtp_session.hpp"

#include <openssl/crypto.h>

#include <cstring>

namespace pwt {

const char* SrtpStatusName(SrtpStatus status) noexcept {
  switch (status) {
    case SrtpStatus::kOk: return "ok";
    case SrtpStatus::kTooShort: return "too_short";
    case SrtpStatus::kMalformed: return "malformed";
    case SrtpStatus::kAuthFailed: return "auth_failed";
    case SrtpStatus::kReplayed: return "replayed";
    case SrtpStatus::kTooOld: return "too_old";
    case SrtpStatus::kStreamLimit: return "stream_limit";
    case SrtpStatus::kNotKeyed: return "not_keyed";
    case SrtpStatus::kBufferTooSmall: return "buffer_too_small";
    case SrtpStatus::kIndexExhausted: return "index_exhausted";
    case SrtpStatus::kCryptoError: return "crypto_error";
    case SrtpStatus::kInvalidKey: return "invalid_key";
    case SrtpStatus::kInvalidProfile: return "invalid_profile";
    case SrtpStatus::kInvalidArgument: return "invalid_argument";
  }
  return "unknown";
}

bool SrtpSession::ValidOptions(const SrtpSessionOptions& o) noexcept {
  return o.replay_window >= 64 && o.replay_window <= 32768 && o.replay_window % 64 == 0 && o.max_streams >= 1 &&
         o.max_streams <= 65536;
}

SrtpStatus SrtpSession::Configure(const SrtpSessionOptions& options) noexcept {
  if (ever_keyed_ || !ValidOptions(options)) return SrtpStatus::kInvalidArgument;
  options_ = options;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::Key(SrtpProfile profile, const uint8_t* local_key, size_t local_key_len,
                            const uint8_t* local_salt, size_t local_salt_len, const uint8_t* remote_key,
                            size_t remote_key_len, const uint8_t* remote_salt, size_t remote_salt_len) noexcept {
  SrtpProfileParams p{};
  if (!GetSrtpProfileParams(profile, &p)) return SrtpStatus::kInvalidProfile;
  if (local_key_len != p.key_len || remote_key_len != p.key_len || local_salt_len != p.salt_len ||
      remote_salt_len != p.salt_len || p.key_len > sizeof(MasterKey::key) || p.salt_len > sizeof(MasterKey::salt))
    return SrtpStatus::kInvalidKey;
  Close();
  // The four transforms (RTP and RTCP, each way) are keyed by their first packet (Ready): an idle
  // connection sends and receives no SRTP, and each keyed transform holds an OpenSSL cipher context
  // (docs/srtp.md, "Transforms keyed on first use").
  std::memcpy(local_.key, local_key, p.key_len);
  std::memcpy(local_.salt, local_salt, p.salt_len);
  std::memcpy(remote_.key, remote_key, p.key_len);
  std::memcpy(remote_.salt, remote_salt, p.salt_len);
  params_ = p;
  // The stream tables start empty and grow when a stream appears (stream pointers are never kept
  // across calls): an idle connection has none. Reserving max_streams cost ~8 KiB per session,
  // reserving 4 each about 0.5 KiB.
  profile_ = profile;
  keyed_ = true;
  ever_keyed_ = true;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::KeyFromDtls(const SrtpKeyingMaterial& km, bool is_dtls_client) noexcept {
  const SrtpMasterKey& local = is_dtls_client ? km.client : km.server;
  const SrtpMasterKey& remote = is_dtls_client ? km.server : km.client;
  if (local.key_len > local.key.size() || local.salt_len > local.salt.size() ||
      remote.key_len > remote.key.size() || remote.salt_len > remote.salt.size())
    return SrtpStatus::kInvalidKey;
  return Key(km.profile, local.key.data(), local.key_len, local.salt.data(), local.salt_len, remote.key.data(),
             remote.key_len, remote.salt.data(), remote.salt_len);
}

SrtpStatus SrtpSession::Ready(SrtpCipher& cipher, SrtpPacketKind kind, bool local) noexcept {
  if (cipher.keyed()) return SrtpStatus::kOk;
  MasterKey& m = local ? local_ : remote_;
  const SrtpStatus status = cipher.InitFromMaster(profile_, kind, m.key, params_.key_len, m.salt, params_.salt_len, local);
  // Both transforms of this direction hold their session keys now: the master key is not needed
  // any more and is wiped at once (docs/srtp.md, "Transforms keyed on first use").
  const bool direction_keyed = local ? rtp_out_.keyed() && rtcp_out_.keyed() : rtp_in_.keyed() && rtcp_in_.keyed();
  if (status == SrtpStatus::kOk && direction_keyed) OPENSSL_cleanse(&m, sizeof(m));
  return status;
}

bool SrtpSession::holds_master_key(bool local) const noexcept {
  const MasterKey& m = local ? local_ : remote_;
  uint8_t any = 0;
  for (uint8_t b : m.key) any |= b;
  for (uint8_t b : m.salt) any |= b;
  return any != 0;
}

size_t SrtpSession::keyed_transforms() const noexcept {
  return static_cast<size_t>(rtp_out_.keyed()) + static_cast<size_t>(rtp_in_.keyed()) +
         static_cast<size_t>(rtcp_out_.keyed()) + static_cast<size_t>(rtcp_in_.keyed());
}

void SrtpSession::Close() noexcept {
  OPENSSL_cleanse(&local_, sizeof(local_));
  OPENSSL_cleanse(&remote_, sizeof(remote_));
  rtp_out_.Reset();
  rtp_in_.Reset();
  rtcp_out_.Reset();
  rtcp_in_.Reset();
  rtp_send_.clear();
  rtcp_send_.clear();
  rtp_recv_.clear();
  rtcp_recv_.clear();
  keyed_ = false;
}

size_t SrtpSession::stream_count() const noexcept {
  return rtp_send_.size() + rtcp_send_.size() + rtp_recv_.size() + rtcp_recv_.size();
}

SrtpSession::SendStream* SrtpSession::FindOrAddSend(std::vector<SendStream>& table, uint32_t ssrc) noexcept {
  for (auto& s : table)
    if (s.ssrc == ssrc) return &s;
  if (table.size() >= options_.max_streams) return nullptr;
  table.push_back(SendStream{ssrc, false, 0});
  return &table.back();
}

SrtpSession::RecvStream* SrtpSession::FindRecv(std::vector<RecvStream>& table, uint32_t ssrc) noexcept {
  for (auto& s : table)
    if (s.ssrc == ssrc) return &s;
  return nullptr;
}

SrtpSession::RecvStream* SrtpSession::AddRecv(std::vector<RecvStream>& table, uint32_t ssrc) noexcept {
  if (table.size() >= options_.max_streams) return nullptr;
  table.push_back(RecvStream{ssrc, SrtpReplayWindow(options_.replay_window)});
  return &table.back();
}

SrtpStatus SrtpSession::protect_rtp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len,
                                    const uint8_t* payload) noexcept {
  if (!keyed_) return ProtectFailed(SrtpStatus::kNotKeyed);
  if (len < kRtpFixedHeaderLen) return ProtectFailed(SrtpStatus::kTooShort);
  if (len > kSrtpMaxPacketLen) return ProtectFailed(SrtpStatus::kMalformed);
  const size_t hdr = RtpHeaderLength(buf, len);
  if (hdr == 0) return ProtectFailed(SrtpStatus::kMalformed);
  const size_t tag = params_.rtp_tag_len;
  if (capacity < len + tag) return ProtectFailed(SrtpStatus::kBufferTooSmall);
  const SrtpStatus ready = Ready(rtp_out_, SrtpPacketKind::kRtp, true);
  if (ready != SrtpStatus::kOk) return ProtectFailed(ready);
  const uint32_t ssrc = ReadU32(buf + 8);
  const uint16_t seq = ReadU16(buf + 2);
  SendStream* s = FindOrAddSend(rtp_send_, ssrc);
  if (s == nullptr) return ProtectFailed(SrtpStatus::kStreamLimit);
  uint64_t index;
  // The sender tracks its own ROC the same way a receiver would (RFC 3711 3.3.1).
  if (!EstimateSrtpIndex(s->started, s->highest, seq, &index)) return ProtectFailed(SrtpStatus::kIndexExhausted);
  const SrtpStatus st = rtp_out_.ProtectRtp(buf, hdr, len, ssrc, index, payload ? payload : buf);
  if (st != SrtpStatus::kOk) return ProtectFailed(st);
  if (!s->started || index > s->highest) s->highest = index;
  s->started = true;
  *out_len = len + tag;
  ++counters_.rtp_protected;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::unprotect_rtp(uint8_t* buf, size_t len, size_t* out_len) noexcept {
  if (!keyed_) return Drop(SrtpStatus::kNotKeyed);
  if (len > kSrtpMaxPacketLen) return Drop(SrtpStatus::kMalformed);
  const size_t tag = params_.rtp_tag_len;
  if (len < kRtpFixedHeaderLen + tag) return Drop(SrtpStatus::kTooShort);
  const size_t payload_end = len - tag;
  const size_t hdr = RtpHeaderLength(buf, payload_end);
  if (hdr == 0) return Drop(SrtpStatus::kMalformed);
  const uint32_t ssrc = ReadU32(buf + 8);
  const uint16_t seq = ReadU16(buf + 2);
  RecvStream* s = FindRecv(rtp_recv_, ssrc);
  uint64_t index;
  if (s == nullptr) {
    index = seq;
  } else {
    if (!EstimateSrtpIndex(s->window.initialized(), s->window.highest(), seq, &index))
      return Drop(SrtpStatus::kTooOld);
    const auto verdict = s->window.Check(index);
    if (verdict == SrtpReplayWindow::Verdict::kReplayed) return Drop(SrtpStatus::kReplayed);
    if (verdict == SrtpReplayWindow::Verdict::kTooOld) return Drop(SrtpStatus::kTooOld);
  }
  const SrtpStatus ready = Ready(rtp_in_, SrtpPacketKind::kRtp, false);
  if (ready != SrtpStatus::kOk) return Drop(ready);
  const SrtpStatus st = rtp_in_.UnprotectRtp(buf, hdr, payload_end, ssrc, index);
  if (st != SrtpStatus::kOk) return Drop(st);
  // Only an authenticated packet may create state, so forged SSRCs cannot fill the table.
  if (s == nullptr && (s = AddRecv(rtp_recv_, ssrc)) == nullptr) return Drop(SrtpStatus::kStreamLimit);
  s->window.Commit(index);
  *out_len = payload_end;
  ++counters_.rtp_unprotected;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::protect_rtcp(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) noexcept {
  if (!keyed_) return ProtectFailed(SrtpStatus::kNotKeyed);
  if (len < kRtcpFixedHeaderLen) return ProtectFailed(SrtpStatus::kTooShort);
  if (len > kSrtpMaxPacketLen || (buf[0] >> 6) != 2) return ProtectFailed(SrtpStatus::kMalformed);
  const size_t overhead = params_.rtcp_tag_len + kSrtcpIndexLen;
  if (capacity < len + overhead) return ProtectFailed(SrtpStatus::kBufferTooSmall);
  const SrtpStatus ready = Ready(rtcp_out_, SrtpPacketKind::kRtcp, true);
  if (ready != SrtpStatus::kOk) return ProtectFailed(ready);
  const uint32_t ssrc = ReadU32(buf + 4);
  SendStream* s = FindOrAddSend(rtcp_send_, ssrc);
  if (s == nullptr) return ProtectFailed(SrtpStatus::kStreamLimit);
  if (s->highest > 0x7fffffffu) return ProtectFailed(SrtpStatus::kIndexExhausted);
  const SrtpStatus st = rtcp_out_.ProtectRtcp(buf, len, static_cast<uint32_t>(s->highest));
  if (st != SrtpStatus::kOk) return ProtectFailed(st);
  ++s->highest;
  s->started = true;
  *out_len = len + overhead;
  ++counters_.rtcp_protected;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::unprotect_rtcp(uint8_t* buf, size_t len, size_t* out_len) noexcept {
  if (!keyed_) return Drop(SrtpStatus::kNotKeyed);
  if (len > kSrtpMaxPacketLen) return Drop(SrtpStatus::kMalformed);
  const size_t overhead = params_.rtcp_tag_len + kSrtcpIndexLen;
  if (len < kRtcpFixedHeaderLen + overhead) return Drop(SrtpStatus::kTooShort);
  if ((buf[0] >> 6) != 2) return Drop(SrtpStatus::kMalformed);
  const SrtpStatus ready = Ready(rtcp_in_, SrtpPacketKind::kRtcp, false);
  if (ready != SrtpStatus::kOk) return Drop(ready);
  const uint32_t ssrc = ReadU32(buf + 4);
  const uint32_t index = rtcp_in_.ReadRtcpIndexWord(buf, len) & 0x7fffffffu;
  RecvStream* s = FindRecv(rtcp_recv_, ssrc);
  if (s != nullptr) {
    const auto verdict = s->window.Check(index);
    if (verdict == SrtpReplayWindow::Verdict::kReplayed) return Drop(SrtpStatus::kReplayed);
    if (verdict == SrtpReplayWindow::Verdict::kTooOld) return Drop(SrtpStatus::kTooOld);
  }
  const SrtpStatus st = rtcp_in_.UnprotectRtcp(buf, len);
  if (st != SrtpStatus::kOk) return Drop(st);
  if (s == nullptr && (s = AddRecv(rtcp_recv_, ssrc)) == nullptr) return Drop(SrtpStatus::kStreamLimit);
  s->window.Commit(index);
  *out_len = len - overhead;
  ++counters_.rtcp_unprotected;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::unprotect(uint8_t* buf, size_t len, size_t* out_len) noexcept {
  return IsRtcpPacket(buf, len) ? unprotect_rtcp(buf, len, out_len) : unprotect_rtp(buf, len, out_len);
}

SrtpStatus SrtpSession::protect(uint8_t* buf, size_t len, size_t capacity, size_t* out_len) noexcept {
  return IsRtcpPacket(buf, len) ? protect_rtcp(buf, len, capacity, out_len) : protect_rtp(buf, len, capacity, out_len);
}

void SrtpSession::CopyCounters(uint64_t* out) const noexcept {
  out[0] = counters_.rtp_protected;
  out[1] = counters_.rtp_unprotected;
  out[2] = counters_.rtcp_protected;
  out[3] = counters_.rtcp_unprotected;
  out[4] = counters_.protect_failed;
  for (size_t i = 0; i < kSrtpStatusCount; ++i) out[5 + i] = counters_.dropped[i];
}

}  // namespace pwt
