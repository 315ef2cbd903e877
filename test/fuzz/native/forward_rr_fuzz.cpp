// libFuzzer target: the report blocks of a compound RTCP packet (native/forward/forward_receiver_report.hpp,
// RFC 3550 §6.1, §6.4.1, §6.4.2) read by ForwardEngine::read_receiver_reports (docs/sfu.md "RTCP per
// leg"). Input: the compound's bytes. Set-up: two consumers with SSRCs 0x77 and 0x78 on one plain
// transport. Checks: every block lies inside the input and the walk ends; the engine applies exactly
// the blocks that name 0x77/0x78 among the first kMaxReportBlocksPerCompound, counts the others of
// those as unknown and the rest as skipped; each leg keeps its last (read) block's
// fields; a malformed compound is counted once; no RTT is measured (the legs sent no SR).
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "native/forward/forward_engine.hpp"
#include "native/forward/forward_plain_source.hpp"
#include "native/forward/forward_receiver_report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t ours = 0, others = 0, skipped = 0;
  bool malformed = false;
  pwt::ForwardReportBlock last[2];
  bool seen[2] = {false, false};
  {
    pwt::ForwardReportReader reader(data, size);
    pwt::ForwardReportBlock b;
    size_t blocks = 0;
    while (reader.next(&b)) {
      if (++blocks > size / 24) std::abort();  // each block takes 24 bytes of the input
      if (b.cumulative_lost < -0x800000 || b.cumulative_lost > 0x7fffff) std::abort();
      if (blocks > pwt::ForwardEngine::kMaxReportBlocksPerCompound) {
        ++skipped;
      } else if (b.ssrc == 0x77 || b.ssrc == 0x78) {
        ++ours;
        last[b.ssrc - 0x77] = b;
        seen[b.ssrc - 0x77] = true;
      } else {
        ++others;
      }
    }
    malformed = reader.malformed();
  }
  pwt::ForwardEngine engine(8);
  pwt::ForwardPlainSource source;
  const uint32_t producer = engine.add_producer(&source, 0x1234, false, 0);
  pwt::ForwardPlainSource to;
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_port = htons(9000);
  destination.sin_addr.s_addr = htonl(0x7f000001);
  to.set_remote(reinterpret_cast<const sockaddr*>(&destination), sizeof destination);
  struct : pwt::ForwardSink {
    void send(const pwt::UdpSendItem*, size_t) override { std::abort(); }  // reading reports sends nothing
  } sink;
  const uint32_t transport = engine.add_plain_transport(&to, nullptr, &sink);
  uint32_t consumers[2];
  for (uint32_t k = 0; k < 2; ++k) {
    pwt::ForwardConsumerParams p;
    p.ssrc = 0x77 + k;
    p.payload_types[96] = 96;
    p.clock_rate = 90000;
    consumers[k] = engine.add_consumer(producer, transport, p);
    if (consumers[k] == 0) std::abort();
  }
  if (engine.read_receiver_reports(transport, data, size, 1'000'000) != ours) std::abort();
  const double* c = engine.counters();
  if (c[pwt::kFwdReportBlocks] != static_cast<double>(ours) || c[pwt::kFwdReportBlocksUnknownSsrc] != static_cast<double>(others) ||
      c[pwt::kFwdReportBlocksSkipped] != static_cast<double>(skipped)) {
    std::abort();
  }
  if (c[pwt::kFwdRtcpMalformed] != (malformed ? 1.0 : 0.0) || c[pwt::kFwdRoundTrips] != 0.0) std::abort();
  for (int k = 0; k < 2; ++k) {
    const pwt::ForwardLegReceiverReport* r = engine.consumer_receiver_report(consumers[k]);
    if (!r || r->rtt_measurements != 0 || r->rtt_us != 0 || r->srtt_us != 0) std::abort();
    if (!seen[k]) {
      if (r->blocks != 0) std::abort();
      continue;
    }
    if (r->highest_seq != last[k].highest_seq || r->jitter != last[k].jitter || r->cumulative_lost != last[k].cumulative_lost ||
        r->fraction_lost != last[k].fraction_lost) {
      std::abort();
    }
  }
  return 0;
}
