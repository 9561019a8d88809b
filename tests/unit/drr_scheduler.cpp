// Unit tests of lockless::drr_scheduler (include/lockless/drr_scheduler.hpp).
//
//   - DRR order, item by item, in hand-computed sequences: two and three flows, different
//     quanta, unit costs and byte-like costs (a Cost functor), an item larger than its
//     quantum served after several turns, a flow activated during a turn going ahead of
//     the current flow; the flow handle in every drr_item; then a differential check
//     against lockless_test::drr_model (tests/structures/drr_scheduler_model.hpp) on a few
//     hundred random sequences of add/remove/close/push/pop;
//   - the fairness bound of Shreedhar & Varghese (Lemma 2, Theorem 1), asserted exactly:
//     with every flow backlogged and one consumer, at every prefix of the output and for
//     every pair of flows, |S_i/Q_i - S_j/Q_j| < 1 + Max/Q_i + Max/Q_j (cross-multiplied
//     integers), for 2, 5 and 17 flows with different quanta and item costs up to Max,
//     some above the quanta; the checker itself is shown to reject an unfair order;
//   - no credit for idle time: a flow that drains and refills gets one quantum per turn
//     (plus only what it carried while backlogged);
//   - bad input (quantum 0, capacity 0, capacity above max_flow_capacity()) and stale
//     handles (removed, default-constructed, another scheduler's, a reused index);
//   - capacity exactly, a refused push leaving a move-only argument untouched, try_emplace,
//     the strong guarantee with a throwing copy, every value destroyed exactly once (also
//     with items left in removed-but-undrained flows at destruction), the Cost functor
//     called once per push call (a retrying timed push too), never by a pop; 300 flows
//     across the flow table's chunks, freed indices reused; zero and 2^32 - 1 costs;
//   - remove_flow (closed at once, what it holds still delivered in order, then retired:
//     counted with a quarantine reclaimer, and freed by a private epoch_domain's barrier),
//     close() (pushes refused, pops drain then report closed, add_flow afterwards, twice);
//   - blocking and timed forms, each waking on the event that lets it go on; close() and
//     remove_flow() waking waiters;
//   - several consumers (disjoint items covering everything; busy forced by a value whose
//     move constructor holds the consumer gate; a timed pop timing out behind it reports
//     empty), single_consumer = true, may_block = false (the blocking API absent:
//     requires-expressions);
//   - the documented gap, forced with the same kind of value: a producer stopped between
//     claiming a slot and publishing its item holds back the later items of its flow only,
//     and its publication wakes a blocked pop (also across a close()).
//
// Timing: the pauses that let a waiter block are 20 ms, timeouts 20-30 ms; every assertion
// holds whether or not the waiter had gone to sleep by then. Waits that must end are
// bounded by 5 s, so a lost wake-up fails the test instead of hanging it.
#include <lockless/drr_scheduler.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "structures/drr_scheduler_model.hpp"
#include "support/counting.hpp"
#include "support/sanitizers.hpp"
#include "support/test_reclaimers.hpp"

// gtest prints statuses by name (found by ADL through the inline ABI namespace).
namespace lockless {
inline void PrintTo(queue_status s, std::ostream* os) {
  *os << to_string(s);
}
}  // namespace lockless

namespace {

using lockless::drr_flow;
using lockless::drr_item;
using lockless::drr_options;
using lockless::drr_scheduler;
using lockless::epoch_domain;
using lockless::epoch_reclaimer;
using lockless::queue_result;
using lockless::queue_status;
using lockless::unit_cost;
using lockless_test::counted;
using lockless_test::injected_error;
using lockless_test::move_only;
using lockless_test::quarantine_reclaimer;
using lockless_test::throw_on_nth_construction;
using lockless_test::throwing;

using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds timeout{30};
constexpr std::chrono::seconds generous{5};
constexpr milliseconds let_it_block{20};

void pause_for_waiters() {
  std::this_thread::sleep_for(let_it_block);
}

// Polls `done` for up to `generous`; true once it is set.
bool eventually(const std::atomic<bool>& done) {
  const auto until = clock_type::now() + generous;
  while (!done.load()) {
    if (clock_type::now() >= until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// ---- values with a cost ------------------------------------------------------------------

// A packet: its cost (bytes) and an id. by_cost makes the scheduler count bytes.
struct packet {
  std::uint32_t cost = 1;
  std::uint64_t id = 0;
};
struct by_cost {
  std::uint32_t operator()(const packet& p) const noexcept { return p.cost; }
};

template <class T, class Cost = unit_cost, drr_options O = drr_options{}>
using sched = drr_scheduler<T, Cost, epoch_reclaimer, O>;

// "<letter of the flow><value>": the letter is found from the item's flow handle (so a
// wrong handle shows), the value is the item's id.
std::string label(const std::vector<drr_flow>& flows, drr_flow f, std::uint64_t id) {
  for (std::size_t k = 0; k < flows.size(); ++k) {
    if (flows[k] == f) return std::string(1, static_cast<char>('a' + k)) + std::to_string(id);
  }
  return "?" + std::to_string(id);
}

// Pops until empty (or closed), labelling each item.
template <class S>
std::vector<std::string> drain_labels(S& s, const std::vector<drr_flow>& flows) {
  std::vector<std::string> out;
  for (;;) {
    auto r = s.try_pop();
    if (!r) {
      EXPECT_NE(r.error(), queue_status::busy) << "one consumer, nobody else inside";
      break;
    }
    if constexpr (std::is_same_v<typename S::value_type, packet>) {
      out.push_back(label(flows, r->flow, r->value.id));
    } else {
      out.push_back(label(flows, r->flow, static_cast<std::uint64_t>(r->value)));
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> v;
  for (std::string w; in >> w;) v.push_back(w);
  return v;
}

// ---- DRR order, hand-computed -------------------------------------------------------------

TEST(DrrSchedulerOrder, TwoFlowsUnitCostDifferentQuanta) {
  sched<int> s;
  const drr_flow a = s.add_flow(2, 8);
  const drr_flow b = s.add_flow(1, 8);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  // Turn 1: a (deficit 2) a0 a1; b (1) b0. Turn 2: a a2, drains; b b1; b alone: b2.
  EXPECT_EQ(drain_labels(s, {a, b}), split("a0 a1 b0 a2 b1 b2"));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
}

TEST(DrrSchedulerOrder, ThreeFlowsUnitCostQuantaOneTwoThree) {
  sched<int> s;
  std::vector<drr_flow> f;
  for (std::uint32_t q : {1u, 2u, 3u}) f.push_back(s.add_flow(q, 6));
  for (const drr_flow& h : f) {
    for (int i = 0; i < 6; ++i) ASSERT_EQ(s.try_push(h, i), queue_status::success);
  }
  EXPECT_EQ(drain_labels(s, f),
            split("a0 b0 b1 c0 c1 c2  a1 b2 b3 c3 c4 c5  a2 b4 b5  a3  a4  a5"));
}

TEST(DrrSchedulerOrder, ByteCostsCarryTheDeficitWhileBacklogged) {
  sched<packet, by_cost> s;
  const drr_flow a = s.add_flow(500, 8);
  const drr_flow b = s.add_flow(500, 8);
  std::uint64_t id = 0;
  for (std::uint32_t c : {300u, 300u, 300u, 100u}) {
    ASSERT_EQ(s.try_push(a, packet{c, id++}), queue_status::success);
  }
  id = 0;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.try_push(b, packet{200, id++}), queue_status::success);
  // Turn 1: a 500: a0 (200 left; a1 costs 300); b 500: b0 b1 (100 left).
  // Turn 2: a 700: a1 a2 a3 (drains); b 600: b2 b3 b4 (drains).
  EXPECT_EQ(drain_labels(s, {a, b}), split("a0 b0 b1 a1 a2 a3 b2 b3 b4"));
}

TEST(DrrSchedulerOrder, ItemLargerThanTheQuantumIsServedAfterSeveralTurns) {
  sched<packet, by_cost> s;
  const drr_flow a = s.add_flow(3, 4);
  const drr_flow b = s.add_flow(3, 16);
  ASSERT_EQ(s.try_push(a, packet{10, 0}), queue_status::success);
  ASSERT_EQ(s.try_push(a, packet{10, 1}), queue_status::success);
  for (std::uint64_t i = 0; i < 12; ++i) {
    ASSERT_EQ(s.try_push(b, packet{1, i}), queue_status::success);
  }
  // a's deficit: 3, 6, 9 (nothing served), 12: a0 (2 left, a1 costs 10); b serves 3 per
  // turn. b drains after b11; a alone: 5, 8, 11: a1.
  EXPECT_EQ(drain_labels(s, {a, b}), split("b0 b1 b2 b3 b4 b5 b6 b7 b8 a0 b9 b10 b11 a1"));

  // Alone, an item of cost 1000 with quantum 1 still comes out (after 1000 turns).
  const drr_flow c = s.add_flow(1, 2);
  ASSERT_EQ(s.try_push(c, packet{1000, 7}), queue_status::success);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flow, c);
  EXPECT_EQ(r->value.id, 7u);
}

TEST(DrrSchedulerOrder, AFlowActivatedDuringATurnGoesAheadOfTheCurrentFlow) {
  sched<int> s;
  const drr_flow a = s.add_flow(2, 8);
  const drr_flow b = s.add_flow(2, 8);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(label({a, b}, r->flow, static_cast<std::uint64_t>(r->value)), "a0");
  ASSERT_EQ(s.try_push(b, 0), queue_status::success);  // joins while a holds its turn
  EXPECT_EQ(drain_labels(s, {a, b}), split("a1 b0 a2 a3"));
}

TEST(DrrSchedulerOrder, NewFlowsJoinAtTheBackOfTheRound) {
  sched<int> s;
  const drr_flow a = s.add_flow(1, 8);
  const drr_flow b = s.add_flow(1, 8);
  const drr_flow c = s.add_flow(1, 8);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  std::vector<std::string> got;
  for (int k = 0; k < 2; ++k) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    got.push_back(label({a, b, c}, r->flow, static_cast<std::uint64_t>(r->value)));
  }
  ASSERT_EQ(s.try_push(c, 0), queue_status::success);  // during b's turn: after a
  for (const std::string& l : drain_labels(s, {a, b, c})) got.push_back(l);
  EXPECT_EQ(got, split("a0 b0 a1 c0 b1 a2 b2"));
}

TEST(DrrSchedulerOrder, ItemsCarryTheirFlowHandle) {
  sched<std::uint64_t> s;
  std::vector<drr_flow> f;
  for (int k = 0; k < 5; ++k) f.push_back(s.add_flow(static_cast<std::uint32_t>(k + 1), 4));
  for (std::size_t k = 0; k < f.size(); ++k) {
    EXPECT_NE(f[k], drr_flow{});
    EXPECT_NE(f[k].generation(), 0u);
    for (std::size_t j = 0; j < k; ++j) EXPECT_NE(f[k], f[j]);
    for (std::uint64_t i = 0; i < 4; ++i) {
      ASSERT_EQ(s.try_push(f[k], k * 100 + i), queue_status::success);
    }
  }
  std::vector<std::uint64_t> next(f.size(), 0);
  std::size_t n = 0;
  while (auto r = s.try_pop()) {
    const std::uint64_t k = r->value / 100;
    ASSERT_LT(k, f.size());
    EXPECT_EQ(r->flow, f[k]) << "item " << r->value;
    EXPECT_EQ(r->value % 100, next[k]++) << "per-flow FIFO";
    ++n;
  }
  EXPECT_EQ(n, 20u);
}

// The same script, one consumer, with and without the gate: the same output.
TEST(DrrSchedulerOrder, SingleConsumerModeGivesTheSameOrder) {
  auto run = [](auto& s) {
    std::vector<drr_flow> f;
    for (std::uint32_t q : {3u, 1u, 2u}) f.push_back(s.add_flow(q, 16));
    std::mt19937_64 rng(7);
    std::vector<std::string> out;
    for (int step = 0; step < 400; ++step) {
      if (rng() % 2 == 0) {
        const std::size_t k = rng() % f.size();
        (void)s.try_push(f[k], static_cast<int>(step));
      } else if (auto r = s.try_pop()) {
        out.push_back(label(f, r->flow, static_cast<std::uint64_t>(r->value)));
      } else {
        EXPECT_EQ(r.error(), queue_status::empty);
      }
    }
    for (const std::string& l : drain_labels(s, f)) out.push_back(l);
    return out;
  };
  sched<int> multi;
  sched<int, unit_cost, drr_options{.single_consumer = true}> single;
  const auto a = run(multi);
  const auto b = run(single);
  EXPECT_GT(a.size(), 100u);
  // Labels name flows by position, so the two runs compare although handles differ.
  EXPECT_EQ(a, b);
}

TEST(DrrSchedulerOrder, SingleConsumerPopsFromSeveralThreadsInTurn) {
  sched<int, unit_cost, drr_options{.single_consumer = true}> s;
  const drr_flow a = s.add_flow(2, 8);
  const drr_flow b = s.add_flow(1, 8);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  std::vector<std::string> out;
  for (int k = 0; k < 6; ++k) {
    std::thread t([&] {  // ordered by create/join: never overlapping
      auto r = s.try_pop();
      ASSERT_TRUE(r);
      out.push_back(label({a, b}, r->flow, static_cast<std::uint64_t>(r->value)));
    });
    t.join();
  }
  EXPECT_EQ(out, split("a0 a1 b0 a2 b1 b2"));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  std::thread t([&] { EXPECT_FALSE(s.pop_for(milliseconds(1))); });
  t.join();
  s.close();
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
  EXPECT_FALSE(s.pop());
}

// ---- differential: the sequential model -----------------------------------------------------

// Random sequences of add_flow, remove_flow (live, removed and default-constructed
// handles), close, try_push (costs 1..8 against quanta 1..6, so items above the quantum)
// and try_pop, on the scheduler and on the model: every status, every popped item (value
// and flow handle), contains() and flow_count() agree; then both are drained.
TEST(DrrSchedulerModel, AgreesWithTheModelOnRandomSequences) {
  using model_t = lockless_test::drr_model<std::uint64_t>;
  constexpr std::size_t no_flow = std::numeric_limits<std::size_t>::max();
  const std::size_t sequences = lockless_test::scaled(300, 50);
  std::size_t items_compared = 0;
  for (std::size_t seq = 0; seq < sequences; ++seq) {
    std::mt19937_64 rng(0xD11 + seq);
    auto pick = [&](std::uint64_t n) { return static_cast<std::size_t>(rng() % n); };
    sched<packet, by_cost> s;
    model_t m;
    std::vector<drr_flow> handles;  // model id -> handle
    std::size_t live = 0;
    const std::size_t ops = 200 + pick(200);
    const std::size_t close_at = pick(3) == 0 ? pick(ops) : no_flow;
    std::uint64_t next_id = 0;
    bool ok = true;
    // One pop on both; false when they disagree. *got_item: whether it was an item.
    auto compare_pop = [&](std::size_t step, bool* got_item) {
      auto r = s.try_pop();
      auto [mv, mst] = m.try_pop();
      *got_item = r.has_value();
      if (mv.has_value() != r.has_value()) {
        ADD_FAILURE() << "seq " << seq << " step " << step << ": model "
                      << (mv ? "an item" : to_string(mst)) << ", scheduler "
                      << (r ? "an item" : to_string(r.error()));
        return false;
      }
      if (r) {
        ++items_compared;
        EXPECT_EQ(r->flow, handles[mv->flow]) << "seq " << seq << " step " << step;
        EXPECT_EQ(r->value.id, mv->value) << "seq " << seq << " step " << step;
        return r->flow == handles[mv->flow] && r->value.id == mv->value;
      }
      EXPECT_EQ(r.error(), mst) << "seq " << seq << " step " << step;
      return r.error() == mst;
    };
    std::size_t step = 0;
    for (; step < ops && ok; ++step) {
      if (step == close_at) {
        s.close();
        m.close();
        continue;
      }
      const std::size_t r = pick(100);
      if (r < 8 && live < 10) {
        const auto q = static_cast<std::uint32_t>(1 + pick(6));
        const std::size_t cap = 1 + pick(5);
        handles.push_back(s.add_flow(q, cap));
        EXPECT_EQ(m.add_flow(q, cap), handles.size() - 1);
        ++live;
      } else if (r < 12) {
        const std::size_t k = pick(handles.size() + 1);
        const bool got = s.remove_flow(k < handles.size() ? handles[k] : drr_flow{});
        const bool want = m.remove_flow(k < handles.size() ? k : no_flow);
        EXPECT_EQ(got, want) << "seq " << seq << " step " << step;
        if (want) --live;
        ok = got == want;
      } else if (r < 55) {
        const std::size_t k = pick(handles.size() + 1);
        const auto cost = static_cast<std::uint32_t>(1 + pick(8));
        const std::uint64_t id = next_id++;
        const queue_status got =
            s.try_push(k < handles.size() ? handles[k] : drr_flow{}, packet{cost, id});
        const queue_status want = m.try_push(k < handles.size() ? k : no_flow, id, cost);
        EXPECT_EQ(got, want) << "seq " << seq << " step " << step << " flow " << k;
        ok = got == want;
      } else {
        bool item = false;
        ok = compare_pop(step, &item);
      }
      if (step % 16 == 0) {
        EXPECT_EQ(s.flow_count(), live) << "seq " << seq;
        EXPECT_EQ(s.is_closed(), m.is_closed()) << "seq " << seq;
        for (std::size_t k = 0; k < handles.size(); ++k) {
          EXPECT_EQ(s.contains(handles[k]), m.exists(k)) << "seq " << seq << " flow " << k;
        }
      }
    }
    for (bool item = true; ok && item; ++step) ok = compare_pop(step, &item);
    ASSERT_TRUE(ok) << "diverged in sequence " << seq;
  }
  EXPECT_GT(items_compared, sequences * 20);
}

// ---- the fairness bound ------------------------------------------------------------------

// S_i: the service of flow i so far, in cost units. At every prefix, for every pair,
// |S_i/Q_i - S_j/Q_j| < 1 + Max/Q_i + Max/Q_j, i.e. (multiplied by Q_i Q_j > 0)
// |S_i Q_j - S_j Q_i| < Q_i Q_j + Max Q_j + Max Q_i, in exact integers. After each item
// only the served flow's S changes, so checking its pairs checks every pair at every
// prefix.
class fairness_checker {
 public:
  fairness_checker(std::vector<std::uint32_t> quanta, std::uint32_t max_cost)
      : q_(std::move(quanta)), max_(max_cost), s_(q_.size(), 0) {}

  // Adds `cost` to flow f's service; "" or a description of the first broken pair.
  std::string serve(std::size_t f, std::uint32_t cost) {
    s_[f] += cost;
    ++served_;
    for (std::size_t j = 0; j < q_.size(); ++j) {
      if (j == f) continue;
      const std::int64_t qi = q_[f];
      const std::int64_t qj = q_[j];
      const std::int64_t m = max_;
      const std::int64_t lhs = s_[f] * qj - s_[j] * qi;
      const std::int64_t bound = qi * qj + m * qj + m * qi;
      const std::int64_t abs_lhs = lhs < 0 ? -lhs : lhs;
      if (abs_lhs >= bound) {
        std::ostringstream o;
        o << "after " << served_ << " items: flows " << f << " (Q " << qi << ", S " << s_[f]
          << ") and " << j << " (Q " << qj << ", S " << s_[j] << "), Max " << m
          << ": |S_i Q_j - S_j Q_i| = " << abs_lhs << " >= " << bound;
        return o.str();
      }
      // How close the run came to the bound, for the report (lhs / bound).
      worst_ = std::max(worst_, static_cast<double>(abs_lhs) / static_cast<double>(bound));
    }
    return {};
  }
  [[nodiscard]] double worst_ratio() const { return worst_; }
  [[nodiscard]] std::int64_t service(std::size_t f) const { return s_[f]; }

 private:
  std::vector<std::uint32_t> q_;
  std::uint32_t max_;
  std::vector<std::int64_t> s_;
  std::size_t served_ = 0;
  double worst_ = 0;
};

// The checker is not vacuous: item-by-item round robin with quanta 1 and 10 (unit costs)
// breaks the bound once flow 0 has had about 2.4 items per item of its weight.
TEST(DrrSchedulerFairness, CheckerRejectsPlainRoundRobin) {
  fairness_checker c({1, 10}, 1);
  std::string broken;
  for (int i = 0; i < 100 && broken.empty(); ++i) {
    broken = c.serve(0, 1);
    if (broken.empty()) broken = c.serve(1, 1);
  }
  EXPECT_FALSE(broken.empty());
  // And DRR's own order for the same flows passes: 1 item of flow 0, 10 of flow 1, ...
  fairness_checker d({1, 10}, 1);
  for (int round = 0; round < 100; ++round) {
    ASSERT_EQ(d.serve(0, 1), "");
    for (int k = 0; k < 10; ++k) ASSERT_EQ(d.serve(1, 1), "");
  }
}

struct fairness_config {
  const char* name;
  std::vector<std::uint32_t> quanta;
  std::uint32_t max_cost;
  std::size_t depth;  // items queued per flow
  bool refill;        // push a new item into a flow after each of its pops (never drains)
  std::size_t pops;   // with refill; without, until the first flow drains
  std::uint64_t seed;
};

// One consumer; every flow pre-filled with `depth` items of random costs in [1, Max] (the
// first item of flow 0 costs exactly Max, so Max is the largest cost); pops while every
// flow stays backlogged, checking the bound after every item, and per-flow FIFO.
template <class S>
void check_fairness(const fairness_config& c) {
  SCOPED_TRACE(c.name);
  S s;
  std::mt19937_64 rng(c.seed);
  std::vector<drr_flow> flows;
  std::map<std::uint32_t, std::size_t> by_index;  // flow handle index -> position
  for (std::uint32_t q : c.quanta) {
    flows.push_back(s.add_flow(q, c.depth));
    by_index[flows.back().index()] = flows.size() - 1;
  }
  std::vector<std::uint64_t> next_push(flows.size(), 0);
  std::vector<std::uint64_t> next_pop(flows.size(), 0);
  std::vector<std::size_t> queued(flows.size(), 0);
  auto push_one = [&](std::size_t f, std::uint32_t cost) {
    ASSERT_EQ(s.try_push(flows[f], packet{cost, next_push[f]++}), queue_status::success);
    ++queued[f];
  };
  std::uniform_int_distribution<std::uint32_t> cost_dist(1, c.max_cost);
  for (std::size_t f = 0; f < flows.size(); ++f) {
    for (std::size_t i = 0; i < c.depth; ++i) {
      push_one(f, f == 0 && i == 0 ? c.max_cost : cost_dist(rng));
    }
  }
  fairness_checker check(c.quanta, c.max_cost);
  std::size_t popped = 0;
  for (;;) {
    if (c.refill && popped == c.pops) break;
    auto r = s.try_pop();
    ASSERT_TRUE(r) << "every flow is backlogged";
    ++popped;
    auto it = by_index.find(r->flow.index());
    ASSERT_NE(it, by_index.end());
    const std::size_t f = it->second;
    ASSERT_EQ(r->flow, flows[f]);
    ASSERT_EQ(r->value.id, next_pop[f]++) << "per-flow FIFO, flow " << f;
    ASSERT_LE(r->value.cost, c.max_cost);
    const std::string broken = check.serve(f, r->value.cost);
    ASSERT_EQ(broken, "") << "fairness bound broken";
    --queued[f];
    if (c.refill) {
      push_one(f, cost_dist(rng));
    } else if (queued[f] == 0) {
      break;  // flow f drained: from here on it is no longer backlogged
    }
  }
  // Every flow got served (a fairness test where some flow never ran proves little).
  for (std::size_t f = 0; f < flows.size(); ++f) EXPECT_GT(check.service(f), 0) << "flow " << f;
  EXPECT_GT(popped, c.refill ? c.pops - 1 : c.depth);
  ::testing::Test::RecordProperty(std::string(c.name) + "_worst_ratio",
                                  std::to_string(check.worst_ratio()));
}

std::vector<std::uint32_t> random_quanta(std::size_t n, std::uint32_t lo, std::uint32_t hi,
                                         std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> d(lo, hi);
  std::vector<std::uint32_t> q;
  for (std::size_t i = 0; i < n; ++i) q.push_back(d(rng));
  return q;
}

TEST(DrrSchedulerFairness, BoundHoldsAtEveryPrefixWhileAllFlowsAreBacklogged) {
  const std::size_t pops = lockless_test::scaled(20000, 2000);
  const std::vector<fairness_config> configs = {
      {"two flows, unit quanta 1 and 7, costs up to 5", {1, 7}, 5, 4, true, pops, 1},
      {"two flows, quanta 100 and 3, costs up to 250", {100, 3}, 250, 4, true, pops, 2},
      {"five flows, quanta 1..60, costs up to 100", random_quanta(5, 1, 60, 3), 100, 3, true, pops,
       3},
      {"five flows, quanta 500..1500, byte costs up to 1500",
       {500, 1500, 900, 1000, 64},
       1500,
       2,
       true,
       pops,
       4},
      {"seventeen flows, quanta 1..40, costs up to 64", random_quanta(17, 1, 40, 5), 64, 3, true,
       pops, 5},
      {"seventeen flows, equal quanta 10, costs up to 10", std::vector<std::uint32_t>(17, 10), 10,
       2, true, pops, 6},
      {"five flows pre-filled, no refill, quanta 2..30, costs up to 40", random_quanta(5, 2, 30, 7),
       40, 400, false, 0, 7},
      {"seventeen flows pre-filled, no refill, quanta 1..9, costs up to 20",
       random_quanta(17, 1, 9, 8), 20, 200, false, 0, 8},
  };
  for (const auto& c : configs) check_fairness<sched<packet, by_cost>>(c);
}

TEST(DrrSchedulerFairness, BoundHoldsInSingleConsumerMode) {
  const std::size_t pops = lockless_test::scaled(10000, 2000);
  check_fairness<sched<packet, by_cost, drr_options{.single_consumer = true}>>(
      {"single_consumer, five flows", random_quanta(5, 1, 50, 11), 120, 3, true, pops, 11});
  check_fairness<sched<packet, by_cost, drr_options{.single_consumer = true, .may_block = false}>>(
      {"single_consumer, may_block = false, 17 flows", random_quanta(17, 1, 30, 12), 45, 3, true,
       pops, 12});
}

// ---- no credit for idle time -------------------------------------------------------------

// Runs of consecutive items from the same flow: "b10 a1 b20 ..." (letter, count).
std::vector<std::string> runs(const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  std::size_t n = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ++n;
    if (i + 1 == labels.size() || labels[i + 1][0] != labels[i][0]) {
      out.push_back(std::string(1, labels[i][0]) + std::to_string(n));
      n = 0;
    }
  }
  return out;
}

// a (quantum 10) sends one item of cost 3 and drains with 7 left over: reset to 0. b
// (quantum 10, unit costs) stays backlogged throughout. After `pops` pops, a gets ten items
// of cost 3: its first turn serves 3 of them (9 <= 10), not 5 (as 17 would allow); while
// backlogged it carries its remainder: 11 -> 3 items, then 12 -> 4 items. `before`: the runs
// of the first `pops` items; `whole`: of the whole output.
void refilled_after_drain(int pops, const char* before, const char* whole) {
  sched<packet, by_cost> s;
  const drr_flow b = s.add_flow(10, 128);
  const drr_flow a = s.add_flow(10, 16);
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_EQ(s.try_push(b, packet{1, i}), queue_status::success);
  }
  ASSERT_EQ(s.try_push(a, packet{3, 0}), queue_status::success);
  std::vector<std::string> out;
  for (int k = 0; k < pops; ++k) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    out.push_back(label({a, b}, r->flow, r->value.id));
  }
  EXPECT_EQ(runs(out), split(before));
  for (std::uint64_t i = 1; i <= 10; ++i) {
    ASSERT_EQ(s.try_push(a, packet{3, i}), queue_status::success);
  }
  for (const std::string& l : drain_labels(s, {a, b})) out.push_back(l);
  EXPECT_EQ(runs(out), split(whole));
}

// Refilled after it idled for two of b's turns (it left the list meanwhile).
TEST(DrrSchedulerIdle, ADrainedFlowRestartsWithOneQuantum) {
  refilled_after_drain(31, "b10 a1 b20", "b10 a1 b20 a3 b10 a3 b10 a4 b50");
}

// Unit costs: however long a flow idles, its first turn after a refill serves exactly one
// quantum while another flow is backlogged, and so does every later turn.
TEST(DrrSchedulerIdle, NoBurstAfterALongIdle) {
  sched<int> s;
  const drr_flow a = s.add_flow(4, 64);
  const drr_flow b = s.add_flow(4, 512);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  ASSERT_EQ(s.try_push(a, 0), queue_status::success);
  std::vector<std::string> out;
  for (int k = 0; k < 201; ++k) {  // b4 a1, then 49 more turns of b alone
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    out.push_back(label({a, b}, r->flow, static_cast<std::uint64_t>(r->value)));
  }
  EXPECT_EQ(runs(out), split("b4 a1 b196"));
  for (int i = 1; i <= 40; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  out.clear();
  for (int k = 0; k < 80; ++k) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    out.push_back(label({a, b}, r->flow, static_cast<std::uint64_t>(r->value)));
  }
  std::vector<std::string> want;
  for (int t = 0; t < 10; ++t) {
    want.push_back("a4");
    want.push_back("b4");
  }
  EXPECT_EQ(runs(out), want);
}

// The lazy unlisting (the header's WHAT): a flow that drains goes to the back with its
// deficit reset and stays listed for one more turn. Refilled before that turn, it keeps
// its place: c, activated after a drained, is served after it. Strict DRR (the flow leaves
// at once and rejoins when refilled) would give "b0 c0 a1 b1".
template <drr_options O>
void drained_flow_refilled_within_a_round_keeps_its_place() {
  sched<int, unit_cost, O> s;
  const drr_flow a = s.add_flow(1, 8);
  const drr_flow b = s.add_flow(1, 8);
  const drr_flow c = s.add_flow(1, 8);
  ASSERT_EQ(s.try_push(a, 0), queue_status::success);
  ASSERT_EQ(s.try_push(b, 0), queue_status::success);
  ASSERT_EQ(s.try_push(b, 1), queue_status::success);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(label({a, b, c}, r->flow, static_cast<std::uint64_t>(r->value)), "a0");
  ASSERT_EQ(s.try_push(c, 0), queue_status::success);  // joins behind a (listed, idle)
  ASSERT_EQ(s.try_push(a, 1), queue_status::success);  // a is still listed: no activation
  EXPECT_EQ(drain_labels(s, {a, b, c}), split("b0 a1 c0 b1"));
}
TEST(DrrSchedulerIdle, ADrainedFlowRefilledWithinARoundKeepsItsPlace) {
  drained_flow_refilled_within_a_round_keeps_its_place<drr_options{}>();
  drained_flow_refilled_within_a_round_keeps_its_place<drr_options{.single_consumer = true}>();
}

// A flow still empty when its extra turn comes leaves the list: refilled later, it joins
// at the back, behind c. Kept listed, it would be served before c.
template <drr_options O>
void flow_idle_for_a_round_leaves_the_list() {
  sched<int, unit_cost, O> s;
  const drr_flow a = s.add_flow(1, 8);
  const drr_flow b = s.add_flow(1, 8);
  const drr_flow c = s.add_flow(1, 8);
  ASSERT_EQ(s.try_push(a, 0), queue_status::success);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  std::vector<std::string> got;
  for (int k = 0; k < 3; ++k) {  // a0 (a drains), b0, then a's empty turn and b1
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    got.push_back(label({a, b, c}, r->flow, static_cast<std::uint64_t>(r->value)));
  }
  ASSERT_EQ(s.try_push(c, 0), queue_status::success);
  ASSERT_EQ(s.try_push(a, 1), queue_status::success);  // activates a again, behind c
  for (const std::string& l : drain_labels(s, {a, b, c})) got.push_back(l);
  // b's turn (deficit spent, more items) is still held when c and a join: they go first.
  EXPECT_EQ(got, split("a0 b0 b1 c0 a1 b2 b3 b4 b5"));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
}
TEST(DrrSchedulerIdle, AFlowIdleForARoundLeavesTheList) {
  flow_idle_for_a_round_leaves_the_list<drr_options{}>();
  flow_idle_for_a_round_leaves_the_list<drr_options{.single_consumer = true}>();
}

// Lazy unlisting keeps a drained flow listed, but not its credit: refilled right after it
// drained (before its next turn: still listed, marked idle), a serves 3 items of cost 3 in
// that turn (deficit 0 + 10), not 5 (7 + 10 = 17). The deficit is reset when the flow
// drains, not when it is unlisted a round later.
TEST(DrrSchedulerIdle, ARefilledIdleFlowStartsWithOneQuantum) {
  refilled_after_drain(11, "b10 a1", "b10 a1 b10 a3 b10 a3 b10 a4 b60");
}

// Many flows drain at once: the pop that finds no item walks each of them once more and
// takes it off the list; then every flow is activated afresh by its next push, in the
// order of those pushes.
TEST(DrrSchedulerIdle, ManyDrainedFlowsLeaveOnTheEmptyPop) {
  sched<int> s;
  std::vector<drr_flow> f;
  for (int k = 0; k < 1000; ++k) f.push_back(s.add_flow(1, 2));
  for (int k = 0; k < 1000; ++k)
    ASSERT_EQ(s.try_push(f[static_cast<std::size_t>(k)], k), queue_status::success);
  for (int k = 0; k < 1000; ++k) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->value, k) << "one item per flow, in activation order";
  }
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  for (int k = 999; k >= 0; --k) {
    ASSERT_EQ(s.try_push(f[static_cast<std::size_t>(k)], k), queue_status::success);
  }
  for (int k = 999; k >= 0; --k) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->value, k) << "every flow left the list and joined again when refilled";
  }
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
}

// The model follows the same rule, item for item.
TEST(DrrSchedulerIdle, ModelKeepsADrainedFlowListedForOneRound) {
  lockless_test::drr_model<int> m;
  const auto a = m.add_flow(1, 8);
  const auto b = m.add_flow(1, 8);
  const auto c = m.add_flow(1, 8);
  ASSERT_EQ(m.try_push(a, 0, 1), queue_status::success);
  ASSERT_EQ(m.try_push(b, 0, 1), queue_status::success);
  ASSERT_EQ(m.try_push(b, 1, 1), queue_status::success);
  std::vector<std::size_t> order;
  auto pop = [&] {
    auto r = m.try_pop();
    ASSERT_TRUE(r.first);
    order.push_back(r.first->flow);
  };
  pop();
  ASSERT_EQ(m.try_push(c, 0, 1), queue_status::success);
  ASSERT_EQ(m.try_push(a, 1, 1), queue_status::success);
  for (int k = 0; k < 4; ++k) pop();
  EXPECT_EQ(order, (std::vector<std::size_t>{a, b, a, c, b}));
  EXPECT_EQ(m.try_pop().second, queue_status::empty);
}

// The model agrees on the idle rule (its deficit is visible): 0 after a drain.
TEST(DrrSchedulerIdle, ModelResetsTheDeficitOnDrain) {
  lockless_test::drr_model<int> m;
  const auto a = m.add_flow(10, 4);
  ASSERT_EQ(m.try_push(a, 1, 3), queue_status::success);
  ASSERT_TRUE(m.try_pop().first);
  EXPECT_EQ(m.deficit(a), 0u);
}

// ---- bad input and stale handles ---------------------------------------------------------

TEST(DrrSchedulerInput, BadQuantumOrCapacityThrows) {
  sched<int> s;
  EXPECT_THROW((void)s.add_flow(0, 4), std::invalid_argument);
  EXPECT_THROW((void)s.add_flow(1, 0), std::invalid_argument);
  EXPECT_THROW((void)s.add_flow(0, 0), std::invalid_argument);
  EXPECT_EQ(sched<int>::max_flow_capacity(), std::size_t{1} << 31);
  EXPECT_THROW((void)s.add_flow(1, sched<int>::max_flow_capacity() + 1), std::length_error);
  EXPECT_THROW((void)s.add_flow(1, std::numeric_limits<std::size_t>::max()), std::length_error);
  EXPECT_EQ(s.flow_count(), 0u) << "nothing changed";
  // The largest quantum is fine.
  const drr_flow f = s.add_flow(std::numeric_limits<std::uint32_t>::max(), 1);
  ASSERT_EQ(s.try_push(f, 5), queue_status::success);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 5);
  EXPECT_EQ(s.flow_count(), 1u);
}

// Every call with h reports closed / false; the scheduler is otherwise unaffected.
template <class S>
void expect_stale(S& s, drr_flow h, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_FALSE(s.contains(h));
  EXPECT_EQ(s.try_push(h, 1), queue_status::closed);
  const int v = 2;
  EXPECT_EQ(s.try_push(h, v), queue_status::closed);
  EXPECT_EQ(s.try_emplace(h, 3), queue_status::closed);
  EXPECT_FALSE(s.push(h, 4));
  EXPECT_FALSE(s.emplace(h, 5));
  EXPECT_EQ(s.push_for(h, 6, milliseconds(1)), queue_status::closed);
  EXPECT_EQ(s.push_until(h, 7, clock_type::now() + milliseconds(1)), queue_status::closed);
  EXPECT_FALSE(s.remove_flow(h));
}

TEST(DrrSchedulerInput, StaleHandlesReportClosed) {
  sched<int> s;
  sched<int> other;
  const drr_flow live = s.add_flow(1, 4);
  const drr_flow foreign = other.add_flow(1, 4);  // index 0 in `other`, as live is in s
  ASSERT_EQ(foreign.index(), live.index());
  const drr_flow removed = s.add_flow(1, 4);
  ASSERT_TRUE(s.remove_flow(removed));
  expect_stale(s, drr_flow{}, "default-constructed");
  expect_stale(s, removed, "removed");
  expect_stale(s, foreign, "another scheduler's");
  // The index of `removed` is reused by the next flow: the old handle still matches nothing.
  const drr_flow reused = s.add_flow(2, 4);
  EXPECT_EQ(reused.index(), removed.index());
  EXPECT_NE(reused, removed);
  EXPECT_NE(reused.generation(), removed.generation());
  expect_stale(s, removed, "removed, index reused");
  EXPECT_TRUE(s.contains(reused));
  EXPECT_TRUE(s.contains(live));
  EXPECT_TRUE(other.contains(foreign));
  EXPECT_EQ(s.flow_count(), 2u);
  // Nothing stale went anywhere.
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  EXPECT_EQ(other.try_pop().error(), queue_status::empty);
  ASSERT_EQ(s.try_push(reused, 10), queue_status::success);
  ASSERT_EQ(s.try_push(live, 11), queue_status::success);
  std::set<int> got;
  while (auto r = s.try_pop()) {
    EXPECT_EQ(r->flow, r->value == 10 ? reused : live);
    got.insert(r->value);
  }
  EXPECT_EQ(got, (std::set<int>{10, 11}));
  // Removing twice: the second time false.
  EXPECT_TRUE(s.remove_flow(reused));
  EXPECT_FALSE(s.remove_flow(reused));
  EXPECT_EQ(s.flow_count(), 1u);
}

// ---- capacity, types, exceptions, destruction ----------------------------------------------

TEST(DrrSchedulerTypes, FullAtExactlyTheCapacity) {
  for (std::size_t cap : {std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    SCOPED_TRACE(cap);
    sched<std::uint64_t> s;
    const drr_flow f = s.add_flow(1, cap);
    const drr_flow g = s.add_flow(1, 1);
    for (std::size_t i = 0; i < cap; ++i) ASSERT_EQ(s.try_push(f, i), queue_status::success);
    EXPECT_EQ(s.try_push(f, 9999), queue_status::full);
    EXPECT_EQ(s.try_emplace(f, 9999u), queue_status::full);
    EXPECT_EQ(s.push_for(f, 9999, milliseconds(1)), queue_status::full);
    EXPECT_EQ(s.try_push(g, 5000), queue_status::success) << "the other flow has its own room";
    EXPECT_EQ(s.try_push(g, 5001), queue_status::full);
    // Around the ring several times: one out, one in, FIFO throughout.
    std::uint64_t next_in = cap;
    std::uint64_t next_out = 0;
    bool saw_g = false;
    for (std::size_t k = 0; k < 3 * cap + 2; ++k) {
      auto r = s.try_pop();
      ASSERT_TRUE(r);
      if (r->flow == g) {
        EXPECT_EQ(r->value, 5000u);
        saw_g = true;
        continue;
      }
      ASSERT_EQ(r->value, next_out++);
      ASSERT_EQ(s.try_push(f, next_in++), queue_status::success);
      ASSERT_EQ(s.try_push(f, 9999), queue_status::full);
    }
    EXPECT_TRUE(saw_g);
    while (auto r = s.try_pop()) ASSERT_EQ(r->value, next_out++);
    EXPECT_EQ(next_out, next_in);
  }
}

TEST(DrrSchedulerTypes, RefusedPushLeavesAMoveOnlyArgumentUntouched) {
  sched<std::unique_ptr<int>> s;
  const drr_flow f = s.add_flow(1, 1);
  ASSERT_EQ(s.try_emplace(f, new int(1)), queue_status::success);
  auto p = std::make_unique<int>(2);
  int* raw = p.get();
  EXPECT_EQ(s.try_push(f, std::move(p)), queue_status::full);
  ASSERT_EQ(p.get(), raw);
  EXPECT_EQ(s.push_for(f, std::move(p), milliseconds(1)), queue_status::full);
  ASSERT_EQ(p.get(), raw);
  EXPECT_EQ(s.push_until(f, std::move(p), clock_type::now() + milliseconds(1)), queue_status::full);
  ASSERT_EQ(p.get(), raw);
  EXPECT_EQ(s.try_emplace(f, new int(3)), queue_status::full);  // built, then destroyed
  // Stale and closed: untouched as well.
  EXPECT_EQ(s.try_push(drr_flow{}, std::move(p)), queue_status::closed);
  ASSERT_EQ(p.get(), raw);
  EXPECT_FALSE(s.push(drr_flow{}, std::move(p)));
  ASSERT_EQ(p.get(), raw);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(*r->value, 1);
  EXPECT_TRUE(s.push(f, std::move(p)));
  EXPECT_EQ(p, nullptr);
  s.close();
  auto q = std::make_unique<int>(4);
  EXPECT_EQ(s.try_push(f, std::move(q)), queue_status::closed);
  ASSERT_NE(q, nullptr);
  EXPECT_FALSE(s.push(f, std::move(q)));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(s.push_for(f, std::move(q), milliseconds(1)), queue_status::closed);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(*q, 4);
  std::optional<drr_item<std::unique_ptr<int>>> last = s.pop();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->value.get(), raw);
  EXPECT_FALSE(s.pop());
}

struct emplaced {
  emplaced(int a_, std::string b_) : a(a_), b(std::move(b_)) {}
  emplaced(emplaced&&) noexcept = default;
  int a;
  std::string b;
};

TEST(DrrSchedulerTypes, TryEmplaceAndEmplaceBuildInPlace) {
  sched<emplaced> s;
  const drr_flow f = s.add_flow(2, 2);
  EXPECT_EQ(s.try_emplace(f, 1, "one"), queue_status::success);
  EXPECT_TRUE(s.emplace(f, 2, std::string(40, 'x')));
  EXPECT_EQ(s.try_emplace(f, 3, "three"), queue_status::full);
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value.a, 1);
  EXPECT_EQ(r->value.b, "one");
  std::optional<drr_item<emplaced>> r2 = s.pop();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->value.a, 2);
  EXPECT_EQ(r2->value.b, std::string(40, 'x'));
  EXPECT_EQ(r2->flow, f);
}

struct throwing_tag {};
using throwing_value = throwing<throwing_tag>;

TEST(DrrSchedulerTypes, ThrowingCopyLeavesTheSchedulerUnchanged) {
  throwing_value::counters().reset();
  {
    sched<throwing_value> s;
    const drr_flow f = s.add_flow(1, 2);
    const throwing_value one(1);
    ASSERT_EQ(s.try_push(f, one), queue_status::success);
    const throwing_value two(2);
    {
      throw_on_nth_construction arm(1);  // the copy of `two` throws
      EXPECT_THROW((void)s.try_push(f, two), injected_error);
    }
    {
      throw_on_nth_construction arm(1);  // the in-place construction throws
      EXPECT_THROW((void)s.try_emplace(f, 7, 8), injected_error);
    }
    {
      throw_on_nth_construction arm(1);
      EXPECT_THROW((void)s.push(f, two), injected_error);
    }
    EXPECT_EQ(two.value(), 2u) << "the argument is intact";
    // Exactly one item inside, and its slot count unchanged: one more fits, then full.
    ASSERT_EQ(s.try_push(f, two), queue_status::success);
    EXPECT_EQ(s.try_push(f, two), queue_status::full);
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.value(), 1u);
    auto r2 = s.try_pop();
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->value.value(), 2u);
    EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  }
  EXPECT_EQ(throwing_value::counters().live(), 0);
  EXPECT_EQ(throwing_value::counters().errors.load(), 0);
}

struct destroy_tag {};
using counted_value = counted<destroy_tag>;

// Items left in every place a flow can be at destruction: in the table and idle, in the
// table and listed, removed while the current flow, removed while on the private list,
// removed while still in the inbox; plus items popped and held by the test.
TEST(DrrSchedulerTypes, EveryValueDestroyedExactlyOnce) {
  auto& ctr = counted_value::counters();
  ctr.reset();
  epoch_domain domain;
  std::vector<counted_value> held;
  {
    drr_scheduler<counted_value, unit_cost, epoch_reclaimer> s{unit_cost{},
                                                               epoch_reclaimer(domain)};
    const drr_flow a = s.add_flow(10, 8);
    const drr_flow b = s.add_flow(1, 8);
    const drr_flow c = s.add_flow(1, 8);
    const drr_flow idle = s.add_flow(1, 8);
    for (std::uint64_t i = 0; i < 5; ++i) {
      ASSERT_EQ(s.try_push(a, counted_value(100 + i)), queue_status::success);
      ASSERT_EQ(s.try_emplace(b, 200 + i), queue_status::success);
      const counted_value v(300 + i);
      ASSERT_EQ(s.try_push(c, v), queue_status::success);
    }
    auto r = s.try_pop();  // a is current, b and c on the private list
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value.value(), 100u);
    held.push_back(std::move(r->value));
    const drr_flow d = s.add_flow(1, 8);
    for (std::uint64_t i = 0; i < 3; ++i) {
      ASSERT_EQ(s.try_push(d, counted_value(400 + i)), queue_status::success);  // inbox
    }
    ASSERT_TRUE(s.remove_flow(a));  // current
    ASSERT_TRUE(s.remove_flow(b));  // on the list
    ASSERT_TRUE(s.remove_flow(d));  // in the inbox
    (void)idle;
    EXPECT_EQ(s.flow_count(), 2u);
  }
  domain.barrier();
  EXPECT_EQ(ctr.live(), static_cast<long>(held.size()));
  held.clear();
  EXPECT_EQ(ctr.live(), 0);
  EXPECT_EQ(ctr.errors.load(), 0);
  EXPECT_GT(ctr.destructions.load(), 20);
}

TEST(DrrSchedulerTypes, DestroyedAfterCloseAndPartialDrain) {
  auto& ctr = counted_value::counters();
  ctr.reset();
  {
    sched<counted_value> s;
    std::vector<drr_flow> f;
    for (int k = 0; k < 4; ++k) f.push_back(s.add_flow(2, 4));
    for (const drr_flow& h : f) {
      for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(s.try_emplace(h, i), queue_status::success);
    }
    for (int k = 0; k < 5; ++k) ASSERT_TRUE(s.try_pop());
    s.close();
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(s.try_pop());
    ASSERT_TRUE(s.remove_flow(f[0]));
  }
  EXPECT_EQ(ctr.live(), 0);
  EXPECT_EQ(ctr.errors.load(), 0);
}

// A counting Cost: called by the producer, once per push call (a blocking push that
// retries too), never by a pop.
struct counting_cost {
  std::atomic<long>* calls;
  std::uint32_t operator()(const int& v) const noexcept {
    calls->fetch_add(1, std::memory_order_relaxed);
    return static_cast<std::uint32_t>(v);
  }
};

TEST(DrrSchedulerTypes, CostIsComputedByTheProducerOncePerPush) {
  std::atomic<long> calls{0};
  sched<int, counting_cost> s{counting_cost{&calls}};
  const drr_flow f = s.add_flow(5, 5);
  for (int v : {1, 2, 3, 4}) ASSERT_EQ(s.try_push(f, v), queue_status::success);
  ASSERT_EQ(s.try_emplace(f, 5), queue_status::success);
  EXPECT_EQ(calls.load(), 5);
  // Full: a timed push retries (spins, sleeps, tries once more at the deadline), and
  // computes the cost once.
  EXPECT_EQ(s.push_for(f, 6, timeout), queue_status::full);
  EXPECT_EQ(calls.load(), 6);
  const int seven = 7;
  EXPECT_EQ(s.push_until(f, seven, clock_type::now() + timeout), queue_status::full);
  EXPECT_EQ(calls.load(), 7);
  int sum = 0;
  while (auto r = s.try_pop()) sum += r->value;
  EXPECT_EQ(sum, 15);
  EXPECT_EQ(calls.load(), 7) << "pops use the stored cost";
  EXPECT_EQ(s.cost_function().calls, &calls);
}

// ---- remove_flow and reclamation ---------------------------------------------------------

TEST(DrrSchedulerRemove, ClosedAtOnceWhatItHoldsIsStillDeliveredInOrder) {
  sched<int> s;
  const drr_flow a = s.add_flow(2, 8);
  const drr_flow b = s.add_flow(2, 64);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  auto first = s.try_pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->flow, a);
  ASSERT_TRUE(s.remove_flow(a));  // while a holds its turn, b backlogged
  EXPECT_FALSE(s.contains(a));
  EXPECT_EQ(s.try_push(a, 99), queue_status::closed);
  EXPECT_EQ(s.flow_count(), 1u);
  // The DRR order is unchanged by the removal: a1 | b0 b1 | a2 a3 | b2 b3 | a4 | b4 ...
  std::vector<std::string> out = drain_labels(s, {a, b});
  std::vector<std::string> want = split("a1 b0 b1 a2 a3 b2 b3 a4");
  for (int i = 4; i < 20; ++i) want.push_back("b" + std::to_string(i));
  EXPECT_EQ(out, want);
  EXPECT_FALSE(s.remove_flow(a));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
}

TEST(DrrSchedulerRemove, RemovedFlowIsRetiredOnceDrained) {
  using qsched = drr_scheduler<int, unit_cost, quarantine_reclaimer>;
  qsched s;
  const drr_flow a = s.add_flow(1, 4);
  const drr_flow b = s.add_flow(1, 4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(b, 10 + i), queue_status::success);
  ASSERT_TRUE(s.remove_flow(a));
  EXPECT_EQ(s.reclaimer().retires(), 0u) << "not while it holds items";
  std::vector<int> from_a;
  while (auto r = s.try_pop()) {
    if (r->flow == a) from_a.push_back(r->value);
  }
  EXPECT_EQ(from_a, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s.reclaimer().retires(), 1u);
  // An empty flow: retired by the next pop (it is visited once, to be finished).
  ASSERT_TRUE(s.remove_flow(b));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  EXPECT_EQ(s.reclaimer().retires(), 2u);
  // A flow never pushed to.
  const drr_flow c = s.add_flow(3, 3);
  ASSERT_TRUE(s.remove_flow(c));
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  EXPECT_EQ(s.reclaimer().retires(), 3u);
  // A flow finished by close() first, removed afterwards: retired by remove_flow itself.
  const drr_flow d = s.add_flow(1, 1);
  ASSERT_EQ(s.try_push(d, 7), queue_status::success);
  s.close();
  auto r = s.try_pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 7);
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
  EXPECT_EQ(s.reclaimer().retires(), 3u);
  ASSERT_TRUE(s.remove_flow(d));
  EXPECT_EQ(s.reclaimer().retires(), 4u);
  // Born closed after close(), then removed.
  const drr_flow e = s.add_flow(1, 1);
  ASSERT_TRUE(s.remove_flow(e));
  EXPECT_EQ(s.reclaimer().retires(), 5u);
  EXPECT_EQ(s.reclaimer().double_retires(), 0u);
  EXPECT_EQ(s.reclaimer().guards_alive(), 0u);
}

// With a private epoch domain: each removed, drained flow is retired there and freed by
// barrier(); nothing stays pending. Many flows, their indices reused.
TEST(DrrSchedulerRemove, EpochDomainFreesRemovedFlows) {
  auto& ctr = counted_value::counters();
  ctr.reset();
  epoch_domain domain;
  {
    drr_scheduler<counted_value, unit_cost, epoch_reclaimer> s{unit_cost{},
                                                               epoch_reclaimer(domain)};
    const drr_flow keep = s.add_flow(1, 4);
    std::set<std::uint32_t> indices;
    for (std::uint64_t k = 0; k < 200; ++k) {
      const drr_flow f = s.add_flow(2, 3);
      indices.insert(f.index());
      ASSERT_EQ(s.try_emplace(f, k), queue_status::success);
      ASSERT_EQ(s.try_emplace(keep, k), queue_status::success);
      ASSERT_TRUE(s.remove_flow(f));
      for (int i = 0; i < 2; ++i) ASSERT_TRUE(s.try_pop());
      EXPECT_EQ(s.try_pop().error(), queue_status::empty);
    }
    EXPECT_EQ(indices.size(), 1u) << "the removed flow's index is reused";
    EXPECT_EQ(s.flow_count(), 1u);
    EXPECT_GE(domain.retired_pending(), 1u);
    domain.barrier();
    EXPECT_EQ(domain.retired_pending(), 0u) << "every removed flow freed";
    EXPECT_EQ(ctr.live(), 0);
  }
  EXPECT_EQ(ctr.live(), 0);
  EXPECT_EQ(ctr.errors.load(), 0);
}

// ---- close ---------------------------------------------------------------------------------

TEST(DrrSchedulerClose, PushesClosedPopsDrainThenClosed) {
  sched<int> s;
  const drr_flow a = s.add_flow(1, 4);
  const drr_flow b = s.add_flow(2, 4);
  const drr_flow idle = s.add_flow(1, 4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(b, i), queue_status::success);
  EXPECT_FALSE(s.is_closed());
  s.close();
  EXPECT_TRUE(s.is_closed());
  s.close();  // idempotent
  EXPECT_TRUE(s.is_closed());
  for (const drr_flow& h : {a, b, idle}) {
    EXPECT_EQ(s.try_push(h, 9), queue_status::closed);
    EXPECT_EQ(s.try_emplace(h, 9), queue_status::closed);
    EXPECT_FALSE(s.push(h, 9));
    EXPECT_EQ(s.push_for(h, 9, milliseconds(1)), queue_status::closed);
    EXPECT_TRUE(s.contains(h));
  }
  EXPECT_EQ(drain_labels(s, {a, b, idle}), split("a0 b0 b1 a1 b2 a2"));
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
  EXPECT_FALSE(s.pop());
  auto t = s.pop_for(milliseconds(1));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), queue_status::closed);
  EXPECT_EQ(s.pop_until(clock_type::now() + milliseconds(1)).error(), queue_status::closed);
  // Flows can still be added and removed; they are closed from the start.
  const drr_flow late = s.add_flow(1, 4);
  EXPECT_NE(late, drr_flow{});
  EXPECT_TRUE(s.contains(late));
  EXPECT_EQ(s.try_push(late, 1), queue_status::closed);
  EXPECT_FALSE(s.push(late, 1));
  EXPECT_EQ(s.flow_count(), 4u);
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
  EXPECT_TRUE(s.remove_flow(late));
  EXPECT_TRUE(s.remove_flow(a));
  EXPECT_EQ(s.flow_count(), 2u);
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
  EXPECT_THROW((void)s.add_flow(0, 1), std::invalid_argument);
}

TEST(DrrSchedulerClose, EmptySchedulerClosesAtOnce) {
  sched<int> none;
  EXPECT_EQ(none.try_pop().error(), queue_status::empty);
  none.close();
  EXPECT_EQ(none.try_pop().error(), queue_status::closed);
  sched<int> idle;
  (void)idle.add_flow(1, 1);
  (void)idle.add_flow(1, 1);
  idle.close();
  EXPECT_EQ(idle.try_pop().error(), queue_status::closed);
}

TEST(DrrSchedulerClose, RemovedFlowItemsSurviveClose) {
  sched<int> s;
  const drr_flow a = s.add_flow(1, 4);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.try_push(a, i), queue_status::success);
  ASSERT_TRUE(s.remove_flow(a));
  s.close();
  for (int i = 0; i < 3; ++i) {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value, i);
    EXPECT_EQ(r->flow, a);
  }
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
}

// ---- blocking and timed ------------------------------------------------------------------

TEST(DrrSchedulerBlocking, PopWaitsForAPush) {
  sched<int> s;
  const drr_flow f = s.add_flow(1, 1);
  std::optional<drr_item<int>> got;
  std::thread consumer([&] { got = s.pop(); });
  pause_for_waiters();
  EXPECT_TRUE(s.push(f, 42));
  consumer.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, 42);
  EXPECT_EQ(got->flow, f);
  EXPECT_EQ(s.try_pop().error(), queue_status::empty);
}

TEST(DrrSchedulerBlocking, PopForWakesOnAPushToANewFlow) {
  sched<int> s;
  std::optional<queue_result<drr_item<int>>> got;
  std::thread consumer([&] { got.emplace(s.pop_for(generous)); });
  pause_for_waiters();
  const drr_flow f = s.add_flow(3, 2);
  const auto start = clock_type::now();
  EXPECT_EQ(s.try_push(f, 7), queue_status::success);
  consumer.join();
  EXPECT_LT(clock_type::now() - start, generous);
  ASSERT_TRUE(got);
  ASSERT_TRUE(*got);
  EXPECT_EQ((*got)->value, 7);
  EXPECT_EQ((*got)->flow, f);
}

// The largest duration of each unit (a caller's "for ever") waits like the untimed forms:
// the deadline saturates at the steady clock's last time point. (push_for and pop_for used
// to compute now + d, which overflowed: undefined behaviour, and with nanoseconds::max() a
// deadline in the past.)
TEST(DrrSchedulerBlocking, TheLargestDurationsWaitLikeTheUntimedForms) {
  sched<int> s;
  const drr_flow f = s.add_flow(1, 1);
  for (int v = 1; v <= 2; ++v) {
    std::thread producer([&s, f, v] {
      pause_for_waiters();
      EXPECT_EQ(s.try_push(f, v), queue_status::success);
    });
    auto r =
        v == 1 ? s.pop_for(std::chrono::nanoseconds::max()) : s.pop_for(std::chrono::hours::max());
    producer.join();
    ASSERT_TRUE(r) << v;
    EXPECT_EQ(r->value, v);
  }
  ASSERT_EQ(s.try_push(f, 3), queue_status::success);  // the flow is full from here on
  for (int v = 4; v <= 5; ++v) {
    std::thread consumer([&s, v] {
      pause_for_waiters();
      EXPECT_EQ(s.try_pop().value().value, v - 1);
    });
    const int arg = v;
    EXPECT_EQ(v == 4 ? s.push_for(f, arg, std::chrono::nanoseconds::max())
                     : s.push_for(f, arg, std::chrono::hours::max()),
              queue_status::success)
        << v;
    consumer.join();
  }
}

// A time point of a coarser duration than its clock's and beyond the clock's range
// (time_point<steady_clock, hours>::max()) waits like the untimed forms; its min() has
// passed. (push_until and pop_until compared it with Clock::now() in nanoseconds: the
// conversion overflowed.)
TEST(DrrSchedulerBlocking, CoarseTimePointsBeyondTheClockSaturate) {
  using hours_point = std::chrono::time_point<clock_type, std::chrono::hours>;
  sched<int> s;
  const drr_flow f = s.add_flow(1, 1);
  std::thread producer([&] {
    pause_for_waiters();
    EXPECT_EQ(s.try_push(f, 1), queue_status::success);
  });
  auto r = s.pop_until(hours_point::max());
  producer.join();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 1);

  ASSERT_EQ(s.try_push(f, 2), queue_status::success);  // the flow is full from here on
  std::thread consumer([&] {
    pause_for_waiters();
    EXPECT_EQ(s.try_pop().value().value, 2);
  });
  EXPECT_EQ(s.push_until(f, 3, hours_point::max()), queue_status::success);
  consumer.join();

  const auto start = clock_type::now();
  EXPECT_EQ(s.push_until(f, 4, hours_point::min()), queue_status::full);
  EXPECT_EQ(s.try_pop().value().value, 3);
  EXPECT_EQ(s.pop_until(hours_point::min()).error(), queue_status::empty);
  EXPECT_LT(clock_type::now() - start, generous);
}

TEST(DrrSchedulerBlocking, TimedPopTimesOutEmpty) {
  sched<int> s;
  (void)s.add_flow(1, 1);
  auto start = clock_type::now();
  auto r = s.pop_for(timeout);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);
  EXPECT_GE(clock_type::now() - start, timeout);
  start = clock_type::now();
  auto r2 = s.pop_until(start + timeout);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), queue_status::empty);
  EXPECT_GE(clock_type::now() - start, timeout);
  auto r3 = s.pop_for(milliseconds(0));
  EXPECT_EQ(r3.error(), queue_status::empty);
}

TEST(DrrSchedulerBlocking, TimedPushTimesOutFull) {
  sched<std::unique_ptr<int>> s;
  const drr_flow f = s.add_flow(1, 2);
  ASSERT_EQ(s.try_emplace(f, new int(0)), queue_status::success);
  ASSERT_EQ(s.try_emplace(f, new int(1)), queue_status::success);
  auto p = std::make_unique<int>(2);
  auto start = clock_type::now();
  EXPECT_EQ(s.push_for(f, std::move(p), timeout), queue_status::full);
  EXPECT_GE(clock_type::now() - start, timeout);
  ASSERT_NE(p, nullptr);
  start = clock_type::now();
  EXPECT_EQ(s.push_until(f, std::move(p), start + timeout), queue_status::full);
  EXPECT_GE(clock_type::now() - start, timeout);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 2);
}

// A producer blocked on a full flow goes on once the consumer has popped one item of that
// flow: whatever the capacity, and whether or not the pop ended the flow's turn.
TEST(DrrSchedulerBlocking, PushWaitsForAPop) {
  for (std::size_t cap : {1u, 2u, 3u}) {
    for (std::uint32_t quantum : {1u, 8u}) {
      SCOPED_TRACE("capacity " + std::to_string(cap) + ", quantum " + std::to_string(quantum));
      sched<int> s;
      const drr_flow f = s.add_flow(quantum, cap);
      for (std::size_t i = 0; i < cap; ++i) ASSERT_TRUE(s.push(f, static_cast<int>(i)));
      std::atomic<bool> pushed{false};
      std::atomic<bool> result{false};
      std::thread producer([&] {
        result.store(s.push(f, 100));  // full: waits
        pushed.store(true);
      });
      pause_for_waiters();
      EXPECT_FALSE(pushed.load()) << "the flow was full";
      std::optional<drr_item<int>> first = s.pop();
      ASSERT_TRUE(first);
      EXPECT_EQ(first->value, 0);
      const bool woke = eventually(pushed);
      EXPECT_TRUE(woke) << "the producer still sleeps, 5 s after a slot of its flow was freed";
      if (!woke) s.close();  // lets it go (push returns false) so that the test ends
      producer.join();
      if (!woke) continue;
      EXPECT_TRUE(result.load());
      for (std::size_t i = 1; i < cap; ++i) {
        auto r = s.pop();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->value, static_cast<int>(i));
      }
      auto last = s.pop();
      ASSERT_TRUE(last);
      EXPECT_EQ(last->value, 100);
    }
  }
}

// The same, where the consumer empties the flow (the turn ends): the documented wake-up.
TEST(DrrSchedulerBlocking, PushWaitsUntilTheFlowsTurnEnds) {
  sched<int> s;
  const drr_flow f = s.add_flow(2, 2);
  ASSERT_TRUE(s.push(f, 0));
  ASSERT_TRUE(s.push(f, 1));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    EXPECT_TRUE(s.push(f, 2));
    pushed.store(true);
  });
  pause_for_waiters();
  EXPECT_FALSE(pushed.load());
  EXPECT_EQ(s.pop()->value, 0);
  EXPECT_EQ(s.pop()->value, 1);
  EXPECT_TRUE(eventually(pushed));
  producer.join();
  EXPECT_EQ(s.pop()->value, 2);
}

TEST(DrrSchedulerBlocking, CloseWakesABlockedPopAndABlockedPush) {
  sched<int> s;
  const drr_flow full = s.add_flow(1, 1);
  ASSERT_TRUE(s.push(full, 1));
  sched<int> empty;
  (void)empty.add_flow(1, 1);
  std::optional<drr_item<int>> popped{drr_item<int>{drr_flow{}, -1}};
  bool push_result = true;
  std::thread consumer([&] { popped = empty.pop(); });
  std::thread producer([&] { push_result = s.push(full, 2); });
  pause_for_waiters();
  empty.close();
  s.close();
  consumer.join();
  producer.join();
  EXPECT_FALSE(popped) << "closed and drained: nullopt";
  EXPECT_FALSE(push_result) << "closed: false";
  // The item pushed before the close is still there.
  auto r = s.pop();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 1);
  EXPECT_FALSE(s.pop());
}

TEST(DrrSchedulerBlocking, CloseWakesTimedWaiters) {
  sched<int> s;
  const drr_flow full = s.add_flow(1, 1);
  ASSERT_TRUE(s.push(full, 1));
  sched<int> empty;
  queue_status push_status = queue_status::success;
  queue_status pop_status = queue_status::success;
  std::thread producer([&] { push_status = s.push_for(full, 2, generous); });
  std::thread consumer([&] { pop_status = empty.pop_for(generous).error(); });
  pause_for_waiters();
  const auto start = clock_type::now();
  s.close();
  empty.close();
  producer.join();
  consumer.join();
  EXPECT_LT(clock_type::now() - start, generous);
  EXPECT_EQ(push_status, queue_status::closed);
  EXPECT_EQ(pop_status, queue_status::closed);
}

TEST(DrrSchedulerBlocking, RemoveFlowWakesAProducerBlockedOnIt) {
  sched<int> s;
  const drr_flow f = s.add_flow(1, 1);
  const drr_flow other = s.add_flow(1, 1);
  ASSERT_TRUE(s.push(f, 1));
  bool result = true;
  queue_status timed = queue_status::success;
  std::thread producer([&] { result = s.push(f, 2); });
  std::thread timed_producer([&] { timed = s.push_for(f, 3, generous); });
  pause_for_waiters();
  const auto start = clock_type::now();
  ASSERT_TRUE(s.remove_flow(f));
  producer.join();
  timed_producer.join();
  EXPECT_LT(clock_type::now() - start, generous);
  EXPECT_FALSE(result);
  EXPECT_EQ(timed, queue_status::closed);
  EXPECT_TRUE(s.push(other, 5)) << "other flows unaffected";
  std::vector<int> got;
  while (auto r = s.try_pop()) got.push_back(r->value);
  EXPECT_EQ(got, (std::vector<int>{1, 5}));
}

// A producer pushes far more than the capacity through a flow of capacity 1 and 2 while the
// consumer pops with pop(): both sides block over and over; FIFO order throughout.
TEST(DrrSchedulerBlocking, PingPongThroughASmallFlow) {
  for (std::size_t cap : {1u, 2u}) {
    sched<std::uint64_t> s;
    const drr_flow f = s.add_flow(1, cap);
    const std::uint64_t n = lockless_test::scaled(300, 100);
    std::thread producer([&] {
      for (std::uint64_t i = 0; i < n; ++i) ASSERT_TRUE(s.push(f, i));
    });
    for (std::uint64_t i = 0; i < n; ++i) {
      auto r = s.pop_for(generous);
      ASSERT_TRUE(r) << "item " << i << ", capacity " << cap << ": " << to_string(r.error());
      ASSERT_EQ(r->value, i);
    }
    producer.join();
    EXPECT_EQ(s.try_pop().error(), queue_status::empty);
  }
}

// ---- several consumers -------------------------------------------------------------------

// Pre-filled flows, closed, then two consumers pop concurrently until closed: every item
// exactly once, and each flow's items in FIFO order at each consumer.
TEST(DrrSchedulerConsumers, TwoConsumersGetDisjointItemsCoveringEverything) {
  constexpr std::size_t flows = 4;
  const std::uint64_t per_flow = lockless_test::scaled(2000, 200);
  sched<std::uint64_t> s;
  std::vector<drr_flow> f;
  for (std::size_t k = 0; k < flows; ++k) {
    f.push_back(s.add_flow(static_cast<std::uint32_t>(k + 1), per_flow));
    for (std::uint64_t i = 0; i < per_flow; ++i) {
      ASSERT_EQ(s.try_push(f[k], k * per_flow + i), queue_status::success);
    }
  }
  s.close();
  std::vector<std::vector<drr_item<std::uint64_t>>> got(2);
  {
    std::vector<std::jthread> cs;
    cs.emplace_back([&] {
      while (auto r = s.pop()) got[0].push_back(std::move(*r));
    });
    cs.emplace_back([&] {  // try_pop: busy and empty are legal answers, not the end
      for (;;) {
        auto r = s.try_pop();
        if (r) {
          got[1].push_back(std::move(*r));
        } else if (r.error() == queue_status::closed) {
          break;
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  std::vector<int> seen(flows * per_flow, 0);
  for (const auto& out : got) {
    std::vector<std::uint64_t> last(flows, 0);
    std::vector<bool> any(flows, false);
    for (const auto& it : out) {
      ASSERT_LT(it.value, seen.size());
      ++seen[it.value];
      const std::size_t k = it.value / per_flow;
      EXPECT_EQ(it.flow, f[k]);
      if (any[k]) {
        EXPECT_GT(it.value, last[k]) << "per-flow FIFO at one consumer";
      }
      any[k] = true;
      last[k] = it.value;
    }
  }
  for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], 1) << "item " << i;
}

// The same with producers running: two producers per flow, two consumers with pop(), the
// flows small so that producers block; closed once the producers are done.
TEST(DrrSchedulerConsumers, ProducersAndConsumersConcurrently) {
  constexpr std::size_t flows = 3;
  const std::uint64_t per_producer = lockless_test::scaled(600, 100);
  sched<std::uint64_t> s;
  std::vector<drr_flow> f;
  for (std::size_t k = 0; k < flows; ++k) f.push_back(s.add_flow(2, 4));
  std::vector<std::vector<std::uint64_t>> got(2);
  {
    std::vector<std::jthread> cs;
    for (std::size_t c = 0; c < 2; ++c) {
      cs.emplace_back([&, c] {
        while (auto r = s.pop()) {
          EXPECT_EQ(r->flow, f[(r->value >> 40) % flows]);
          got[c].push_back(r->value);
        }
      });
    }
    {
      std::vector<std::jthread> ps;
      for (std::uint64_t p = 0; p < 2 * flows; ++p) {
        ps.emplace_back([&, p] {
          for (std::uint64_t i = 0; i < per_producer; ++i) {
            ASSERT_TRUE(s.push(f[p % flows], p << 40 | i));
          }
        });
      }
    }
    s.close();
  }
  std::vector<std::vector<int>> seen(2 * flows, std::vector<int>(per_producer, 0));
  for (const auto& out : got) {
    std::vector<std::uint64_t> next(2 * flows, 0);
    for (std::uint64_t v : out) {
      const std::uint64_t p = v >> 40;
      const std::uint64_t i = v & ((std::uint64_t{1} << 40) - 1);
      ASSERT_LT(p, 2 * flows);
      ASSERT_LT(i, per_producer);
      ++seen[p][i];
      EXPECT_GE(i, next[p]) << "per-producer order at one consumer";
      next[p] = i + 1;
    }
  }
  for (const auto& v : seen) {
    for (int n : v) ASSERT_EQ(n, 1);
  }
}

// A latch on a mutex and a condition variable (TSan sees through them).
class latch_flag {
 public:
  void raise() {
    {
      std::lock_guard lock(m_);
      set_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return set_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool set_ = false;
};

// The first move of a value carrying `hook` after arm() blocks until release: a pop
// moves the item out inside the consumer gate, so the popping thread holds the gate
// for as long as the test wants.
struct hold_hook {
  std::atomic<bool> armed{false};
  latch_flag entered;
  latch_flag released;
};
struct held_value {
  explicit held_value(int id_, hold_hook* h = nullptr) noexcept : id(id_), hook(h) {}
  held_value(held_value&& o) noexcept : id(o.id), hook(o.hook) {
    if (hook != nullptr && hook->armed.exchange(false)) {
      hook->entered.raise();
      hook->released.wait();
    }
  }
  held_value& operator=(held_value&&) noexcept = default;
  int id;
  hold_hook* hook;
};

TEST(DrrSchedulerConsumers, BusyWhileAnotherConsumerIsInsideAndPopWaitsItOut) {
  sched<held_value> s;
  const drr_flow f = s.add_flow(1, 4);
  hold_hook hook;
  ASSERT_EQ(s.try_push(f, held_value(1, &hook)), queue_status::success);
  ASSERT_EQ(s.try_emplace(f, 2), queue_status::success);
  ASSERT_EQ(s.try_emplace(f, 3), queue_status::success);
  hook.armed.store(true);
  int first = 0;
  std::thread inside([&] {
    auto r = s.try_pop();
    ASSERT_TRUE(r);
    first = r->value.id;
  });
  hook.entered.wait();  // `inside` holds the gate now
  auto busy = s.try_pop();
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error(), queue_status::busy);
  const drr_flow g = s.add_flow(1, 1);  // producers are not delayed by the consumer inside
  EXPECT_EQ(s.try_emplace(g, 20), queue_status::success);
  EXPECT_EQ(s.try_emplace(g, 21), queue_status::full);
  std::optional<drr_item<held_value>> second;
  std::thread waiter([&] { second = s.pop(); });  // must wait, never report busy
  pause_for_waiters();
  hook.released.raise();
  inside.join();
  waiter.join();
  EXPECT_EQ(first, 1);
  // f's turn ends at the waiter's pop (deficit 0, item 2 next); g, activated during the
  // turn, goes ahead of f.
  ASSERT_TRUE(second);
  EXPECT_EQ(second->value.id, 20);
  EXPECT_EQ(second->flow, g);
  std::vector<int> rest;
  while (auto r = s.try_pop()) rest.push_back(r->value.id);
  EXPECT_EQ(rest, (std::vector<int>{2, 3}));
}

// A timed pop that times out while another consumer holds the gate: "a timeout is
// reported as empty" (header: timed forms), so not busy.
TEST(DrrSchedulerConsumers, TimedPopTimingOutBehindAnotherConsumerReportsEmpty) {
  sched<held_value> s;
  const drr_flow f = s.add_flow(1, 4);
  hold_hook hook;
  ASSERT_EQ(s.try_push(f, held_value(1, &hook)), queue_status::success);
  hook.armed.store(true);
  std::thread inside([&] { EXPECT_TRUE(s.try_pop()); });
  hook.entered.wait();
  const auto start = clock_type::now();
  auto r = s.pop_for(timeout);
  EXPECT_GE(clock_type::now() - start, timeout);
  hook.released.raise();
  inside.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), queue_status::empty);
}

// ---- a producer between claiming a slot and publishing its item -------------------------

// The documented weakness, forced: a producer whose item's move constructor runs (between
// [DP3] and [DP4]) holds back the items claimed after it in the same flow, never those of
// other flows; its publication lists the flow again, waking a blocked pop; per-flow order is
// the claim order; a close meanwhile lets both items through before reporting closed.
TEST(DrrSchedulerGap, AProducerBetweenClaimAndPublishHoldsBackOnlyItsFlow) {
  for (const bool close_meanwhile : {false, true}) {
    SCOPED_TRACE(close_meanwhile ? "closed during the gap" : "not closed");
    sched<held_value> s;
    const drr_flow f = s.add_flow(4, 4);
    const drr_flow g = s.add_flow(4, 4);
    hold_hook hook;
    hook.armed.store(true);
    std::thread slow([&] {  // claims slot 0 of f, then stops inside the item's move
      EXPECT_EQ(s.try_push(f, held_value(1, &hook)), queue_status::success);
    });
    hook.entered.wait();
    ASSERT_EQ(s.try_emplace(f, 2), queue_status::success);  // slot 1, published
    auto held_back = s.try_pop();
    ASSERT_FALSE(held_back) << "item 2 waits behind the unpublished item 1";
    EXPECT_EQ(held_back.error(), queue_status::empty);
    ASSERT_EQ(s.try_emplace(g, 10), queue_status::success);
    auto other = s.try_pop();
    ASSERT_TRUE(other) << "another flow is not held back";
    EXPECT_EQ(other->value.id, 10);
    EXPECT_EQ(other->flow, g);
    if (close_meanwhile) {
      s.close();
      EXPECT_EQ(s.try_emplace(f, 3), queue_status::closed);
      EXPECT_EQ(s.try_pop().error(), queue_status::empty) << "not closed: a claim is pending";
    }
    std::optional<drr_item<held_value>> woken;
    std::thread consumer([&] { woken = s.pop(); });  // sleeps until the publication
    pause_for_waiters();
    hook.released.raise();
    slow.join();
    consumer.join();
    ASSERT_TRUE(woken);
    EXPECT_EQ(woken->value.id, 1);
    EXPECT_EQ(woken->flow, f);
    auto next = s.try_pop();
    ASSERT_TRUE(next);
    EXPECT_EQ(next->value.id, 2);
    EXPECT_EQ(s.try_pop().error(), close_meanwhile ? queue_status::closed : queue_status::empty);
  }
}

// ---- many flows, extreme costs -------------------------------------------------------------

// 300 flows alive at once (the table grows past its first chunks of 64 and 128 slots), a
// foreign handle whose index lies beyond this scheduler's table, removal of every other flow
// and reuse of the freed indices.
TEST(DrrSchedulerFlows, ManyFlowsAcrossTableChunks) {
  constexpr std::size_t n = 300;
  sched<std::uint64_t> big;
  std::vector<drr_flow> f;
  for (std::size_t k = 0; k < n; ++k) {
    f.push_back(big.add_flow(1, 2));
    EXPECT_EQ(f.back().index(), k);
  }
  sched<std::uint64_t> small;
  const drr_flow mine = small.add_flow(1, 2);
  expect_stale(small, f[n - 1], "foreign handle beyond the table");
  EXPECT_TRUE(small.contains(mine));
  for (std::size_t k = 0; k < n; ++k) ASSERT_EQ(big.try_push(f[k], k), queue_status::success);
  for (std::size_t k = 0; k < n; ++k) {  // one round, in activation order
    auto r = big.try_pop();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->value, k);
    ASSERT_EQ(r->flow, f[k]);
  }
  for (std::size_t k = 0; k < n; k += 2) ASSERT_TRUE(big.remove_flow(f[k]));
  EXPECT_EQ(big.flow_count(), n / 2);
  std::set<std::uint32_t> reused;
  for (std::size_t k = 0; k < n / 2; ++k) reused.insert(big.add_flow(2, 1).index());
  std::set<std::uint32_t> freed;
  for (std::size_t k = 0; k < n; k += 2) freed.insert(f[k].index());
  EXPECT_EQ(reused, freed) << "the freed indices are reused before new ones";
  EXPECT_EQ(big.flow_count(), n);
  for (std::size_t k = 0; k < n; ++k) {
    EXPECT_EQ(big.contains(f[k]), k % 2 == 1) << k;
  }
  EXPECT_EQ(big.try_pop().error(), queue_status::empty);
}

// Zero-cost items never end a turn; items and quanta of 2^32 - 1 do not overflow the
// deficit.
TEST(DrrSchedulerFlows, ZeroAndHugeCosts) {
  {
    sched<packet, by_cost> s;
    const drr_flow a = s.add_flow(1, 8);
    const drr_flow b = s.add_flow(1, 8);
    std::uint64_t id = 0;
    for (std::uint32_t c : {0u, 0u, 0u, 1u, 1u}) {
      ASSERT_EQ(s.try_push(a, packet{c, id++}), queue_status::success);
    }
    ASSERT_EQ(s.try_push(b, packet{1, 0}), queue_status::success);
    ASSERT_EQ(s.try_push(b, packet{1, 1}), queue_status::success);
    EXPECT_EQ(drain_labels(s, {a, b}), split("a0 a1 a2 a3 b0 a4 b1"));
  }
  {
    constexpr std::uint32_t top = std::numeric_limits<std::uint32_t>::max();
    sched<packet, by_cost> s;
    const drr_flow a = s.add_flow(top, 4);
    const drr_flow b = s.add_flow(top, 8);
    for (std::uint64_t i = 0; i < 3; ++i) {
      ASSERT_EQ(s.try_push(a, packet{top, i}), queue_status::success);
    }
    for (std::uint64_t i = 0; i < 5; ++i) {
      ASSERT_EQ(s.try_push(b, packet{1, i}), queue_status::success);
    }
    EXPECT_EQ(drain_labels(s, {a, b}), split("a0 b0 b1 b2 b3 b4 a1 a2"));
  }
  {
    // Quantum 1, one item of cost 2^20 between two unit-cost flows: it waits 2^20 turns
    // of its flow, each a turn that serves nothing (the other flows drain first).
    sched<packet, by_cost> s;
    const drr_flow a = s.add_flow(1, 2);
    const drr_flow b = s.add_flow(1, 2);
    ASSERT_EQ(s.try_push(a, packet{1u << 20, 0}), queue_status::success);
    ASSERT_EQ(s.try_push(b, packet{1, 0}), queue_status::success);
    ASSERT_EQ(s.try_push(b, packet{1, 1}), queue_status::success);
    EXPECT_EQ(drain_labels(s, {a, b}), split("b0 b1 a0"));
  }
}

// ---- the options' API: may_block = false has no blocking forms ---------------------------

template <class S>
concept has_blocking_pop = requires(S& s) { s.pop(); };
template <class S>
concept has_timed_pop = requires(S& s) {
  s.pop_for(milliseconds(1));
  s.pop_until(clock_type::now());
};
template <class S>
concept has_blocking_push = requires(S& s, drr_flow f, typename S::value_type v) {
  s.push(f, std::move(v));
  s.push(f, v);
};
template <class S>
concept has_emplace = requires(S& s, drr_flow f) { s.emplace(f, 1); };
template <class S>
concept has_timed_push = requires(S& s, drr_flow f, typename S::value_type v) {
  s.push_for(f, std::move(v), milliseconds(1));
  s.push_until(f, v, clock_type::now());
};
template <class S>
concept has_try_forms = requires(S& s, drr_flow f, typename S::value_type v) {
  { s.try_push(f, std::move(v)) } -> std::same_as<queue_status>;
  { s.try_emplace(f, 1) } -> std::same_as<queue_status>;
  { s.try_pop() } -> std::same_as<queue_result<drr_item<typename S::value_type>>>;
  s.close();
};

using blocking_t = sched<int>;
using nonblocking_t = sched<int, unit_cost, drr_options{.may_block = false}>;
using nonblocking_single_t =
    sched<int, unit_cost, drr_options{.single_consumer = true, .may_block = false}>;

static_assert(has_blocking_pop<blocking_t> && has_timed_pop<blocking_t> &&
              has_blocking_push<blocking_t> && has_emplace<blocking_t> &&
              has_timed_push<blocking_t> && has_try_forms<blocking_t>);
static_assert(!has_blocking_pop<nonblocking_t> && !has_timed_pop<nonblocking_t> &&
              !has_blocking_push<nonblocking_t> && !has_emplace<nonblocking_t> &&
              !has_timed_push<nonblocking_t> && has_try_forms<nonblocking_t>);
static_assert(!has_blocking_pop<nonblocking_single_t> && has_try_forms<nonblocking_single_t>);
static_assert(std::is_same_v<blocking_t::item, drr_item<int>>);
static_assert(std::is_trivially_copyable_v<drr_flow>);
static_assert(!std::is_copy_constructible_v<blocking_t>);

TEST(DrrSchedulerOptions, NonBlockingSchedulerWorksThroughTheTryForms) {
  nonblocking_t s;
  const drr_flow a = s.add_flow(2, 2);
  const drr_flow b = s.add_flow(1, 2);
  EXPECT_EQ(s.try_push(a, 0), queue_status::success);
  EXPECT_EQ(s.try_emplace(a, 1), queue_status::success);
  EXPECT_EQ(s.try_push(a, 2), queue_status::full);
  EXPECT_EQ(s.try_push(b, 0), queue_status::success);
  EXPECT_EQ(drain_labels(s, {a, b}), split("a0 a1 b0"));
  // Several consumers without blocking: try_pop from two threads, busy or empty in between.
  const std::uint64_t n = lockless_test::scaled(2000, 200);
  std::atomic<std::uint64_t> sum{0};
  std::atomic<std::uint64_t> count{0};
  {
    std::vector<std::jthread> ts;
    ts.emplace_back([&] {
      for (std::uint64_t i = 0; i < n; ++i) {
        while (s.try_push(i % 2 == 0 ? a : b, static_cast<int>(i)) != queue_status::success) {
          std::this_thread::yield();
        }
      }
    });
    for (int c = 0; c < 2; ++c) {
      ts.emplace_back([&] {
        while (count.load() < n) {
          auto r = s.try_pop();
          if (r) {
            sum.fetch_add(static_cast<std::uint64_t>(r->value));
            count.fetch_add(1);
          } else {
            EXPECT_TRUE(r.error() == queue_status::empty || r.error() == queue_status::busy);
            std::this_thread::yield();
          }
        }
      });
    }
  }
  EXPECT_EQ(count.load(), n);
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
  s.close();
  EXPECT_EQ(s.try_pop().error(), queue_status::closed);
}

}  // namespace
