// The regression scenarios of unbounded_queue: the interleavings named in the header's
// LINEARIZATION POINTS and INVARIANTS, each steered exactly (not sampled), then the same
// scripts under many schedules; last, scripts of the same kind under a walk that preempts
// inside the slow paths (ds::site_walk: the soak, see the last test).
//
//   steer   a strategy that follows a list of directives "run thread t until it is about
//           to do its n-th <event> in <function>" (or "until it finishes"), holding every
//           other thread meanwhile; after the last directive, run_to_block. It reads
//           where the running thread stands from the scheduler's per-thread record of
//           its last yield point (the event and the call site's function name, which the
//           shim reports: push_attempt, pop_attempt, drained, advance_head, ...). A
//           directive whose point is never reached (the thread finished first, or the
//           code no longer takes that path) is reported: the interleaving did not happen,
//           and the test fails rather than passing vacuously.
//   Each scenario runs its scripts through unbounded_queue_schedule_run()
//   (structures/unbounded_queue_scenarios.hpp: segments of 2 cells, history checked
//   against spec::queue().drained(), a push refused as closed must give its argument
//   back, every payload destroyed once and every segment given back once), then checks
//   each thread's answers, which the steered interleaving fixes.
//
//   1. Look sees e == d + 1 with the cell unwritten: a push holds ticket 0 and has not
//      written its cell; a try_pop's look ([UD1]) finds enq = 1 = deq + 1 and answers
//      empty without taking a ticket (the push's LP moves after that look); the push
//      then completes and the drain finds its value.
//   2. A burned cell makes the producer retry in the next segment: push A holds ticket 0
//      unwritten; push B completes ticket 1; a pop sees enq = 2 > deq + 1, takes ticket
//      0, burns it ([UD4]) and takes B's value from ticket 1. A resumes: its CAS [UE2]
//      fails, it takes ticket 2 = segment_size and links a new segment with its element
//      in cell 0 ([UE3]); the drain finds A's value.
//   3. head_ passes a segment while a producer still holds a ticket in it: push A holds
//      ticket 0 of segment S1; B fills ticket 1; C links S2; the pop burns A's cell,
//      takes B's, and, S1 exhausted, moves head_ (and tail_) to S2 and retires S1
//      ([UH0], [UH1]) and pops C's value; the other threads flush the domain. A resumes
//      inside S1 (its guard keeps S1 alive: no use after free, nothing recycled under
//      it), finds its cell burned, takes a ticket in S2 (through tail_) and succeeds.
//   4. close races a producer linking a new segment (the seal): push A holds its
//      element in a new segment, about to CAS S1->next ([UE3]); close(); a pop finds S1
//      exhausted, closed_ set and enq past the end, and seals S1 ([UC5]) and answers
//      closed. A's CAS fails on the seal: it reports closed, argument given back, and
//      its spare segment goes to the cache (the allocator sees it freed once).
//   5. close while a producer's cell was burned: push A's ticket 0 is burned as in 2;
//      then close(); A resumes, takes its element back from the burned cell, takes a
//      new ticket, reads closed_ ([UC2]) and reports closed with its argument restored.
//   6. close while a push holds an unwritten ticket at deq: the pop's look finds
//      enq = deq + 1 but closed_ set ([UC3]), so it does not answer empty: it takes the
//      ticket, burns the cell, finds nothing left ([UD6]) and answers closed; the push
//      then finds its cell burned, takes a new ticket, reads closed_ ([UC2]) and reports
//      closed with its argument restored.
#include "support/dsched.hpp"  // defines the schedule hooks the LOCKLESS_DSCHED build calls

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "structures/unbounded_queue_scenarios.hpp"
#include "support/sanitizers.hpp"

namespace {

namespace ds = lockless::dsched;
using lockless::test::unbounded_queue_schedule_options;
using lockless::test::unbounded_queue_schedule_stats;
using event = ds::event;

// One directive: run `thread` until it is about to do its `nth` (1-based) `e` in
// `function` (yield points reached after the directive took over; the point the thread
// was held at does not count), or, with function == nullptr, until it finishes.
struct directive {
  unsigned thread;
  const char* function;
  event e;
  unsigned nth;
};
directive until(unsigned t, const char* function, event e, unsigned nth = 1) {
  return {t, function, e, nth};
}
directive finish(unsigned t) {
  return {t, nullptr, event::finish, 0};
}

class steer : public ds::strategy {
 public:
  explicit steer(std::vector<directive> plan) : plan_(std::move(plan)) {}

  void begin(unsigned) override {
    next_ = 0;
    seen_ = 0;
    started_ = false;
    unmet_.clear();
  }

  [[nodiscard]] unsigned pick(const ds::choice& c) override {
    if (const ds::detail::run_state* r = ds::detail::tls_run; r != nullptr) run_ = r;
    if (trace_ && run_ != nullptr && c.current < c.threads && c.current_runnable) {
      const auto& slot = *run_->slots[c.current];
      std::fprintf(stderr, "steer: thread %u at %s %s:%u\n", c.current,
                   ds::to_string(slot.last_event), slot.last_site.function, slot.last_site.line);
    }
    while (next_ < plan_.size()) {
      const directive& d = plan_[next_];
      const bool runnable =
          std::find(c.runnable.begin(), c.runnable.end(), d.thread) != c.runnable.end();
      if (!runnable) {  // finished (or parked): the directive ends here
        if (d.function != nullptr) unmet_ += describe_directive(next_) + " never reached; ";
        advance();
        continue;
      }
      if (started_ && c.current == d.thread && c.current_runnable && d.function != nullptr &&
          run_ != nullptr) {
        const auto& slot = *run_->slots[d.thread];
        if (slot.last_event == d.e &&
            ds::detail::names_function(slot.last_site.function, d.function) && ++seen_ == d.nth) {
          advance();  // held here; the next directive decides
          continue;
        }
      }
      started_ = true;
      return d.thread;
    }
    return ds::run_to_block{}.pick(c);
  }

  [[nodiscard]] std::string describe() const override { return "steer(" + plan_text() + ")"; }

  // "" if every directive's point was reached, else which were not.
  [[nodiscard]] const std::string& unmet() const noexcept { return unmet_; }

 private:
  void advance() {
    ++next_;
    seen_ = 0;
    started_ = false;
  }
  [[nodiscard]] std::string describe_directive(std::size_t i) const {
    const directive& d = plan_[i];
    if (d.function == nullptr) return "thread " + std::to_string(d.thread) + " to the end";
    return "thread " + std::to_string(d.thread) + " to its " + std::to_string(d.nth) + ". " +
           ds::to_string(d.e) + " in " + d.function;
  }
  [[nodiscard]] std::string plan_text() const {
    std::string s;
    for (std::size_t i = 0; i < plan_.size(); ++i) s += (i ? "; " : "") + describe_directive(i);
    return s;
  }

  std::vector<directive> plan_;
  std::size_t next_ = 0;
  unsigned seen_ = 0;
  bool started_ = false;
  const ds::detail::run_state* run_ = nullptr;
  std::string unmet_;
  bool trace_ = std::getenv("LOCKLESS_STEER_TRACE") != nullptr;
};

// Runs the scripts once under the plan; returns the answers of each scripted thread.
std::vector<std::string> steered(const std::vector<std::string>& scripts,
                                 std::vector<directive> plan,
                                 unbounded_queue_schedule_stats* stats_out = nullptr) {
  steer s(std::move(plan));
  unbounded_queue_schedule_stats st;
  const std::string why = lockless::test::unbounded_queue_schedule_run(s, scripts, {}, &st);
  EXPECT_EQ(why, "") << s.describe();
  EXPECT_EQ(s.unmet(), "") << s.describe();
  if (stats_out != nullptr) *stats_out = st;
  return st.answers;
}

// The same scripts under many schedules (PCT and random walks).
void explored(const std::vector<std::string>& scripts) {
  ds::explore_options o;
  o.schedules = lockless_test::under_asan ? 150 : 600;
  const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
    return lockless::test::unbounded_queue_schedule_run(strat, scripts);
  });
  EXPECT_TRUE(s.ok()) << s.describe();
}

// The slow-path walk's schedules per script set (the last test): as bounded_queue's, a
// quarter under AddressSanitizer.
constexpr std::uint64_t walk_schedules = lockless_test::under_asan ? 500 : 2000;

constexpr event rmw = event::rmw;
constexpr event cell_write = event::plain_write;

// 1: the push holds ticket 0 (about to build its element: the cell's access marker, a
// plain write, comes first); the pop answers empty; then the push, then the drain.
TEST(DschedUnboundedQueueRegression, LookSeesTicketAtDequeueWithItsCellUnwritten) {
  const std::vector<std::string> scripts = {"i", "r"};
  const auto answers =
      steered(scripts, {until(0, "push_attempt", cell_write), finish(1), finish(0)});
  EXPECT_EQ(answers, (std::vector<std::string>{"o", "e"}));
  explored(scripts);
}

TEST(DschedUnboundedQueueRegression, BurnedCellMakesTheProducerRetryInTheNextSegment) {
  // Thread 0: push A; 1: push B; 2: pop, pop.
  const std::vector<std::string> scripts = {"i", "i", "rr"};
  unbounded_queue_schedule_stats st;
  const auto answers =
      steered(scripts,
              {until(0, "push_attempt", cell_write), finish(1),
               // The pop: its first ticket (deq 0) is A's: burned ([UD4] is its second rmw).
               until(2, "pop_attempt", rmw, 2), finish(2),
               // A: its CAS fails (rmw 1), a new ticket (rmw 2) past the end, the link [UE3]
               // (rmw 3): reached only through the retry in the next segment.
               until(0, "push_attempt", rmw, 3), finish(0)},
              &st);
  // The pop took B's value, then found nothing (A had not linked yet).
  EXPECT_EQ(answers, (std::vector<std::string>{"o", "o", "ve"}));
  EXPECT_EQ(st.segments, 3) << "the cache, the first segment, the one A linked";
  explored(scripts);
}

TEST(DschedUnboundedQueueRegression, HeadPassesASegmentWhileAProducerHoldsATicketInIt) {
  // 0: push A (held in S1); 1: push B then a flush; 2: push C (links S2) then a flush;
  // 3: pop (burns A's cell, B), pop (moves head_ to S2, retires S1, takes C), flush.
  const std::vector<std::string> scripts = {"i", "iF", "iF", "rrF"};
  unbounded_queue_schedule_stats st;
  const auto answers = steered(
      scripts, {until(0, "push_attempt", cell_write), finish(1), finish(2), finish(3), finish(0)},
      &st);
  EXPECT_EQ(answers, (std::vector<std::string>{"o", "o", "o", "vv"}));
  explored(scripts);
}

TEST(DschedUnboundedQueueRegression, CloseRacesAProducerLinkingASegment) {
  // 0: push A, push A'; 1: push B; 2: pop; 3: close; 4: pop.
  // A's first push takes ticket 0 and is held; B fills ticket 1; the first pop burns
  // ticket 0 and takes B; A retries past the end and is held at its link [UE3] (its
  // third rmw: the failed [UE2], the ticket, the link); close; the second pop finds S1
  // exhausted, closed_ set and enq past the end: it seals S1 ([UC5]) and answers closed.
  // A's link fails on the seal: closed, argument back (checked by the run), its spare
  // segment into the cache. A' reports closed.
  const std::vector<std::string> scripts = {"ii", "i", "r", "x", "r"};
  unbounded_queue_schedule_stats st;
  const auto answers = steered(scripts,
                               {until(0, "push_attempt", cell_write), finish(1), finish(2),
                                until(0, "push_attempt", rmw, 3), finish(3), finish(4), finish(0)},
                               &st);
  EXPECT_EQ(answers, (std::vector<std::string>{"cc", "o", "v", "x", "c"}));
  // A's spare went to the cache, and was freed with it (the run checks every segment
  // came back once).
  EXPECT_EQ(st.segments, 3) << "the cache, the first segment, A's spare";
  explored(scripts);
}

TEST(DschedUnboundedQueueRegression, CloseAfterTheProducersCellWasBurned) {
  // 0: push A; 1: push B; 2: pop; 3: close. A's ticket 0 is burned by the pop (which
  // takes B), then close(); A resumes: CAS fails, element back in hand, a new ticket,
  // [UC2] reads closed: closed, argument restored (checked by the run).
  const std::vector<std::string> scripts = {"i", "i", "r", "x"};
  const auto answers = steered(scripts, {until(0, "push_attempt", cell_write), finish(1), finish(2),
                                         finish(3), until(0, "push_attempt", rmw, 2), finish(0)});
  EXPECT_EQ(answers, (std::vector<std::string>{"c", "o", "v", "x"}));
  explored(scripts);
}

TEST(DschedUnboundedQueueRegression, CloseWhileAPushHoldsAnUnwrittenTicketAtDeq) {
  // 0: push A, held with ticket 0 unwritten (after its [UC2] load read false); 1: close;
  // 2: pop: the look sees enq = deq + 1, but closed: it burns ticket 0 ([UD4], its second
  // rmw) and answers closed. A: CAS fails, a new ticket (its second rmw), closed.
  const std::vector<std::string> scripts = {"i", "x", "r"};
  const auto answers = steered(
      scripts, {until(0, "push_attempt", cell_write), finish(1), until(2, "pop_attempt", rmw, 2),
                finish(2), until(0, "push_attempt", rmw, 2), finish(0)});
  EXPECT_EQ(answers, (std::vector<std::string>{"c", "x", "c"}));
  explored(scripts);
}

// ---- The scripts under a walk that preempts inside the slow paths ----------------------
//
// The steered runs above each fix one interleaving of a slow path; PCT and the random walk
// (explored()) spread their preemptions over the common paths, where most yield points
// are, so a bug that needs one thread stopped inside one rare path and another stopped
// inside another is out of their reach (bounded_queue's record ABA: 1.2 million of their
// schedules never found it, a site_walk did; see site_walk in support/dsched.hpp). Here
// every schedule is a ds::site_walk that switches threads at a quarter of the yield points
// inside the functions below and at 3 % elsewhere (the pops' look and tickets, the guards'
// pin and protect):
//   push_attempt        the whole push: a push stopped between its ticket and its publish
//                       is the cell a pop burns; its retry in the next segment, the link
//                       of a new segment ([UE3]), the tail_ moves ([UE4]) and the seal
//                       found past the end are inside it too
//   take reset put release
//                       the segment cache (a linking push's spare: taken, reset, given
//                       back when its link lost; a retired segment's deleter, recycle),
//                       and a pop's hand-over of a FULL cell (also named take)
//   advance_head add_ref retire_with take_open seal push_sealed try_advance collect free_bag
//                       head_ passing an exhausted segment ([UH0], [UH1]) and the epoch
//                       retire of the segment, up to its deleter
//   drained close       the drained-and-closed check, the seal of a full last segment
//                       ([UC5]), close()
//   prepare_wait cancel_wait notify notify_fence wake
//                       the blocking pop's parking and the pushes' and close's wake-ups
constexpr const char* slow_path_functions =
    "push_attempt|take|reset|put|release|advance_head|add_ref|retire_with|take_open|seal|"
    "push_sealed|try_advance|collect|free_bag|drained|close|prepare_wait|cancel_wait|notify|"
    "notify_fence|wake";

// 2,000 schedules per script set (500 under ASan, where a schedule costs about ten times as
// much), scaled by LOCKLESS_DSCHED_SCALE: the CI run is a smoke test, a soak is
// LOCKLESS_DSCHED_SCALE=250 (500,000 schedules per set: 12 minutes at -O1 on a shared
// 2-CPU machine, 2,000-4,000 schedules/s; clean on 2026-12-07, plus 200,000 per set at 100).
// A failure prints its site_walk: LOCKLESS_DSCHED_REPLAY='<that>' with
// --gtest_filter='*Walk*' runs that schedule alone.
// Segments of 2 cells, so every other push crosses a segment boundary.
TEST(DschedUnboundedQueueRegression, ScriptsUnderAWalkThatPreemptsInTheSlowPaths) {
  struct script_set {
    const char* name;
    std::vector<std::string> scripts;
    bool closer;  // one more thread that only closes the queue
  };
  const std::vector<script_set> sets = {
      // Scenario 4's threads: a push whose cell is burned retries past the end and links,
      // while close() and a pop's seal race it.
      {"close races a link", {"ii", "i", "r", "x", "r"}, false},
      // Scenario 3's, with flushes between the operations: head_ passes segments in which
      // pushes still hold tickets, retired segments are freed into the cache inside the run
      // and taken again (reset) by later links.
      {"head passes held segments, flushes", {"iiFi", "iFi", "rrFrr"}, false},
      // Scenario 6's, with more of each: close while pushes hold unwritten tickets at deq
      // and in a segment being linked.
      {"close among burns", {"iix", "rri", "rr", "i"}, false},
      // Blocking pops park before the pushes come (one of them linking a segment), and the
      // closer wakes whoever is left.
      {"blocking pops, closer", {"OO", "O", "iPi"}, true},
  };
  // Which functions the walks pass through: 40 probe walks per set (runs that must pass too).
  ds::function_probe probe(slow_path_functions);
  for (const script_set& set : sets) {
    unbounded_queue_schedule_options opt;
    opt.closer = set.closer;
    // Pooled threads (support/dsched.hpp, RULES): creating threads was most of a short
    // schedule's cost. A pooled thread still runs the library's thread-exit hooks (the
    // epoch domain's record hand-back) under the schedule at the end of its script.
    opt.run = ds::pooled_threads();
    opt.run.max_steps = 50'000;  // a livelock ends here as a step-limit report
    unbounded_queue_schedule_options probed = opt;
    probe.attach(probed.run);
    EXPECT_EQ(probe.walk(slow_path_functions, 25, 3,
                         [&](ds::strategy& strat) {
                           return lockless::test::unbounded_queue_schedule_run(strat, set.scripts,
                                                                               probed);
                         }),
              "")
        << set.name;
    ds::explore_options o;
    o.schedules = walk_schedules;
    o.hot_functions = slow_path_functions;
    o.hot_percent = 25;
    o.cold_percent = 3;
    std::size_t closed = 0;
    long segments = 0;
    const ds::explore_summary s = ds::explore(o, [&](ds::strategy& strat) {
      unbounded_queue_schedule_stats st;
      std::string why = lockless::test::unbounded_queue_schedule_run(strat, set.scripts, opt, &st);
      closed += st.closed;
      segments = std::max(segments, st.segments);
      return why;
    });
    EXPECT_TRUE(s.ok()) << set.name << ": " << s.describe();
    std::printf(
        "unbounded_queue slow-path walk [%s]: %s; %zu closed results, at most %ld "
        "allocations in a run\n",
        set.name, s.describe().c_str(), closed, segments);
  }
  // A renamed function, or one with no yield point of its own, would leave the walk cold
  // there without a word.
  EXPECT_EQ(probe.unreached(), "");
}

}  // namespace
