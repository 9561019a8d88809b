// tests/fuzz/bounded_queue_seq.cpp: sequential fuzzing of bounded_queue.
//
// The input is decoded into one sequence of operations, which drives five queues in turn
// (one per element type / options variant), each against a sequential model: a
// std::deque, the capacity and a closed flag. With no operation in flight every answer is
// exact: try_push says full exactly when the model holds capacity() elements, empty and
// closed are exact, values come out in FIFO order, the bulk forms move exactly
// min(asked, room) elements, size_approx() equals the model's size after every
// operation (once a push has thrown inside the queue, its ticket is a hole that
// size_approx() counts until a pop passes it, the header's documented contract: then it
// lies in [size, capacity] until the next pop that answers empty or closed), and
// is_closed() the model's flag.
//   u64        bounded_queue<uint64_t, counting allocator>
//   throwing   bounded_queue<throwing<>, counting allocator>: copies and value
//              constructions throw on demand (support/counting.hpp): the push that throws
//              must leave the queue unchanged and its argument intact (strong guarantee)
//   move_only  bounded_queue<move_only<>, counting allocator>: a refused push(T&&) must
//              leave its argument unmoved
//   no_block   bounded_queue<throwing<>, std::allocator, {.may_block = false}>: the timed
//              forms do not exist; their bytes run try_push / try_pop
//   fast_empty bounded_queue<throwing<>, counting allocator, {.fast_empty = true}>: pops
//              answer empty from their cell while order_ is quiet; the throws and closes
//              that mark it (holes, close) and the quieting pops all come from the input,
//              and every answer must still be the model's
// For the counted types, the number of live elements equals the model's size after
// every operation, and every element is destroyed exactly once (counters and canaries)
// once the queue is gone. The counting allocator sees no allocation after construction
// (P0260) and every allocation given back by the destructor.
//
// Encoding: byte 0 picks the capacity: 1 + (b & 7), or, when bits 3 and 4 are both set,
// 9 + 15 * (b >> 5) (9..114). Then one op byte, decoded by the queue's alphabet
// (structures/bounded_queue_ops.hpp, from_byte: b % 16 selects, bits 7/6 pick the push
// form), with these extras:
//   try_push / try_push_copy / try_emplace: bits 4 and 5 both set: arm a throw on the
//       element's construction (throwing types: the copy of try_push_copy and the
//       construction of try_emplace throw; try_push(T&&) moves, which never throws)
//   push_for / pop_for: bits 4-5 pick the form: 0 x_for(0 ns), 1 x_for(1 us),
//       2 x_until(steady_clock::now()), 3 the untimed blocking push() / pop() when the
//       model says it returns at once (room, a value, or closed), else x_for(0 ns);
//       push_for bit 6: push_for(const T&) (a copy: a throw is armed with bit 7)
//   push_bulk: one operand byte o: o % 8 values; bit 3: from a const range (copies);
//       bits 4-6 = k: the k-th copy throws (throwing types, copies, k != 0)
//   pop_bulk:  one operand byte o: at most o % 12 values
//   observe, close, try_pop: none
// Reading past the end yields zeros. Values pushed are a running counter, unique per run.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <lockless/bounded_queue.hpp>
#include <lockless/queue_status.hpp>

#include "structures/bounded_queue_ops.hpp"
#include "support/counting.hpp"
#include "support/fuzz_input.hpp"

namespace {

namespace ops = lockless::test::bounded_queue_ops;
using lockless::queue_status;
using ops::op;

// ---- an allocator that counts ---------------------------------------------------------
struct alloc_stats {
  long allocations = 0;
  long deallocations = 0;
  long live_bytes = 0;
};
alloc_stats g_alloc;

template <class T>
struct counting_allocator {
  using value_type = T;
  counting_allocator() noexcept = default;
  template <class U>
  counting_allocator(const counting_allocator<U>&) noexcept {}  // NOLINT
  T* allocate(std::size_t n) {
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
  friend bool operator==(const counting_allocator&, const counting_allocator<U>&) noexcept {
    return true;
  }
};

// ---- element types ----------------------------------------------------------------------
struct tag_throwing {};
struct tag_move_only {};
struct tag_no_block {};
struct tag_fast_empty {};

using lockless_test::instance_counters;

struct u64_traits {
  using type = std::uint64_t;
  using allocator = counting_allocator<type>;
  static constexpr lockless::queue_options options{};
  static constexpr bool counted = false;
  static constexpr bool can_throw = false;
  static type make(std::uint64_t v) { return v; }
  static std::uint64_t get(const type& t) { return t; }
  static instance_counters* counters() { return nullptr; }
};
template <class Tag, class Alloc, lockless::queue_options Options>
struct throwing_traits {
  using type = lockless_test::throwing<Tag>;
  using allocator = Alloc;
  static constexpr lockless::queue_options options = Options;
  static constexpr bool counted = true;
  static constexpr bool can_throw = true;
  static type make(std::uint64_t v) { return type(v); }
  static std::uint64_t get(const type& t) { return t.value(); }
  static instance_counters* counters() { return &type::counters(); }
};
struct move_only_traits {
  using type = lockless_test::move_only<tag_move_only>;
  using allocator = counting_allocator<type>;
  static constexpr lockless::queue_options options{};
  static constexpr bool counted = true;
  static constexpr bool can_throw = false;
  static type make(std::uint64_t v) { return type(v); }
  static std::uint64_t get(const type& t) { return t.value(); }
  static instance_counters* counters() { return &type::counters(); }
};
using throwing_block =
    throwing_traits<tag_throwing, counting_allocator<lockless_test::throwing<tag_throwing>>,
                    lockless::queue_options{}>;
using throwing_no_block =
    throwing_traits<tag_no_block, std::allocator<lockless_test::throwing<tag_no_block>>,
                    lockless::queue_options{.may_block = false}>;
using throwing_fast_empty =
    throwing_traits<tag_fast_empty, counting_allocator<lockless_test::throwing<tag_fast_empty>>,
                    lockless::queue_options{.fast_empty = true}>;

// ---- the run ------------------------------------------------------------------------------
std::size_t decode_capacity(std::uint8_t b) {
  if ((b & 0x18) == 0x18) return 9 + 15 * static_cast<std::size_t>(b >> 5);
  return 1 + static_cast<std::size_t>(b & 7);
}

template <class Traits>
class runner {
  using T = typename Traits::type;
  using queue = lockless::bounded_queue<T, typename Traits::allocator, Traits::options>;
  static constexpr bool may_block = Traits::options.may_block;

 public:
  runner(std::size_t capacity, queue& q) : cap_(capacity), q_(q) {}

  void step(lockless_fuzz::input& in) {
    const std::uint8_t b = in.u8();
    const op o = ops::from_byte(b);
    switch (o) {
      case op::try_push:
      case op::try_push_copy:
      case op::try_emplace:
        push_one(o, (b & 0x30) == 0x30);
        break;
      case op::try_pop:
        pop_one();
        break;
      case op::push_for:
        timed_push(b);
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
        FUZZ_CHECK(q_.capacity() == cap_);
        FUZZ_CHECK(q_.is_closed() == closed_);
        check_size();
        break;
      case op::push:
      case op::pop:
        break;  // from_byte never decodes them (they would wait forever here)
    }
    check_quiescent();
  }

  // Pops half of what is left when `drain`, the rest is the destructor's.
  void finish(bool drain) {
    if (drain) {
      while (!model_.empty() && (model_.size() & 1) != 0) pop_one();
    }
    check_quiescent();
  }

 private:
  // What a push of one element must answer now, when it does not throw.
  [[nodiscard]] queue_status expected_push() const {
    if (closed_) return queue_status::closed;
    return model_.size() < cap_ ? queue_status::success : queue_status::full;
  }

  // size_approx() against the model: exact, unless a push threw inside the queue since the
  // last pop that answered without a value (a hole: see size_approx() in the header).
  void check_size() const {
    const std::size_t s = q_.size_approx();
    if (holes_) {
      FUZZ_CHECK(model_.size() <= s && s <= cap_);
    } else {
      FUZZ_CHECK(s == model_.size());
    }
  }

  void check_quiescent() const {
    check_size();
    FUZZ_CHECK(q_.is_closed() == closed_);
    if constexpr (Traits::counted) {
      const instance_counters& c = *Traits::counters();
      FUZZ_CHECK(c.errors.load() == 0);
      FUZZ_CHECK(c.live() == static_cast<long>(model_.size()));
    }
  }

  void pushed(queue_status st, std::uint64_t v) {
    FUZZ_CHECK(st == expected_push());
    if (st == queue_status::success) model_.push_back(v);
  }

  // One push, of the form o; `inject`: the element's construction throws (if T's can).
  void push_one(op o, bool inject) {
    const std::uint64_t v = ++counter_;
    const queue_status want = expected_push();
    // A construction inside the queue happens only when a slot is free.
    bool throws = false;
    if constexpr (Traits::can_throw) {
      throws = inject && want == queue_status::success && o != op::try_push;
    }
    if (o == op::try_emplace) {
      lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
      try {
        const queue_status st = q_.try_emplace(v);
        FUZZ_CHECK(!throws);
        pushed(st, v);
      } catch (const lockless_test::injected_error&) {
        FUZZ_CHECK(throws);
        holes_ = true;
      }
      return;
    }
    const bool copy = o == op::try_push_copy && std::is_copy_constructible_v<T>;
    T arg = Traits::make(v);
    lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
    try {
      queue_status st;
      if constexpr (std::is_copy_constructible_v<T>) {
        if (copy) {
          const T& cref = arg;
          st = q_.try_push(cref);
        } else {
          st = q_.try_push(std::move(arg));
        }
      } else {
        st = q_.try_push(std::move(arg));
      }
      FUZZ_CHECK(!throws);
      pushed(st, v);
      // Refused, or a copy: the argument is intact.
      if (st != queue_status::success || copy) FUZZ_CHECK(Traits::get(arg) == v);
    } catch (const lockless_test::injected_error&) {
      FUZZ_CHECK(throws);
      holes_ = true;
      FUZZ_CHECK(Traits::get(arg) == v);
    }
  }

  // A pop's answer against the model.
  void popped(lockless::queue_result<T>& r) {
    if (model_.empty()) {
      FUZZ_CHECK(!r.has_value() && !static_cast<bool>(r));
      FUZZ_CHECK(r.error() == (closed_ ? queue_status::closed : queue_status::empty));
      holes_ = false;  // the pop passed every hole on its way to the frontier
      return;
    }
    FUZZ_CHECK(r.has_value() && static_cast<bool>(r));
    FUZZ_CHECK(Traits::get(*r) == model_.front());
    FUZZ_CHECK(Traits::get(r.value()) == model_.front());
    model_.pop_front();
  }

  void pop_one() {
    lockless::queue_result<T> r = q_.try_pop();
    if (!r.has_value()) {
      // value() without a value throws system_error carrying the status.
      bool threw = false;
      try {
        (void)r.value();
      } catch (const std::system_error& e) {
        threw = true;
        FUZZ_CHECK(e.code() == lockless::make_error_code(r.error()));
      }
      FUZZ_CHECK(threw);
    }
    popped(r);
  }

  void timed_push(std::uint8_t b) {
    if constexpr (!may_block) {
      push_one(op::try_push, false);
    } else {
      const unsigned form = (b >> 4) & 3;
      const bool copy = (b & 0x40) != 0 && std::is_copy_constructible_v<T>;
      const bool inject = copy && (b & 0x80) != 0;
      const std::uint64_t v = ++counter_;
      const queue_status want = expected_push();
      const bool throws = Traits::can_throw && inject && want == queue_status::success;
      T arg = Traits::make(v);
      lockless_test::throw_on_nth_construction arm(inject ? 1 : 0);
      auto call = [&](auto&& a) -> queue_status {
        using A = decltype(a);
        switch (form) {
          case 0:
            return q_.push_for(std::forward<A>(a), std::chrono::nanoseconds(0));
          case 1:
            return q_.push_for(std::forward<A>(a), std::chrono::microseconds(1));
          case 2:
            return q_.push_until(std::forward<A>(a), std::chrono::steady_clock::now());
          default:
            if (want != queue_status::full) {  // returns at once
              return q_.push(std::forward<A>(a)) ? queue_status::success : queue_status::closed;
            }
            return q_.push_for(std::forward<A>(a), std::chrono::nanoseconds(0));
        }
      };
      try {
        queue_status st;
        if constexpr (std::is_copy_constructible_v<T>) {
          st = copy ? call(static_cast<const T&>(arg)) : call(std::move(arg));
        } else {
          st = call(std::move(arg));
        }
        FUZZ_CHECK(!throws);
        pushed(st, v);
        if (st != queue_status::success || copy) FUZZ_CHECK(Traits::get(arg) == v);
      } catch (const lockless_test::injected_error&) {
        FUZZ_CHECK(throws);
        holes_ = true;
        FUZZ_CHECK(Traits::get(arg) == v);
      }
    }
  }

  void timed_pop(std::uint8_t b) {
    if constexpr (!may_block) {
      pop_one();
    } else {
      switch ((b >> 4) & 3) {
        case 0: {
          lockless::queue_result<T> r = q_.pop_for(std::chrono::nanoseconds(0));
          popped(r);
          break;
        }
        case 1: {
          lockless::queue_result<T> r = q_.pop_for(std::chrono::microseconds(1));
          popped(r);
          break;
        }
        case 2: {
          lockless::queue_result<T> r = q_.pop_until(std::chrono::steady_clock::now());
          popped(r);
          break;
        }
        default:
          if (!model_.empty() || closed_) {  // returns at once
            std::optional<T> got = q_.pop();
            FUZZ_CHECK(got.has_value() == !model_.empty());
            if (got) {
              FUZZ_CHECK(Traits::get(*got) == model_.front());
              model_.pop_front();
            } else {
              holes_ = false;  // closed and drained: the pop passed every hole
            }
          } else {
            lockless::queue_result<T> r = q_.pop_for(std::chrono::nanoseconds(0));
            popped(r);
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
    const std::size_t room = closed_ ? 0 : cap_ - model_.size();
    const std::size_t fits = n < room ? n : room;
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
      holes_ = true;
      got = k - 1;  // the elements before the k-th went in, each its own operation
    }
    for (std::size_t i = 0; i < got; ++i) model_.push_back(vals[i]);
    // What was not pushed is untouched (and copies leave every source intact).
    for (std::size_t i = copies ? 0 : got; i < n; ++i) FUZZ_CHECK(Traits::get(src[i]) == vals[i]);
    check_size();
  }

  void pop_bulk(std::uint8_t o) {
    const std::size_t max = o % 12;
    std::vector<T> out;
    const std::size_t got = q_.try_pop_bulk(std::back_inserter(out), max);
    const std::size_t want = max < model_.size() ? max : model_.size();
    if (max > model_.size()) holes_ = false;  // its last pop answered without a value
    FUZZ_CHECK(got == want && out.size() == got);
    for (const T& t : out) {
      FUZZ_CHECK(Traits::get(t) == model_.front());
      model_.pop_front();
    }
  }

  std::size_t cap_;
  queue& q_;
  std::deque<std::uint64_t> model_;
  bool closed_ = false;
  // A push threw inside the queue since the last pop that answered without a value: its
  // ticket may still be a hole that size_approx() counts.
  bool holes_ = false;
  std::uint64_t counter_ = 0;
};

template <class Traits>
void run(const std::uint8_t* data, std::size_t size) {
  lockless_fuzz::input in(data, size);
  const std::size_t capacity = decode_capacity(in.u8());
  if constexpr (Traits::counted) Traits::counters()->reset();
  g_alloc = alloc_stats{};
  {
    using queue =
        lockless::bounded_queue<typename Traits::type, typename Traits::allocator, Traits::options>;
    queue q(capacity);
    FUZZ_CHECK(q.capacity() == capacity);
    FUZZ_CHECK(q.size_approx() == 0 && !q.is_closed());
    const long allocations = g_alloc.allocations;  // the constructor's
    runner<Traits> r(capacity, q);
    while (!in.empty()) r.step(in);
    r.finish((size & 1) != 0);
    FUZZ_CHECK(g_alloc.allocations == allocations);  // none after construction
  }  // ~bounded_queue destroys what is left
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
  run<throwing_fast_empty>(data, size);
  return 0;
}
