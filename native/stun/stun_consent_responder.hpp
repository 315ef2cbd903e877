// Native answers to consent checks (RFC 7675 §5.1, RFC 8445 §7.3.1) on a connection's selected pair:
// a Binding request from the pair's remote, with USERNAME "local:remote", valid MESSAGE-INTEGRITY
// (RFC 8489 §14.5) and FINGERPRINT (§14.7), is answered inside the receive batch (docs/ice.md
// "Consent checks answered natively"). Anything else is left to the ICE agent in JavaScript. A
// registration may also send the connection's own consent checks and verify their success responses
// (RFC 7675 §5.1; docs/ice.md "Consent checks sent natively").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "native/srtp/srtp_cipher.hpp"
#include "native/stun/stun_consent_check.hpp"
#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {

/** Largest answer: header 20 + XOR-MAPPED-ADDRESS (IPv6) 24 + MESSAGE-INTEGRITY 24 + FINGERPRINT 8. */
constexpr size_t kStunConsentAnswerMax = 76;

/** What one connection's agent would check a request against (its selected pair, its role). */
struct StunConsentCredentials {
  std::string username;      // "<local ufrag>:<remote ufrag>" (RFC 8445 §7.2.2)
  const HmacSha1* key;       // keyed with the local password (RFC 8489 §9.2.2)
  bool controlling;          // our ICE role (RFC 8445 §6.1.1)
};

/**
 * Answers one Binding request as the agent would for a pair it already selected: returns the length
 * of the success response written to `out` (at least kStunConsentAnswerMax bytes), or 0 when the
 * agent must see the request: not a well-formed Binding request, a USERNAME other than `username`,
 * MESSAGE-INTEGRITY or FINGERPRINT missing or wrong, the same role attribute as ours or none (role
 * conflict, RFC 8445 §7.3.1.1), USE-CANDIDATE while we are controlling, an unknown
 * comprehension-required attribute (§7.3.1.1's 420 answer), or anything after FINGERPRINT. The
 * response carries the source as XOR-MAPPED-ADDRESS (RFC 8489 §14.2), then MESSAGE-INTEGRITY and
 * FINGERPRINT. USE-CANDIDATE from a controlling peer (libwebrtc sets it on every check of its
 * selected pair) is answered too and reported in `*use_candidate` (when not null), so that the agent
 * applies the nomination (RFC 8445 §7.3.1.5). Reads only `req[0..len)`.
 */
size_t stun_consent_answer(const uint8_t* req, size_t len, const StunConsentCredentials& creds,
                           const UdpRemoteKey& source, uint8_t* out, bool* use_candidate = nullptr) noexcept;

/** Counters of a responder (UdpSocket stats read them). */
struct StunConsentCounters {
  double answered = 0;  // requests answered natively
  double declined = 0;  // Binding requests from a registered remote left to JavaScript (not answerable here)
  double checks_sent = 0;          // our own consent checks sent natively
  double responses_verified = 0;   // their success responses matched and verified (consent refreshed)
  // Verified success responses to a check the agent sent itself (note_agent_check: a fallback check, a
  // triggered check on the selected pair), left to the agent, which matches them: not a drop.
  double responses_to_agent = 0;
  // Binding responses from a registered remote that sends checks, left to JavaScript (the agent drops
  // them): by why they refreshed nothing.
  double responses_unknown_transaction = 0;  // no outstanding check of ours has that transaction id (a replay, a guess, too old)
  double responses_bad_integrity = 0;
  double responses_bad_fingerprint = 0;
  double responses_error = 0;      // error responses (a 487 role conflict included: the agent sees it)
  double responses_malformed = 0;  // truncated or badly laid out
};

/** What a registration needs to send the connection's own consent checks (RFC 8445 §7.2.2). */
struct StunConsentCheckSetup {
  std::string_view remote_password;  // MESSAGE-INTEGRITY key of our checks and their responses
  uint32_t priority;                  // PRIORITY
  const uint8_t* tie_breaker;         // 8 bytes
  uint32_t timeout_ms;                // how long a check is answered for (the consent timeout, RFC 7675 §5.1)
};

/**
 * Most checks of one registration awaiting an answer (RFC 7675 §5.1: an answer to any check sent
 * within the consent timeout counts). A slot is reused once its check is answered or older than the
 * timeout; the agent checks at most once a second after a miss, so 30 s need 31 slots. Only past this
 * many (checks sent faster than that) is the oldest one given up early. Answered and expired slots
 * are dropped at every check and answer, and the storage is given back once at most a quarter of it
 * is in use (down to 2 slots), so a connection that lost its answers for a while returns to 2 slots.
 */
constexpr size_t kStunConsentOutstanding = 64;
/**
 * Most checks the agent in JavaScript sent (note_agent_check) awaiting an answer, per registration, in
 * slots of their own beside the kStunConsentOutstanding native ones: an agent check never takes a
 * native check's slot (whose late answer would then refresh no consent), and past this many the
 * oldest agent slot is reused. A retransmission (same transaction id) refreshes its slot.
 */
constexpr size_t kStunConsentAgentOutstanding = 8;

/** One entry of take_answered's output, in uint32 values. */
constexpr size_t kStunConsentTakeStride = 5;
/** take_answered's age when no verified response arrived since the last take. */
constexpr uint32_t kStunConsentNoResponse = 0xFFFFFFFFu;

/**
 * The registered pairs of one socket, keyed by remote address. A connection registers its selected
 * pair once connected and removes it when the pair changes or it closes; JavaScript collects the
 * answered counts per registration once per tick (`take_answered`).
 */
class StunConsentResponder {
 public:
  StunConsentResponder();
  /**
   * Registers (or replaces, for the same remote) the credentials for requests from `remote`, sent
   * back to `destination`. Returns the registration id (> 0), or 0 for an empty ufrag or password.
   */
  uint32_t add(const UdpRemoteKey& remote, const UdpAddress& destination, std::string_view local_ufrag,
               std::string_view remote_ufrag, std::string_view password, bool controlling,
               const StunConsentCheckSetup* checks = nullptr);
  /** Removes a registration; false when `id` names none. */
  bool remove(uint32_t id);
  bool empty() const { return by_remote_.empty(); }
  size_t size() const { return by_remote_.size(); }

  /**
   * Answers the slots [0, n) whose status is kRecvNotRouted, whose first byte is STUN (0..3, RFC
   * 7983) and whose source is registered; sets their status to kRecvConsentAnswered. A success
   * response from a registration that sends checks, with the transaction id of one of its outstanding
   * checks, valid MESSAGE-INTEGRITY (FINGERPRINT, when present, valid too), is consumed too (same status; the check is no
   * longer outstanding). The answers are in responses() (answer_count() of them) until the next call of
   * answer_batch on any responder of this thread: the bytes are in a scratch area shared by the thread's
   * responders (an own socket's responder keeps no buffers of its own; docs/udp.md "Cost per connection").
   * Returns how many slots it consumed. `now_us`: a monotonic clock.
   */
  int answer_batch(const UdpRecvTarget& target, int n, uint8_t* status, uint64_t now_us = 0);
  const UdpSendItem* responses() const;
  size_t answer_count() const { return answer_count_; }

  /**
   * Builds one consent check for each of `ids` that sends checks, each with a fresh transaction id
   * from OpenSSL's CSPRNG (RAND_bytes), remembered as outstanding once built. The checks are in
   * checks() until the next call (of build_checks on any responder of this thread: thread scratch, as
   * for the answers). Returns how many were built; the ids for which none was (no registration that
   * sends checks, RAND_bytes failed, the username too long to build) are in unsent() (unsent_count()
   * of them) until then, so that the caller sends those otherwise.
   */
  size_t build_checks(const uint32_t* ids, size_t n, uint64_t now_us);
  const UdpSendItem* checks() const;
  const uint32_t* unsent() const;
  size_t unsent_count() const { return unsent_count_; }

  /**
   * Writes (id, answered, of those with USE-CANDIDATE, verified responses, age in ms of the last
   * verified response or kStunConsentNoResponse) entries since the last take for the registrations
   * with anything to report, at most `max_entries`, into `out` (kStunConsentTakeStride × max_entries
   * values); returns the entries written. Registrations not written keep their counts for the next take.
   */
  size_t take_answered(uint32_t* out, size_t max_entries, uint64_t now_us = 0);

  /**
   * The agent in JavaScript sent the Binding request `msg[0..len)` to registration `id`'s remote itself
   * (a check the native side could not send, a triggered or nominating check on the selected pair):
   * its transaction id is remembered like one of ours, so that its verified answer is counted as the
   * agent's (responses_to_agent) and left to it, not counted as a drop. A retransmission (a transaction id
   * still outstanding) refreshes that slot; at most kStunConsentAgentOutstanding agent checks are kept,
   * never at the cost of a native check. False when `id` sends no checks or `msg` is not a Binding request.
   */
  bool note_agent_check(uint32_t id, const uint8_t* msg, size_t len, uint64_t now_us);

  /** Slots allocated for registration `id`'s outstanding checks (0: none or no such id); for tests. */
  size_t outstanding_capacity(uint32_t id) const;

  const StunConsentCounters& counters() const { return counters_; }

 private:
  struct Outstanding {
    uint8_t txid[kStunTransactionIdLen];
    uint64_t sent_us;
    bool live;
    bool agent;  // sent by the agent in JavaScript (note_agent_check): its answer is the agent's
  };
  /** The sending side of a registration (made only for one that sends checks). */
  struct Checks {
    std::string username;  // "<remote ufrag>:<local ufrag>"
    HmacSha1 key;          // the remote password
    uint32_t priority = 0;
    uint8_t tie_breaker[8] = {};
    uint64_t timeout_us = 0;
    std::vector<Outstanding> outstanding;  // up to kStunConsentOutstanding native + kStunConsentAgentOutstanding agent slots
    uint32_t verified = 0;  // since the last take
    uint64_t last_verified_us = 0;
  };
  /**
   * Whether a response from the registration's remote answers an outstanding check and is verified
   * (that check is then no longer outstanding); counts why not otherwise.
   */
  bool match_response(Checks& c, const uint8_t* data, size_t length, uint64_t now_us);
  /**
   * The slot for a new check of that kind (agent or native): a free or expired one, a new one, or at
   * that kind's cap the oldest live slot of the same kind (never one of the other kind).
   */
  static Outstanding& free_slot(Checks& c, uint64_t now_us, bool agent);
  /** Drops answered and expired slots; gives the storage back once at most half of it is in use. */
  static void compact(Checks& c, uint64_t now_us);
  void mark_dirty(uint32_t id, bool& dirty);

  struct Entry {
    UdpRemoteKey remote;
    UdpAddress destination;
    std::string username;
    std::unique_ptr<HmacSha1> key;
    bool controlling = false;
    uint32_t answered = 0;  // since the last take
    uint32_t nominations = 0;  // of those, with USE-CANDIDATE
    bool dirty = false;
    std::unique_ptr<Checks> checks;
  };
  uint32_t next_id_ = 1;
  std::unordered_map<uint32_t, Entry> entries_;
  std::unordered_map<UdpRemoteKey, uint32_t, UdpRemoteKeyHash> by_remote_;
  std::vector<uint32_t> dirty_;  // ids with answered > 0
  // What the last answer_batch/build_checks left in the thread's scratch (ConsentScratch in the .cpp).
  size_t answer_count_ = 0;
  size_t unsent_count_ = 0;
  StunConsentCounters counters_;
};

}  // namespace pwt
