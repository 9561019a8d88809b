// examples/bounded_queue_statuses.cpp: what the non-waiting and timed forms of
// lockless::bounded_queue report: try_push says success / full / closed, try_pop and
// pop_for give a value or say empty / closed, and a timed wait that nobody satisfies ends
// with full / empty. The teaching page (docs/algorithms/bounded_queue.md) quotes the part
// between the markers.
#include <lockless/bounded_queue.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <system_error>
#include <thread>

using lockless::queue_status;
using namespace std::chrono_literals;

int main() {
  int failures = 0;
  auto check = [&failures](bool ok, const char* what) {
    std::printf("%-52s %s\n", what, ok ? "ok" : "UNEXPECTED");
    if (!ok) ++failures;
  };

  // [statuses-begin]
  lockless::bounded_queue<std::string> q(2);  // exactly two elements fit
  check(q.try_push("first") == queue_status::success, "try_push: success");
  check(q.try_emplace(3, 'x') == queue_status::success, "try_emplace: success (\"xxx\")");
  std::string third = "third";
  check(q.try_push(std::move(third)) == queue_status::full, "try_push on a full queue: full");
  check(third == "third", "  ... and the refused argument is intact");

  // A timed push that nobody makes room for reports full after the timeout.
  check(q.push_for("late", 20ms) == queue_status::full, "push_for(20ms) on a full queue: full");

  lockless::queue_result<std::string> r = q.try_pop();  // a value, or empty / closed
  check(r && *r == "first", "try_pop: the first element");
  check(q.try_pop().value_or("none") == "xxx", "try_pop: the second element");
  check(q.try_pop().error() == queue_status::empty, "try_pop on an empty queue: empty");

  // A timed pop that another thread satisfies before its deadline returns the value.
  std::jthread producer([&q] {
    std::this_thread::sleep_for(10ms);
    q.push("from another thread");
  });
  lockless::queue_result<std::string> got = q.pop_for(5s);
  check(got.has_value() && *got == "from another thread", "pop_for(5s): a value in time");
  producer.join();
  check(q.pop_for(20ms).error() == queue_status::empty, "pop_for(20ms) on an empty queue: empty");

  q.close();  // pushes now report closed; pops drain, then report closed
  check(q.try_push("after close") == queue_status::closed, "try_push after close: closed");
  check(!q.push("after close"), "push after close: false");
  check(q.try_pop().error() == queue_status::closed, "try_pop on a closed, drained queue: closed");
  check(!q.pop().has_value(), "pop on a closed, drained queue: nullopt");
  // [statuses-end]

  std::printf("%s: %s\n", lockless::to_string(queue_status::closed),
              std::error_code(queue_status::closed).message().c_str());
  return failures == 0 ? 0 : 1;
}
