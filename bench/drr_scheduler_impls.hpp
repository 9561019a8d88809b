// bench/drr_scheduler_impls.hpp: the schedulers compared by bench_drr_scheduler and
// callgrind_drr_scheduler, behind one tiny interface:
//
//   static constexpr const char* name;        the <impl> part of the benchmark name
//   using flow_type;                          what add_flow returns
//   explicit S(std::size_t total_capacity);   a fresh, empty scheduler. total_capacity is
//                                             the sum of the capacities of the flows that
//                                             will be added; only the FIFO uses it (the
//                                             size of its one ring)
//   flow_type add_flow(std::uint32_t quantum, std::size_t capacity);
//   bool try_push(flow_type f, std::uint64_t v);     false if the flow is full
//   bool try_pop(flow_type& f, std::uint64_t& v);    false if nothing is backlogged (or,
//                                                    ours with several consumers allowed,
//                                                    busy: another consumer is inside)
//
// Values are std::uint64_t and every item costs 1 (lockless::unit_cost), so a quantum
// counts items. The implementations:
//   lockless_drr       lockless::drr_scheduler with the default options (any number of
//                      consumers: each pop passes the consumer gate; may_block: the
//                      blocking forms exist, and a consumer ending a turn that popped
//                      something checks for sleeping producers)
//   lockless_drr_sc    drr_options{.single_consumer = true}: no gate (the suites pop from
//                      one thread at a time)
//   std_mutex_drr      the sequential DRR of the project (lockless_test::drr_model,
//                      tests/structures/drr_scheduler_model.hpp, the specification the
//                      header is differentially tested against: the same semantics item
//                      by item) behind one std::mutex; try_push / try_pop hold it. Its
//                      flows are std::deque FIFOs and the active list a std::deque of ids
//                      (a deque allocates a block every 32 items of a flow and frees one
//                      every 32 pops); no condition variables (try forms only).
//   fifo_lockless_bq   not a scheduler: one lockless::bounded_queue (default options) of
//                      total_capacity items that every producer pushes into, whatever the
//                      flow. The price of fairness: the same producers and consumer, no
//                      flows, no turns. add_flow only counts; try_pop reports flow 0.
//                      Named outside lockless_* on purpose, so that scripts/bench_table.py's
//                      "vs lockless" column compares it with the best DRR of the row.
//
// try_push / try_pop are [[gnu::always_inline]] in every implementation: whether g++ inlines
// a wrapper into the timed loop otherwise depends on its inlining budget, which a small
// change elsewhere in a header can tip (measured: lockless_drr's all_backlogged/65536 row
// went from 17.5 to 13.2 M items/s when try_pop stopped being inlined after a change that
// only removed one instruction from a path the row never runs).
//
// Nothing here depends on Google Benchmark, so the callgrind driver can use it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

#include <lockless/bounded_queue.hpp>
#include <lockless/drr_scheduler.hpp>
#include <lockless/epoch.hpp>

#include "structures/drr_scheduler_model.hpp"

namespace lockless_bench {

template <lockless::drr_options Options>
struct lockless_drr_base {
  using scheduler = lockless::drr_scheduler<std::uint64_t, lockless::unit_cost,
                                            lockless::epoch_reclaimer, Options>;
  using flow_type = lockless::drr_flow;

  explicit lockless_drr_base(std::size_t /*total_capacity*/) {}
  flow_type add_flow(std::uint32_t quantum, std::size_t capacity) {
    return s.add_flow(quantum, capacity);
  }
  [[gnu::always_inline]] bool try_push(flow_type f, std::uint64_t v) {
    return s.try_push(f, v) == lockless::queue_status::success;
  }
  [[gnu::always_inline]] bool try_pop(flow_type& f, std::uint64_t& v) {
    auto r = s.try_pop();
    if (!r) return false;
    f = r->flow;
    v = r->value;
    return true;
  }
  scheduler s;
};

struct lockless_drr : lockless_drr_base<lockless::drr_options{}> {
  static constexpr const char* name = "lockless_drr";
  using lockless_drr_base::lockless_drr_base;
};

struct lockless_drr_sc : lockless_drr_base<lockless::drr_options{.single_consumer = true}> {
  static constexpr const char* name = "lockless_drr_sc";
  using lockless_drr_base::lockless_drr_base;
};

// The same DRR, written the plain way, under one lock.
struct std_mutex_drr {
  static constexpr const char* name = "std_mutex_drr";
  using flow_type = lockless_test::drr_model<std::uint64_t>::flow_id;

  explicit std_mutex_drr(std::size_t /*total_capacity*/) {}
  flow_type add_flow(std::uint32_t quantum, std::size_t capacity) {
    std::lock_guard lock(m_);
    return model_.add_flow(quantum, capacity);
  }
  [[gnu::always_inline]] bool try_push(flow_type f, std::uint64_t v) {
    std::lock_guard lock(m_);
    return model_.try_push(f, v, 1) == lockless::queue_status::success;  // unit_cost
  }
  [[gnu::always_inline]] bool try_pop(flow_type& f, std::uint64_t& v) {
    std::lock_guard lock(m_);
    auto r = model_.try_pop();
    if (!r.first) return false;
    f = r.first->flow;
    v = r.first->value;
    return true;
  }

 private:
  std::mutex m_;
  lockless_test::drr_model<std::uint64_t> model_;
};

// No fairness at all: one FIFO for every flow.
struct fifo_lockless_bq {
  static constexpr const char* name = "fifo_lockless_bq";
  using flow_type = std::uint32_t;

  explicit fifo_lockless_bq(std::size_t total_capacity) : q_(total_capacity) {}
  flow_type add_flow(std::uint32_t /*quantum*/, std::size_t /*capacity*/) { return flows_++; }
  [[gnu::always_inline]] bool try_push(flow_type /*f*/, std::uint64_t v) {
    return q_.try_push(v) == lockless::queue_status::success;
  }
  [[gnu::always_inline]] bool try_pop(flow_type& f, std::uint64_t& v) {
    auto r = q_.try_pop();
    if (!r) return false;
    f = 0;
    v = *r;
    return true;
  }

 private:
  lockless::bounded_queue<std::uint64_t> q_;
  flow_type flows_ = 0;
};

// Runs f.template operator()<S>() for every implementation, ours first.
template <class F>
void for_each_scheduler(F&& f) {
  f.template operator()<lockless_drr>();
  f.template operator()<lockless_drr_sc>();
  f.template operator()<std_mutex_drr>();
  f.template operator()<fifo_lockless_bq>();
}

}  // namespace lockless_bench
