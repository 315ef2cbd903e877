// The SFU forwarding engine (docs/sfu.md): rules installed from JavaScript say which received
// streams (producers: the SRTP session that unprotected them + SSRC) go to which consumers; inside
// the UDP receive batch each packet is copied per consumer, rewritten (forward_rtp_rewrite.hpp),
// protected with the consumer transport's SRTP session (RFC 3711 §3.3) and handed to a sink that
// sends the whole flush with sendmmsg/GSO. No allocation, JS call or syscall per packet here.
// Plain and pipe transports (docs/scaling.md) take part too: a producer's source may be a
// ForwardPlainSource (clear RTP from a plain socket) and a transport may send in the clear.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "native/forward/forward_arrival_log.hpp"
#include "native/forward/forward_leg_send_log.hpp"
#include "native/forward/forward_send_time_log.hpp"
#include "native/forward/forward_layer_selector.hpp"
#include "native/forward/forward_nack_reader.hpp"
#include "native/forward/forward_packet_cache.hpp"
#include "native/forward/forward_resend_guard.hpp"
#include "native/forward/forward_sent_map.hpp"
#include "native/forward/forward_plain_source.hpp"
#include "native/forward/forward_receive_stats.hpp"
#include "native/forward/forward_receiver_report.hpp"
#include "native/forward/forward_rtcp_compound.hpp"
#include "native/forward/forward_rtp_rewrite.hpp"
#include "native/forward/forward_sender_report.hpp"
#include "native/udp/udp_session_table.hpp"
#include "native/udp/udp_socket.hpp"

namespace pwt {

class SrtpSession;

/** Where a flush of forwarded datagrams goes (the UDP socket binding: sendmmsg, GSO, backpressure). */
class ForwardSink {
 public:
  virtual ~ForwardSink() = default;
  /** Sends `count` protected datagrams in order; the bytes are valid only during the call. */
  virtual void send(const UdpSendItem* items, size_t count) = 0;
  /**
   * A sink whose connection is gone (a TCP leg's connection closed, docs/sfu.md "Legs over TCP"):
   * the engine queues nothing more for it; a transport routed there drops as kSinkClosed until it
   * is routed elsewhere. One flag read per packet, no virtual call.
   */
  bool closed() const { return closed_; }
  /** Marks the sink closed for good (its owner calls this when the connection ends). */
  void close() { closed_ = true; }

 private:
  bool closed_ = false;
};

/** Engine-wide counters; indexes into a shared array read by JavaScript. */
enum ForwardCounter : int {
  kFwdPacketsIn = 0,      // received packets that matched a producer
  kFwdBytesIn,
  kFwdForwarded,          // datagrams queued to consumers (one per packet per consumer)
  kFwdBytesOut,
  kFwdFlushes,            // sink calls
  kFwdBatches,            // receive batches that held producer packets
  kFwdBatchesWithoutJs,   // of those, batches the engine consumed entirely (no JavaScript call)
  kFwdTapped,             // producer packets also delivered to JavaScript (tap on)
  kFwdNackRequested,      // sequence numbers consumers asked for again (NACK)
  kFwdRetransmitted,      // of those, answered from a producer's cache (as RTX when negotiated)
  kFwdNackMissed,         // not answered: not cached (any more), or the consumer rebased since (a
                          // consumer without a producer counts under kFwdNackUnknownProducer instead)
  kFwdDropBase,           // + ForwardDrop: per-consumer drops by reason
  // After the drops (JavaScript finds them at kFwdDropBase + the number of drop names):
  kFwdLayerSwitches = kFwdDropBase + static_cast<int>(kForwardDropCount),  // completed layer switches
  kFwdRepairDropped,      // packets of a producer's RTX (repaired-rid) streams, dropped
  kFwdSenderReports,      // SR + SDES compound packets sent on consumer legs (send_sender_reports)
  // Subscribers' RTCP read by read_receiver_reports (docs/sfu.md "RTCP per leg"):
  kFwdReportBlocks,       // report blocks about a consumer leg of the transport, kept in its counters
  kFwdReportBlocksUnknownSsrc,  // report blocks about an SSRC that is no consumer of the transport
  kFwdRtcpMalformed,      // compounds whose walk stopped at a malformed header or a lying report count
  kFwdRoundTrips,         // round-trip times measured from an LSR/DLSR against a natively sent SR
  kFwdNackUnknownProducer,  // NACKed numbers of a consumer whose producer is closed/removed (not misses)
  kFwdReportBlocksSkipped,  // report blocks past kMaxReportBlocksPerCompound of one compound, not read
  // Subscribers' compounds consumed in the receive batch (docs/sfu.md "What a subscriber's RTCP costs"):
  kFwdRtcpConsumed,       // compounds of a transport with native RTCP on, consumed without JavaScript
  kFwdRtcpToJs,           // compounds of such a transport left to JavaScript (a kind or an SSRC it keeps)
  kFwdKeyFrameRequests,   // PLI/FIR entries naming a consumer, in consumed compounds
  kFwdTransportFeedback,  // transport-cc and REMB packets in consumed compounds (nothing in JS reads them)
  kFwdReceiverReferenceTimes,  // XR RRTR packets (RFC 3611 §4.4) in consumed compounds, kept for a DLRR
  kFwdDlrrSent,           // of those, answered by a DLRR (§4.5): in a leg's natively sent SR, or taken for the report JavaScript builds (idle leg)
  kFwdCounterCount,
};

/** Per-producer counters (ProducerStats order in JavaScript). */
struct ForwardProducerCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t forwarded = 0;  // copies queued to consumers
  uint32_t last_sequence = 0;
  uint32_t last_timestamp = 0;
  uint64_t cached = 0;  // packets stored in the NACK cache
  ForwardReceiveStats receive;  // RFC 3550 §A.1/§A.8, for the receiver reports towards the publisher
  uint64_t rtx_received = 0;  // RTX packets of its unwrapped RTX SSRC restored into the stream (RFC 4588 §4)
  uint64_t rtx_dropped = 0;   // of that SSRC: wrong payload type or no room for an OSN, dropped
};

/** Per-consumer counters (ConsumerStats order in JavaScript). */
struct ForwardConsumerCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // protected bytes sent
  uint64_t dropped[kForwardDropCount] = {};
  uint64_t nacks = 0;            // sequence numbers this consumer asked for again
  uint64_t retransmitted = 0;    // answered from the producer's cache
  // What the leg's sender report needs (RFC 3550 §6.4.1): payload octets sent, and the last
  // rewritten RTP timestamp with its send time (monotonic µs; 0 before the first packet).
  uint64_t payload_bytes = 0;
  uint32_t last_timestamp = 0;
  uint64_t last_sent_us = 0;
  // Feedback about this leg read in compounds the engine consumed (not the ones JavaScript got):
  uint64_t nack_packets = 0;  // generic NACK packets (W3C outbound-rtp nackCount)
  uint64_t plis = 0;
  uint64_t firs = 0;
};

/**
 * Where retransmit_compound writes the numbers its producers' caches did not hold (a pipe producer
 * asks upstream for them, docs/scaling.md): per miss, the consumer, the producer-space sequence
 * number and its spatial layer. Misses past `capacity` are counted in `overflow`, not written.
 */
struct ForwardNackMisses {
  uint32_t* consumers = nullptr;
  uint16_t* seqs = nullptr;
  uint8_t* layers = nullptr;
  size_t capacity = 0;
  size_t count = 0;
  size_t overflow = 0;
};

/** Payload type, extension, clock and SSRC settings of a new consumer (see ForwardRewriteState). */
using ForwardConsumerParams = ForwardRewriteState;

class ForwardEngine {
 public:
  /** Room a send slot keeps after the packet for the SRTP tag. */
  static constexpr size_t kSrtpRoom = 32;
  /** Most ids of each kind (transports, producers, consumers). */
  static constexpr uint32_t kMaxIds = 1u << 20;

  /** `slots` send slots of `slot_bytes` (largest forwarded packet + kSrtpRoom), allocated once. */
  explicit ForwardEngine(size_t slots = 256, size_t slot_bytes = 2048 + kSrtpRoom);
  ForwardEngine(const ForwardEngine&) = delete;
  ForwardEngine& operator=(const ForwardEngine&) = delete;

  /**
   * A consumer transport: the session that protects towards it and its address. Its datagrams go to
   * `sink` (null: the sink of the batch or retransmission that produced them). 0 on failure.
   */
  uint32_t add_transport(SrtpSession* session, const sockaddr* address, socklen_t length, ForwardSink* sink = nullptr);
  /**
   * A plain or pipe transport (docs/scaling.md): sends to `remote`'s current remote address (none
   * yet: dropped as kNoTransport), protected by `session` when given, in the clear otherwise, through
   * `sink` (the transport's own socket). 0 on failure.
   */
  uint32_t add_plain_transport(const ForwardPlainSource* remote, SrtpSession* session, ForwardSink* sink);
  bool set_transport_address(uint32_t id, const sockaddr* address, socklen_t length);
  /**
   * Moves a consumer transport (not a plain one) onto another route: the session that protects
   * towards it, its address and its sink (null: the caller's sink). The subscriber's selected pair
   * moved between the shared UDP port and a TCP connection, or onto another TCP connection, or its
   * TCP route was rebuilt (docs/sfu.md "Legs over TCP"). Sequence and transport-cc state stay.
   */
  bool set_transport_route(uint32_t id, SrtpSession* session, const sockaddr* address, socklen_t length, ForwardSink* sink);
  /** Removes the transport; its consumers drop as kNoTransport until removed. */
  bool remove_transport(uint32_t id);

  /**
   * A producer: RTP with `ssrc` from `source`: the SrtpSession that unprotected it (a publisher
   * connection, an SRTP pipe) or the ForwardPlainSource that admitted it in the clear. `tap` also
   * delivers its packets to JavaScript; `cache_packets` > 0 keeps the last packets (rounded up to a
   * power of two, at most 32768) to answer NACKs. 0 on failure or when the pair is already a producer.
   */
  uint32_t add_producer(const void* source, uint32_t ssrc, bool tap, size_t cache_packets = 0);
  bool set_producer_tap(uint32_t id, bool tap);
  /** The producer codec's RTP clock rate, for the interarrival jitter of its receive stats. */
  bool set_producer_clock_rate(uint32_t id, uint32_t clock_rate);
  /**
   * Logs the transport-wide sequence number (extension `ext_id` on the publisher's connection) and
   * arrival time of each of the producer's packets, for transport-cc feedback (0: off).
   */
  bool set_producer_transport_cc(uint32_t id, uint8_t ext_id);
  /** The producer's arrival log (nullptr when unknown). */
  /**
   * Logs the producer's consumed packets (not RTX) with the abs-send-time element `ext_id` (0: stop
   * logging), for REMB towards the publisher; false for an unknown producer.
   */
  bool set_producer_abs_send_time(uint32_t id, uint8_t ext_id);
  ForwardSendTimeLog* producer_send_times(uint32_t id);
  /** Transport `id`'s transport-cc send records (docs/sfu.md "Automatic layer selection"); null if none. */
  ForwardLegSendLog* transport_send_log(uint32_t id);
  ForwardArrivalLog* producer_arrivals(uint32_t id);
  /** Removes the producer; its consumers stay and forward nothing until switched. */
  bool remove_producer(uint32_t id);

  /** Most spatial layers of one producer. */
  static constexpr uint8_t kMaxLayers = 8;
  /**
   * A simulcast producer of `layers` (2..kMaxLayers) spatial layers, lowest resolution first, none
   * bound yet (set_producer_layer binds each as its SSRC becomes known). 0 on failure.
   */
  uint32_t add_simulcast_producer(SrtpSession* source, uint8_t layers, bool tap, size_t cache_packets = 0);
  /** Binds `ssrc` (from the producer's source) as spatial layer `layer`; false if taken or out of range. */
  bool set_producer_layer(uint32_t id, uint8_t layer, uint32_t ssrc);
  /** An RTX (repaired-rid) SSRC of the producer: its packets are dropped and counted (kFwdRepairDropped). */
  bool add_producer_repair_ssrc(uint32_t id, uint32_t ssrc);
  /**
   * The producer's RTX stream (RFC 4588, a pipe's, docs/scaling.md "RTX on pipes"): packets with
   * `rtx_ssrc` and `rtx_payload_type` from its source are unwrapped into the original stream (OSN,
   * the producer's SSRC, `original_payload_type`) and then cached and forwarded like it; other
   * payload types and payloads without an OSN are dropped and counted. False when taken or unknown.
   */
  bool add_producer_rtx(uint32_t id, uint32_t rtx_ssrc, uint8_t rtx_payload_type, uint8_t original_payload_type);
  /** Codec per producer payload type (ForwardLayerCodec values, 128 bytes) for layer selection. */
  bool set_producer_codecs(uint32_t id, const uint8_t* codecs);

  /** A consumer of `producer` on `transport`; 0 when either is unknown or the ssrc is 0. */
  uint32_t add_consumer(uint32_t producer, uint32_t transport, const ForwardConsumerParams& params);
  bool remove_consumer(uint32_t id);
  /** Pause drops (counted as kPaused); resume rebases sequence and timestamp continuity. */
  bool set_consumer_paused(uint32_t id, bool paused);
  /** Switches the consumer to another producer (0: none); continuity is kept across the switch. */
  bool set_consumer_producer(uint32_t id, uint32_t producer);
  /**
   * Consumer `id` (new, nothing sent yet) takes over the numbering of consumer `from`, which sent on
   * the same transport and SSRC and is about to be removed: its first packet continues at `from`'s
   * last sequence number + 1, timestamp advanced by the wall time since, RTX sequence and VP8
   * PictureID/TL0PICIDX continue too (as after a pause), and so do the packet and octet counts of
   * its sender reports. A receiver's SRTP replay window and jitter buffer see one stream. False when either is unknown, they are one consumer, `id` already sent,
   * or the transport or SSRC differ.
   */
  bool continue_consumer_numbering(uint32_t id, uint32_t from);
  /**
   * The consumer's target layers (forward_layer_selector.hpp): a spatial layer of its producer and a
   * VP8 temporal layer (ForwardLayerState::kMaxTemporal: all). False for an unknown consumer or a
   * spatial layer the producer does not have.
   */
  bool set_consumer_layers(uint32_t id, uint8_t spatial, uint8_t temporal);
  /**
   * The round-trip time of the consumer's leg from its RTCP (RR/XR, measured by the policy layer),
   * in µs (0: unknown, ForwardResendGuard's default applies): a NACKed packet is resent to the
   * consumer at most once per round trip. False for an unknown consumer.
   */
  bool set_consumer_round_trip_time(uint32_t id, uint32_t rtt_us);
  /**
   * The CNAME the consumer leg's sender reports carry (its subscriber connection's, RFC 3550
   * §6.5.1); stored once, not per report. False for an unknown consumer or more than kForwardCnameMax bytes.
   */
  bool set_consumer_cname(uint32_t id, const uint8_t* cname, size_t length);
  /**
   * The consumer's pending RRTR (RFC 3611 §4.4, consumed by ConsumeRtcp and not yet answered by a
   * DLRR in a natively sent SR), taken for the leg's reporter to answer in the report it builds in
   * JavaScript (an idle leg: nothing forwarded, no native SR): `*item` gets the RRTR sender's SSRC,
   * its LRR and the delay since it arrived (§4.5, 1/65536 s, at `now_us`). Counted as a DLRR sent.
   * False (nothing written) for an unknown consumer or none pending.
   */
  bool take_consumer_receiver_reference_time(uint32_t id, uint64_t now_us, ForwardDlrrItem* item);
  /**
   * Sends one RTCP compound SR + SDES CNAME (RFC 3550 §6.1, §6.4.1, §6.5.1) on each consumer leg of
   * `ids`, which the policy layer found due: the leg's SSRC, packet and payload octet counts from its
   * counters, the NTP time of `unix_ms[i]` (the leg's wall clock) and the RTP timestamp that
   * corresponds to `now_us` on the leg's rewritten stream (last rewritten timestamp + the time since
   * it left). Each is protected with the leg transport's SRTCP context (RFC 3711 §3.4) and flushed
   * with the forwarded packets' path (`sink` unless the transport has its own). A leg that is unknown,
   * has sent nothing yet, has no route or fails to protect is skipped; with
   * `sent` (room for n), sent[i] is 1 for a leg whose report left and 0 otherwise. Returns how many left.
   */
  size_t send_sender_reports(const uint32_t* ids, const double* unix_ms, size_t n, uint64_t now_us, ForwardSink& sink,
                             uint8_t* sent = nullptr);
  /** The consumer's layer state (current/target layers, switches); nullptr when unknown. */
  const ForwardLayerState* consumer_layers(uint32_t id) const;
  /** The consumer's producer id (0: none or unknown consumer). */
  uint32_t consumer_producer(uint32_t id) const;
  /** Highest VP8 temporal layer seen on the producer's spatial layer (0 when none seen). */
  uint8_t producer_max_temporal(uint32_t id, uint8_t layer) const;
  /**
   * Packets accepted on each spatial layer of the producer (lowest first, RTX not counted), at most
   * `max` of them written to `out`; returns the number of layers written (0: unknown producer).
   */
  uint8_t producer_layer_packets(uint32_t id, uint64_t* out, uint8_t max) const;
  /**
   * RFC 3550 §A.1/§A.8 receive state of one spatial layer's SSRC (every producer has layer 0; a
   * simulcast producer one per layer), with the layer's bytes; null for an unknown producer or layer.
   */
  const ForwardReceiveStats* producer_layer_receive(uint32_t id, uint8_t layer, uint64_t* bytes) const;
  /**
   * Bytes received on spatial layer `layer` by VP8 temporal layer (out[0..3], TID 0..3) while the
   * producer was layer-aware; false for an unknown producer or layer.
   */
  bool producer_layer_temporal_bytes(uint32_t id, uint8_t layer, uint64_t out[4]) const;

  /**
   * Forwards the producer packets of receive slots [0, n): `status` is the per-slot outcome of
   * UdpSessionTable::unprotect_batch and `table` that table; forwarded slots become
   * kRecvForwarded unless their producer taps. With `clear_source` (a plain socket's
   * ForwardPlainSource), every clear slot comes from that source instead of a table route; else with
   * `slot_sessions` (the `sessions` output of that unprotect_batch) slot i comes from slot_sessions[i]
   * and the 5-tuple is not hashed again; else from `table`'s route for its source address.
   * Returns the number of slots consumed.
   */
  int process_batch(const UdpRecvTarget& target, int n, uint8_t* status, UdpSessionTable& table, uint64_t now_us,
                    ForwardSink& sink, const void* clear_source = nullptr, SrtpSession* const* slot_sessions = nullptr);

  /**
   * Answers a NACK from consumer `id` (RFC 4585 §6.2.1) for the consumer-space sequence numbers
   * `seqs` from its producer's cache: rewritten as for the original send, as RTX (RFC 4588) when the
   * consumer negotiated it, protected and flushed to `sink`. Returns the packets sent. With
   * `missed` (room for n), the producer-space numbers not found in the cache are written there and
   * counted in `*missed_count` (a pipe producer asks upstream for them, docs/scaling.md); with
   * `missed_layers` (room for n), the spatial layer each missed number belongs to is written beside
   * it, so the request upstream names that layer's SSRC (docs/sfu.md "Retransmission"). A packet
   * already resent to this consumer within its round trip is not resent again: dropped as
   * kResendWithinRtt (neither sent nor missed).
   */
  size_t retransmit(uint32_t id, const uint16_t* seqs, size_t n, uint64_t now_us, ForwardSink& sink,
                    uint16_t* missed = nullptr, size_t* missed_count = nullptr, uint8_t* missed_layers = nullptr);
  /**
   * Answers every generic NACK (RFC 4585 §6.2.1) of one compound RTCP packet received on transport
   * `transport` (forward_nack_reader.hpp): each NACK goes to that transport's consumer whose SSRC is
   * its media SSRC, and is answered as retransmit() does; NACKs for other SSRCs and for paused
   * consumers are left alone (not counted). One flush for the whole compound. With `misses`, the
   * numbers not cached are written there. Returns the packets sent.
   */
  size_t retransmit_compound(uint32_t transport, const uint8_t* rtcp, size_t length, uint64_t now_us, ForwardSink& sink,
                             ForwardNackMisses* misses = nullptr);
  /**
   * Reads the report blocks (RFC 3550 §6.4.1/§6.4.2) of one compound RTCP packet received on
   * transport `transport` (forward_receiver_report.hpp): each block about one of the transport's
   * consumers' SSRCs updates that consumer's ForwardLegReceiverReport; an LSR that echoes one of the
   * leg's natively sent SRs measures its round-trip time, whose smoothed value (srtt_us) becomes the
   * consumer's resend interval RTT. `now_us` is when the compound arrived (the datagram's receive
   * time, monotonic µs). The consumer is found by SSRC in one hash lookup per block; blocks about
   * other SSRCs, blocks past kMaxReportBlocksPerCompound and malformed compounds are counted. No
   * flush, no send. Returns the blocks applied.
   */
  size_t read_receiver_reports(uint32_t transport, const uint8_t* rtcp, size_t length, uint64_t now_us);
  /**
   * Lets process_batch consume the compound RTCP packets the transport's subscriber sends (found by
   * the SRTP session that unprotected them) when every packet in one is of a kind in `kinds`
   * (ForwardRtcpKind bits; 0: none, every compound goes to JavaScript) and every report block,
   * NACK, PLI and FIR names one of the transport's consumers. Report blocks go to
   * read_receiver_reports, NACKs to retransmit_compound, PLI/FIR become keyframe requests
   * (take_keyframe_requests), transport-cc/REMB are counted. A plain transport: false.
   */
  bool set_transport_rtcp_kinds(uint32_t id, uint32_t kinds);
  /**
   * Consumers whose subscriber asked for a keyframe (PLI/FIR in a consumed compound) since the last
   * call, as pairs (consumer id, requests) into out[0, 2 * pairs), at most `pairs`; returns how many
   * pairs. The rest stay queued.
   */
  size_t take_keyframe_requests(uint32_t* out, size_t pairs);
  /**
   * Report blocks read from one compound at most: a legal compound in one MTU holds about 50 (31 per
   * RR); the rest of a longer one is counted under kFwdReportBlocksSkipped, unread.
   */
  static constexpr size_t kMaxReportBlocksPerCompound = 64;
  /** What the consumer's leg learnt from its subscriber's report blocks; nullptr when unknown. */
  const ForwardLegReceiverReport* consumer_receiver_report(uint32_t id) const;
  /**
   * The consumer's resend interval (µs, ForwardResendGuard::interval_us of its RTT) and the RTT it
   * came from (µs, 0: unknown); false for an unknown consumer.
   */
  bool consumer_resend_interval(uint32_t id, uint64_t* interval_us, uint32_t* rtt_us) const;

  /** Counters, kFwdCounterCount doubles; the binding points it at memory JavaScript reads. */
  void set_counters(double* counters) { counters_ = counters ? counters : own_counters_; }
  const double* counters() const { return counters_; }
  const ForwardProducerCounters* producer_counters(uint32_t id) const;
  const ForwardConsumerCounters* consumer_counters(uint32_t id) const;
  bool has_producers() const { return !producer_index_.empty(); }
  /**
   * Whether process_batch can consume anything: a producer's RTP, or a subscriber's RTCP on a
   * transport that lets the engine keep it (set_transport_rtcp_kinds). The latter needs no producer:
   * a leg whose consumers' producer closed (or that has none yet) still reports and asks for
   * keyframes, and those compounds must not wake JavaScript (docs/sfu.md "What a subscriber's RTCP costs").
   */
  bool has_batch_work() const { return !producer_index_.empty() || !rtcp_transports_.empty(); }

 private:
  struct Transport {
    bool used = false;
    SrtpSession* session = nullptr;  // null: clear (plain transports only)
    const ForwardPlainSource* plain = nullptr;  // plain/pipe: the destination is its remote
    ForwardSink* sink = nullptr;  // null: the caller's sink
    sockaddr_storage address{};
    socklen_t length = 0;
    uint16_t transport_seq = 1;
    // Transport-cc send records for a send-side estimate (enabled on demand, docs/sfu.md).
    ForwardLegSendLog send_log;
    // Its consumers, to find the one a NACK's media SSRC names (retransmit_compound).
    std::vector<uint32_t> consumers;
    // The same consumers by their leg's SSRC (fixed per consumer), for report blocks: one lookup per
    // block whatever the number of consumers (read_receiver_reports). Two consumers of one transport
    // with one SSRC: the first added is named, as in `consumers` order.
    std::unordered_map<uint32_t, uint32_t> consumer_by_ssrc;
    // ForwardRtcpKind bits of the subscriber's RTCP the engine may consume (set_transport_rtcp_kinds).
    uint32_t rtcp_kinds = 0;
  };
  struct Layer {
    bool bound = false;
    uint32_t ssrc = 0;
    uint8_t max_tid = 0;
    uint64_t packets = 0;  // SRTP-authenticated packets accepted on this layer (RTX not counted)
    uint64_t bytes = 0;    // their bytes, RTP headers included
    // The same bytes by VP8 temporal layer (TID 0..3; a packet without a TID counts as 0), kept
    // while the producer is layer-aware: the automatic layer choice reads each layer's bitrate.
    uint64_t temporal_bytes[4] = {};
    // RFC 3550 §A.1/§A.8 of this layer's SSRC, for its own block in the RR towards the publisher.
    ForwardReceiveStats receive;
    ForwardPacketCache cache;
  };
  struct Producer {
    bool used = false;
    const void* source = nullptr;
    uint32_t ssrc = 0;
    bool tap = false;
    bool simulcast = false;
    /** Packets are inspected for layer selection (simulcast, or a consumer selects temporal layers). */
    bool layer_aware = false;
    uint8_t layer_count = 1;
    size_t cache_packets = 0;
    std::vector<uint32_t> consumers;
    std::vector<Layer> layers;
    std::vector<uint32_t> repair_ssrcs;  // RTX SSRCs too (index entries to remove with the producer)
    uint8_t rtx_payload_type = 0;
    uint8_t rtx_original_payload_type = 0;
    uint8_t codecs[128] = {};
    ForwardProducerCounters counters;
    uint8_t transport_cc_id = 0;
    ForwardArrivalLog arrivals;
    uint8_t abs_send_time_id = 0;  // REMB: log each packet's abs-send-time (docs/sfu.md)
    ForwardSendTimeLog send_times;
  };
  struct Consumer {
    bool used = false;
    uint32_t producer = 0;
    uint32_t transport = 0;
    bool paused = false;
    ForwardRewriteState rewrite;
    ForwardLayerState layers;
    ForwardConsumerCounters counters;
    /**
     * Packets and payload octets the consumers it continues (continue_consumer_numbering) sent on
     * its SSRC: its sender reports count from there (RFC 3550 §6.4.1 resets them only with the SSRC).
     */
    uint64_t reported_packets_before = 0;
    uint64_t reported_octets_before = 0;
    /** While it selects layers: what it got under each sequence number, for NACKs (forward_sent_map.hpp). */
    ForwardSentMap sent;
    /** When each recent NACKed packet was resent to it, and the leg's RTT (µs, 0: unknown). */
    ForwardResendGuard resends;
    uint32_t rtt_us = 0;
    /** The CNAME of its sender reports (set once by set_consumer_cname). */
    std::string cname;
    /** Its subscriber's report blocks about it and its natively sent SRs' times (read_receiver_reports). */
    ForwardLegReceiverReport report;
    /** PLI/FIR entries in consumed compounds not taken yet (queued in keyframe_requests_ while non-zero). */
    uint32_t keyframe_pending = 0;
    /**
     * The last RRTR (RFC 3611 §4.4) its subscriber sent in a consumed compound, not answered yet: the
     * next SR send_sender_reports sends on the leg carries a DLRR about it (§4.5), then it is cleared.
     */
    bool rrtr_pending = false;
    uint32_t rrtr_ssrc = 0;
    uint32_t rrtr_last_rr = 0;
    uint64_t rrtr_arrived_us = 0;
    /** The DLRR item (§4.5) that answers the pending RRTR at `now_us`, in a native SR or for JavaScript's report. */
    ForwardDlrrItem dlrr_at(uint64_t now_us) const {
      ForwardDlrrItem item;
      item.ssrc = rrtr_ssrc;
      item.last_rr = rrtr_last_rr;
      item.delay_since_last_rr = forward_delay_units(now_us > rrtr_arrived_us ? now_us - rrtr_arrived_us : 0);
      return item;
    }
  };
  struct ProducerRoute {
    uint32_t id;
    uint8_t layer;
    bool repair;
    bool rtx = false;  // an RTX SSRC to unwrap (add_producer_rtx), not dropped
  };
  struct ProducerKey {
    const void* source;  // an SrtpSession or a ForwardPlainSource
    uint32_t ssrc;
    bool operator==(const ProducerKey& o) const { return source == o.source && ssrc == o.ssrc; }
  };
  struct ProducerKeyHash {
    size_t operator()(const ProducerKey& k) const;
  };

  template <typename T>
  static uint32_t Allocate(std::vector<T>& table, std::vector<uint32_t>& free_ids);
  template <typename T>
  static T* Find(std::vector<T>& table, uint32_t id);
  template <typename T>
  static const T* Find(const std::vector<T>& table, uint32_t id);
  void Detach(uint32_t consumer_id, uint32_t producer_id);
  void ForwardTo(Consumer& consumer, const uint8_t* data, size_t len, uint64_t now_us, ForwardSink& sink,
                 const ForwardLayerPacket* info, uint8_t layer);
  /** `as_sent`: the packet's numbering from the consumer's sent map; nullptr: the current offsets. */
  bool Retransmit(Consumer& consumer, const Producer& producer, const uint8_t* data, size_t len, uint64_t now_us,
                  ForwardSink& sink, const ForwardSentEntry* as_sent);
  /** One NACKed consumer-space number of consumer `id`: resent, held back or missed (no flush); true when sent. */
  bool AnswerNack(uint32_t id, Consumer& consumer, uint16_t seq, uint64_t now_us, ForwardSink& sink,
                  ForwardNackMisses* misses);
  /** A consumer that selects layers keeps a sent map as long as the producer's cache (allocated once). */
  static void KeepSentMap(Consumer& consumer, const Producer& producer);
  uint32_t NewProducer(const void* source, uint8_t layers, bool tap, size_t cache_packets);
  void Flush(ForwardSink& sink);
  /** Where a transport's datagrams go now; false when it has none (or no session and no remote). */
  static bool Destination(const Transport& t, const sockaddr** address, socklen_t* length);
  void Drop(Consumer& consumer, ForwardDrop reason);
  /** A subscriber's compound in receive slot data[0, len) of transport `id`: true when consumed. */
  bool ConsumeRtcp(uint32_t id, Transport& t, const uint8_t* data, size_t len, uint64_t arrived_us, ForwardSink& sink);
  /** Keeps the session → transport map of transports with native RTCP in step with `t`. */
  void IndexRtcpTransport(uint32_t id, const Transport& t, bool add);

  std::vector<Transport> transports_;
  std::vector<Producer> producers_;
  std::vector<Consumer> consumers_;
  std::vector<uint32_t> free_transports_, free_producers_, free_consumers_;
  std::unordered_map<ProducerKey, ProducerRoute, ProducerKeyHash> producer_index_;
  // Transports whose subscriber's RTCP the engine may consume, by the SRTP session that unprotects it.
  std::unordered_map<const void*, uint32_t> rtcp_transports_;
  // Consumers asked for a keyframe (take_keyframe_requests); each once (Consumer::keyframe_pending).
  std::vector<uint32_t> keyframe_requests_;
  ForwardRtcpCompound rtcp_compound_;
  // Send slots and the items of the current flush, allocated once.
  std::vector<uint8_t> out_;
  size_t slot_bytes_;
  size_t slots_;
  size_t used_ = 0;
  std::vector<UdpSendItem> items_;
  std::vector<ForwardSink*> item_sinks_;  // per item: where it goes (runs share one send call)
  // Per receive slot of the current batch: its producer id (0: none).
  uint32_t slot_producer_[UdpSocket::kMaxBatch] = {};
  uint8_t slot_layer_[UdpSocket::kMaxBatch] = {};
  ForwardLayerPacket slot_info_[UdpSocket::kMaxBatch];
  double own_counters_[kFwdCounterCount] = {};
  double* counters_ = own_counters_;
};

}  // namespace pwt
