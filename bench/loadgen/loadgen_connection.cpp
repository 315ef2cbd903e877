// One fanout load-generator connection: ICE checks and answers, DTLS-SRTP, RTP/RTCP counting and
// reports (RFC 8445 §7, RFC 7675, RFC 5764, RFC 3711, RFC 3550 §6.4, RFC 4585 §6.2.1, RFC 4588 §4).
#include "bench/loadgen/loadgen_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstring>

#include "bench/loadgen/loadgen_bytes.hpp"
#include "bench/loadgen/loadgen_stun.hpp"

namespace pwt::loadgen {
namespace {

constexpr size_t kBatch = 64;
constexpr size_t kSlot = 2048;
constexpr uint64_t kCheckIntervalUs = 50'000;
constexpr uint32_t kMaxChecks = 400;  // 20 s of checks before the connection is failed
/** Consent checks once a pair works: every 5 s (RFC 7675 §5.1 randomizes 4-6 s; one loop, no need here). */
constexpr uint64_t kConsentIntervalUs = 5'000'000;
constexpr uint64_t kReportIntervalUs = 1'000'000;
/** Seconds between 1900 (NTP) and 1970 (Unix), RFC 5905 §6. */
constexpr uint64_t kNtpUnixOffset = 2'208'988'800ull;

std::string RandomToken(size_t n) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> r(n);
  RAND_bytes(r.data(), static_cast<int>(n));
  std::string s(n, 'a');
  for (size_t i = 0; i < n; ++i) s[i] = kChars[r[i] % 64];
  return s;
}

/** Wall clock as NTP (RFC 3550 §4) for sender reports, and its middle 32 bits. */
uint64_t NtpNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t frac = (static_cast<uint64_t>(ts.tv_nsec) << 32) / 1'000'000'000ull;
  return (static_cast<uint64_t>(ts.tv_sec) + kNtpUnixOffset) << 32 | frac;
}

}  // namespace

LoadConnection::LoadConnection(uint32_t id, bool publisher, std::shared_ptr<DtlsContext> dtls)
    : id_(id), publisher_(publisher), dtls_context_(std::move(dtls)) {}

LoadConnection::~LoadConnection() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<LoadConnection> LoadConnection::Open(uint32_t id, bool publisher, std::shared_ptr<DtlsContext> dtls,
                                                     std::string* error) {
  std::unique_ptr<LoadConnection> c(new LoadConnection(id, publisher, std::move(dtls)));
  c->fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  // Room for a burst to every subscriber while the loop serves the others (the kernel caps it at rmem_max).
  int size = 1 << 20;
  setsockopt(c->fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(c->fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof a;
  if (bind(c->fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(c->fd_, reinterpret_cast<sockaddr*>(&a), &alen) != 0) {
    *error = std::string("bind: ") + std::strerror(errno);
    return nullptr;
  }
  c->local_port_ = ntohs(a.sin_port);
  c->ufrag_ = RandomToken(8);
  c->password_ = RandomToken(24);
  RAND_bytes(reinterpret_cast<uint8_t*>(&c->tiebreaker_), sizeof c->tiebreaker_);
  return c;
}

bool LoadConnection::Start(const RemoteParameters& remote, uint32_t local_ssrc, uint64_t now_us, std::string* error) {
  if (started_) {
    *error = "already started";
    return false;
  }
  remote_ = remote;
  local_ssrc_ = local_ssrc;
  RAND_bytes(reinterpret_cast<uint8_t*>(&send_seq_), sizeof send_seq_);
  DtlsEngineConfig cfg;
  cfg.role = remote.dtls_client ? DtlsRole::kClient : DtlsRole::kServer;
  DtlsStatus st;
  dtls_ = DtlsEngine::Create(dtls_context_, cfg, &st);
  if (!dtls_) {
    *error = "DTLS engine";
    return false;
  }
  RemoteFingerprint fp;
  fp.algorithm = FingerprintAlgorithm::kSha256;
  fp.digest = remote.fingerprint_sha256;
  if (dtls_->SetRemoteFingerprints({fp}) != DtlsStatus::kOk || dtls_->Start() != DtlsStatus::kOk) {
    *error = "DTLS start";
    return false;
  }
  candidate_.sin_family = AF_INET;
  candidate_.sin_addr.s_addr = htonl(remote.ip);
  candidate_.sin_port = htons(remote.port);
  if (remote.nack_every > 0) dropped_.assign(65536 / 8, 0);
  started_ = true;
  next_check_us_ = now_us;
  next_report_us_ = now_us + kReportIntervalUs + (id_ % 100) * 10'000;  // spread the reports of many connections
  next_tick_us_ = now_us;
  return true;
}

void LoadConnection::Fail(const std::string& reason) {
  if (failed_) return;
  failed_ = true;
  failure_ = reason;
  state_changed_ = true;
}

bool LoadConnection::TakeStateChanged() {
  const bool c = state_changed_;
  state_changed_ = false;
  return c;
}

void LoadConnection::SendRaw(const uint8_t* data, size_t len, const sockaddr_in& to) {
  // Low-rate traffic (STUN, DTLS, RTCP): a full socket buffer drops it, as the network would.
  (void)sendto(fd_, data, len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void LoadConnection::Select(const sockaddr_in& to) {
  if (selected_ && (nominated_ || !remote_.remote_controlling)) return;
  peer_ = to;
  selected_ = true;
  FlushDtls();
}

void LoadConnection::Validate(const sockaddr_in& from) {
  if (!Validated(from) && validated_.size() < 16) validated_.push_back(from);
}

bool LoadConnection::Validated(const sockaddr_in& from) const {
  for (const auto& a : validated_) {
    if (a.sin_addr.s_addr == from.sin_addr.s_addr && a.sin_port == from.sin_port) return true;
  }
  return false;
}

void LoadConnection::SendCheck(uint64_t now_us) {
  if (!check_succeeded_ && checks_sent_ >= kMaxChecks) {
    if (!selected_) Fail("ICE: no answer to connectivity checks");
    next_check_us_ = UINT64_MAX;
    return;
  }
  // A new transaction each time: a check until one succeeds, then a consent check (RFC 7675 §5.1).
  RAND_bytes(check_transaction_, sizeof check_transaction_);
  uint8_t msg[kStunMaxMessage];
  // Host candidate priority, RFC 8445 §5.1.2.1 (type preference 126, local preference 65535, component 1).
  const uint32_t priority = (126u << 24) | (65535u << 8) | 255u;
  const size_t n = WriteBindingRequest(msg, check_transaction_, remote_.ufrag + ":" + ufrag_, remote_.password,
                                       priority, !remote_.remote_controlling, tiebreaker_, !remote_.remote_controlling);
  SendRaw(msg, n, check_succeeded_ ? peer_ : candidate_);
  ++checks_sent_;
  next_check_us_ = now_us + (check_succeeded_ ? kConsentIntervalUs : kCheckIntervalUs);
}

void LoadConnection::FlushDtls() {
  if (!dtls_ || !selected_) return;
  uint8_t buf[8192];
  uint32_t lens[16];
  for (;;) {
    const size_t n = dtls_->outgoing().DrainInto(buf, sizeof buf, lens, 16);
    if (n == 0) break;
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
      SendRaw(buf + off, lens[i], peer_);
      off += lens[i];
    }
  }
}

void LoadConnection::CheckDtls() {
  if (!dtls_) return;
  dtls_->TakeStateChanged();
  if (dtls_->state() == DtlsState::kFailed) {
    Fail("DTLS: " + dtls_->failure_reason());
  } else if (dtls_->state() == DtlsState::kConnected && !srtp_.keyed()) {
    SrtpKeyingMaterial km;
    if (!dtls_->ExportSrtpKeyingMaterial(&km) || srtp_.KeyFromDtls(km, remote_.dtls_client) != SrtpStatus::kOk) {
      km.wipe();
      Fail("SRTP keying");
      return;
    }
    km.wipe();
    state_changed_ = true;
  }
}

void LoadConnection::Receive(uint64_t now_us) {
  static uint8_t bufs[kBatch][kSlot];
  static sockaddr_in from[kBatch];
  static mmsghdr msgs[kBatch];
  static iovec iovs[kBatch];
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {bufs[i], kSlot};
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.other_dropped;
        continue;
      }
      HandleDatagram(bufs[i], msgs[i].msg_len, from[i], now_us);
    }
    if (static_cast<size_t>(n) < kBatch) return;
  }
}

void LoadConnection::HandleDatagram(uint8_t* data, size_t len, const sockaddr_in& from, uint64_t now_us) {
  if (len == 0 || !started_) {
    ++counters_.other_dropped;
    return;
  }
  const uint8_t b = data[0];
  // RFC 7983 §7: STUN 0-3, DTLS 20-63, RTP/RTCP 128-191.
  if (b <= 3) {
    HandleStun(data, len, from);
  } else if (b >= 20 && b <= 63) {
    if (!selected_ || !Validated(from)) {
      ++counters_.other_dropped;
      return;
    }
    dtls_->HandleDatagram(data, len);
    FlushDtls();
    CheckDtls();
  } else if (b >= 128 && b <= 191) {
    if (!srtp_.keyed() || !Validated(from)) {
      ++counters_.other_dropped;
      return;
    }
    HandleMedia(data, len, now_us);
  } else {
    ++counters_.other_dropped;
  }
}

void LoadConnection::HandleStun(const uint8_t* data, size_t len, const sockaddr_in& from) {
  StunBinding m;
  const bool request = len >= 2 && Get16(data) == kBindingRequest;
  if (!ParseBinding(data, len, ufrag_, request ? password_ : remote_.password, &m)) {
    ++counters_.stun_dropped;
    return;
  }
  if (m.type == kBindingRequest) {
    uint8_t out[kStunMaxMessage];
    const size_t n = WriteBindingSuccess(out, m.transaction, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port), password_);
    SendRaw(out, n, from);
    Validate(from);
    // Controlled: the controlling agent's nomination picks the pair (RFC 8445 §7.3.1.5); before it, any
    // valid pair will do to start DTLS. Controlling: our own nominating check's success does.
    if (!remote_.remote_controlling) return;
    if (m.use_candidate) {
      selected_ = false;
      Select(from);
      nominated_ = true;
    } else if (!selected_) {
      Select(from);
    }
    return;
  }
  if (std::memcmp(m.transaction, check_transaction_, sizeof check_transaction_) != 0) {
    ++counters_.stun_dropped;
    return;
  }
  ++counters_.checks_answered;
  if (check_succeeded_) return;  // a consent check's answer
  check_succeeded_ = true;
  Validate(candidate_);
  Select(candidate_);
}

void LoadConnection::HandleMedia(uint8_t* data, size_t len, uint64_t now_us) {
  const bool rtcp = len >= 2 && data[1] >= 192 && data[1] <= 223;  // RFC 5761 §4
  // A NACKing subscriber loses every nack_every-th media packet on arrival, as the network would
  // (before SRTP, so that the retransmission with the same index is not a replay), and asks for it.
  if (!rtcp && remote_.nack_every > 0 && len >= 12 && (data[1] & 0x7F) == remote_.payload_type) {
    const uint16_t seq = Get16(data + 2);
    uint8_t& byte = dropped_[seq / 8];
    const uint8_t bit = static_cast<uint8_t>(1u << (seq % 8));
    if (byte & bit) {
      byte = static_cast<uint8_t>(byte & ~bit);  // its retransmission (no RTX negotiated)
      ++counters_.retransmissions_received;
    } else if (seq % remote_.nack_every == 0) {
      byte = static_cast<uint8_t>(byte | bit);
      ++counters_.dropped_on_purpose;
      SendReport(now_us, seq, Get32(data + 8));
      return;
    }
  }
  size_t out_len = 0;
  if (srtp_.unprotect(data, len, &out_len) != SrtpStatus::kOk) {
    ++counters_.unauthenticated;
    return;
  }
  if (rtcp) {
    HandleRtcp(data, out_len, now_us);
  } else {
    CountRtp(data, out_len, now_us);
  }
}

void LoadConnection::HandleRtcp(const uint8_t* data, size_t len, uint64_t now_us) {
  ++counters_.rtcp_received;
  for (size_t at = 0; at + 4 <= len;) {
    const size_t plen = (size_t{Get16(data + at + 2)} + 1) * 4;
    if (at + plen > len) break;
    const uint8_t pt = data[at + 1];
    const uint8_t fmt = data[at] & 0x1F;
    if (pt == 200 && plen >= 28) {  // SR: LSR for our receiver reports (RFC 3550 §6.4.1)
      last_sr_ntp_ = static_cast<uint32_t>((uint64_t{Get32(data + at + 8)} << 32 | Get32(data + at + 12)) >> 16);
      last_sr_at_us_ = now_us;
    } else if (pt == 205 && fmt == 1 && plen >= 16) {  // generic NACK (RFC 4585 §6.2.1)
      ++counters_.nacks_received;
      for (size_t f = at + 12; f + 4 <= at + plen; f += 4) {
        counters_.nacked_sequences += 1 + static_cast<uint64_t>(__builtin_popcount(Get16(data + f + 2)));
      }
    }
    at += plen;
  }
}

void LoadConnection::CountRtp(const uint8_t* data, size_t len, uint64_t now_us) {
  if (len < 12) return;
  ++counters_.rtp_received;
  const uint8_t pt = data[1] & 0x7F;
  const uint16_t seq = Get16(data + 2);
  const uint32_t ts = Get32(data + 4);
  const uint32_t ssrc = Get32(data + 8);
  size_t off = 12 + static_cast<size_t>(data[0] & 0x0F) * 4;
  if ((data[0] & 0x10) && off + 4 <= len) off += 4 + size_t{Get16(data + off + 2)} * 4;
  size_t end = len;
  if ((data[0] & 0x20) && len > off) {
    const size_t pad = data[len - 1];
    end = pad <= len - off ? len - pad : off;
  }
  if (off > end) return;
  if (static_cast<int>(pt) == remote_.rtx_payload_type) {
    // RFC 4588 §4: the original sequence number, then the original payload.
    if (end - off < 2) return;
    if (remote_.nack_every > 0) {
      const uint16_t osn = Get16(data + off);
      uint8_t& byte = dropped_[osn / 8];
      const uint8_t bit = static_cast<uint8_t>(1u << (osn % 8));
      if (byte & bit) {
        byte = static_cast<uint8_t>(byte & ~bit);
        ++counters_.retransmissions_received;
      }
    }
    off += 2;
  } else if (static_cast<int>(pt) == remote_.payload_type) {
    // RFC 3550 §A.1 (without probation) and §A.8 for the receiver reports.
    if (!media_started_ || ssrc != media_ssrc_) {
      media_started_ = true;
      media_ssrc_ = ssrc;
      max_seq_ = seq;
      base_seq_ = seq;
      cycles_ = 0;
      media_received_ = 0;
      expected_prior_ = received_prior_ = 0;
      has_transit_ = false;
      jitter_ = 0;
    } else {
      const uint16_t delta = static_cast<uint16_t>(seq - max_seq_);
      if (delta < 0x8000) {
        if (seq < max_seq_) cycles_ += 65536;
        max_seq_ = seq;
      }
    }
    ++media_received_;
    const int64_t arrival = static_cast<int64_t>(now_us * remote_.clock_rate / 1'000'000);
    const int64_t transit = arrival - static_cast<int64_t>(ts);
    if (has_transit_) jitter_ += (std::fabs(static_cast<double>(transit - last_transit_)) - jitter_) / 16;
    last_transit_ = transit;
    has_transit_ = true;
  }
  uint32_t round = 0;
  uint32_t index = 0;
  if (!ReadLoadTrailer(data + off, end - off, &round, &index) || !delivery_.Count(round, index)) {
    ++counters_.foreign_payload;
  }
}

void LoadConnection::SendReport(uint64_t now_us, int nack_sequence, uint32_t nack_ssrc) {
  if (!srtp_.keyed() || !selected_) return;
  uint8_t pkt[256];
  size_t n = 0;
  if (publisher_) {
    // SR, no report blocks (RFC 3550 §6.4.1).
    const uint64_t ntp = NtpNow();
    pkt[0] = 0x80;
    pkt[1] = 200;
    Put16(pkt + 2, 6);
    Put32(pkt + 4, local_ssrc_);
    Put32(pkt + 8, static_cast<uint32_t>(ntp >> 32));
    Put32(pkt + 12, static_cast<uint32_t>(ntp));
    Put32(pkt + 16, last_timestamp_);
    Put32(pkt + 20, static_cast<uint32_t>(counters_.rtp_sent));
    Put32(pkt + 24, static_cast<uint32_t>(octets_sent_));
    n = 28;
  } else {
    // RR with one report block on the stream we receive (RFC 3550 §6.4.2, §A.3), none before it starts.
    const bool block = media_started_;
    pkt[0] = static_cast<uint8_t>(0x80 | (block ? 1 : 0));
    pkt[1] = 201;
    Put16(pkt + 2, block ? 7 : 1);
    Put32(pkt + 4, local_ssrc_);
    n = 8;
    if (block) {
      const uint64_t ext_max = uint64_t{cycles_} + max_seq_;
      const uint64_t expected = ext_max - base_seq_ + 1;
      const int64_t lost = static_cast<int64_t>(expected) - static_cast<int64_t>(media_received_);
      const int64_t expected_interval = static_cast<int64_t>(expected - expected_prior_);
      const int64_t lost_interval = expected_interval - static_cast<int64_t>(media_received_ - received_prior_);
      expected_prior_ = expected;
      received_prior_ = media_received_;
      const uint8_t fraction = expected_interval <= 0 || lost_interval <= 0
                                   ? 0
                                   : static_cast<uint8_t>(std::min<int64_t>(255, (lost_interval << 8) / expected_interval));
      const int32_t clamped = static_cast<int32_t>(std::max<int64_t>(-0x800000, std::min<int64_t>(0x7FFFFF, lost)));
      Put32(pkt + 8, media_ssrc_);
      Put32(pkt + 12, uint32_t{fraction} << 24 | (static_cast<uint32_t>(clamped) & 0xFFFFFF));
      Put32(pkt + 16, static_cast<uint32_t>(ext_max));
      Put32(pkt + 20, static_cast<uint32_t>(jitter_));
      Put32(pkt + 24, last_sr_ntp_);
      Put32(pkt + 28, last_sr_at_us_ == 0 ? 0 : static_cast<uint32_t>((now_us - last_sr_at_us_) * 65536 / 1'000'000));
      n = 32;
    }
    if (nack_sequence >= 0) {
      // Generic NACK for one sequence number (RFC 4585 §6.2.1), in the same compound packet.
      pkt[n] = 0x81;
      pkt[n + 1] = 205;
      Put16(pkt + n + 2, 3);
      Put32(pkt + n + 4, local_ssrc_);
      Put32(pkt + n + 8, nack_ssrc);
      Put16(pkt + n + 12, static_cast<uint16_t>(nack_sequence));
      Put16(pkt + n + 14, 0);
      n += 16;
      ++counters_.nacks_sent;
    }
  }
  size_t out = 0;
  if (srtp_.protect_rtcp(pkt, n, sizeof pkt, &out) != SrtpStatus::kOk) return;
  SendRaw(pkt, out, peer_);
  ++counters_.reports_sent;
}

void LoadConnection::Tick(uint64_t now_us) {
  if (!started_ || failed_) {
    next_tick_us_ = UINT64_MAX;
    return;
  }
  // Checks until one succeeded (the controlling side nominates with them, RFC 8445 §8.1.1), then consent checks.
  if (now_us >= next_check_us_) SendCheck(now_us);
  if (dtls_ && dtls_->TimeoutUs() == 0) {
    dtls_->HandleTimeout();
    FlushDtls();
    CheckDtls();
  }
  if (srtp_.keyed() && now_us >= next_report_us_) {
    SendReport(now_us, -1, 0);
    next_report_us_ = now_us + kReportIntervalUs;
  }
  uint64_t next = srtp_.keyed() ? next_report_us_ : now_us + 20'000;
  if (next_check_us_ < next) next = next_check_us_;
  if (dtls_) {
    const int64_t t = dtls_->TimeoutUs();
    if (t >= 0 && now_us + static_cast<uint64_t>(t) < next) next = now_us + static_cast<uint64_t>(t);
  }
  next_tick_us_ = next;
}

std::string LoadConnection::Describe() const {
  static const char* kDtlsStates[] = {"new", "connecting", "connected", "closed", "failed"};
  std::string s = "checks=" + std::to_string(checks_sent_) + " answered=" + std::to_string(counters_.checks_answered) +
                  " checkSucceeded=" + std::to_string(check_succeeded_) +
                  " selected=" + std::to_string(selected_) + " dtls=" +
                  (dtls_ ? kDtlsStates[static_cast<int>(dtls_->state())] : "none") +
                  " dtlsIn=" + std::to_string(dtls_ ? dtls_->counters().datagrams_in : 0) +
                  " srtp=" + std::to_string(srtp_.keyed()) + " stunDropped=" + std::to_string(counters_.stun_dropped) +
                  " otherDropped=" + std::to_string(counters_.other_dropped) +
                  " unauthenticated=" + std::to_string(counters_.unauthenticated) + " rtp=" + std::to_string(counters_.rtp_received);
  if (failed_) s += " failure=" + failure_;
  return s;
}

size_t LoadConnection::WriteRtp(uint8_t* buf, size_t capacity, size_t payload_len, uint32_t timestamp, bool marker,
                                uint32_t round, uint32_t index) {
  if (!srtp_.keyed() || !selected_ || 12 + payload_len + 16 > capacity || payload_len < kLoadTrailer + 2) return 0;
  buf[0] = 0x80;
  buf[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (remote_.payload_type & 0x7F));
  Put16(buf + 2, send_seq_++);
  Put32(buf + 4, timestamp);
  Put32(buf + 8, local_ssrc_);
  std::memset(buf + 12, 0x42, payload_len);
  if (remote_.vp8) {
    // RFC 7741 §4.2-4.3: a one-byte descriptor (S = 1, PID 0), then a payload header with P = 0 and
    // show_frame: each packet starts a key frame, so a relay that switches on key frames forwards it.
    buf[12] = 0x10;
    buf[13] = 0x10;
  }
  WriteLoadTrailer(buf + 12, payload_len, round, index);
  size_t out = 0;
  if (srtp_.protect_rtp(buf, 12 + payload_len, capacity, &out) != SrtpStatus::kOk) return 0;
  last_timestamp_ = timestamp;
  ++counters_.rtp_sent;
  octets_sent_ += payload_len;
  return out;
}

}  // namespace pwt::loadgen
