// examples/drr_scheduler_basic.cpp: the lockless::drr_scheduler API in one thread. Two
// flows of packets share a link by deficit round robin: each packet costs its size in
// bytes, and each flow may send up to its quantum of bytes per turn (a deficit carries
// what it could not use over to its next turn). The bulk flow's quantum is twice the chat
// flow's, so while both are backlogged bulk gets two thirds of the bytes. Then the
// statuses: a removed flow and a closed scheduler. The program checks the order it prints
// and exits non-zero on a surprise. The teaching page (docs/algorithms/drr_scheduler.md)
// quotes the part between the markers.
#include <lockless/drr_scheduler.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

using lockless::queue_status;

int main() {
  int failures = 0;
  auto check = [&failures](bool ok, const char* what) {
    std::printf("%-50s %s\n", what, ok ? "ok" : "UNEXPECTED");
    if (!ok) ++failures;
  };

  // [basic-begin]
  struct packet {
    char tag;
    std::string payload;
  };
  struct packet_bytes {  // the cost of an item: called once by the producer, noexcept
    std::uint32_t operator()(const packet& p) const noexcept {
      return static_cast<std::uint32_t>(p.payload.size());
    }
  };
  lockless::drr_scheduler<packet, packet_bytes> link;  // several consumers allowed
  lockless::drr_flow bulk = link.add_flow(/*quantum=*/1000, /*capacity=*/64);
  lockless::drr_flow chat = link.add_flow(/*quantum=*/500, /*capacity=*/64);

  bool pushed = true;
  for (int i = 0; i < 4; ++i) {  // success, full or closed; never waits
    pushed &= link.try_push(bulk, packet{'B', std::string(1000, 'b')}) == queue_status::success;
    pushed &= link.try_push(chat, packet{'c', std::string(250, 'c')}) == queue_status::success;
  }
  check(pushed, "4 x 1000 bytes into bulk, 4 x 250 into chat");
  std::string order;  // one letter per packet, in the order the scheduler hands them out
  while (lockless::queue_result<lockless::drr_item<packet>> r = link.try_pop()) {
    order += r->value.tag;  // r->flow says which flow it came from
  }
  std::printf("DRR order: %s\n", order.c_str());
  check(order == "BccBccBB", "1000 bytes of bulk, then 500 of chat, per round");

  check(link.try_pop().error() == queue_status::empty, "try_pop with every flow drained: empty");
  check(link.remove_flow(chat), "remove_flow(chat): true");
  check(link.try_push(chat, packet{'c', "late"}) == queue_status::closed,
        "try_push into a removed flow: closed");
  link.close();  // every flow closed to pushes; pops drain what is left, then say closed
  check(link.try_push(bulk, packet{'B', "late"}) == queue_status::closed,
        "try_push after close(): closed");
  check(link.try_pop().error() == queue_status::closed, "try_pop after close(), drained: closed");
  // [basic-end]

  return failures == 0 ? 0 : 1;
}
