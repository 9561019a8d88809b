// tests/fuzz/drr_scheduler_seq.cpp: sequential fuzzing of drr_scheduler against its
// sequential specification, lockless_test::drr_model (structures/drr_scheduler_model.hpp).
//
// The input is decoded into one sequence of operations, which drives three schedulers in
// turn (one per payload / options variant), each on its own epoch_domain and each next to
// its own model. With one thread every answer is exact and compared item by item: the
// status of every push (success / full / closed), every pop's flow, value and cost, in
// DRR order (deficits, quanta, costs above the quantum, flows joining and leaving the
// active list), remove_flow's bool, contains(), flow_count(), is_closed().
//   throwing   drr_scheduler<{throwing<> value, cost}, payload cost, epoch_reclaimer>:
//              copies and value constructions throw on demand (support/counting.hpp):
//              try_push(const T&), try_emplace and emplace build the element first, so a
//              throw leaves the scheduler unchanged whatever it would have answered
//   move_only  drr_scheduler<{move_only<> value, cost}, payload cost, epoch_reclaimer,
//              {.single_consumer = true}>: a refused push(T&&) leaves its argument unmoved
//   unit       drr_scheduler<throwing payload, unit_cost, epoch_reclaimer,
//              {.may_block = false}>: every item costs 1 (the model is told so); the
//              timed and blocking forms do not exist: their bytes run the try_ forms
// Handles: the model's flow ids index a table of the scheduler's handles (removed flows
// stay in it: their handles are stale and must answer closed / false); selector 255 is a
// default-constructed handle and 254 a flow of another scheduler (both: closed, false).
// After every operation the payloads alive equal the items the model holds; once the
// scheduler and its domain are gone every payload was destroyed exactly once.
//
// Encoding: byte 0: 1 + b % 4 initial flows, then per flow one byte f: quantum
// 1 + (f & 7), capacity 1 + ((f >> 3) & 7) (bits 6-7 both set: 9 + 13 * (f & 7), up to
// 100). Then one op byte, decoded by the scheduler's alphabet
// (structures/drr_scheduler_ops.hpp, from_byte: b % 16 selects), with operands:
//   try_push / try_push_copy / try_emplace: a flow selector byte s (s % table size, or
//       the 255 / 254 handles above) and a cost byte (cost b % 12, so 0-11 against quanta
//       of 1-8); op-byte bits 4 and 5 both set: arm a throw on the element's construction
//       (throwing payloads: the copy of try_push_copy and the construction of
//       try_emplace throw; try_push(T&&) moves, which never throws)
//   push_for: selector and cost bytes; op-byte bits 4-5 pick the form: 0 push_for(0 ns),
//       1 push_until(steady_clock::now()), 2 the blocking push(T&&) and 3 emplace (with a
//       throw armed when bit 6 is set) when the model says it returns at once (room or
//       closed), else push_for(0 ns)
//   pop_for: op-byte bits 4-5: 0 pop_for(0 ns), 1 pop_until(now), 2-3 the blocking pop()
//       when the model says it returns at once (an item, or closed), else pop_for(0 ns)
//   add_flow: one byte a: quantum 1 + (a & 7), capacity 1 + ((a >> 3) & 7); a >> 6 == 3:
//       a & 3 = 0 quantum 0 (std::invalid_argument), 1 capacity 0 (invalid_argument),
//       2 capacity max_flow_capacity() + 1 (std::length_error), 3 capacity 9 + 7 * ((a >>
//       2) & 15); a rejected add changes nothing. At most 80 flows are made (the table
//       grows past its first chunk of 64); later add_flow bytes observe instead
//   remove_flow: a selector byte
//   observe: a selector byte (contains() of that handle), plus every check below
//   close, try_pop: none
// Reading past the end yields zeros. Values are a running counter, unique per run.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <lockless/drr_scheduler.hpp>
#include <lockless/epoch.hpp>
#include <lockless/queue_status.hpp>

#include "structures/drr_scheduler_model.hpp"
#include "structures/drr_scheduler_ops.hpp"
#include "support/counting.hpp"
#include "support/fuzz_input.hpp"

namespace {

namespace ops = lockless::test::drr_scheduler_ops;
using lockless::queue_status;
using lockless_test::instance_counters;
using ops::op;

// ---- payloads ---------------------------------------------------------------------------
struct tag_throwing {};
struct tag_move_only {};
struct tag_unit {};

template <class Tag>
struct throwing_payload {
  throwing_payload(std::uint64_t v, std::uint32_t c) : value(v), cost(c) {}
  lockless_test::throwing<Tag> value;
  std::uint32_t cost;
};
struct move_only_payload {
  move_only_payload(std::uint64_t v, std::uint32_t c) noexcept : value(v), cost(c) {}
  lockless_test::move_only<tag_move_only> value;
  std::uint32_t cost;
};
struct payload_cost {
  template <class P>
  std::uint32_t operator()(const P& p) const noexcept {
    return p.cost;
  }
};

struct throwing_traits {
  using type = throwing_payload<tag_throwing>;
  using cost = payload_cost;
  static constexpr lockless::drr_options options{};
  static constexpr bool unit = false;
  static instance_counters& counters() { return lockless_test::throwing<tag_throwing>::counters(); }
};
struct move_only_traits {
  using type = move_only_payload;
  using cost = payload_cost;
  static constexpr lockless::drr_options options{.single_consumer = true};
  static constexpr bool unit = false;
  static instance_counters& counters() {
    return lockless_test::move_only<tag_move_only>::counters();
  }
};
struct unit_traits {
  using type = throwing_payload<tag_unit>;
  using cost = lockless::unit_cost;
  static constexpr lockless::drr_options options{.may_block = false};
  static constexpr bool unit = true;
  static instance_counters& counters() { return lockless_test::throwing<tag_unit>::counters(); }
};

// What the model stores per item.
struct model_value {
  std::uint64_t v;
  std::uint32_t cost;
};

constexpr std::size_t max_flows = 80;

template <class Traits>
class runner {
  using T = typename Traits::type;
  using sched =
      lockless::drr_scheduler<T, typename Traits::cost, lockless::epoch_reclaimer, Traits::options>;
  using model = lockless_test::drr_model<model_value>;
  static constexpr bool may_block = Traits::options.may_block;
  static constexpr bool copyable = std::is_copy_constructible_v<T>;

 public:
  runner(sched& s, sched& other) : s_(s), foreign_(other.add_flow(1, 1)) {}

  void add_initial(std::uint8_t f) {
    const std::uint32_t quantum = 1 + (f & 7U);
    const std::size_t capacity =
        (f & 0xC0) == 0xC0 ? 9 + 13 * std::size_t{f & 7U} : 1 + std::size_t{(f >> 3) & 7U};
    add(quantum, capacity);
  }

  void step(lockless_fuzz::input& in) {
    const std::uint8_t b = in.u8();
    const op o = ops::from_byte(b);
    switch (o) {
      case op::try_push:
      case op::try_push_copy:
      case op::try_emplace: {
        const std::uint8_t sel = in.u8();
        const std::uint8_t c = in.u8();
        push_one(o, sel, c, (b & 0x30) == 0x30);
        break;
      }
      case op::push_for: {
        const std::uint8_t sel = in.u8();
        const std::uint8_t c = in.u8();
        timed_push(b, sel, c);
        break;
      }
      case op::try_pop:
        pop_one();
        break;
      case op::pop_for:
        timed_pop(b);
        break;
      case op::add_flow:
        add_flow(in.u8());
        break;
      case op::remove_flow: {
        const target t = pick(in.u8());
        const bool want = t.id.has_value() && model_.remove_flow(*t.id);
        FUZZ_CHECK(s_.remove_flow(t.handle) == want);
        break;
      }
      case op::close:
        s_.close();
        model_.close();
        FUZZ_CHECK(s_.is_closed());
        break;
      case op::observe: {
        const target t = pick(in.u8());
        FUZZ_CHECK(s_.contains(t.handle) == (t.id.has_value() && model_.exists(*t.id)));
        for (std::size_t i = 0; i < table_.size(); ++i) {
          FUZZ_CHECK(s_.contains(table_[i]) == model_.exists(i));
        }
        FUZZ_CHECK(!s_.contains(lockless::drr_flow{}) && !s_.contains(foreign_));
        break;
      }
      case op::push:
      case op::pop:
        break;  // from_byte never decodes them (they would wait forever here)
    }
    check_quiescent();
  }

  // Pops everything when `drain`, else leaves the rest to the destructor.
  void finish(bool drain) {
    if (drain) {
      for (std::size_t i = 0; i < items() + 1; ++i) {
        const std::size_t before = items();
        pop_one();
        if (before == 0) break;
      }
    }
    check_quiescent();
  }

 private:
  struct target {
    std::optional<std::size_t> id;  // the model's flow id; none: a handle matching nothing
    lockless::drr_flow handle;
  };

  target pick(std::uint8_t sel) const {
    if (sel == 255) return {std::nullopt, lockless::drr_flow{}};
    if (sel == 254) return {std::nullopt, foreign_};
    const std::size_t i = sel % table_.size();
    return {i, table_[i]};
  }

  void add(std::uint32_t quantum, std::size_t capacity) {
    const lockless::drr_flow h = s_.add_flow(quantum, capacity);
    const std::size_t id = model_.add_flow(quantum, capacity);
    FUZZ_CHECK(id == table_.size());
    for (const lockless::drr_flow& other : table_) FUZZ_CHECK(other != h);
    FUZZ_CHECK(h.generation() != 0 && h != foreign_);
    table_.push_back(h);
    capacities_.push_back(capacity);
  }

  void add_flow(std::uint8_t a) {
    if (table_.size() >= max_flows) return;
    if ((a & 0xC0) != 0xC0) {
      add(1 + (a & 7U), 1 + std::size_t{(a >> 3) & 7U});
      return;
    }
    const std::size_t count = s_.flow_count();
    switch (a & 3) {
      case 0:
        expect_throw<std::invalid_argument>([&] { (void)s_.add_flow(0, 1); });
        break;
      case 1:
        expect_throw<std::invalid_argument>([&] { (void)s_.add_flow(1, 0); });
        break;
      case 2:
        expect_throw<std::length_error>(
            [&] { (void)s_.add_flow(1, sched::max_flow_capacity() + 1); });
        break;
      default:
        add(1 + (a & 7U), 9 + 7 * std::size_t{(a >> 2) & 15U});
        return;
    }
    FUZZ_CHECK(s_.flow_count() == count);
  }

  template <class E, class F>
  static void expect_throw(F&& f) {
    bool threw = false;
    try {
      f();
    } catch (const E&) {
      threw = true;
    }
    FUZZ_CHECK(threw);
  }

  std::size_t items() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < table_.size(); ++i) n += model_.size(i);
    return n;
  }

  void check_quiescent() const {
    FUZZ_CHECK(s_.is_closed() == model_.is_closed());
    std::size_t existing = 0;
    for (std::size_t i = 0; i < table_.size(); ++i) existing += model_.exists(i) ? 1 : 0;
    FUZZ_CHECK(s_.flow_count() == existing);
    const instance_counters& c = Traits::counters();
    FUZZ_CHECK(c.errors.load() == 0);
    FUZZ_CHECK(c.live() == static_cast<long>(items()));
  }

  std::uint32_t cost_of(std::uint8_t c) const { return Traits::unit ? 1 : c % 12U; }

  // The model's push (changes it on success); returns its answer.
  queue_status model_push(const target& t, std::uint64_t v, std::uint8_t c) {
    if (!t.id.has_value()) return queue_status::closed;
    return model_.try_push(*t.id, model_value{v, cost_of(c)}, cost_of(c));
  }

  // Would a push into t return at once (anything but full)?
  bool push_returns_at_once(const target& t) const {
    if (!t.id.has_value() || !model_.exists(*t.id) || model_.is_closed()) return true;
    // The model has no capacity query: full iff size == capacity, known from the table.
    return model_.size(*t.id) < capacity_of(*t.id);
  }
  std::size_t capacity_of(std::size_t id) const { return capacities_[id]; }

  // One push of the form o; `inject`: the element's construction throws (throwing types,
  // const T& and emplace forms).
  void push_one(op o, std::uint8_t sel, std::uint8_t c, bool inject) {
    const target t = pick(sel);
    const std::uint64_t v = ++counter_;
    const std::uint32_t cost = c % 12U;
    const bool copy = o == op::try_push_copy && copyable;
    const bool can_throw = !std::is_same_v<T, move_only_payload>;
    if (o == op::try_emplace) {
      lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
      bool threw = false;
      queue_status st = queue_status::success;
      try {
        st = s_.try_emplace(t.handle, v, cost);
      } catch (const lockless_test::injected_error&) {
        threw = true;
      }
      FUZZ_CHECK(threw == (inject && can_throw));
      if (!threw) FUZZ_CHECK(st == model_push(t, v, c));
      return;
    }
    T arg(v, cost);
    lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
    bool threw = false;
    queue_status st = queue_status::success;
    try {
      if constexpr (copyable) {
        if (copy) {
          const T& cref = arg;
          st = s_.try_push(t.handle, cref);
        } else {
          st = s_.try_push(t.handle, std::move(arg));
        }
      } else {
        st = s_.try_push(t.handle, std::move(arg));
      }
    } catch (const lockless_test::injected_error&) {
      threw = true;
    }
    FUZZ_CHECK(threw == (inject && copy && can_throw));
    if (threw) {
      FUZZ_CHECK(arg.value.value() == v);
      return;
    }
    FUZZ_CHECK(st == model_push(t, v, c));
    // Refused, or a copy: the argument is intact.
    if (st != queue_status::success || copy) FUZZ_CHECK(arg.value.value() == v);
  }

  void timed_push(std::uint8_t b, std::uint8_t sel, std::uint8_t c) {
    if constexpr (!may_block) {
      push_one(op::try_push, sel, c, false);
    } else {
      const target t = pick(sel);
      const std::uint64_t v = ++counter_;
      const std::uint32_t cost = c % 12U;
      const unsigned form = (b >> 4) & 3;
      const bool at_once = push_returns_at_once(t);
      if (form == 3 && at_once) {
        // emplace(args...) builds the element first: an armed throw always throws.
        const bool inject = (b & 0x40) != 0 && !std::is_same_v<T, move_only_payload>;
        lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
        bool threw = false;
        bool ok = false;
        try {
          ok = s_.emplace(t.handle, v, cost);
        } catch (const lockless_test::injected_error&) {
          threw = true;
        }
        FUZZ_CHECK(threw == inject);
        if (!threw) {
          const queue_status want = model_push(t, v, c);
          FUZZ_CHECK(ok == (want == queue_status::success));
          FUZZ_CHECK(want != queue_status::full);
        }
        return;
      }
      T arg(v, cost);
      queue_status st = queue_status::success;
      switch (form) {
        case 0:
          st = s_.push_for(t.handle, std::move(arg), std::chrono::nanoseconds(0));
          break;
        case 1:
          st = s_.push_until(t.handle, std::move(arg), std::chrono::steady_clock::now());
          break;
        default:
          if (at_once) {
            st = s_.push(t.handle, std::move(arg)) ? queue_status::success : queue_status::closed;
          } else {
            st = s_.push_for(t.handle, std::move(arg), std::chrono::nanoseconds(0));
          }
          break;
      }
      FUZZ_CHECK(st == model_push(t, v, c));
      if (st != queue_status::success) FUZZ_CHECK(arg.value.value() == v);
    }
  }

  // A pop's answer against the model's.
  void compare(lockless::queue_result<lockless::drr_item<T>>& r) {
    auto [want, status] = model_.try_pop();
    if (!want) {
      FUZZ_CHECK(!r.has_value() && !static_cast<bool>(r));
      FUZZ_CHECK(r.error() == status);
      return;
    }
    FUZZ_CHECK(r.has_value() && static_cast<bool>(r));
    FUZZ_CHECK(r->flow == table_[want->flow]);
    FUZZ_CHECK(r->value.value.value() == want->value.v);
    FUZZ_CHECK(Traits::unit || r->value.cost == want->value.cost);
  }

  void pop_one() {
    lockless::queue_result<lockless::drr_item<T>> r = s_.try_pop();
    if (!r.has_value() && !value_throw_checked_[static_cast<int>(r.error())]) {
      // value() without a value throws system_error carrying the status (checked once
      // per status and run: a throw is slow under ASan).
      bool threw = false;
      try {
        (void)r.value();
      } catch (const std::system_error& e) {
        threw = true;
        FUZZ_CHECK(e.code() == lockless::make_error_code(r.error()));
      }
      FUZZ_CHECK(threw);
      value_throw_checked_[static_cast<int>(r.error())] = true;
    }
    compare(r);
  }

  // Would a pop return at once (an item, or closed)?
  bool pop_returns_at_once() const { return items() != 0 || model_.is_closed(); }

  void timed_pop(std::uint8_t b) {
    if constexpr (!may_block) {
      pop_one();
    } else {
      switch ((b >> 4) & 3) {
        case 0: {
          auto r = s_.pop_for(std::chrono::nanoseconds(0));
          compare(r);
          break;
        }
        case 1: {
          auto r = s_.pop_until(std::chrono::steady_clock::now());
          compare(r);
          break;
        }
        default:
          if (pop_returns_at_once()) {
            std::optional<lockless::drr_item<T>> got = s_.pop();
            auto [want, status] = model_.try_pop();
            FUZZ_CHECK(got.has_value() == want.has_value());
            if (got) {
              FUZZ_CHECK(got->flow == table_[want->flow]);
              FUZZ_CHECK(got->value.value.value() == want->value.v);
            } else {
              FUZZ_CHECK(status == queue_status::closed);
            }
          } else {
            auto r = s_.pop_for(std::chrono::nanoseconds(0));
            compare(r);
          }
          break;
      }
    }
  }

  sched& s_;
  lockless::drr_flow foreign_;
  model model_;
  std::vector<lockless::drr_flow> table_;  // by model id
  std::vector<std::size_t> capacities_;    // by model id
  std::uint64_t counter_ = 0;
  bool value_throw_checked_[8] = {};
};

template <class Traits>
void run(const std::uint8_t* data, std::size_t size) {
  using sched = lockless::drr_scheduler<typename Traits::type, typename Traits::cost,
                                        lockless::epoch_reclaimer, Traits::options>;
  lockless_fuzz::input in(data, size);
  Traits::counters().reset();
  {
    lockless::epoch_domain domain;
    {
      sched s(typename Traits::cost{}, lockless::epoch_reclaimer(domain));
      sched other(typename Traits::cost{}, lockless::epoch_reclaimer(domain));
      runner<Traits> r(s, other);
      const unsigned initial = 1 + in.u8() % 4;
      for (unsigned i = 0; i < initial; ++i) r.add_initial(in.u8());
      while (!in.empty()) r.step(in);
      r.finish((size & 1) != 0);
    }  // ~drr_scheduler destroys what is left
  }  // ~epoch_domain frees the retired flows
  const instance_counters& c = Traits::counters();
  FUZZ_CHECK(c.errors.load() == 0);
  FUZZ_CHECK(c.live() == 0);  // every element destroyed exactly once
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run<throwing_traits>(data, size);
  run<move_only_traits>(data, size);
  run<unit_traits>(data, size);
  return 0;
}
