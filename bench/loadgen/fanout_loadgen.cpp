// The fanout benchmark's client side in native code: one publisher and N subscribers, each a real
// ICE/DTLS-SRTP connection to the relay under test (loadgen_connection.hpp), driven by text lines on
// stdin from bench/peers/fanout-native-clients.ts, which does the SDP (docs/bench/README.md "fanout load generator").
// The publisher sends from here at the requested rate (paced, or 30 fps frames back to back); the
// subscribers receive, unprotect and count in here, so no JavaScript runs per packet on the client side.
//
// stdin:  open <id> <pub|sub>
//         start <id> <ufrag> <pwd> <ip> <port> <fingerprint> <dtls-client 0|1> <remote-controlling 0|1> <pt> <rtx-pt|-1> <clock-rate> <nack-every> <ssrc> <opus|vp8>
//         publish <round> <seconds> <packets/s> <paced|frames> <payload bytes>
//         counts <round>
//         describe <id>
//         quit
// stdout: ready <fingerprint>; opened <id> <port> <ufrag> <pwd>; connected <id>; failed <id> <reason>;
//         published <round> <packets> <send-blocked> <bursts>; counts <round> key=value...;
//         described <id> key=value...; error <text>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/loadgen/loadgen_connection.hpp"
#include "native/dtls/dtls_certificate.hpp"
#include "native/dtls/dtls_context.hpp"

using pwt::loadgen::LoadConnection;
using pwt::loadgen::RemoteParameters;

namespace {

uint64_t NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

uint64_t CpuUs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& t) { return static_cast<uint64_t>(t.tv_sec) * 1'000'000 + static_cast<uint64_t>(t.tv_usec); };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, i + 1 < n ? "%02X:" : "%02X", p[i]);
    s += b;
  }
  return s;
}

bool ParseFingerprint(const std::string& text, std::vector<uint8_t>* out) {
  out->clear();
  for (size_t i = 0; i < text.size();) {
    if (i + 2 > text.size()) return false;
    unsigned v = 0;
    if (std::sscanf(text.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(static_cast<uint8_t>(v));
    i += 2;
    if (i < text.size() && text[i] == ':') ++i;
  }
  return out->size() == 32;
}

void Say(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

/** The publisher's schedule for one `publish` command. */
struct Publishing {
  bool active = false;
  uint32_t round = 0;
  double seconds = 0;
  double rate = 0;
  bool frames = false;
  size_t payload = 1000;
  uint64_t start_us = 0;
  uint64_t total = 0;
  uint64_t sent = 0;
  uint64_t blocked = 0;
  /** Wake-ups that sent at least one packet: the relay's incoming bursts (published / bursts = packets per burst). */
  uint64_t bursts = 0;
  uint32_t timestamp = 0;
  uint64_t frame = 0;
};

class LoadGenerator {
 public:
  bool Init() {
    pwt::CertificateStatus cs;
    auto cert = pwt::DtlsCertificate::Generate(pwt::DtlsKeyType::kEcdsaP256, 30L * 86400, &cs);
    if (!cert) return false;
    uint8_t fp[32];
    cert->Fingerprint(pwt::FingerprintAlgorithm::kSha256, fp, sizeof fp);
    context_ = pwt::DtlsContext::Create(cert);
    if (!context_) return false;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, 0, &ev);
    Say("ready " + Hex(fp, sizeof fp));
    return true;
  }

  int Run() {
    epoll_event events[64];
    while (!quit_) {
      uint64_t now = NowUs();
      const uint64_t next = NextDeadline(now);
      const int timeout_ms = next <= now ? 0 : static_cast<int>(std::min<uint64_t>((next - now + 999) / 1000, 1000));
      const int n = epoll_wait(epoll_, events, 64, timeout_ms);
      if (n < 0 && errno != EINTR) return 1;
      now = NowUs();
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == UINT64_MAX) {
          if (!ReadCommands()) quit_ = true;
          continue;
        }
        connections_[events[i].data.u64]->Receive(now);
      }
      Publish(NowUs());
      if (now >= next_tick_us_) Tick(now);
      Report();
    }
    return 0;
  }

 private:
  uint64_t NextDeadline(uint64_t now) const {
    uint64_t next = next_tick_us_;
    if (pub_.active) next = std::min(next, now + 1000);
    return next;
  }

  void Tick(uint64_t now) {
    next_tick_us_ = UINT64_MAX;
    for (auto& c : connections_) {
      if (now >= c->NextTickUs()) c->Tick(now);
      next_tick_us_ = std::min(next_tick_us_, c->NextTickUs());
    }
  }

  void Report() {
    for (auto& c : connections_) {
      if (!c->TakeStateChanged()) continue;
      if (c->failed()) {
        Say("failed " + std::to_string(c->id()) + " " + c->failure());
      } else if (c->connected()) {
        Say("connected " + std::to_string(c->id()));
      }
    }
  }

  bool ReadCommands() {
    char buf[4096];
    const ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) return false;
    input_.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = input_.find('\n')) != std::string::npos;) {
      const std::string line = input_.substr(0, nl);
      input_.erase(0, nl + 1);
      Command(line);
    }
    return true;
  }

  void Command(const std::string& line) {
    std::istringstream in(line);
    std::string op;
    in >> op;
    if (op == "open") {
      uint32_t id = 0;
      std::string kind;
      in >> id >> kind;
      std::string error;
      auto c = LoadConnection::Open(id, kind == "pub", context_, &error);
      if (!c) return Say("error open " + std::to_string(id) + ": " + error);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = connections_.size();
      epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd(), &ev);
      by_id_[id] = c.get();
      if (kind == "pub") publisher_ = c.get();
      Say("opened " + std::to_string(id) + " " + std::to_string(c->local_port()) + " " + c->ufrag() + " " + c->password());
      connections_.push_back(std::move(c));
    } else if (op == "start") {
      uint32_t id = 0;
      RemoteParameters r;
      std::string ip;
      std::string fp;
      int port = 0;
      int dtls_client = 0;
      int controlling = 0;
      uint32_t ssrc = 0;
      std::string codec;
      in >> id >> r.ufrag >> r.password >> ip >> port >> fp >> dtls_client >> controlling >> r.payload_type >>
          r.rtx_payload_type >> r.clock_rate >> r.nack_every >> ssrc >> codec;
      in_addr a{};
      auto it = by_id_.find(id);
      if (!in || it == by_id_.end() || inet_pton(AF_INET, ip.c_str(), &a) != 1 || !ParseFingerprint(fp, &r.fingerprint_sha256)) {
        return Say("error start " + std::to_string(id) + ": bad arguments");
      }
      r.ip = ntohl(a.s_addr);
      r.port = static_cast<uint16_t>(port);
      r.dtls_client = dtls_client != 0;
      r.remote_controlling = controlling != 0;
      r.vp8 = codec == "vp8";
      std::string error;
      if (!it->second->Start(r, ssrc, NowUs(), &error)) return Say("error start " + std::to_string(id) + ": " + error);
      next_tick_us_ = 0;
    } else if (op == "publish") {
      std::string pattern;
      Publishing p;
      in >> p.round >> p.seconds >> p.rate >> pattern >> p.payload;
      if (!in || !publisher_ || p.rate <= 0 || p.seconds <= 0 || p.payload < pwt::loadgen::kLoadTrailer + 2 || p.payload > 1200) {
        return Say("error publish: bad arguments or no publisher");
      }
      p.frames = pattern == "frames";
      p.active = true;
      p.start_us = NowUs();
      p.total = static_cast<uint64_t>(std::llround(p.rate * p.seconds));
      p.timestamp = pub_.timestamp;
      pub_ = p;
    } else if (op == "counts") {
      uint32_t round = 0;
      in >> round;
      Counts(round);
    } else if (op == "describe") {
      uint32_t id = 0;
      in >> id;
      auto it = by_id_.find(id);
      Say("described " + std::to_string(id) + " " + (it == by_id_.end() ? std::string("unknown") : it->second->Describe()));
    } else if (op == "quit") {
      quit_ = true;
    } else {
      Say("error unknown command: " + op);
    }
  }

  /** Sends the packets due now, frame by frame or evenly spaced, in sendmmsg batches. */
  void Publish(uint64_t now) {
    Publishing& p = pub_;
    if (!p.active) return;
    const double elapsed = static_cast<double>(now - p.start_us) / 1e6;
    uint64_t due;
    if (elapsed >= p.seconds) {
      due = p.total;
    } else if (p.frames) {
      const uint64_t frames = static_cast<uint64_t>(elapsed * 30) + 1;
      due = std::min<uint64_t>(p.total, static_cast<uint64_t>(std::llround(static_cast<double>(frames) * p.rate / 30)));
    } else {
      due = std::min<uint64_t>(p.total, static_cast<uint64_t>(elapsed * p.rate) + 1);
    }
    constexpr size_t kBatch = 64;
    static uint8_t bufs[kBatch][1500];
    static mmsghdr msgs[kBatch];
    static iovec iovs[kBatch];
    if (p.sent < due) ++p.bursts;
    while (p.sent < due) {
      size_t n = 0;
      for (; n < kBatch && p.sent + n < due; ++n) {
        const uint64_t i = p.sent + n;
        bool marker = false;
        if (p.frames) {
          // Frame f holds the packets [round(f·rate/30), round((f+1)·rate/30)), as sent above; one timestamp each.
          auto frame_end = [&](uint64_t f) { return static_cast<uint64_t>(std::llround(static_cast<double>(f + 1) * p.rate / 30)); };
          uint64_t frame = static_cast<uint64_t>(static_cast<double>(i) * 30 / p.rate);
          while (frame > 0 && frame_end(frame - 1) > i) --frame;
          while (frame_end(frame) <= i) ++frame;
          if (i == 0 || frame != p.frame) p.timestamp += 3000;
          p.frame = frame;
          marker = frame_end(frame) == i + 1;
        } else {
          p.timestamp += 960;
        }
        const size_t len = publisher_->WriteRtp(bufs[n], sizeof bufs[n], p.payload, p.timestamp, marker, p.round,
                                                static_cast<uint32_t>(i));
        if (len == 0) {
          Say("error publish: publisher not connected");
          p.active = false;
          return;
        }
        iovs[n] = {bufs[n], len};
        msgs[n].msg_hdr = {};
        msgs[n].msg_hdr.msg_name = const_cast<sockaddr_in*>(&publisher_->peer());
        msgs[n].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        msgs[n].msg_hdr.msg_iov = &iovs[n];
        msgs[n].msg_hdr.msg_iovlen = 1;
      }
      size_t done = 0;
      while (done < n) {
        const int r = sendmmsg(publisher_->fd(), msgs + done, static_cast<unsigned>(n - done), MSG_DONTWAIT);
        if (r > 0) {
          done += static_cast<size_t>(r);
          continue;
        }
        if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) break;
        // The socket's buffer is full: wait for room rather than drop what was protected (and counted).
        ++p.blocked;
        pollfd pf{publisher_->fd(), POLLOUT, 0};
        poll(&pf, 1, 5);
      }
      p.sent += n;
    }
    if (p.sent >= p.total && elapsed >= p.seconds) {
      p.active = false;
      Say("published " + std::to_string(p.round) + " " + std::to_string(p.sent) + " " + std::to_string(p.blocked) + " " + std::to_string(p.bursts));
    }
  }

  void Counts(uint32_t round) {
    uint64_t subs = 0, unique = 0, dups = 0, ooo = 0, foreign = 0, unauth = 0, dropped = 0, nacks = 0, retrans = 0, rtcp = 0, stun = 0;
    uint64_t min_unique = UINT64_MAX, max_unique = 0;
    for (auto& c : connections_) {
      const auto& k = c->counters();
      unauth += k.unauthenticated;
      stun += k.stun_dropped;
      if (c.get() == publisher_) continue;
      ++subs;
      const auto d = c->delivery().Round(round);
      unique += d.unique;
      dups += d.duplicates;
      ooo += d.out_of_order;
      min_unique = std::min(min_unique, d.unique);
      max_unique = std::max(max_unique, d.unique);
      foreign += k.foreign_payload;
      dropped += k.dropped_on_purpose;
      nacks += k.nacks_sent;
      retrans += k.retransmissions_received;
      rtcp += k.rtcp_received;
    }
    if (subs == 0) min_unique = 0;
    const auto* pk = publisher_ ? &publisher_->counters() : nullptr;
    std::ostringstream o;
    o << "counts " << round << " subscribers=" << subs << " unique=" << unique << " minUnique=" << min_unique
      << " maxUnique=" << max_unique << " duplicates=" << dups << " outOfOrder=" << ooo << " foreign=" << foreign
      << " unauthenticated=" << unauth << " stunDropped=" << stun << " droppedOnPurpose=" << dropped
      << " nacksSent=" << nacks << " retransmissionsReceived=" << retrans << " subscriberRtcp=" << rtcp
      << " publisherNacks=" << (pk ? pk->nacks_received : 0) << " publisherNackedSequences=" << (pk ? pk->nacked_sequences : 0)
      << " cpuUs=" << CpuUs();
    Say(o.str());
  }

  std::shared_ptr<pwt::DtlsContext> context_;
  int epoll_ = -1;
  bool quit_ = false;
  std::string input_;
  std::vector<std::unique_ptr<LoadConnection>> connections_;
  std::map<uint32_t, LoadConnection*> by_id_;
  LoadConnection* publisher_ = nullptr;
  uint64_t next_tick_us_ = UINT64_MAX;
  Publishing pub_;
};

}  // namespace

int main() {
  LoadGenerator g;
  if (!g.Init()) {
    Say("error could not make the DTLS certificate");
    return 1;
  }
  return g.Run();
}
