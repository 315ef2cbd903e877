// Native answers to consent checks on selected pairs (see stun_consent_responder.hpp; RFC 7675 §5.1,
// RFC 8445 §7.3.1, RFC 8489 §5, §14.2, §14.5, §14.7).
#include "native/stun/stun_consent_responder.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "native/srtp/srtp_packet.hpp"
#include "native/stun/stun_constants.hpp"
#include "native/stun/stun_fingerprint.hpp"
#include "native/stun/stun_integrity.hpp"

namespace pwt {
namespace {

// Slots an idle connection keeps once its outstanding checks shrank (see compact()).
constexpr size_t kKeptSlots = 2;

// The answers and checks of one call, handed to the caller to send right away: one scratch area per
// thread, shared by every responder on it (an own socket's responder, with its one registration,
// would otherwise keep a batch's worth of answer bytes and a check's 592 bytes for good).
struct ConsentScratch {
  std::vector<uint8_t> answers;  // kStunConsentAnswerMax per slot of the batch
  std::vector<UdpSendItem> items;
  std::vector<uint8_t> check_bytes;  // kStunConsentCheckMax per check of a call
  std::vector<UdpSendItem> check_items;
  std::vector<uint32_t> unsent;
};

ConsentScratch& consent_scratch() {
  thread_local ConsentScratch scratch;
  return scratch;
}

// HMAC-SHA1 of msg[0..covered) with the length field as it reads once the attribute is counted (§14.5).
void Integrity(const HmacSha1& key, const uint8_t* msg, size_t covered, uint8_t out[kStunIntegrityLen]) {
  stun_integrity_sha1(key, msg, covered, static_cast<uint16_t>(covered + 4 + kStunIntegrityLen - kStunHeaderLen), out);
}

}  // namespace

size_t stun_consent_answer(const uint8_t* req, size_t len, const StunConsentCredentials& creds,
                           const UdpRemoteKey& source, uint8_t* out, bool* use_candidate) noexcept {
  // Header (RFC 8489 §5): a Binding request with the magic cookie, its length the rest of the datagram.
  if (len < kStunHeaderLen || len % 4 != 0 || creds.key == nullptr) return 0;
  if (ReadU16(req) != kStunBindingRequest || ReadU32(req + 4) != kStunMagicCookie || ReadU16(req + 2) != len - kStunHeaderLen) return 0;
  bool username_ok = false;
  bool controlling = false;
  bool controlled = false;
  bool nominating = false;
  size_t integrity_at = 0;    // offset of MESSAGE-INTEGRITY, 0: none
  size_t fingerprint_at = 0;  // offset of FINGERPRINT, 0: none
  size_t at = kStunHeaderLen;
  while (at < len) {
    if (fingerprint_at != 0 || len - at < 4) return 0;  // FINGERPRINT is last (§14.7)
    const uint16_t type = ReadU16(req + at);
    const size_t length = ReadU16(req + at + 2);
    const size_t padded = (length + 3) & ~static_cast<size_t>(3);
    if (padded > len - at - 4) return 0;
    const uint8_t* value = req + at + 4;
    // After MESSAGE-INTEGRITY only FINGERPRINT (§14.5 lets a receiver ignore others; the agent sees those).
    if (integrity_at != 0 && type != kStunAttrFingerprint) return 0;
    switch (type) {
      case kStunAttrUsername:
        username_ok = length == creds.username.size() && std::memcmp(value, creds.username.data(), length) == 0;
        if (!username_ok) return 0;
        break;
      case kStunAttrMessageIntegrity:
        if (length != kStunIntegrityLen) return 0;
        integrity_at = at;
        break;
      case kStunAttrFingerprint:
        if (length != 4) return 0;
        fingerprint_at = at;
        break;
      case kStunAttrPriority:
        if (length != 4) return 0;
        break;
      case kStunAttrIceControlled:
        if (length != 8) return 0;
        controlled = true;
        break;
      case kStunAttrIceControlling:
        if (length != 8) return 0;
        controlling = true;
        break;
      case kStunAttrUseCandidate:
        if (length != 0) return 0;
        nominating = true;
        break;
      default:
        // An unknown comprehension-required attribute gets a 420 from the agent (RFC 8489 §6.3.1.1).
        if (type < 0x8000) return 0;
        break;
    }
    at += 4 + padded;
  }
  if (!username_ok || integrity_at == 0 || fingerprint_at == 0) return 0;
  // Role (RFC 8445 §7.3.1.1): only the peer's opposite role is answered here; a conflict is the agent's.
  if (creds.controlling ? (!controlled || controlling) : (!controlling || controlled)) return 0;
  // Only a controlling peer nominates (RFC 8445 §7.3.1.5); the agent applies it from the counts.
  if (nominating && creds.controlling) return 0;
  // FINGERPRINT first (cheap), then MESSAGE-INTEGRITY, compared in constant time.
  if (stun_fingerprint(req, fingerprint_at) != ReadU32(req + fingerprint_at + 4)) return 0;
  uint8_t mac[kStunIntegrityLen];
  Integrity(*creds.key, req, integrity_at, mac);
  if (CRYPTO_memcmp(mac, req + integrity_at + 4, kStunIntegrityLen) != 0) return 0;

  // Success response (RFC 8489 §6.3.1.1): same transaction id, XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT.
  std::memcpy(out + 4, req + 4, 16);  // magic cookie + transaction id
  WriteU16(out, kStunBindingSuccess);
  size_t w = kStunHeaderLen;
  const bool v6 = source.family == 6;
  WriteU16(out + w, kStunAttrXorMappedAddress);
  WriteU16(out + w + 2, v6 ? 20 : 8);
  out[w + 4] = 0;
  out[w + 5] = v6 ? 0x02 : 0x01;
  WriteU16(out + w + 6, static_cast<uint16_t>(source.port ^ (kStunMagicCookie >> 16)));
  // X-Address: XOR with the magic cookie, then (IPv6) the transaction id (§14.2).
  for (size_t i = 0; i < (v6 ? 16u : 4u); ++i) out[w + 8 + i] = static_cast<uint8_t>(source.addr[i] ^ out[4 + i]);
  w += v6 ? 24 : 12;
  WriteU16(out + w, kStunAttrMessageIntegrity);
  WriteU16(out + w + 2, kStunIntegrityLen);
  Integrity(*creds.key, out, w, out + w + 4);
  w += 4 + kStunIntegrityLen;
  WriteU16(out + w, kStunAttrFingerprint);
  WriteU16(out + w + 2, 4);
  WriteU16(out + 2, static_cast<uint16_t>(w + 8 - kStunHeaderLen));  // final length, FINGERPRINT counted (§14.7)
  WriteU32(out + w + 4, stun_fingerprint(out, w));
  w += 8;
  if (use_candidate) *use_candidate = nominating;
  return w;
}

StunConsentResponder::StunConsentResponder() = default;

uint32_t StunConsentResponder::add(const UdpRemoteKey& remote, const UdpAddress& destination, std::string_view local_ufrag,
                                   std::string_view remote_ufrag, std::string_view password, bool controlling,
                                   const StunConsentCheckSetup* checks) {
  if (local_ufrag.empty() || remote_ufrag.empty() || password.empty()) return 0;
  auto old = by_remote_.find(remote);
  if (old != by_remote_.end()) remove(old->second);
  const uint32_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  Entry e;
  e.remote = remote;
  e.destination = destination;
  e.username.reserve(local_ufrag.size() + 1 + remote_ufrag.size());
  e.username.append(local_ufrag).append(1, ':').append(remote_ufrag);
  e.key = std::make_unique<HmacSha1>();
  e.key->Init(reinterpret_cast<const uint8_t*>(password.data()), password.size());
  e.controlling = controlling;
  if (checks != nullptr && !checks->remote_password.empty() && checks->tie_breaker != nullptr) {
    e.checks = std::make_unique<Checks>();
    Checks& c = *e.checks;
    c.username.reserve(remote_ufrag.size() + 1 + local_ufrag.size());
    c.username.append(remote_ufrag).append(1, ':').append(local_ufrag);
    c.key.Init(reinterpret_cast<const uint8_t*>(checks->remote_password.data()), checks->remote_password.size());
    c.priority = checks->priority;
    std::memcpy(c.tie_breaker, checks->tie_breaker, 8);
    c.timeout_us = static_cast<uint64_t>(checks->timeout_ms) * 1000;
  }
  entries_.emplace(id, std::move(e));
  by_remote_[remote] = id;
  return id;
}

bool StunConsentResponder::remove(uint32_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto r = by_remote_.find(it->second.remote);
  if (r != by_remote_.end() && r->second == id) by_remote_.erase(r);
  entries_.erase(it);
  return true;
}

void StunConsentResponder::mark_dirty(uint32_t id, bool& dirty) {
  if (dirty) return;
  dirty = true;
  dirty_.push_back(id);
}

bool StunConsentResponder::match_response(Checks& c, const uint8_t* data, size_t length, uint64_t now_us) {
  const StunConsentResponse verdict = stun_consent_response_check(data, length, c.key);
  if (verdict == StunConsentResponse::kNotResponse) return false;
  // The full 96-bit transaction id of a check still outstanding (RFC 8489 §6.3.3), not older than the timeout.
  Outstanding* match = nullptr;
  if (length >= kStunHeaderLen) {
    for (Outstanding& o : c.outstanding) {
      if (o.live && std::memcmp(o.txid, data + 8, kStunTransactionIdLen) == 0 && now_us - o.sent_us <= c.timeout_us) {
        match = &o;
        break;
      }
    }
  }
  if (verdict == StunConsentResponse::kVerified) {
    if (match == nullptr) {
      counters_.responses_unknown_transaction += 1;
      return false;
    }
    match->live = false;
    const bool agents = match->agent;
    compact(c, now_us);  // an answered connection keeps only what is still outstanding
    if (agents) {
      // The answer to a check the agent sent itself: the agent matches it (each datagram one reason).
      counters_.responses_to_agent += 1;
      return false;
    }
    return true;
  }
  switch (verdict) {
    case StunConsentResponse::kErrorResponse: counters_.responses_error += 1; break;
    case StunConsentResponse::kBadFingerprint: counters_.responses_bad_fingerprint += 1; break;
    case StunConsentResponse::kBadIntegrity: counters_.responses_bad_integrity += 1; break;
    default: counters_.responses_malformed += 1; break;
  }
  return false;
}

int StunConsentResponder::answer_batch(const UdpRecvTarget& target, int n, uint8_t* status, uint64_t now_us) {
  answer_count_ = 0;
  if (by_remote_.empty() || n <= 0) return 0;
  ConsentScratch& scratch = consent_scratch();
  std::vector<uint8_t>& answers = scratch.answers;
  std::vector<UdpSendItem>& items = scratch.items;
  items.clear();
  int consumed = 0;
  if (answers.size() < static_cast<size_t>(n) * kStunConsentAnswerMax) answers.resize(static_cast<size_t>(n) * kStunConsentAnswerMax);
  if (items.capacity() < static_cast<size_t>(n)) items.reserve(static_cast<size_t>(n));
  int answered = 0;
  for (int i = 0; i < n; ++i) {
    const uint8_t* data = udp_slot_data(target, i);
    const uint32_t length = target.lengths[i];
    if (status[i] != kRecvNotRouted || length == 0 || data[0] > 3) continue;  // STUN only (RFC 7983)
    const UdpRemoteKey source = udp_remote_key(target.addresses + static_cast<size_t>(i) * 16, target.ports[i], target.families[i]);
    auto r = by_remote_.find(source);
    if (r == by_remote_.end()) continue;
    auto it = entries_.find(r->second);
    if (it == entries_.end()) continue;
    Entry& e = it->second;
    if (e.checks && data[0] == 0x01) {
      // A response: to one of our consent checks, or left to the agent (which drops what it did not ask for).
      if (match_response(*e.checks, data, length, now_us)) {
        status[i] = kRecvConsentAnswered;
        counters_.responses_verified += 1;
        ++e.checks->verified;
        e.checks->last_verified_us = now_us;
        mark_dirty(r->second, e.dirty);
        ++consumed;
      }
      continue;
    }
    const StunConsentCredentials creds{e.username, e.key.get(), e.controlling};
    uint8_t* out = answers.data() + items.size() * kStunConsentAnswerMax;
    bool nominating = false;
    const size_t written = stun_consent_answer(data, length, creds, source, out, &nominating);
    if (written == 0) {
      // Only Binding requests: responses to our own checks and indications (keepalives) are not consent checks.
      if (length >= 2 && data[0] == 0x00 && data[1] == 0x01) counters_.declined += 1;
      continue;
    }
    items.push_back(UdpSendItem{out, static_cast<uint32_t>(written), reinterpret_cast<const sockaddr*>(&e.destination.storage), e.destination.length});
    status[i] = kRecvConsentAnswered;
    counters_.answered += 1;
    if (nominating) ++e.nominations;
    ++e.answered;
    mark_dirty(r->second, e.dirty);
    ++answered;
  }
  answer_count_ = items.size();
  return answered + consumed;
}

void StunConsentResponder::compact(Checks& c, uint64_t now_us) {
  auto& v = c.outstanding;
  v.erase(std::remove_if(v.begin(), v.end(), [&](const Outstanding& o) { return !o.live || now_us - o.sent_us > c.timeout_us; }), v.end());
  // Give the storage back once at most a quarter of it is in use (a swap, not shrink_to_fit's request),
  // down to kKeptSlots: an answered connection (a check outstanding, perhaps the next) never reallocates.
  if (v.capacity() > kKeptSlots && v.size() * 4 <= v.capacity()) {
    std::vector<Outstanding> kept;
    kept.reserve(std::max(v.size() * 2, kKeptSlots));
    kept.assign(v.begin(), v.end());
    v.swap(kept);
  }
}

StunConsentResponder::Outstanding& StunConsentResponder::free_slot(Checks& c, uint64_t now_us, bool agent) {
  compact(c, now_us);
  if (c.outstanding.capacity() < kKeptSlots) c.outstanding.reserve(kKeptSlots);
  // compact left only live slots: each kind is capped on its own, so the vector stays within both caps.
  Outstanding* oldest = nullptr;
  size_t same_kind = 0;
  for (Outstanding& o : c.outstanding) {
    if (o.agent != agent) continue;
    ++same_kind;
    if (oldest == nullptr || o.sent_us < oldest->sent_us) oldest = &o;
  }
  if (same_kind < (agent ? kStunConsentAgentOutstanding : kStunConsentOutstanding) || oldest == nullptr) return c.outstanding.emplace_back();
  return *oldest;
}

size_t StunConsentResponder::build_checks(const uint32_t* ids, size_t n, uint64_t now_us) {
  ConsentScratch& scratch = consent_scratch();
  std::vector<uint8_t>& check_bytes = scratch.check_bytes;
  std::vector<UdpSendItem>& check_items = scratch.check_items;
  std::vector<uint32_t>& unsent_ids = scratch.unsent;
  check_items.clear();
  unsent_ids.clear();
  unsent_count_ = 0;
  if (n == 0) return 0;
  if (check_bytes.size() < n * kStunConsentCheckMax) check_bytes.resize(n * kStunConsentCheckMax);
  if (check_items.capacity() < n) check_items.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = entries_.find(ids[i]);
    if (it == entries_.end() || !it->second.checks) {
      unsent_ids.push_back(ids[i]);
      continue;
    }
    Entry& e = it->second;
    Checks& c = *e.checks;
    // Transaction ids from the CSPRNG (RFC 8489 §6: uniformly random); no check without one. The id
    // takes a slot only once the check is built, so a failure evicts no outstanding check.
    uint8_t txid[kStunTransactionIdLen];
    const StunConsentCheckParams params{c.username, &c.key, c.priority, e.controlling, c.tie_breaker};
    uint8_t* out = check_bytes.data() + check_items.size() * kStunConsentCheckMax;
    const size_t written = RAND_bytes(txid, static_cast<int>(kStunTransactionIdLen)) == 1 ? stun_consent_check_build(params, txid, out) : 0;
    if (written == 0) {
      unsent_ids.push_back(ids[i]);
      continue;
    }
    Outstanding& slot = free_slot(c, now_us, false);
    std::memcpy(slot.txid, txid, kStunTransactionIdLen);
    slot.sent_us = now_us;
    slot.live = true;
    slot.agent = false;
    check_items.push_back(UdpSendItem{out, static_cast<uint32_t>(written), reinterpret_cast<const sockaddr*>(&e.destination.storage), e.destination.length});
    counters_.checks_sent += 1;
  }
  unsent_count_ = unsent_ids.size();
  return check_items.size();
}

bool StunConsentResponder::note_agent_check(uint32_t id, const uint8_t* msg, size_t len, uint64_t now_us) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.checks) return false;
  if (len < kStunHeaderLen || ReadU16(msg) != kStunBindingRequest || ReadU32(msg + 4) != kStunMagicCookie) return false;
  Checks& c = *it->second.checks;
  // A retransmission (RFC 8489 §6.2.1: same transaction id) refreshes its live slot instead of taking another.
  for (Outstanding& o : c.outstanding) {
    if (o.live && o.agent && now_us - o.sent_us <= c.timeout_us && std::memcmp(o.txid, msg + 8, kStunTransactionIdLen) == 0) {
      o.sent_us = now_us;
      return true;
    }
  }
  Outstanding& slot = free_slot(c, now_us, true);
  std::memcpy(slot.txid, msg + 8, kStunTransactionIdLen);
  slot.sent_us = now_us;
  slot.live = true;
  slot.agent = true;
  return true;
}

const UdpSendItem* StunConsentResponder::responses() const { return consent_scratch().items.data(); }
const UdpSendItem* StunConsentResponder::checks() const { return consent_scratch().check_items.data(); }
const uint32_t* StunConsentResponder::unsent() const { return consent_scratch().unsent.data(); }

size_t StunConsentResponder::outstanding_capacity(uint32_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() || !it->second.checks ? 0 : it->second.checks->outstanding.capacity();
}

size_t StunConsentResponder::take_answered(uint32_t* out, size_t max_entries, uint64_t now_us) {
  size_t written = 0;
  size_t kept = 0;
  for (size_t i = 0; i < dirty_.size(); ++i) {
    const uint32_t id = dirty_[i];
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;  // removed since: its counts went with it
    if (written == max_entries) {
      dirty_[kept++] = id;
      continue;
    }
    Entry& e = it->second;
    uint32_t* o = out + kStunConsentTakeStride * written;
    o[0] = id;
    o[1] = e.answered;
    o[2] = e.nominations;
    o[3] = e.checks ? e.checks->verified : 0;
    o[4] = kStunConsentNoResponse;
    if (e.checks && e.checks->verified > 0) {
      const uint64_t age_ms = now_us >= e.checks->last_verified_us ? (now_us - e.checks->last_verified_us) / 1000 : 0;
      o[4] = age_ms < kStunConsentNoResponse ? static_cast<uint32_t>(age_ms) : kStunConsentNoResponse - 1;
      e.checks->verified = 0;
    }
    e.answered = 0;
    e.nominations = 0;
    e.dirty = false;
    ++written;
  }
  dirty_.resize(kept);
  return written;
}

}  // namespace pwt
