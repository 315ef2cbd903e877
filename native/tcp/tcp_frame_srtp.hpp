// SRTP on TCP frames (docs/udp.md "TCP framing"): unprotects, in place, the RTP/RTCP frames of one
// read (RFC 3711 §3.3/§3.4, RFC 7983 first byte 128..191), stripping a routed TURN channel's
// ChannelData header first (RFC 8656 §12.4); and on send protects clear packets and frames them for
// the stream (RFC 4571 §2 length, or a ChannelData header with §12.5 padding) into one contiguous
// buffer that leaves with one write. No allocation here.
#pragma once
#include <cstddef>
#include <cstdint>

#include "native/tcp/tcp_frame_reader.hpp"
#include "native/udp/udp_session_table.hpp"

namespace pwt {

class SrtpSession;

/** Counters of the TCP SRTP path; indexes into a shared array read by JavaScript. */
enum TcpCounter : int {
  kTcpFramesIn = 0,          // frames split natively
  kTcpBytesIn,               // stream bytes read
  kTcpReads,                 // read calls (one per chunk, more when a chunk fills several batches)
  kTcpSrtpUnprotected,       // frames unprotected in place
  kTcpSrtpRecvDropped,       // frames SRTP refused (reasons counted by the session)
  kTcpChannelDataReceived,   // ChannelData of a routed channel: header stripped
  kTcpChannelDataMalformed,  // ChannelData of a routed channel with a length past its frame (cannot happen framed; counted)
  kTcpFramesOut,             // frames written by the send path
  kTcpBytesOut,
  kTcpSrtpProtected,
  kTcpSrtpProtectFailed,
  kTcpEmptyFrames,           // RFC 4571 frames of length 0, skipped
  kTcpStreamsBroken,         // streams given up: a length past the bound, or garbage
  kTcpForwarded,             // frames a ForwardEngine consumed (docs/sfu.md)
  kTcpCounterCount,
};

/**
 * Unprotects frames [0, n) of `target` with `session` (null: every frame gets kRecvNotRouted).
 * `status[i]` gets a UdpRecvStatus. With `channel` (0x4000..0x4FFF, a TURN stream's routed channel),
 * a ChannelData frame of that channel first loses its 4-byte header (offset and length move, and
 * `relayed[i]` becomes 1); other channels and STUN stay as they are for the TURN client.
 */
void tcp_unprotect_frames(const TcpFrameTarget& target, int n, SrtpSession* session, uint16_t channel, uint8_t* status,
                          uint8_t* relayed, double* counters);

/** Room the send path needs per packet: the largest header (ChannelData 4) + SRTP tag/trailer + padding. */
constexpr size_t kTcpFrameOverhead = 4 + 32 + 3;

/**
 * Protects and frames clear packets `in + offsets[i]` (lengths[i] bytes) into `out` back to back:
 * RFC 4571 (a 16-bit length) or, with `channel`, ChannelData padded to 4 (RFC 8656 §12.5). A packet
 * SRTP refuses is left out and counted (`results[i]` = its SrtpStatus, 0 when framed). Stops when
 * `out` is full. Returns the bytes written; `*framed` the packets taken (sent or refused).
 */
size_t tcp_protect_frames(SrtpSession& session, uint16_t channel, const uint8_t* in, const uint32_t* offsets,
                          const uint32_t* lengths, size_t n, uint8_t* out, size_t out_capacity, uint8_t* results,
                          size_t* framed, double* counters);

}  // namespace pwt
