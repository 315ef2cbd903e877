// pwt::ForwardLegSendLog (native/forward/forward_leg_send_log.hpp): records are found by their
// transport-wide sequence number, also across the 16-bit wrap; a number never sent or already
// overwritten is not found; collect() returns each record once, oldest first (a second feedback for
// the same numbers gets nothing new) and counts what was overwritten before it was collected.
#include <cstdint>

#include "native/forward/forward_leg_send_log.hpp"
#include "test/native/check.hpp"

using namespace pwt;

namespace {

void TestOff() {
  ForwardLegSendLog log;
  log.record(1, 10, 100);
  ForwardLegSend s;
  CHECK(!log.lookup(1, &s));
  CHECK_EQ(log.collect(&s, 1), 0u);
}

void TestLookupAndWrap() {
  ForwardLegSendLog log;
  log.enable(6);  // rounded up to 8
  for (uint32_t i = 0; i < 6; ++i) log.record(static_cast<uint16_t>(65533 + i), 1000 + i, 100 + i);  // 65533..2
  ForwardLegSend s;
  CHECK(log.lookup(65535, &s));
  CHECK_EQ(s.sent_us, 1002u);
  CHECK_EQ(s.size, 102u);
  CHECK(log.lookup(2, &s));
  CHECK_EQ(s.sent_us, 1005u);
  CHECK(!log.lookup(3, &s));      // not sent yet
  CHECK(!log.lookup(40000, &s));  // out of the window
  ForwardLegSend out[16];
  CHECK_EQ(log.collect(out, 16), 6u);
  CHECK_EQ(out[0].seq, 65533u);
  CHECK_EQ(out[5].seq, 2u);
  // Duplicate feedback: the records were collected, nothing new comes; lookup still answers.
  CHECK_EQ(log.collect(out, 16), 0u);
  CHECK(log.lookup(65533, &s));
  CHECK_EQ(log.overwritten(), 0u);
}

void TestOverwrite() {
  ForwardLegSendLog log;
  log.enable(4);
  for (uint16_t i = 0; i < 10; ++i) log.record(i, i * 10u, 50);
  ForwardLegSend s;
  CHECK(!log.lookup(5, &s));  // slot 1 now holds 9
  CHECK(log.lookup(9, &s));
  CHECK_EQ(s.sent_us, 90u);
  ForwardLegSend out[2];
  CHECK_EQ(log.collect(out, 2), 2u);  // 6, 7 (0..5 were overwritten)
  CHECK_EQ(out[0].seq, 6u);
  CHECK_EQ(out[1].seq, 7u);
  CHECK_EQ(log.overwritten(), 6u);
  CHECK_EQ(log.collect(out, 2), 2u);
  CHECK_EQ(out[1].seq, 9u);
  CHECK_EQ(log.collect(out, 2), 0u);
}

}  // namespace

int main() {
  TestOff();
  TestLookupAndWrap();
  TestOverwrite();
  TEST_MAIN_END();
}
