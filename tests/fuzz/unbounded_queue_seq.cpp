// tests/fuzz/unbounded_queue_seq.cpp: sequential fuzzing of unbounded_queue.
//
// The input is decoded into one sequence of operations, which drives four queues in turn
// (element type / options variants, small segments so that a few pushes cross segment
// boundaries), each on its own epoch_domain and a counting allocator that can fail on
// demand, against a sequential model: a std::deque and a closed flag. With no operation
// in flight every answer is exact: a push says success unless closed (then closed), a
// pop's empty and closed are exact, values come out in FIFO order, the bulk forms move
// exactly what they should, is_closed() is the model's flag, and size_approx() is the
// model's size plus at most the cells that thrown constructions left empty.
//   u64        unbounded_queue<uint64_t>, segment 2, cache 2
//   throwing   unbounded_queue<throwing<>>, segment 3, no cache: copies and value
//              constructions throw on demand (support/counting.hpp): the push that throws
//              must leave the queue unchanged and its argument intact (strong guarantee)
//   move_only  unbounded_queue<move_only<>>, segment 2, cache 1: a push(T&&) refused as
//              closed, or failed by bad_alloc, must leave its argument unmoved
//   no_block   unbounded_queue<throwing<>>, segment 4, {.may_block = false}: the blocking
//              pops do not exist; their bytes run try_pop
// Allocation: the allocator's next allocation can be made to throw std::bad_alloc; a push
// that gets it must leave the queue unchanged and its argument intact (strong guarantee),
// and any other operation must not allocate at all. The queue allocates the cache block
// and one segment at construction, and afterwards at most one segment per segment_size
// pushes (pushes that threw and failed allocations included; a construction that throws
// in a new segment's cell 0 may cost one more). After a drain and a
// barrier() of its domain, the queue holds at most its first segment, its cache block and
// cached_segments free segments; once the queue and its domain are gone every
// allocation has been given back, and every element destroyed exactly once.
//
// Encoding: one op byte, decoded by the queue's alphabet (structures/unbounded_queue_ops.hpp,
// from_byte: b % 16 selects, bits 7/6 pick the push form), with these extras:
//   try_push / try_push_copy / try_emplace / push / emplace: bits 4 and 5: 1 arm a throw
//       on the element's construction (throwing types: the copy of try_push_copy and the
//       construction of try_emplace/emplace throw; a move never throws); 2 arm a
//       bad_alloc on the allocator's next allocation; 3 both
//   push_for: bits 4-5 pick the form: 0 push_for(0 ns), 1 push_for(1 h), 2
//       push_until(now), 3 push_until(now + 1 h) (all answer at once)
//   pop_for: bits 4-5 pick the form: 0 pop_for(0 ns), 1 pop_for(1 us), 2
//       pop_until(now), 3 the untimed pop() when the model says it returns at once
//       (a value, or closed), else pop_for(0 ns)
//   push_bulk: one operand byte o: o % 8 values; bit 3: from a const range (copies);
//       bits 4-6 = k: the k-th copy throws (throwing types, copies, k != 0)
//   pop_bulk:  one operand byte o: at most o % 12 values
//   observe: bit 7 set: also barrier() on the domain (retired segments into the cache)
//   close, try_pop: none
// Reading past the end yields zeros. Values pushed are a running counter, unique per run.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <lockless/epoch.hpp>
#include <lockless/queue_status.hpp>
#include <lockless/unbounded_queue.hpp>

#include "structures/unbounded_queue_ops.hpp"
#include "support/counting.hpp"
#include "support/fuzz_input.hpp"

namespace {

namespace ops = lockless::test::unbounded_queue_ops;
using lockless::queue_status;
using ops::op;

// ---- an allocator that counts and fails on demand -----------------------------------
struct alloc_stats {
  long allocations = 0;
  long deallocations = 0;
  long live_bytes = 0;
  bool fail_next = false;  // the next allocation throws std::bad_alloc (then disarms)
};
alloc_stats g_alloc;

template <class T>
struct failing_allocator {
  using value_type = T;
  failing_allocator() noexcept = default;
  template <class U>
  failing_allocator(const failing_allocator<U>&) noexcept {}  // NOLINT
  T* allocate(std::size_t n) {
    if (g_alloc.fail_next) {
      g_alloc.fail_next = false;
      throw std::bad_alloc();
    }
    ++g_alloc.allocations;
    g_alloc.live_bytes += static_cast<long>(n * sizeof(T));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++g_alloc.deallocations;
    g_alloc.live_bytes -= static_cast<long>(n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  friend bool operator==(const failing_allocator&, const failing_allocator<U>&) noexcept {
    return true;
  }
};

// ---- element types ----------------------------------------------------------------------
struct tag_throwing {};
struct tag_move_only {};
struct tag_no_block {};
using lockless_test::instance_counters;

template <class T, lockless::unbounded_queue_options O, bool Counted, bool CanThrow>
struct traits_base {
  using type = T;
  static constexpr lockless::unbounded_queue_options options = O;
  static constexpr bool counted = Counted;
  static constexpr bool can_throw = CanThrow;
};
struct u64_traits : traits_base<std::uint64_t, lockless::unbounded_queue_options{.segment_size = 2},
                                false, false> {
  static type make(std::uint64_t v) { return v; }
  static std::uint64_t get(const type& t) { return t; }
  static instance_counters* counters() { return nullptr; }
};
template <class Tag, lockless::unbounded_queue_options O>
struct throwing_traits : traits_base<lockless_test::throwing<Tag>, O, true, true> {
  using type = lockless_test::throwing<Tag>;
  static type make(std::uint64_t v) { return type(v); }
  static std::uint64_t get(const type& t) { return t.value(); }
  static instance_counters* counters() { return &type::counters(); }
};
struct move_only_traits
    : traits_base<lockless_test::move_only<tag_move_only>,
                  lockless::unbounded_queue_options{.segment_size = 2, .cached_segments = 1}, true,
                  false> {
  static type make(std::uint64_t v) { return type(v); }
  static std::uint64_t get(const type& t) { return t.value(); }
  static instance_counters* counters() { return &type::counters(); }
};
using throwing_block = throwing_traits<tag_throwing, lockless::unbounded_queue_options{
                                                         .segment_size = 3, .cached_segments = 0}>;
using throwing_no_block = throwing_traits<tag_no_block, lockless::unbounded_queue_options{
                                                            .may_block = false, .segment_size = 4}>;

// ---- the run ------------------------------------------------------------------------------
template <class Traits>
class runner {
  using T = typename Traits::type;
  using queue = lockless::unbounded_queue<T, lockless::epoch_reclaimer, failing_allocator<T>,
                                          Traits::options>;
  static constexpr bool may_block = Traits::options.may_block;
  static constexpr long seg = static_cast<long>(Traits::options.segment_size);

 public:
  runner(queue& q, lockless::epoch_domain& d) : q_(q), domain_(d) {}

  void step(lockless_fuzz::input& in) {
    const std::uint8_t b = in.u8();
    const op o = ops::from_byte(b);
    const long allocations = g_alloc.allocations;
    switch (o) {
      case op::try_push:
      case op::try_push_copy:
      case op::try_emplace:
      case op::push:
      case op::emplace:
        push_one(o, (b & 0x10) != 0, (b & 0x20) != 0);
        break;
      case op::push_for:
        push_one(o, false, false, (b >> 4) & 3);
        break;
      case op::try_pop:
        popped_result(q_.try_pop());
        break;
      case op::pop_for:
        timed_pop(b);
        break;
      case op::push_bulk:
        push_bulk(in.u8());
        break;
      case op::pop_bulk:
        pop_bulk(in.u8());
        break;
      case op::close:
        q_.close();
        closed_ = true;
        FUZZ_CHECK(q_.is_closed());
        break;
      case op::observe:
        if ((b & 0x80) != 0) domain_.barrier();
        break;
      case op::pop:
        break;  // from_byte never decodes it (it would wait forever here)
    }
    if (!ops::pushes(o, 1)) FUZZ_CHECK(g_alloc.allocations == allocations);  // pops: none
    check_quiescent();
  }

  void finish(bool drain) {
    if (drain) {
      while (!model_.empty()) popped_result(q_.try_pop());
      popped_result(q_.try_pop());
      domain_.barrier();  // the retired segments into the cache, or freed
      // One segment, the cache block, and at most cached_segments free segments.
      FUZZ_CHECK(g_alloc.allocations - g_alloc.deallocations <=
                 2 + static_cast<long>(Traits::options.cached_segments));
    }
    check_quiescent();
  }

 private:
  void check_quiescent() const {
    FUZZ_CHECK(q_.is_closed() == closed_);
    const std::size_t approx = q_.size_approx();
    FUZZ_CHECK(approx >= model_.size() && approx <= model_.size() + phantoms_);
    // At most one segment per segment_size tickets (cells of thrown constructions and
    // tickets of failed allocations included), plus the constructor's two, plus one per
    // construction that threw in a new segment's cell 0 (that spare goes back to the
    // cache, or to the allocator when the cache is full).
    FUZZ_CHECK(g_alloc.allocations <=
               2 + (tickets_ + seg - 1) / seg + static_cast<long>(phantoms_));
    if constexpr (Traits::counted) {
      const instance_counters& c = *Traits::counters();
      FUZZ_CHECK(c.errors.load() == 0);
      FUZZ_CHECK(c.live() == static_cast<long>(model_.size()));
    }
  }

  // One push of the form o. inject: T's construction throws (if it can, and the form
  // constructs: copies and emplaces); oom: the next allocation throws bad_alloc.
  void push_one(op o, bool inject, bool oom, unsigned timed_form = 0) {
    const std::uint64_t v = ++counter_;
    const bool copy = o == op::try_push_copy && std::is_copy_constructible_v<T>;
    const bool emplace = o == op::try_emplace || o == op::emplace;
    const bool may_throw = Traits::can_throw && inject && (copy || emplace) && !closed_;
    std::optional<T> arg;
    if (!emplace) arg.emplace(Traits::make(v));
    g_alloc.fail_next = oom;
    lockless_test::throw_on_nth_construction arm(may_throw ? 1 : 0);
    queue_status st = queue_status::empty;  // never a push's answer
    bool threw_ctor = false, threw_alloc = false;
    try {
      switch (o) {
        case op::try_emplace:
          st = q_.try_emplace(v);
          break;
        case op::emplace:
          st = q_.emplace(v) ? queue_status::success : queue_status::closed;
          break;
        case op::push:
          st = q_.push(std::move(*arg)) ? queue_status::success : queue_status::closed;
          break;
        case op::push_for: {
          const auto now = std::chrono::steady_clock::now();
          switch (timed_form) {
            case 0:
              st = q_.push_for(std::move(*arg), std::chrono::nanoseconds(0));
              break;
            case 1:
              st = q_.push_for(std::move(*arg), std::chrono::hours(1));
              break;
            case 2:
              st = q_.push_until(std::move(*arg), now);
              break;
            default:
              st = q_.push_until(std::move(*arg), now + std::chrono::hours(1));
              break;
          }
          break;
        }
        default:
          if constexpr (std::is_copy_constructible_v<T>) {
            if (copy) {
              st = q_.try_push(static_cast<const T&>(*arg));
              break;
            }
          }
          st = q_.try_push(std::move(*arg));
          break;
      }
    } catch (const lockless_test::injected_error&) {
      threw_ctor = true;
    } catch (const std::bad_alloc&) {
      threw_alloc = true;
    }
    const bool armed_alloc_fired = oom && !g_alloc.fail_next;
    g_alloc.fail_next = false;
    if (closed_) {
      // Refused before anything else: no ticket, no construction, no allocation.
      FUZZ_CHECK(!threw_ctor && !threw_alloc && st == queue_status::closed);
      if (arg) FUZZ_CHECK(Traits::get(*arg) == v);
      return;
    }
    FUZZ_CHECK(threw_alloc == armed_alloc_fired);            // an allocation it needed, and failed
    if (!threw_ctor) FUZZ_CHECK(!may_throw || threw_alloc);  // an armed construction ran
    ++tickets_;
    if (threw_ctor || threw_alloc) {
      // Strong guarantee: nothing changed, the argument holds its value.
      if (arg) FUZZ_CHECK(Traits::get(*arg) == v);
      if (threw_ctor && !threw_alloc) ++phantoms_;  // a cell left empty (or a spare's)
      return;
    }
    FUZZ_CHECK(st == queue_status::success);
    model_.push_back(v);
  }

  void popped_result(lockless::queue_result<T>&& r) {
    if (model_.empty()) {
      FUZZ_CHECK(!r.has_value());
      FUZZ_CHECK(r.error() == (closed_ ? queue_status::closed : queue_status::empty));
      return;
    }
    FUZZ_CHECK(r.has_value());
    FUZZ_CHECK(Traits::get(*r) == model_.front());
    model_.pop_front();
  }

  void timed_pop(std::uint8_t b) {
    if constexpr (!may_block) {
      popped_result(q_.try_pop());
    } else {
      switch ((b >> 4) & 3) {
        case 0:
          popped_result(q_.pop_for(std::chrono::nanoseconds(0)));
          break;
        case 1:
          popped_result(q_.pop_for(std::chrono::microseconds(1)));
          break;
        case 2:
          popped_result(q_.pop_until(std::chrono::steady_clock::now()));
          break;
        default:
          if (!model_.empty() || closed_) {  // returns at once
            std::optional<T> got = q_.pop();
            FUZZ_CHECK(got.has_value() == !model_.empty());
            if (got) {
              FUZZ_CHECK(Traits::get(*got) == model_.front());
              model_.pop_front();
            }
          } else {
            popped_result(q_.pop_for(std::chrono::nanoseconds(0)));
          }
          break;
      }
    }
  }

  void push_bulk(std::uint8_t o) {
    const std::size_t n = o % 8;
    const bool copies = (o & 0x08) != 0 && std::is_copy_constructible_v<T>;
    const unsigned k = (o >> 4) & 7;  // the k-th copy throws
    std::vector<T> src;
    std::vector<std::uint64_t> vals;
    for (std::size_t i = 0; i < n; ++i) {
      vals.push_back(++counter_);
      src.push_back(Traits::make(vals.back()));
    }
    const std::size_t fits = closed_ ? 0 : n;
    const bool throws = Traits::can_throw && copies && k != 0 && k <= fits;
    lockless_test::throw_on_nth_construction arm(Traits::can_throw && copies ? k : 0);
    std::size_t got = 0;
    try {
      if constexpr (std::is_copy_constructible_v<T>) {
        if (copies) {
          const std::vector<T>& csrc = src;  // std::move(*it) is const T&&: try_push(const T&)
          got = q_.try_push_bulk(csrc.begin(), csrc.end());
        } else {
          got = q_.try_push_bulk(src.begin(), src.end());
        }
      } else {
        got = q_.try_push_bulk(src.begin(), src.end());
      }
      FUZZ_CHECK(!throws);
      FUZZ_CHECK(got == fits);
    } catch (const lockless_test::injected_error&) {
      FUZZ_CHECK(throws);
      got = k - 1;  // the elements before the k-th went in, each its own operation
      ++tickets_;
      ++phantoms_;
    }
    if (!closed_) tickets_ += got;
    for (std::size_t i = 0; i < got; ++i) model_.push_back(vals[i]);
    for (std::size_t i = copies ? 0 : got; i < n; ++i) FUZZ_CHECK(Traits::get(src[i]) == vals[i]);
  }

  void pop_bulk(std::uint8_t o) {
    const std::size_t max = o % 12;
    std::vector<T> out;
    const std::size_t got = q_.try_pop_bulk(std::back_inserter(out), max);
    const std::size_t want = max < model_.size() ? max : model_.size();
    FUZZ_CHECK(got == want && out.size() == got);
    for (const T& t : out) {
      FUZZ_CHECK(Traits::get(t) == model_.front());
      model_.pop_front();
    }
  }

  queue& q_;
  lockless::epoch_domain& domain_;
  std::deque<std::uint64_t> model_;
  bool closed_ = false;
  std::uint64_t counter_ = 0;
  long tickets_ = 0;          // pushes that reached the queue (success or threw)
  std::size_t phantoms_ = 0;  // constructions that threw (each may leave a counted cell)
};

template <class Traits>
void run(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  if constexpr (Traits::counted) Traits::counters()->reset();
  g_alloc = alloc_stats{};
  {
    lockless::epoch_domain domain;
    {
      using T = typename Traits::type;
      using queue = lockless::unbounded_queue<T, lockless::epoch_reclaimer, failing_allocator<T>,
                                              Traits::options>;
      queue q{lockless::epoch_reclaimer(domain)};
      FUZZ_CHECK(g_alloc.allocations == 2);  // the cache block and the first segment
      FUZZ_CHECK(q.size_approx() == 0 && !q.is_closed());
      runner<Traits> r(q, domain);
      while (!in.empty()) r.step(in);
      r.finish((size & 1) != 0);
    }  // ~unbounded_queue destroys what is left
  }  // ~epoch_domain runs the deleters of the retired segments
  FUZZ_CHECK(g_alloc.live_bytes == 0 && g_alloc.allocations == g_alloc.deallocations);
  if constexpr (Traits::counted) {
    const instance_counters& c = *Traits::counters();
    FUZZ_CHECK(c.errors.load() == 0);
    FUZZ_CHECK(c.live() == 0);  // every element destroyed exactly once
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run<u64_traits>(data, size);
  run<throwing_block>(data, size);
  run<move_only_traits>(data, size);
  run<throwing_no_block>(data, size);
  return 0;
}
