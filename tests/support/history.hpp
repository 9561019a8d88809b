// tests/support/history.hpp: recording concurrent histories of stack and queue operations.
//
// WHAT
//   A history is the list of operations a multi-threaded test performed on one container:
//   for each operation its thread, kind (push/pop for stacks and P0260 queues,
//   enqueue/dequeue as aliases, close), argument, result and two stamps, `call` taken just
//   before the operation was invoked and `ret` taken just after it returned. The
//   linearizability checkers (support/lincheck.hpp) decide whether some total order of the
//   operations, consistent with the stamps, is a legal sequential run of the container.
//
//   Real-time order: operation A precedes operation B iff A.ret < B.call. Overlapping
//   operations (neither precedes the other) may be linearized in either order.
//
// RECORDING (recorder)
//   - Each thread appends to its own buffer, reserved up front (no allocation while
//     recording; running out of room aborts with a message: size the buffers).
//   - Stamps come from one source shared by all threads:
//       stamp_source::counter       one std::atomic<uint64_t>, fetch_add (seq_cst). Stamps
//                                   are unique, and A.ret < B.call implies A's operation
//                                   happens-before B's (the RMWs synchronise), which is the
//                                   C++ meaning of "A completed before B started".
//                                   Caveat: those RMWs add happens-before edges between the
//                                   recorded operations, so ThreadSanitizer can miss a data
//                                   race of the container that the stamps happen to order.
//       stamp_source::steady_clock  std::chrono::steady_clock nanoseconds: no shared cache
//                                   line, more natural interleavings, no extra
//                                   synchronisation. Stamps may tie across threads (ties
//                                   count as overlap: conservative). Within a thread, a call
//                                   stamp is made strictly greater than the previous return
//                                   stamp (spinning until the clock ticks), so program order
//                                   is always visible in the stamps. A clock read is not a
//                                   memory access, so each stamp is fenced (clock_fence_*
//                                   below): a return stamp is read only once the operation's
//                                   stores are visible to every thread (a structure whose
//                                   operations end with a plain release store, as Vyukov's
//                                   ring, would otherwise be reported for an effect still
//                                   in a store buffer after its return), and the operation's
//                                   first access comes after its call stamp.
//   - After all recording threads are joined, merged() returns one history sorted by call
//     stamp. clear() empties the buffers (keeping their memory) for the next round.
//   - Values must be unique across the run for the fast checkers; make them so by
//     construction with unique_value(thread, seq) = thread << 40 | seq (support/values.hpp).
//
// USAGE
//   lockless::test::recorder rec(threads, ops_per_thread);
//   // in thread t:
//   rec.record(t, op_kind::push, v, [&] { s.push(v); });              // void  -> ok
//   auto got = rec.record(t, op_kind::pop, 0, [&] { return s.try_pop(); });
//                                                      // optional<U> -> value | empty
//   rec.record(t, op_kind::enqueue, v, [&] { return q.try_push(v); });   // bool -> ok | full
//   rec.record(t, op_kind::dequeue, 0, [&] {                              // op_result
//     std::uint64_t out; auto st = q.try_pop(out);
//     return op_result::from_status(st, out); });  // any enum with success/empty/full/closed
//   // after join:
//   lockless::test::history h = rec.merged();
//
//   Hand-written histories for tests: history_builder (below).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "values.hpp"

namespace lockless::test {

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

// push/enqueue insert their argument; pop/dequeue remove. The checker's spec (stack or
// queue) gives them their meaning; the two spellings only change how histories print.
enum class op_kind : std::uint8_t { push, pop, enqueue, dequeue, close };

// ok:     push/enqueue inserted its argument; close done.
// value:  pop/dequeue returned `value`.
// empty:  pop/dequeue found the container empty (and not closed).
// full:   push/enqueue found a bounded container full (and not closed); nothing inserted.
// closed: push/enqueue on a closed container (nothing inserted), or pop/dequeue on a
//         closed and empty one.
enum class op_status : std::uint8_t { ok, value, empty, full, closed };

[[nodiscard]] constexpr bool is_insert(op_kind k) noexcept {
  return k == op_kind::push || k == op_kind::enqueue;
}
[[nodiscard]] constexpr bool is_remove(op_kind k) noexcept {
  return k == op_kind::pop || k == op_kind::dequeue;
}

[[nodiscard]] constexpr const char* to_string(op_kind k) noexcept {
  switch (k) {
    case op_kind::push:
      return "push";
    case op_kind::pop:
      return "pop";
    case op_kind::enqueue:
      return "enqueue";
    case op_kind::dequeue:
      return "dequeue";
    case op_kind::close:
      return "close";
  }
  return "?";
}
[[nodiscard]] constexpr const char* to_string(op_status s) noexcept {
  switch (s) {
    case op_status::ok:
      return "ok";
    case op_status::value:
      return "value";
    case op_status::empty:
      return "empty";
    case op_status::full:
      return "full";
    case op_status::closed:
      return "closed";
  }
  return "?";
}

// The result of one operation: a status, plus the value for op_status::value.
struct op_result {
  op_status status = op_status::ok;
  std::uint64_t value = 0;

  [[nodiscard]] static constexpr op_result ok() noexcept { return {op_status::ok, 0}; }
  [[nodiscard]] static constexpr op_result of(std::uint64_t v) noexcept {
    return {op_status::value, v};
  }
  [[nodiscard]] static constexpr op_result empty() noexcept { return {op_status::empty, 0}; }
  [[nodiscard]] static constexpr op_result full() noexcept { return {op_status::full, 0}; }
  [[nodiscard]] static constexpr op_result closed() noexcept { return {op_status::closed, 0}; }

  // From a P0260-style status enum (lockless::queue_status or any enum with the members
  // success, empty, full, closed). For a pop, `popped` is the value when st == success.
  template <class E>
    requires std::is_enum_v<E> && requires {
      E::success;
      E::empty;
      E::full;
      E::closed;
    }
  [[nodiscard]] static constexpr op_result from_status(E st, std::uint64_t popped,
                                                       bool is_pop) noexcept {
    if (st == E::success) return is_pop ? of(popped) : ok();
    if (st == E::empty) return empty();
    if (st == E::full) return full();
    return closed();
  }
  template <class E>
    requires std::is_enum_v<E> && requires {
      E::success;
      E::empty;
      E::full;
      E::closed;
    }
  [[nodiscard]] static constexpr op_result from_status(E st, std::uint64_t popped) noexcept {
    return from_status(st, popped, true);
  }
  template <class E>
    requires std::is_enum_v<E> && requires {
      E::success;
      E::empty;
      E::full;
      E::closed;
    }
  [[nodiscard]] static constexpr op_result from_status(E st) noexcept {
    return from_status(st, 0, false);
  }

  friend constexpr bool operator==(const op_result&, const op_result&) = default;
};

// One completed operation.
struct operation {
  std::uint64_t call = 0;  // stamp taken just before the call
  std::uint64_t ret = 0;   // stamp taken just after the return
  std::uint64_t arg = 0;   // the value inserted (push/enqueue); 0 otherwise
  op_result result;
  std::uint32_t thread = 0;
  std::uint32_t seq = 0;  // index among this thread's operations (program order)
  op_kind kind = op_kind::push;

  [[nodiscard]] bool inserts() const noexcept { return is_insert(kind); }
  [[nodiscard]] bool removes() const noexcept { return is_remove(kind); }
  // Did this operation change the container's contents?
  [[nodiscard]] bool inserted_ok() const noexcept {
    return inserts() && result.status == op_status::ok;
  }
  [[nodiscard]] bool removed_value() const noexcept {
    return removes() && result.status == op_status::value;
  }
};

// Real-time order: a precedes b iff a returned before b was called.
[[nodiscard]] constexpr bool precedes(const operation& a, const operation& b) noexcept {
  return a.ret < b.call;
}

// "3:17" for unique_value(3, 17) (support/values.hpp), plain decimal below 2^40.
inline std::string format_value(std::uint64_t v) {
  std::ostringstream os;
  if (value_thread(v) != 0) {
    os << value_thread(v) << ':' << value_seq(v);
  } else {
    os << v;
  }
  return os.str();
}

// "T2 #5  pop() -> 1:17          [call 120, ret 131]"
inline std::string format_operation(const operation& op) {
  std::ostringstream os;
  os << 'T' << op.thread << " #" << op.seq << "  " << to_string(op.kind) << '(';
  if (op.inserts()) os << format_value(op.arg);
  os << ") -> ";
  if (op.result.status == op_status::value) {
    os << format_value(op.result.value);
  } else {
    os << to_string(op.result.status);
  }
  std::string s = os.str();
  if (s.size() < 40) s.resize(40, ' ');
  std::ostringstream tail;
  tail << " [call " << op.call << ", ret " << op.ret << ']';
  return s + tail.str();
}

// ---------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------

struct history {
  std::vector<operation> ops;  // sorted by (call, thread)
  std::uint32_t threads = 0;   // thread ids are < threads

  [[nodiscard]] std::size_t size() const noexcept { return ops.size(); }
  [[nodiscard]] bool empty() const noexcept { return ops.empty(); }

  // Sorts by call stamp, renumbers nothing. Called by merged() and history_builder.
  void sort() {
    std::sort(ops.begin(), ops.end(), [](const operation& a, const operation& b) {
      if (a.call != b.call) return a.call < b.call;
      if (a.thread != b.thread) return a.thread < b.thread;
      return a.seq < b.seq;
    });
  }

  // Well-formedness: call <= ret; each thread's operations sequential (ret of one <
  // call of the next, in seq order); statuses fit kinds. Returns "" when well formed.
  [[nodiscard]] std::string validate() const {
    std::vector<const operation*> last(threads, nullptr);
    std::vector<const operation*> sorted;
    sorted.reserve(ops.size());
    for (const auto& op : ops) sorted.push_back(&op);
    std::sort(sorted.begin(), sorted.end(), [](const operation* a, const operation* b) {
      return a->thread != b->thread ? a->thread < b->thread : a->seq < b->seq;
    });
    for (const operation* p : sorted) {
      const operation& op = *p;
      if (op.thread >= threads) return "thread id out of range: " + format_operation(op);
      if (op.call > op.ret) return "call stamp after return stamp: " + format_operation(op);
      const operation* prev = last[op.thread];
      if (prev != nullptr) {
        if (prev->seq == op.seq)
          return "two operations with the same thread and seq: " + format_operation(op);
        if (!(prev->ret < op.call)) {
          return "operations of one thread overlap: " + format_operation(*prev) + " / " +
                 format_operation(op);
        }
      }
      last[op.thread] = &op;
      const op_status s = op.result.status;
      bool fits = false;
      if (op.inserts()) {
        fits = s == op_status::ok || s == op_status::full || s == op_status::closed;
      } else if (op.removes()) {
        fits = s == op_status::value || s == op_status::empty || s == op_status::closed;
      } else {
        fits = s == op_status::ok;
      }
      if (!fits) return "result does not fit the operation: " + format_operation(op);
    }
    return {};
  }

  [[nodiscard]] std::string to_string() const {
    std::string s;
    for (const auto& op : ops) s += format_operation(op) + '\n';
    return s;
  }
};

// ---------------------------------------------------------------------------------------
// Recorder
// ---------------------------------------------------------------------------------------

enum class stamp_source : std::uint8_t { counter, steady_clock };

class recorder {
 public:
  recorder(std::size_t threads, std::size_t ops_per_thread,
           stamp_source source = stamp_source::counter)
      : lanes_(threads), source_(source) {
    for (auto& lane : lanes_) lane.ops.reserve(ops_per_thread);
  }
  // One capacity per thread (e.g. a larger one for a thread that drains at the end).
  explicit recorder(const std::vector<std::size_t>& ops_per_thread,
                    stamp_source source = stamp_source::counter)
      : lanes_(ops_per_thread.size()), source_(source) {
    for (std::size_t t = 0; t < lanes_.size(); ++t) lanes_[t].ops.reserve(ops_per_thread[t]);
  }

  recorder(const recorder&) = delete;
  recorder& operator=(const recorder&) = delete;

  [[nodiscard]] std::size_t threads() const noexcept { return lanes_.size(); }
  [[nodiscard]] stamp_source source() const noexcept { return source_; }

  // Runs f() as one operation of `thread` and records it; returns what f returns.
  // f's return type gives the result: void -> ok; bool (push/enqueue) -> ok | full;
  // std::optional<U> (pop/dequeue) -> value | empty; op_result -> as is; a P0260-style
  // status enum (push/enqueue/close) -> ok | full | closed | empty.
  // Only `thread` itself may record into lane `thread`.
  template <class F>
  decltype(auto) record(std::size_t thread, op_kind kind, std::uint64_t arg, F&& f) {
    lane& l = lanes_[thread];
    if (l.ops.size() == l.ops.capacity()) overflow(thread);
    operation op;
    op.thread = static_cast<std::uint32_t>(thread);
    op.seq = static_cast<std::uint32_t>(l.ops.size());
    op.kind = kind;
    op.arg = is_insert(kind) ? arg : 0;
    op.call = call_stamp(l);
    using R = decltype(std::forward<F>(f)());
    if constexpr (std::is_void_v<R>) {
      std::forward<F>(f)();
      op.ret = ret_stamp(l);
      op.result = op_result::ok();
      l.ops.push_back(op);
    } else {
      R r = std::forward<F>(f)();
      op.ret = ret_stamp(l);
      op.result = to_result(kind, r);
      l.ops.push_back(op);
      return r;
    }
  }

  // One stamp from the shared source (for callers that time extra events).
  [[nodiscard]] std::uint64_t stamp() noexcept {
    if (source_ == stamp_source::counter) {
      return counter_.fetch_add(1, std::memory_order_seq_cst);
    }
    return clock_now();
  }

  // After every recording thread has been joined: all operations, sorted by call.
  [[nodiscard]] history merged() const {
    history h;
    h.threads = static_cast<std::uint32_t>(lanes_.size());
    std::size_t n = 0;
    for (const auto& l : lanes_) n += l.ops.size();
    h.ops.reserve(n);
    for (const auto& l : lanes_) h.ops.insert(h.ops.end(), l.ops.begin(), l.ops.end());
    h.sort();
    return h;
  }

  // Empties every buffer (capacity kept) for another round. Stamps keep increasing.
  void clear() noexcept {
    for (auto& l : lanes_) l.ops.clear();
  }

 private:
  struct alignas(64) lane {  // one cache line (at least) per thread: no false sharing
    std::vector<operation> ops;
    std::uint64_t last_ret = 0;  // steady_clock mode: program order made strict
  };

  template <class R>
  static op_result to_result(op_kind kind, const R& r) {
    using D = std::remove_cvref_t<R>;
    if constexpr (std::is_same_v<D, op_result>) {
      return r;
    } else if constexpr (std::is_same_v<D, bool>) {
      if (!is_insert(kind)) misuse("a bool result is only meaningful for push/enqueue");
      return r ? op_result::ok() : op_result::full();
    } else if constexpr (is_optional<D>::value) {
      if (!is_remove(kind)) misuse("an optional result is only meaningful for pop/dequeue");
      return r.has_value() ? op_result::of(static_cast<std::uint64_t>(*r)) : op_result::empty();
    } else if constexpr (std::is_enum_v<D>) {
      if (is_remove(kind) && r == D::success) {
        misuse("a status enum cannot carry the popped value: return op_result::from_status");
      }
      return op_result::from_status(r);
    } else {
      static_assert(std::is_same_v<D, op_result>,
                    "record(): f must return void, bool, std::optional<U>, op_result or a "
                    "P0260-style status enum");
      return {};
    }
  }

  template <class T>
  struct is_optional : std::false_type {};
  template <class T>
  struct is_optional<std::optional<T>> : std::true_type {};

  [[noreturn]] static void misuse(const char* what) {
    std::fprintf(stderr, "lockless::test::recorder::record: %s\n", what);
    std::abort();
  }
  [[noreturn]] static void overflow(std::size_t thread) {
    std::fprintf(stderr,
                 "lockless::test::recorder: thread %zu recorded more operations than its "
                 "buffer holds (ops_per_thread); recording must not allocate\n",
                 thread);
    std::abort();
  }

  static std::uint64_t clock_now() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  // A clock read is not ordered with memory accesses: on x86-64 the timestamp counter can
  // be read before earlier stores are visible to other cores, and later loads can run
  // before it (Intel SDM, RDTSC: MFENCE;LFENCE before it, LFENCE after it). Elsewhere a
  // full fence on both sides.
  static void clock_fence_before() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    // A locked instruction drains the store buffer (a full barrier here), and unlike
    // std::atomic_thread_fence it is accepted under ThreadSanitizer (as detail::full_fence
    // does there). The word is this thread's own: no synchronisation with anybody.
    static thread_local std::atomic<unsigned> word{0};
    (void)word.fetch_add(0, std::memory_order_seq_cst);
    __builtin_ia32_lfence();
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }
  static void clock_fence_after() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_lfence();
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  std::uint64_t call_stamp(lane& l) noexcept {
    if (source_ == stamp_source::counter) {
      return counter_.fetch_add(1, std::memory_order_seq_cst);
    }
    std::uint64_t t = clock_now();
    while (t <= l.last_ret) t = clock_now();  // strictly after this thread's last return
    clock_fence_after();                      // the operation's accesses come after t
    return t;
  }
  std::uint64_t ret_stamp(lane& l) noexcept {
    if (source_ == stamp_source::counter) {
      return counter_.fetch_add(1, std::memory_order_seq_cst);
    }
    clock_fence_before();  // the operation's stores are visible to all before the stamp
    l.last_ret = clock_now();
    return l.last_ret;
  }

  std::vector<lane> lanes_;
  alignas(64) std::atomic<std::uint64_t> counter_{1};
  alignas(64) stamp_source source_;
};

// ---------------------------------------------------------------------------------------
// Hand-written histories
// ---------------------------------------------------------------------------------------
//   history h = history_builder{}
//       .push(0, 1, 0, 3)           // thread 0 pushes 1, called at 0, returned at 3
//       .pop(1, 1, 2, 5)            // thread 1 pops 1, [2, 5]
//       .pop_empty(1, 6, 7)
//       .build();
// Each thread's operations must not overlap (build() throws std::invalid_argument).
class history_builder {
 public:
  history_builder& add(std::uint32_t thread, op_kind kind, std::uint64_t arg, op_result r,
                       std::uint64_t call, std::uint64_t ret) {
    operation op;
    op.thread = thread;
    op.kind = kind;
    op.arg = is_insert(kind) ? arg : 0;
    op.result = r;
    op.call = call;
    op.ret = ret;
    h_.ops.push_back(op);
    h_.threads = std::max(h_.threads, thread + 1);
    return *this;
  }

  // Stacks.
  history_builder& push(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::push, v, op_result::ok(), c, r);
  }
  history_builder& push_full(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::push, v, op_result::full(), c, r);
  }
  history_builder& pop(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::pop, 0, op_result::of(v), c, r);
  }
  history_builder& pop_empty(std::uint32_t t, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::pop, 0, op_result::empty(), c, r);
  }
  // Queues.
  history_builder& enq(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::enqueue, v, op_result::ok(), c, r);
  }
  history_builder& enq_full(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::enqueue, v, op_result::full(), c, r);
  }
  history_builder& enq_closed(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::enqueue, v, op_result::closed(), c, r);
  }
  history_builder& deq(std::uint32_t t, std::uint64_t v, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::dequeue, 0, op_result::of(v), c, r);
  }
  history_builder& deq_empty(std::uint32_t t, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::dequeue, 0, op_result::empty(), c, r);
  }
  history_builder& deq_closed(std::uint32_t t, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::dequeue, 0, op_result::closed(), c, r);
  }
  history_builder& close(std::uint32_t t, std::uint64_t c, std::uint64_t r) {
    return add(t, op_kind::close, 0, op_result::ok(), c, r);
  }

  // Numbers each thread's operations in call order, sorts, validates.
  [[nodiscard]] history build() const {
    history h = h_;
    // std::sort with a total order rather than std::stable_sort: libstdc++ 12's
    // stable_sort uses get_temporary_buffer, which clang 19 flags as deprecated in C++20.
    std::sort(h.ops.begin(), h.ops.end(), [](const operation& a, const operation& b) {
      if (a.thread != b.thread) return a.thread < b.thread;
      if (a.call != b.call) return a.call < b.call;
      return a.ret < b.ret;
    });
    std::uint32_t seq = 0;
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      if (i == 0 || h.ops[i].thread != h.ops[i - 1].thread) seq = 0;
      h.ops[i].seq = seq++;
    }
    h.sort();
    if (std::string err = h.validate(); !err.empty()) throw std::invalid_argument(err);
    return h;
  }

 private:
  history h_;
};

}  // namespace lockless::test
