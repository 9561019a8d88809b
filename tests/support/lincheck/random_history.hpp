// tests/support/lincheck/random_history.hpp: random concurrent histories for testing the
// checkers (and for fuzzers that want history-shaped inputs).
//
// random_linearizable_history(): a sequential run of the container (random inserts,
// removes, closes) at linearization points 10, 20, 30, ..., each operation given to a
// random thread and stretched into an interval [call, ret] around its point, without
// overlapping the thread's neighbours: linearizable by construction, with as much overlap
// as `span` allows. With drain, a final thread empties the container (spec.complete).
// With a spec::full_when_in_flight() spec (bounded), the run is then replayed at the same
// points with the intervals fixed, and an insert where the container is open and
// size < capacity <= size + k (k: overlapping inserts/removes, in_flight_counts) returns
// full instead, with probability relaxed_full_percent: linearizable by construction under
// that spec (the drain gets extra operations at the end if the replay left values in).
// corrupt(): one random mutation (swap results, duplicate or invent a value, flip an
// empty/full/closed result, move an interval, drop an operation, ...). The result may or
// may not still be linearizable: the reference tier is the judge.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../history.hpp"
#include "common.hpp"
#include "reference.hpp"

namespace lockless::test::lincheck {

struct random_history_options {
  spec s = spec::stack();  // container and capacity; complete is set by `drain`
  std::size_t threads = 3;
  std::size_t ops = 10;                // operations before the drain
  unsigned insert_percent = 50;        // of the operations that are not closes
  unsigned close_percent = 0;          // per operation
  bool drain = false;                  // a final thread removes until empty (spec.complete)
  std::uint64_t span = 15;             // how far an interval may stretch from its point (LPs
                                       // are 10 apart)
  bool skewed = false;                 // threads run at very different rates (a slow thread's
                                       // operations overlap many others, like a preempted one)
  unsigned relaxed_full_percent = 50;  // s.relaxed_full only: see above
};

inline history random_linearizable_history(const random_history_options& o, std::mt19937_64& rng) {
  auto pct = [&](unsigned p) { return std::uniform_int_distribution<unsigned>(0, 99)(rng) < p; };
  const std::uint32_t threads = static_cast<std::uint32_t>(std::max<std::size_t>(o.threads, 1));
  std::vector<double> weight(threads, 1.0);
  if (o.skewed) {
    for (auto& w : weight) w = std::ldexp(1.0, -std::uniform_int_distribution<int>(0, 7)(rng));
  }
  std::discrete_distribution<std::uint32_t> pick_thread(weight.begin(), weight.end());
  detail::reference_model m{o.s.kind, o.s.capacity, {}, false};
  std::vector<operation> seq;  // in linearization order; call/ret set below
  std::uint64_t next_value = 1;
  auto add = [&](std::uint32_t t, op_kind k) {
    operation op;
    op.thread = t;
    op.kind = k;
    if (is_insert(k)) op.arg = next_value++;
    op.result = m.run(op);
    seq.push_back(op);
  };
  const bool q = o.s.kind == container::queue;
  for (std::size_t i = 0; i < o.ops; ++i) {
    const std::uint32_t t = pick_thread(rng);
    if (o.close_percent != 0 && pct(o.close_percent)) {
      add(t, op_kind::close);
    } else if (pct(o.insert_percent)) {
      add(t, q ? op_kind::enqueue : op_kind::push);
    } else {
      add(t, q ? op_kind::dequeue : op_kind::pop);
    }
  }
  std::uint32_t drainer = threads;  // a thread of its own
  if (o.drain) {
    do {
      add(drainer, q ? op_kind::dequeue : op_kind::pop);
    } while (seq.back().result.status == op_status::value);
  }
  history h;
  h.threads = o.drain ? threads + 1 : threads;
  // Linearization point of seq[k]: 10 * (k + 1). Intervals per thread, in order.
  std::vector<std::vector<std::size_t>> per(h.threads);
  for (std::size_t k = 0; k < seq.size(); ++k) per[seq[k].thread].push_back(k);
  for (auto& ks : per) {
    std::uint64_t lower = 0;  // the next call must be >= lower
    for (std::size_t j = 0; j < ks.size(); ++j) {
      operation& op = seq[ks[j]];
      const std::uint64_t lp = 10 * (ks[j] + 1);
      const std::uint64_t room_before = std::min(o.span, lp - lower);
      op.call = lp - std::uniform_int_distribution<std::uint64_t>(0, room_before)(rng);
      const std::uint64_t upper = j + 1 < ks.size() ? 10 * (ks[j + 1] + 1) - 1 : lp + o.span;
      const std::uint64_t room_after = std::min(o.span, upper - lp);
      op.ret = lp + std::uniform_int_distribution<std::uint64_t>(0, room_after)(rng);
      op.seq = static_cast<std::uint32_t>(j);
      lower = op.ret + 1;
    }
  }
  if (o.s.relaxed_full && o.s.capacity != 0) {
    // Replay in linearization order; intervals stay, results are recomputed.
    const std::vector<std::size_t> k = detail::in_flight_counts(seq);
    detail::reference_model r{o.s.kind, o.s.capacity, {}, false};
    for (std::size_t i = 0; i < seq.size(); ++i) {
      operation& op = seq[i];
      const std::size_t size = r.items.size();
      if (op.inserts() && !r.closed && size < o.s.capacity && size + k[i] >= o.s.capacity &&
          pct(o.relaxed_full_percent)) {
        op.result = op_result::full();  // a slot held by an operation in flight
      } else {
        op.result = r.run(op);
      }
    }
    if (o.drain && !r.items.empty()) {  // after everything else, without overlap
      std::uint64_t t = 0;
      std::uint32_t n = 0;
      for (const operation& op : seq) {
        t = std::max(t, op.ret);
        if (op.thread == drainer) ++n;
      }
      do {
        operation op;
        op.thread = drainer;
        op.kind = q ? op_kind::dequeue : op_kind::pop;
        op.seq = n++;
        op.call = t + 1;
        op.ret = t + 2;
        t += 2;
        op.result = r.run(op);
        seq.push_back(op);
      } while (seq.back().result.status == op_status::value);
    }
  }
  h.ops = std::move(seq);
  h.sort();
  return h;
}

// One random mutation; returns what it did ("" if it found nothing to do). Keeps the
// history well formed (validate() passes).
inline std::string corrupt(history& h, std::mt19937_64& rng) {
  if (h.ops.empty()) return {};
  auto any_of = [&](auto pred) {
    std::vector<std::size_t> c;
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      if (pred(h.ops[i])) c.push_back(i);
    }
    return c;
  };
  auto choose = [&](const std::vector<std::size_t>& c) {
    return c[std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng)];
  };
  auto removes_value = [](const operation& op) { return op.removed_value(); };
  auto inserts = [](const operation& op) { return op.inserts(); };
  for (int attempt = 0; attempt < 20; ++attempt) {
    switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
      case 0: {  // swap two removed values
        auto c = any_of(removes_value);
        if (c.size() < 2) break;
        const std::size_t a = choose(c), b = choose(c);
        if (a == b) break;
        std::swap(h.ops[a].result, h.ops[b].result);
        return "swapped the results of two removes";
      }
      case 1: {  // a value removed twice
        auto c = any_of(removes_value);
        auto e = any_of([](const operation& op) { return op.removes(); });
        if (c.empty()) break;
        const std::size_t a = choose(c), b = choose(e);
        if (a == b) break;
        h.ops[b].result = h.ops[a].result;
        return "duplicated a removed value";
      }
      case 2: {  // a value result becomes empty
        auto c = any_of(removes_value);
        if (c.empty()) break;
        h.ops[choose(c)].result = op_result::empty();
        return "turned a removed value into empty";
      }
      case 3: {  // empty/closed result becomes some inserted value
        auto c = any_of([](const operation& op) {
          return op.removes() && op.result.status != op_status::value;
        });
        auto ins = any_of(inserts);
        if (c.empty() || ins.empty()) break;
        h.ops[choose(c)].result = op_result::of(h.ops[choose(ins)].arg);
        return "turned an empty/closed result into a value";
      }
      case 4: {  // a value nobody inserted
        auto c = any_of(removes_value);
        if (c.empty()) break;
        h.ops[choose(c)].result = op_result::of(1'000'000);
        return "removed a value never inserted";
      }
      case 5: {  // move an interval, within its thread's neighbours
        const std::size_t i = std::uniform_int_distribution<std::size_t>(0, h.ops.size() - 1)(rng);
        operation& op = h.ops[i];
        std::uint64_t lo = 0, hi = op.ret + 200;
        for (const auto& o : h.ops) {
          if (o.thread != op.thread || o.seq == op.seq) continue;
          if (o.seq < op.seq) lo = std::max(lo, o.ret + 1);
          if (o.seq > op.seq) hi = std::min(hi, o.call - 1);
        }
        if (lo > hi) break;
        std::uint64_t a = std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
        std::uint64_t b = std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
        if (a > b) std::swap(a, b);
        op.call = a;
        op.ret = b;
        h.sort();
        return "moved an interval";
      }
      case 6: {  // ok insert <-> full
        auto c = any_of([](const operation& op) {
          return op.inserts() && op.result.status != op_status::closed;
        });
        if (c.empty()) break;
        operation& op = h.ops[choose(c)];
        op.result = op.result.status == op_status::ok ? op_result::full() : op_result::ok();
        return "flipped an insert between ok and full";
      }
      case 7: {  // swap the arguments of two inserts
        auto c = any_of(inserts);
        if (c.size() < 2) break;
        const std::size_t a = choose(c), b = choose(c);
        if (a == b) break;
        std::swap(h.ops[a].arg, h.ops[b].arg);
        return "swapped the arguments of two inserts";
      }
      case 8: {  // drop an operation
        const std::size_t i = std::uniform_int_distribution<std::size_t>(0, h.ops.size() - 1)(rng);
        h.ops.erase(h.ops.begin() + static_cast<long>(i));
        return "dropped an operation";
      }
      case 9: {  // closed <-> empty/ok
        auto c = any_of([](const operation& op) { return op.kind != op_kind::close; });
        if (c.empty()) break;
        operation& op = h.ops[choose(c)];
        if (op.result.status == op_status::closed) {
          op.result = op.removes() ? op_result::empty() : op_result::ok();
          return "turned a closed result into empty/ok";
        }
        if (op.result.status == op_status::value) break;
        op.result = op_result::closed();
        return "turned a result into closed";
      }
      default:
        break;
    }
  }
  return {};
}

}  // namespace lockless::test::lincheck
