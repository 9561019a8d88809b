// tests/fuzz/stack_seq.hpp: the sequential fuzzing of a stack with treiber_stack's
// interface, shared by tests/fuzz/treiber_stack_seq.cpp and elimination_stack_seq.cpp
// (elimination_stack is treiber_stack's code with another contention policy: the same
// operations, the same model).
//
// The input is decoded as a sequence of operations (push, emplace, both try_pop overloads,
// was_empty, bursts that cross the epoch bag size, and flush()/barrier() of the stack's
// own epoch_domain). Each is applied to the stack and to a std::stack model; every pop
// result and every emptiness answer must agree. The same op sequence then drives a stack
// of a heap-owning, instance-counted payload, so ASan sees any leak, double free or use
// after free of values or nodes, and the live count must be 0 once the stack and its
// domain are gone; with that payload one emplace in four (value % 4 == 3) throws from the
// constructor, after its members allocated: the stack must be unchanged (strong
// guarantee) and nothing leaked.
//
// Encoding: one op byte, decoded by the stack's alphabet (structures/treiber_stack_ops.hpp,
// from_byte: op % 10 with two flag bits), then its operands: push, push_copy (push(const
// T&) for copyable T, else push(T&&)) and emplace take a u64 (8 little-endian bytes);
// push_burst and pop_burst take a count byte (% 160); pop, pop_into, was_empty, flush,
// barrier and stats none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stack>
#include <string>
#include <type_traits>
#include <utility>

#include <lockless/epoch.hpp>

#include "structures/treiber_stack_ops.hpp"
#include "support/fuzz_input.hpp"

namespace lockless_fuzz::stack_seq {

namespace ops = lockless::test::treiber_stack_ops;
using ops::op;

// Heap-owning payload: a unique_ptr and a string long enough to leave the SSO buffer.
// Counts live instances; a canary catches use of a destroyed or moved-from-and-reused
// object.
inline long g_live = 0;
struct construction_failed {};

struct payload {
  static constexpr std::uint64_t alive = 0x5AFE5AFE5AFE5AFEULL;
  std::unique_ptr<std::uint64_t> v;
  std::string s;
  volatile std::uint64_t canary = alive;

  explicit payload(std::uint64_t x)
      : v(std::make_unique<std::uint64_t>(x)), s(32 + (x & 15), static_cast<char>('a' + (x % 26))) {
    ++g_live;
  }
  // Throws once its members own memory: emplace's strong guarantee is checked with it
  // (nothing published, the node freed). The delegated-to constructor has completed, so
  // the unwinding runs ~payload (the live count stays right).
  payload(std::uint64_t x, bool fail) : payload(x) {
    if (fail) throw construction_failed{};
  }
  payload(payload&& o) noexcept : v(std::move(o.v)), s(std::move(o.s)) {
    FUZZ_CHECK(o.canary == alive);
    ++g_live;
  }
  payload& operator=(payload&& o) noexcept {
    FUZZ_CHECK(canary == alive && o.canary == alive);
    v = std::move(o.v);
    s = std::move(o.s);
    return *this;
  }
  payload(const payload&) = delete;
  payload& operator=(const payload&) = delete;
  ~payload() {
    FUZZ_CHECK(canary == alive);
    canary = 0xDEADDEADDEADDEADULL;
    --g_live;
  }
  [[nodiscard]] std::uint64_t value() const {
    FUZZ_CHECK(canary == alive && v != nullptr);
    FUZZ_CHECK(s.size() == 32 + (*v & 15) && s[0] == static_cast<char>('a' + (*v % 26)));
    return *v;
  }
};

// Value adapters: make a T from a 64-bit value, read one back.
struct u64_traits {
  using type = std::uint64_t;
  static constexpr bool can_fail = false;
  static type make(std::uint64_t v) { return v; }
  static std::uint64_t get(const type& t) { return t; }
  static type placeholder() { return 0xFEEDFACECAFEBEEFULL; }
};
struct payload_traits {
  using type = payload;
  static constexpr bool can_fail = true;  // emplace(v, fail)
  static type make(std::uint64_t v) { return payload(v); }
  static std::uint64_t get(const type& t) { return t.value(); }
  static type placeholder() { return payload(0xFEEDFACECAFEBEEFULL); }
};

// Of::type<T>: the stack under test (treiber_stack's interface, constructed from an
// epoch_reclaimer). inspect(stack): called after every operation (an elimination_stack's
// range() and stats() invariants).
template <class Of, class Traits, class Inspect>
void run(const std::uint8_t* data, std::size_t size, Inspect&& inspect) {
  using T = typename Traits::type;
  lockless_fuzz::input in(data, size);
  lockless::epoch_domain domain;  // per input: its garbage and epochs are ours alone
  {
    typename Of::template type<T> stack{lockless::epoch_reclaimer(domain)};
    std::stack<std::uint64_t> model;
    std::uint64_t counter = 0;  // source of values for bursts

    auto pop_one = [&](bool optional_overload) {
      if (optional_overload) {
        std::optional<T> got = stack.try_pop();
        FUZZ_CHECK(got.has_value() == !model.empty());
        if (got) {
          FUZZ_CHECK(Traits::get(*got) == model.top());
          model.pop();
        }
      } else {
        T out = Traits::placeholder();
        const bool ok = stack.try_pop(out);
        FUZZ_CHECK(ok == !model.empty());
        if (ok) {
          FUZZ_CHECK(Traits::get(out) == model.top());
          model.pop();
        } else {
          FUZZ_CHECK(Traits::get(out) == 0xFEEDFACECAFEBEEFULL);  // untouched on failure
        }
      }
    };

    while (!in.empty()) {
      const op o = ops::from_byte(in.u8());
      switch (o) {
        case op::push:
        case op::push_copy: {  // push(T&&) / push(const T&) for copyable T
          const std::uint64_t v = in.u64();
          if constexpr (std::is_copy_constructible_v<T>) {
            if (o == op::push_copy) {
              const T t = Traits::make(v);
              stack.push(t);
            } else {
              stack.push(Traits::make(v));
            }
          } else {
            stack.push(Traits::make(v));
          }
          model.push(v);
          break;
        }
        case op::emplace: {  // emplace(args...); one in four throws (strong guarantee)
          const std::uint64_t v = in.u64();
          if constexpr (Traits::can_fail) {
            const bool fail = v % 4 == 3;
            try {
              stack.emplace(v, fail);
              FUZZ_CHECK(!fail);
              model.push(v);
            } catch (const construction_failed&) {
              FUZZ_CHECK(fail);  // the stack is unchanged: the next pops tell
            }
          } else {
            stack.emplace(v);
            model.push(v);
          }
          break;
        }
        case op::pop:
          pop_one(true);
          break;
        case op::pop_into:
          pop_one(false);
          break;
        case op::was_empty:
          FUZZ_CHECK(stack.was_empty() == model.empty());
          break;
        case op::push_burst: {  // crosses epoch_bag::capacity once popped
          const unsigned n = in.u8() % 160;
          for (unsigned i = 0; i < n; ++i) {
            const std::uint64_t v = ++counter * 0x9E3779B97F4A7C15ULL;
            stack.emplace(v);
            model.push(v);
          }
          break;
        }
        case op::pop_burst: {  // more pops than there may be values
          const unsigned n = in.u8() % 160;
          for (unsigned i = 0; i < n; ++i) pop_one((i & 1) != 0);
          break;
        }
        case op::barrier:
          domain.barrier();                           // not pinned: must not throw
          FUZZ_CHECK(domain.retired_pending() == 0);  // single thread: all freed
          break;
        case op::flush:
          domain.flush();
          break;
        case op::stats: {  // cheap observers
          const lockless::epoch_stats s = domain.stats();
          FUZZ_CHECK(s.pinned_threads == 0);  // try_pop's guard is gone after the call
          FUZZ_CHECK(&stack.reclaimer().domain() == &domain);
          break;
        }
        case op::flush_pinned:
          break;  // from_byte never decodes it (a schedule operation)
      }
      inspect(std::as_const(stack));
    }
    FUZZ_CHECK(stack.was_empty() == model.empty());
    // Leave whatever is left in the stack to its destructor, half the time after
    // draining part of it.
    if (size & 1) {
      while (!model.empty() && (model.size() & 3) != 0) pop_one(true);
    }
  }  // ~treiber_stack: frees the remaining nodes
}  // ~epoch_domain: frees every retired node

// Both payloads over one input; every payload destroyed exactly once.
template <class Of, class Inspect>
void run_both(const std::uint8_t* data, std::size_t size, Inspect&& inspect) {
  run<Of, u64_traits>(data, size, inspect);
  g_live = 0;
  run<Of, payload_traits>(data, size, inspect);
  FUZZ_CHECK(g_live == 0);
}

}  // namespace lockless_fuzz::stack_seq
