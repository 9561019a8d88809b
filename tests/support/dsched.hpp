// tests/support/dsched.hpp: deterministic schedules for the real headers.
//
// WHAT
//   The third build of the atomics shim (LOCKLESS_DSCHED, see lockless/detail/atomic.hpp).
//   Every atomic operation, plain shared-variable access (detail::var), fence, wait, notify
//   and detail::mutex operation of library code first calls point(), a yield point at
//   which this scheduler decides which thread runs next. The threads are real OS threads,
//   so thread_local state, the node pool, thread exit (epoch orphan hand-over) and the
//   x86 pin path are the production code paths; but they pass one baton around, so
//   exactly one of them runs at any time. The decisions come from a strategy: a seeded
//   random walk, PCT (probabilistic concurrency testing), the bytes of a fuzz input, a
//   recorded trace, or a plan written by hand over call sites (site_plan). With the same
//   strategy, a run is the same interleaving every time:
//   a failure found once replays exactly.
//
//     dsched::pct strat(/*seed=*/7, /*depth=*/3, /*horizon=*/500);
//     dsched::result r = dsched::run(strat, {
//         [&](unsigned) { stack.push(1); },
//         [&](unsigned) { (void)stack.try_pop(); }});
//     EXPECT_TRUE(r.ok()) << r.report;   // deadlock and step_limit are failures
//
//   explore() runs a scenario under many schedules (PCT and random walks, seeds
//   first_seed, first_seed + 1, ...), stops at the first failure and prints how to
//   replay it (LOCKLESS_DSCHED_REPLAY=<strategy description>). With
//   explore_options::hot_functions, every schedule is instead a site_walk: a random walk
//   that preempts mostly at yield points inside those functions.
//
// WHAT IT DECIDES, AND WHAT IT CANNOT
//   Finds: atomicity violations and bad interleavings (ABA, lost updates, a pop that
//   returns a value twice), use after free when combined with ASan or canaries, lost
//   wake-ups and lock-order inversions (reported as a deadlock: every unfinished thread is
//   parked), livelocks (reported as step_limit), at any thread count, over whole
//   operations including allocation, registration and thread exit.
//   Cannot find: weak-memory effects. Every execution is sequentially consistent (the
//   baton hand-over is a release/acquire pair), so a missing acquire or a missing fence
//   is invisible here: that is Relacy's job (tests/relacy/). Coverage is sampled, not
//   exhaustive.
//
// RULES FOR SCENARIOS
//   - A run's threads are new OS threads; the calling thread is not scheduled (it waits).
//     With options::reuse_threads they are pooled OS threads instead, kept between runs:
//     at the end of its body a pooled thread runs the library's thread-exit hooks
//     (detail::run_thread_exit_hooks(), under the scheduler, as a new thread does at its
//     exit), but the test's own thread_local objects live on and nothing exercises a real
//     thread exit. For scenarios of structures without per-thread state: thread creation
//     and exit (and under ASan each thread's fake stack) were most of a short run's cost.
//     Code run outside a run (set-up, the drain after it) executes normally: point() is a
//     no-op on unscheduled threads.
//   - Bodies must be deterministic given the schedule (no clocks, no rand(), no
//     behaviour that depends on pointer values beyond equality).
//   - Spin loops must pass detail::yield_point() (library code does, via backoff and
//     cpu_relax), or a waiting thread that keeps being chosen ends in step_limit.
//   - A run that cannot finish (deadlock, step_limit) is abandoned: its threads stay
//     parked forever and its state is leaked on purpose; the process may go on. Objects
//     the parked threads reference must not be used by them again, which they cannot.
//     Under AddressSanitizer each parked thread's stack block (its stack, static TLS and
//     thread control block) is registered as a LeakSanitizer root region: LSan finds a
//     live thread's stack and TLS through its thread id, and once the system's thread
//     ids have wrapped (pid_max, 32768 by default, is soon passed by a process that
//     starts a few threads per schedule) it can match the parked thread to a dead
//     thread that had the same id, scan nothing, and report what only the parked thread
//     still points to (its thread_local destructor list, for one) as leaked.
//   - Exceptions escaping a body are rethrown by run() once all threads are done.
#pragma once

#define LOCKLESS_DSCHED_HPP 1
#if !defined(LOCKLESS_DSCHED)
#error "support/dsched.hpp belongs to the LOCKLESS_DSCHED build: define it for the whole target"
#endif
// No include-order rule: the library only declares the schedule hooks
// (lockless/detail/schedule_hooks.hpp, declared inline); this header defines them, so
// every LOCKLESS_DSCHED translation unit must include it, before or after the library's
// headers. One that does not fails to compile ("inline function used but never defined").

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <lockless/detail/sanitizers.hpp>
#include <lockless/detail/schedule_hooks.hpp>
#include <lockless/detail/thread_exit.hpp>
#if defined(LOCKLESS_DETAIL_ASAN)
#include <pthread.h>
#include <sanitizer/lsan_interface.h>
#endif

namespace lockless::dsched {

// What a thread was about to do at a yield point, and where in the source it was (the
// library's schedule-hook interface, lockless/detail/schedule_hooks.hpp).
using event = ::lockless::detail::schedule_hooks::event;
using site = ::lockless::detail::schedule_hooks::site;

[[nodiscard]] constexpr const char* to_string(event e) noexcept {
  switch (e) {
    case event::load:
      return "load";
    case event::store:
      return "store";
    case event::rmw:
      return "rmw";
    case event::fence:
      return "fence";
    case event::plain_read:
      return "read";
    case event::plain_write:
      return "write";
    case event::spin:
      return "spin";
    case event::wait:
      return "wait";
    case event::notify:
      return "notify";
    case event::mutex_lock:
      return "lock";
    case event::mutex_unlock:
      return "unlock";
    case event::start:
      return "start";
    case event::finish:
      return "finish";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

// A real decision: at least two threads could run. The strategy returns one of them.
struct choice {
  const std::vector<unsigned>& runnable;  // ascending thread indices, size >= 2
  unsigned current;       // the thread at the yield point (== threads before the first step)
  bool current_runnable;  // false if it just parked or finished
  bool spinning;          // it waits for another thread (event::spin): switching is wise
  std::uint64_t step;     // yield points so far in this run
  unsigned threads;
  // The function of the current thread's yield point (its site: "" before the first step,
  // "thread exit" once it finished).
  const char* where = "";
};

class strategy {
 public:
  virtual ~strategy() = default;
  virtual void begin(unsigned /*threads*/) {}  // called at the start of every run
  [[nodiscard]] virtual unsigned pick(const choice& c) = 0;
  // A description that make_strategy() turns back into an identical strategy.
  [[nodiscard]] virtual std::string describe() const = 0;
};

namespace detail {

// splitmix64: tiny, fast, and the same numbers on every platform and standard library.
class prng {
 public:
  explicit prng(std::uint64_t seed) noexcept : s_(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }

 private:
  std::uint64_t s_;
};

// The runnable threads in cyclic order after `from` (excluded), then `from` itself last
// if it is runnable.
inline std::vector<unsigned> cyclic_after(const std::vector<unsigned>& runnable, unsigned from) {
  std::vector<unsigned> out;
  out.reserve(runnable.size());
  for (unsigned t : runnable) {
    if (t > from) out.push_back(t);
  }
  for (unsigned t : runnable) {
    if (t < from) out.push_back(t);
  }
  for (unsigned t : runnable) {
    if (t == from) out.push_back(t);
  }
  return out;
}

// A random walk's decision: the current thread again, unless it cannot run or spins, or
// with probability percent; otherwise a uniformly chosen other runnable thread.
inline unsigned walk_step(prng& rng, const choice& c, unsigned percent) {
  const bool stay = c.current_runnable && !c.spinning && rng.below(100) >= percent;
  if (stay) return c.current;
  std::vector<unsigned> others = cyclic_after(c.runnable, c.current);
  if (c.current_runnable) others.pop_back();  // the current one is last
  return others[rng.below(others.size())];
}

// Whether a yield point's function (site::function, choice::where: the compiler's name of
// the function, with a template's arguments, "push_loop<...>" or "notify<false, 2>") is
// the one `name` names: the same, or `name` followed by the template's arguments. So a
// site_walk or a site_plan names a function template once for all its instances.
inline bool names_function(std::string_view where, std::string_view name) {
  return where.substr(0, name.size()) == name &&
         (where.size() == name.size() || where[name.size()] == '<');
}

// The names of a '|'-separated list ("f|g|h"), empty ones left out.
inline std::vector<std::string> split_functions(const std::string& functions) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= functions.size()) {
    const std::size_t bar = std::min(functions.find('|', from), functions.size());
    if (bar > from) out.push_back(functions.substr(from, bar - from));
    from = bar + 1;
  }
  return out;
}

}  // namespace detail

// Runs the current thread until it parks, finishes or spins; then the next runnable
// thread in cyclic order. No preemption at all: the fair fallback of the other
// strategies, and the calibration run of explore().
class run_to_block : public strategy {
 public:
  [[nodiscard]] unsigned pick(const choice& c) override {
    if (c.current_runnable && !c.spinning) return c.current;
    return detail::cyclic_after(c.runnable, c.current).front();
  }
  [[nodiscard]] std::string describe() const override { return "run_to_block()"; }
};

// At each decision, stays with the current thread or, with probability switch_percent
// (always when it spins), moves to a uniformly chosen other runnable thread.
class random_walk : public strategy {
 public:
  explicit random_walk(std::uint64_t seed, unsigned switch_percent = 20)
      : seed_(seed), switch_percent_(std::min(switch_percent, 100U)), rng_(seed) {}

  void begin(unsigned) override { rng_ = detail::prng(seed_); }
  [[nodiscard]] unsigned pick(const choice& c) override {
    return detail::walk_step(rng_, c, switch_percent_);
  }
  [[nodiscard]] std::string describe() const override {
    return "random(seed=" + std::to_string(seed_) + ",switch=" + std::to_string(switch_percent_) +
           ")";
  }

 private:
  std::uint64_t seed_;
  unsigned switch_percent_;
  detail::prng rng_;
};

// A random walk that preempts where the bugs are: at a yield point inside one of the named
// functions it moves to another runnable thread with probability hot_percent, anywhere
// else with cold_percent (always when the thread spins). For protocols whose races live
// in a few functions (a give-up and its helpers): a bug that needs several threads each
// suspended inside them is out of reach of PCT, whose preemptions fall anywhere in the
// run, and of a uniform random walk. On bounded_queue with the record ABA of 2026-12-07
// put back (the dsched mutant of tests/relacy/bounded_queue_mutants.cmake), 1.2 million
// PCT and random schedules of the give-up scripts found nothing; this walk (25 / 0 over
// the give-up's functions) found a livelock at schedule 357,069 and a wrong "full" at
// 1,766,714. Rare still: a planned schedule (site_plan) is the regression test, this is
// the soak. `functions` is a '|'-separated list of names; a function template's name
// stands for all its instances (detail::names_function).
class site_walk : public strategy {
 public:
  site_walk(std::uint64_t seed, std::string functions, unsigned hot_percent = 25,
            unsigned cold_percent = 0)
      : seed_(seed),
        functions_(std::move(functions)),
        hot_(std::min(hot_percent, 100U)),
        cold_(std::min(cold_percent, 100U)),
        hot_set_(detail::split_functions(functions_)),
        rng_(seed) {}

  void begin(unsigned) override { rng_ = detail::prng(seed_); }
  [[nodiscard]] unsigned pick(const choice& c) override {
    const bool hot = std::any_of(hot_set_.begin(), hot_set_.end(), [&](const std::string& f) {
      return detail::names_function(c.where, f);
    });
    return detail::walk_step(rng_, c, hot ? hot_ : cold_);
  }
  [[nodiscard]] std::string describe() const override {
    return "site_walk(seed=" + std::to_string(seed_) + ",hot=" + std::to_string(hot_) +
           ",cold=" + std::to_string(cold_) + ",functions=" + functions_ + ")";
  }

 private:
  std::uint64_t seed_;
  std::string functions_;
  unsigned hot_;
  unsigned cold_;
  std::vector<std::string> hot_set_;
  detail::prng rng_;
};

// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): threads get distinct
// random priorities >= depth; the highest-priority runnable thread always runs; at
// depth - 1 random steps in [1, horizon] the running thread drops to priority
// depth - 1 - i, below every initial one. A bug that needs d ordering constraints
// among n threads in runs of k steps is found with probability >= 1 / (n k^(d-1)) per
// run. A spinning thread drops below everyone (it cannot progress alone), which keeps
// PCT from starving the thread it waits for.
class pct : public strategy {
 public:
  pct(std::uint64_t seed, unsigned depth, std::uint64_t horizon)
      : seed_(seed), depth_(std::max(depth, 1U)), horizon_(std::max<std::uint64_t>(horizon, 1)) {}

  void begin(unsigned threads) override {
    detail::prng rng(seed_);
    prio_.resize(threads);
    for (unsigned t = 0; t < threads; ++t) prio_[t] = static_cast<long long>(depth_ + t);
    for (unsigned t = threads; t > 1; --t) {  // Fisher-Yates
      std::swap(prio_[t - 1], prio_[rng.below(t)]);
    }
    change_.clear();
    for (unsigned i = 0; i + 1 < depth_; ++i) change_.push_back(1 + rng.below(horizon_));
    next_change_ = 0;
    std::sort(change_.begin(), change_.end());
    lowest_ = 0;
  }
  [[nodiscard]] unsigned pick(const choice& c) override {
    if (c.current < prio_.size()) {
      while (next_change_ < change_.size() && change_[next_change_] <= c.step) {
        prio_[c.current] =
            static_cast<long long>(depth_) - 2 - static_cast<long long>(next_change_);
        lowest_ = std::min(lowest_, prio_[c.current]);
        ++next_change_;
      }
      if (c.spinning) prio_[c.current] = --lowest_;
    }
    unsigned best = c.runnable.front();
    for (unsigned t : c.runnable) {
      if (prio_[t] > prio_[best]) best = t;
    }
    return best;
  }
  [[nodiscard]] std::string describe() const override {
    return "pct(seed=" + std::to_string(seed_) + ",depth=" + std::to_string(depth_) +
           ",horizon=" + std::to_string(horizon_) + ")";
  }

 private:
  std::uint64_t seed_;
  unsigned depth_;
  std::uint64_t horizon_;
  std::vector<long long> prio_;
  std::vector<std::uint64_t> change_;
  std::size_t next_change_ = 0;
  long long lowest_ = 0;
};

// Decisions from bytes (a fuzz input): each byte b says "switch to the (b >> 6)-th
// runnable thread after the current one in cyclic order (0 = stay, if it may), and keep
// it for (b & 63) more decisions unless it parks or spins". Once the bytes are used up,
// run_to_block decides, so every input ends (lock-free code finishes). The same bytes
// always give the same schedule; small mutations change few decisions.
class byte_schedule : public strategy {
 public:
  byte_schedule(const std::uint8_t* data, std::size_t size) : bytes_(data, data + size) {}

  void begin(unsigned) override {
    pos_ = 0;
    hold_ = 0;
  }
  [[nodiscard]] unsigned pick(const choice& c) override {
    const bool may_stay = c.current_runnable && !c.spinning;
    if (hold_ > 0 && may_stay) {
      --hold_;
      return c.current;
    }
    if (pos_ == bytes_.size()) return run_to_block{}.pick(c);
    const std::uint8_t b = bytes_[pos_++];
    hold_ = b & 63U;
    std::vector<unsigned> order = detail::cyclic_after(c.runnable, c.current);
    if (may_stay) {
      order.insert(order.begin(), order.back());  // 0 = stay
      order.pop_back();
    } else if (c.current_runnable) {
      order.pop_back();  // spinning: not itself
    }
    return order[(b >> 6) % order.size()];
  }
  [[nodiscard]] std::string describe() const override {
    return "bytes(" + std::to_string(bytes_.size()) + " bytes of input)";
  }
  [[nodiscard]] std::size_t consumed() const noexcept { return pos_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
  unsigned hold_ = 0;
};

// Replays the decisions of an earlier run (result::trace). If the program no longer
// offers the recorded choice, replay continues with run_to_block and diverged() is true.
class replay : public strategy {
 public:
  explicit replay(std::vector<std::uint8_t> trace) : trace_(std::move(trace)) {}
  void begin(unsigned) override {
    pos_ = 0;
    diverged_ = false;
  }
  [[nodiscard]] unsigned pick(const choice& c) override {
    if (!diverged_ && pos_ < trace_.size()) {
      const unsigned want = trace_[pos_++];
      if (std::find(c.runnable.begin(), c.runnable.end(), want) != c.runnable.end()) return want;
      diverged_ = true;
    }
    return run_to_block{}.pick(c);
  }
  [[nodiscard]] std::string describe() const override {
    return "replay(" + std::to_string(trace_.size()) + " decisions)";
  }
  [[nodiscard]] bool diverged() const noexcept { return diverged_; }

 private:
  std::vector<std::uint8_t> trace_;
  std::size_t pos_ = 0;
  bool diverged_ = false;
};

// "pct(seed=7,depth=3,horizon=500)", "random(seed=5,switch=20)", "run_to_block()":
// what describe() printed, back as a strategy. Throws std::invalid_argument otherwise.
inline std::unique_ptr<strategy> make_strategy(const std::string& d) {
  auto field = [&](const char* name) -> std::uint64_t {
    const std::string key = std::string(name) + "=";
    const std::size_t at = d.find(key);
    if (at == std::string::npos) {
      throw std::invalid_argument("dsched: strategy '" + d + "' lacks " + name);
    }
    return std::stoull(d.substr(at + key.size()));
  };
  if (d.rfind("pct(", 0) == 0) {
    return std::make_unique<pct>(field("seed"), static_cast<unsigned>(field("depth")),
                                 field("horizon"));
  }
  if (d.rfind("random(", 0) == 0) {
    return std::make_unique<random_walk>(field("seed"), static_cast<unsigned>(field("switch")));
  }
  if (d.rfind("site_walk(", 0) == 0) {
    const std::size_t at = d.find("functions=");
    if (at == std::string::npos || d.back() != ')') {
      throw std::invalid_argument("dsched: strategy '" + d + "' lacks functions");
    }
    const std::string functions = d.substr(at + 10, d.size() - at - 11);
    return std::make_unique<site_walk>(field("seed"), functions,
                                       static_cast<unsigned>(field("hot")),
                                       static_cast<unsigned>(field("cold")));
  }
  if (d.rfind("run_to_block", 0) == 0) return std::make_unique<run_to_block>();
  throw std::invalid_argument("dsched: unknown strategy '" + d + "'");
}

// ---------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------

enum class outcome : std::uint8_t {
  ok,          // every thread finished
  deadlock,    // every unfinished thread is parked (wait with no notify, mutex never free)
  step_limit,  // more than options::max_steps yield points: a livelock, or a far too long run
};

[[nodiscard]] constexpr const char* to_string(outcome o) noexcept {
  switch (o) {
    case outcome::ok:
      return "ok";
    case outcome::deadlock:
      return "deadlock";
    case outcome::step_limit:
      return "step limit";
  }
  return "?";
}

struct options {
  std::uint64_t max_steps = 1'000'000;
  bool record_trace = true;         // result::trace (one byte per decision)
  std::size_t event_log_size = 64;  // the last N yield points, printed in reports
  // Called at every yield point of a scheduled thread (thread, event, call site), before
  // the decision, and once at its exit (event::finish): a test that must show which paths
  // of the code its schedules took follows the call sites (one thread runs at a time).
  std::function<void(unsigned, event, const site&)> observer;
  // true: the run's threads come from a pool of OS threads kept between runs (see RULES
  // FOR SCENARIOS); false: new OS threads that exit at the end of the run.
  bool reuse_threads = false;
};

// The options with reuse_threads set (every other member at its default).
inline options pooled_threads() {
  options o;
  o.reuse_threads = true;
  return o;
}

struct result {
  outcome kind = outcome::ok;
  std::uint64_t steps = 0;          // yield points
  std::uint64_t decisions = 0;      // yield points with two or more runnable threads
  std::uint64_t switches = 0;       // hand-overs of the baton
  std::vector<std::uint8_t> trace;  // the thread chosen at each decision (for replay)
  std::string report;  // for deadlock/step_limit: where each thread stands, the last events
  std::string strategy;

  [[nodiscard]] bool ok() const noexcept { return kind == outcome::ok; }
};

namespace detail {

struct thread_slot {
  enum class state : std::uint8_t { runnable, parked, finished };
  std::atomic<int> turn{0};  // 1: this thread holds the baton (futex word)
  state st = state::runnable;
  const void* parked_on = nullptr;
  std::uint64_t parked_seq = 0;  // notify wakes in parking order (FIFO)
  event last_event = event::start;
  site last_site{};
};

struct logged_event {
  std::uint64_t step;
  unsigned thread;
  event e;
  site where;
};

struct run_state {
  strategy* strat = nullptr;
  options opt;
  std::vector<std::unique_ptr<thread_slot>> slots;
  std::vector<unsigned> runnable;  // scratch
  std::uint64_t steps = 0;
  std::uint64_t decisions = 0;
  std::uint64_t switches = 0;
  std::uint64_t park_seq = 0;
  std::vector<std::uint8_t> trace;
  std::vector<logged_event> log;  // ring buffer of opt.event_log_size
  std::size_t log_next = 0;       // where the next event goes in it
  outcome kind = outcome::ok;
  std::string report;
  std::exception_ptr error;
  bool cancelled = false;    // thread creation failed: threads return at once
  std::atomic<int> done{0};  // the calling thread waits for 1
};

inline thread_local run_state* tls_run = nullptr;
inline thread_local unsigned tls_index = 0;

// Totals over every run of the process (explore() reports rates from them).
struct totals {
  std::atomic<std::uint64_t> steps{0}, switches{0};
};
inline totals& process_totals() {
  static totals t;
  return t;
}

inline void take_turn(thread_slot& s) noexcept {
  while (s.turn.load(std::memory_order_acquire) == 0) s.turn.wait(0, std::memory_order_acquire);
  s.turn.store(0, std::memory_order_relaxed);
}
// release: everything this thread did happens-before what the next one does (pairs with
// take_turn's acquire), so every run is sequentially consistent.
inline void give_turn(thread_slot& s) noexcept {
  s.turn.store(1, std::memory_order_release);
  s.turn.notify_one();
}

// A thread of an abandoned run stays parked until the process ends; see the rules
// above for why LeakSanitizer is told to scan its stack block as a root region.
inline void keep_scanned([[maybe_unused]] std::thread& t) noexcept {
#if defined(LOCKLESS_DETAIL_ASAN)
  pthread_attr_t attr;
  if (pthread_getattr_np(t.native_handle(), &attr) != 0) return;
  void* addr = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0 && size > 0) {
    __lsan_register_root_region(addr, size);
  }
  pthread_attr_destroy(&attr);
#endif
}

[[noreturn]] inline void park_forever() noexcept {
  static std::atomic<int> never{0};
  for (;;) never.wait(0, std::memory_order_relaxed);
}

inline std::string where(const site& s) {
  if (*s.file == 0) return s.function;
  std::string file = s.file;
  const std::size_t slash = file.find_last_of('/');
  if (slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(s.line) + " (" + s.function + ")";
}

inline std::string describe_state(const run_state& r) {
  std::ostringstream os;
  for (std::size_t t = 0; t < r.slots.size(); ++t) {
    const thread_slot& s = *r.slots[t];
    os << "  T" << t << ": ";
    switch (s.st) {
      case thread_slot::state::finished:
        os << "finished";
        break;
      case thread_slot::state::parked:
        os << "parked (" << to_string(s.last_event) << ") at ";
        break;
      case thread_slot::state::runnable:
        os << "runnable, last " << to_string(s.last_event) << " at ";
        break;
    }
    if (s.st != thread_slot::state::finished) os << where(s.last_site);
    os << '\n';
  }
  if (!r.log.empty()) {
    os << "  last " << r.log.size() << " yield points (step thread event site):\n";
    const std::size_t n = r.log.size();
    const std::size_t first = r.log_next % n;  // the oldest entry once the ring is full
    for (std::size_t i = 0; i < n; ++i) {
      const logged_event& e = r.log[(first + i) % n];
      os << "    " << e.step << "  T" << e.thread << "  " << to_string(e.e) << "  "
         << where(e.where) << '\n';
    }
  }
  return os.str();
}

// Ends a run that cannot finish: tells the caller of run(), then (unless the detecting
// thread is done anyway) parks the detecting thread for good.
inline void abandon(run_state& r, outcome why, bool detector_finished) noexcept {
  r.kind = why;
  try {
    r.report = std::string(to_string(why)) + " after " + std::to_string(r.steps) +
               " yield points under " + r.strat->describe() + ":\n" + describe_state(r);
  } catch (...) {
    r.report = to_string(why);
  }
  r.done.store(1, std::memory_order_release);
  r.done.notify_one();
  if (!detector_finished) park_forever();
}

// The decision at a yield point of thread `me` (which may have just parked or finished).
// Returns when `me` holds the baton again; for a finished thread, right after handing it on.
inline void schedule(run_state& r, unsigned me, bool spinning) noexcept {
  thread_slot& self = *r.slots[me];
  const bool me_finished = self.st == thread_slot::state::finished;
  r.runnable.clear();
  for (unsigned t = 0; t < r.slots.size(); ++t) {
    if (r.slots[t]->st == thread_slot::state::runnable) r.runnable.push_back(t);
  }
  if (r.runnable.empty()) {
    const bool all_finished = std::all_of(r.slots.begin(), r.slots.end(), [](const auto& s) {
      return s->st == thread_slot::state::finished;
    });
    if (all_finished) {
      r.done.store(1, std::memory_order_release);  // pairs with run()'s acquire
      r.done.notify_one();
      return;
    }
    abandon(r, outcome::deadlock, me_finished);
    return;
  }
  unsigned next = r.runnable.front();
  if (r.runnable.size() > 1) {
    const bool me_runnable = self.st == thread_slot::state::runnable;
    next = r.strat->pick(choice{r.runnable, me, me_runnable, spinning, r.steps,
                                static_cast<unsigned>(r.slots.size()), self.last_site.function});
    if (std::find(r.runnable.begin(), r.runnable.end(), next) == r.runnable.end()) {
      std::fprintf(stderr, "dsched: strategy %s picked thread %u, which cannot run\n",
                   r.strat->describe().c_str(), next);
      std::abort();
    }
    ++r.decisions;
    if (r.opt.record_trace) r.trace.push_back(static_cast<std::uint8_t>(next));
  }
  if (next == me) return;
  ++r.switches;
  give_turn(*r.slots[next]);  // from here on `r` belongs to `next`
  if (!me_finished) take_turn(self);
}

inline void log_point(run_state& r, unsigned me, event e, const site& s) {
  thread_slot& self = *r.slots[me];
  self.last_event = e;
  self.last_site = s;
  if (r.opt.observer) r.opt.observer(me, e, s);
  if (r.opt.event_log_size == 0) return;
  const logged_event le{r.steps, me, e, s};
  if (r.log.size() < r.opt.event_log_size) {
    r.log.push_back(le);
  } else {
    r.log[r.log_next % r.opt.event_log_size] = le;
  }
  ++r.log_next;
}

// A scheduled thread's end: its thread exit (a new thread's), or the end of its body (a
// pooled thread's). After it the thread no longer touches the run's state.
inline void finish_thread() noexcept {
  run_state* r = tls_run;
  if (r == nullptr) return;
  const unsigned me = tls_index;
  // The library's own thread-exit work (epoch records handed back, node pools
  // emptied) would otherwise run from a pthread key destructor after this one, no
  // longer scheduled (or, on a pooled thread, not at all): run it here, still under
  // the scheduler.
  if (!r->cancelled) ::lockless::detail::run_thread_exit_hooks();
  tls_run = nullptr;
  if (r->cancelled) return;
  log_point(*r, me, event::finish, site{"thread exit", "", 0});
  r->slots[me]->st = thread_slot::state::finished;
  schedule(*r, me, false);
}

// Destroyed after every other thread_local of a scheduled thread (it is constructed
// first), so thread-exit work (epoch records handed back, node pools emptied) still runs
// under the scheduler; then the thread leaves it.
struct exit_hook {
  ~exit_hook() { finish_thread(); }
};

inline void thread_main(run_state& r, unsigned me, const std::function<void(unsigned)>& body) {
  static thread_local exit_hook hook;  // first thread_local of this thread: destroyed last
  (void)hook;
  tls_run = &r;
  tls_index = me;
  take_turn(*r.slots[me]);
  if (r.cancelled) return;
  try {
    body(me);
  } catch (...) {
    if (!r.error) r.error = std::current_exception();
  }
}

// ---- pooled threads (options::reuse_threads) ----
// A pooled OS thread waits for a job, runs it, and says it is idle again. The pool and
// its workers are never destroyed: a worker of an abandoned run stays parked in it, and
// the others wait for jobs until the process ends.
struct worker {
  std::atomic<int> go{0};    // 1: a job was given (futex word)
  std::atomic<int> idle{1};  // 1: done with its last job, state included (futex word)
  std::function<void()> job;
  std::thread thread;
};

struct worker_pool {
  std::mutex m;
  std::vector<worker*> idle;
};

inline worker_pool& pool() {
  static auto* p = new worker_pool;  // never destroyed (see above)
  return *p;
}

inline void worker_loop(worker& w) noexcept {
  for (;;) {
    while (w.go.load(std::memory_order_acquire) == 0) w.go.wait(0, std::memory_order_acquire);
    w.go.store(0, std::memory_order_relaxed);
    w.job();
    w.job = nullptr;
    w.idle.store(1, std::memory_order_release);  // pairs with wait_idle()
    w.idle.notify_one();
  }
}

// An idle worker, from the pool or new (may throw std::system_error, std::bad_alloc).
inline worker* take_worker() {
  {
    worker_pool& p = pool();
    std::lock_guard lock(p.m);
    if (!p.idle.empty()) {
      worker* w = p.idle.back();
      p.idle.pop_back();
      return w;
    }
  }
  auto w = std::make_unique<worker>();
  w->thread = std::thread([ptr = w.get()] { worker_loop(*ptr); });
  return w.release();
}

inline void return_workers(const std::vector<worker*>& ws) {
  worker_pool& p = pool();
  std::lock_guard lock(p.m);
  p.idle.insert(p.idle.end(), ws.begin(), ws.end());
}

inline void give_job(worker& w, std::function<void()> job) {
  w.job = std::move(job);
  w.idle.store(0, std::memory_order_relaxed);
  w.go.store(1, std::memory_order_release);  // pairs with worker_loop's acquire
  w.go.notify_one();
}

inline void wait_idle(worker& w) noexcept {
  while (w.idle.load(std::memory_order_acquire) == 0) w.idle.wait(0, std::memory_order_acquire);
}

}  // namespace detail

// ---- the scheduler's side of the shim (lockless/detail/atomic.hpp) -------------------
// The library calls these through lockless::detail::schedule_hooks (defined at the end).

// A yield point of the calling thread. No-op on threads that no run schedules.
inline void point(event e, const void* /*addr*/, site where) noexcept {
  detail::run_state* r = detail::tls_run;
  if (r == nullptr) return;
  const unsigned me = detail::tls_index;
  detail::log_point(*r, me, e, where);
  if (++r->steps > r->opt.max_steps) detail::abandon(*r, outcome::step_limit, false);
  detail::schedule(*r, me, e == event::spin);
}

// Parks the calling thread until wake(addr) (the caller re-checks its condition after).
// Returns false, doing nothing, on a thread that no run schedules.
inline bool park(event e, const void* addr, site where) noexcept {
  detail::run_state* r = detail::tls_run;
  if (r == nullptr) return false;
  const unsigned me = detail::tls_index;
  detail::thread_slot& self = *r->slots[me];
  detail::log_point(*r, me, e, where);
  self.st = detail::thread_slot::state::parked;
  self.parked_on = addr;
  self.parked_seq = ++r->park_seq;
  detail::schedule(*r, me, false);
  return true;
}

// Makes up to n threads parked on addr runnable again, in the order they parked.
inline void wake(const void* addr, unsigned n) noexcept {
  detail::run_state* r = detail::tls_run;
  if (r == nullptr) return;
  for (; n > 0; --n) {
    detail::thread_slot* first = nullptr;
    for (auto& s : r->slots) {
      if (s->st == detail::thread_slot::state::parked && s->parked_on == addr &&
          (first == nullptr || s->parked_seq < first->parked_seq)) {
        first = s.get();
      }
    }
    if (first == nullptr) return;
    first->st = detail::thread_slot::state::runnable;
    first->parked_on = nullptr;
  }
}

// True on a thread that a run schedules.
[[nodiscard]] inline bool scheduled() noexcept {
  return detail::tls_run != nullptr;
}

// ---- running ---------------------------------------------------------------------------

// Runs bodies[i](i) on thread i, one thread at a time, as `strat` decides. Blocks until
// every thread has finished or the run is abandoned (result::kind).
inline result run(strategy& strat, std::vector<std::function<void(unsigned)>> bodies,
                  const options& opt = {}) {
  if (detail::tls_run != nullptr) throw std::logic_error("dsched::run from a scheduled thread");
  if (bodies.empty()) return {};
  if (bodies.size() > std::numeric_limits<std::uint8_t>::max()) {
    throw std::invalid_argument("dsched::run: at most 255 threads");
  }
  auto state = std::make_unique<detail::run_state>();
  detail::run_state& r = *state;
  r.strat = &strat;
  r.opt = opt;
  r.slots.reserve(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    r.slots.push_back(std::make_unique<detail::thread_slot>());
  }
  strat.begin(static_cast<unsigned>(bodies.size()));

  std::vector<std::thread> threads;
  std::vector<detail::worker*> workers;  // options::reuse_threads
  if (opt.reuse_threads) {
    workers.reserve(bodies.size());
    try {
      for (std::size_t i = 0; i < bodies.size(); ++i) workers.push_back(detail::take_worker());
    } catch (...) {  // could not create every thread: none has a job yet
      detail::return_workers(workers);
      throw;
    }
    for (unsigned i = 0; i < bodies.size(); ++i) {
      detail::give_job(*workers[i], [&r, i, &bodies] {
        detail::thread_main(r, i, bodies[i]);
        detail::finish_thread();
      });
    }
  } else {
    threads.reserve(bodies.size());
    try {
      for (unsigned i = 0; i < bodies.size(); ++i) {
        threads.emplace_back([&r, i, &bodies] { detail::thread_main(r, i, bodies[i]); });
      }
    } catch (...) {  // could not create every thread: let the created ones return
      r.cancelled = true;
      for (std::size_t i = 0; i < threads.size(); ++i) detail::give_turn(*r.slots[i]);
      for (auto& t : threads) t.join();
      throw;
    }
  }

  // The first step is a decision like any other (no thread is "current" yet).
  for (unsigned t = 0; t < bodies.size(); ++t) r.runnable.push_back(t);
  unsigned first = 0;
  if (bodies.size() > 1) {
    first = strat.pick(choice{r.runnable, static_cast<unsigned>(bodies.size()), false, false, 0,
                              static_cast<unsigned>(bodies.size())});
    ++r.decisions;
    if (opt.record_trace) r.trace.push_back(static_cast<std::uint8_t>(first));
  }
  detail::give_turn(*r.slots[first]);
  while (r.done.load(std::memory_order_acquire) == 0) r.done.wait(0, std::memory_order_acquire);
  if (opt.reuse_threads) {
    // As join(): a finished worker may still be on its way out of the run's state. A
    // parked one (abandoned run) never comes back to the pool.
    std::vector<detail::worker*> back;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      if (r.slots[i]->st == detail::thread_slot::state::finished) {
        detail::wait_idle(*workers[i]);
        back.push_back(workers[i]);
      } else {
        detail::keep_scanned(workers[i]->thread);
      }
    }
    detail::return_workers(back);
  } else if (r.kind == outcome::ok) {
    for (auto& t : threads) t.join();
  } else {
    // Parked threads never run again; a finished one may still be on its way out.
    for (std::size_t i = 0; i < threads.size(); ++i) {
      if (r.slots[i]->st != detail::thread_slot::state::finished) detail::keep_scanned(threads[i]);
      threads[i].detach();
    }
  }

  result out;
  out.kind = r.kind;
  out.steps = r.steps;
  out.decisions = r.decisions;
  out.switches = r.switches;
  out.trace = std::move(r.trace);
  out.report = std::move(r.report);
  out.strategy = strat.describe();
  auto& tot = detail::process_totals();
  tot.steps.fetch_add(out.steps, std::memory_order_relaxed);
  tot.switches.fetch_add(out.switches, std::memory_order_relaxed);

  if (out.kind != outcome::ok) {
    // The parked threads still point into the state: keep it, reachable, for good.
    static std::mutex leaked_mutex;
    static auto* leaked = new std::vector<std::unique_ptr<detail::run_state>>;
    std::lock_guard lock(leaked_mutex);
    leaked->push_back(std::move(state));
    return out;
  }
  if (r.error) std::rethrow_exception(r.error);
  return out;
}

// ---------------------------------------------------------------------------------------
// Exploring many schedules
// ---------------------------------------------------------------------------------------

struct explore_options {
  std::uint64_t schedules = 1000;  // scaled by LOCKLESS_DSCHED_SCALE (an integer, soak runs)
  std::uint64_t first_seed = 1;
  // Schedule i uses seed first_seed + i; even i: PCT of depth 1 + (i / 2) % pct_depth
  // (depth 1 = no preemption but a random thread order); odd i: a random walk.
  unsigned pct_depth = 3;
  unsigned switch_percent = 20;
  std::uint64_t horizon = 0;  // PCT's k; 0: the length of a run_to_block calibration run
  // Non-empty: every schedule is a site_walk over these functions ('|'-separated) with
  // hot_percent / cold_percent, instead of the PCT and random mix.
  std::string hot_functions;
  unsigned hot_percent = 25;
  unsigned cold_percent = 0;
};

struct explore_summary {
  std::uint64_t schedules = 0;  // explored (including the failing one)
  std::uint64_t steps = 0;
  std::uint64_t switches = 0;
  double seconds = 0;
  std::string failure;  // empty: every schedule passed
  std::string replay;   // the failing schedule's strategy (LOCKLESS_DSCHED_REPLAY value)

  [[nodiscard]] bool ok() const noexcept { return failure.empty(); }
  [[nodiscard]] double per_second() const noexcept {
    return seconds > 0 ? static_cast<double>(schedules) / seconds : 0;
  }
  [[nodiscard]] std::string describe() const {
    std::ostringstream os;
    os << schedules << " schedules, " << steps << " yield points, " << switches << " switches in "
       << seconds << " s (" << static_cast<std::uint64_t>(per_second()) << " schedules/s)";
    if (!ok()) {
      os << "\nFAILED under " << replay << ":\n"
         << failure << "\nreplay: LOCKLESS_DSCHED_REPLAY='" << replay << "' <this test>";
    }
    return os.str();
  }
};

// Runs `scenario(strategy&)` once per schedule; it sets up fresh state, calls run() with
// the strategy, checks what happened and returns "" or a description of the failure.
// Stops at the first failure. With LOCKLESS_DSCHED_REPLAY set, runs only that schedule.
template <class Scenario>
explore_summary explore(const explore_options& o, Scenario&& scenario) {
  explore_summary s;
  auto& tot = detail::process_totals();
  const std::uint64_t steps0 = tot.steps.load(std::memory_order_relaxed);
  const std::uint64_t switches0 = tot.switches.load(std::memory_order_relaxed);
  const auto t0 = std::chrono::steady_clock::now();
  auto attempt = [&](strategy& strat) {
    ++s.schedules;
    std::string why = scenario(strat);
    if (!why.empty()) {
      s.failure = std::move(why);
      s.replay = strat.describe();
    }
  };
  if (const char* rep = std::getenv("LOCKLESS_DSCHED_REPLAY"); rep != nullptr && *rep != 0) {
    std::unique_ptr<strategy> strat = make_strategy(rep);
    attempt(*strat);
  } else {
    std::uint64_t scale = 1;
    if (const char* sc = std::getenv("LOCKLESS_DSCHED_SCALE"); sc != nullptr && *sc != 0) {
      scale = std::max<std::uint64_t>(1, std::strtoull(sc, nullptr, 10));
    }
    std::uint64_t horizon = o.horizon;
    if (horizon == 0) {
      run_to_block calib;
      const std::uint64_t before = tot.steps.load(std::memory_order_relaxed);
      attempt(calib);
      horizon = std::max<std::uint64_t>(1, tot.steps.load(std::memory_order_relaxed) - before);
    }
    for (std::uint64_t i = 0; i < o.schedules * scale && s.ok(); ++i) {
      const std::uint64_t seed = o.first_seed + i;
      if (!o.hot_functions.empty()) {
        site_walk strat(seed, o.hot_functions, o.hot_percent, o.cold_percent);
        attempt(strat);
      } else if (i % 2 == 0) {
        pct strat(seed, 1 + static_cast<unsigned>((i / 2) % std::max(o.pct_depth, 1U)), horizon);
        attempt(strat);
      } else {
        random_walk strat(seed, o.switch_percent);
        attempt(strat);
      }
    }
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.steps = tot.steps.load(std::memory_order_relaxed) - steps0;
  s.switches = tot.switches.load(std::memory_order_relaxed) - switches0;
  return s;
}

// ---------------------------------------------------------------------------------------
// Progress: one thread held at a yield point while the others must finish
// ---------------------------------------------------------------------------------------
//
// "Lock-free" in the strict sense: a thread suspended at any instruction cannot stop the
// others from completing their operations. hold_at holds one thread (the victim) at its
// k-th yield point and never schedules it again while the threads that must finish have
// not; explore_progress() does that at every yield point of every thread (or a sample of
// them) under several base strategies. Used by tests/dsched/*_progress.cpp and
// tests/dsched/histogram.cpp.
//
//   hold_at   before the hold it follows a base strategy (or, base == null, "victim
//             first": the victim runs alone until it is held, so that the others start
//             from scratch); at the victim's k-th yield point it stops picking the
//             victim, and the base strategy schedules the others among themselves. The
//             hold ends when every thread of `must` (default: all others) has finished:
//             then the base strategy decides again. If instead the others spend more
//             than `budget` yield points, or nobody but the victim can run, or the
//             scheduler had to run the victim (the others parked), the victim is released
//             and the run is marked "starved": the others could not finish without it.
//   A run whose victim never reached its k-th yield point (the others finished first)
//   holds nothing and is only counted. Nor is the victim held at a point inside a
//   detail::mutex critical section (between its lock and its unlock: the epoch domain's
//   thread registration and thread exit take one, documented as blocking): a thread
//   held there blocks the others by design; such points are counted apart (in_lock),
//   so a test sees how many there were.

class hold_at : public strategy {
 public:
  // must: the threads that must finish while the victim is held (empty: all others).
  hold_at(unsigned victim, std::uint64_t k, std::unique_ptr<strategy> base, std::uint64_t budget,
          std::vector<unsigned> must = {})
      : victim_(victim), k_(k), budget_(budget), base_(std::move(base)), must_(std::move(must)) {}

  void begin(unsigned threads) override {
    if (base_) base_->begin(threads);
    if (must_.empty()) {
      for (unsigned t = 0; t < threads; ++t) {
        if (t != victim_) must_.push_back(t);
      }
    }
    seen_ = 0;
    locks_ = 0;
    held_ = released_ = starved_ = in_lock_ = false;
    held_since_ = others_ = 0;
  }

  [[nodiscard]] unsigned pick(const choice& c) override {
    if (!held_ && c.current == victim_ && c.current_runnable) {
      // The victim stands before the operation of this yield point.
      const detail::run_state* r = detail::tls_run;
      const event e = r != nullptr ? r->slots[victim_]->last_event : event::start;
      if (seen_ == k_) {
        if (locks_ == 0) {
          held_ = true;
          held_since_ = c.step;
        } else {
          in_lock_ = true;  // not held: see the class comment
        }
      }
      if (!held_) ++seen_;
      if (e == event::mutex_lock) ++locks_;
      if (e == event::mutex_unlock && locks_ > 0) --locks_;
    }
    std::vector<unsigned> rest;
    for (unsigned t : c.runnable) {
      if (t != victim_) rest.push_back(t);
    }
    if (held_ && !released_) {
      others_ = c.step - held_since_;
      // The victim at a later yield point: the scheduler ran it without asking, since
      // nothing else could run (the others parked or finished).
      const bool forced = c.current == victim_ && c.step > held_since_;
      if (must_done()) {
        released_ = true;
      } else if (others_ > budget_ || rest.empty() || forced) {
        released_ = starved_ = true;
      }
    }
    const bool victim_runnable = rest.size() != c.runnable.size();
    if (!held_ || released_) {
      if (base_) return base_->pick(c);
      if (!held_ && victim_runnable) return victim_;
      return run_to_block{}.pick(c);
    }
    if (rest.size() == 1) return rest.front();
    const choice sub{rest,       c.current, c.current != victim_ && c.current_runnable,
                     c.spinning, c.step,    c.threads};
    return base_ ? base_->pick(sub) : run_to_block{}.pick(sub);
  }

  [[nodiscard]] std::string describe() const override {
    return "hold_at(victim=" + std::to_string(victim_) + ",k=" + std::to_string(k_) +
           ",base=" + (base_ ? base_->describe() : std::string("victim first")) + ")";
  }

  [[nodiscard]] unsigned victim() const noexcept { return victim_; }
  [[nodiscard]] std::uint64_t k() const noexcept { return k_; }
  [[nodiscard]] bool held() const noexcept { return held_; }
  // The k-th yield point fell inside a detail::mutex critical section: not held.
  [[nodiscard]] bool in_lock() const noexcept { return in_lock_; }
  [[nodiscard]] bool starved() const noexcept { return starved_; }
  [[nodiscard]] std::uint64_t victim_points() const noexcept { return seen_; }
  [[nodiscard]] std::uint64_t others_steps() const noexcept { return others_; }

 private:
  // pick() runs on a scheduled thread: the run's state says who has finished.
  [[nodiscard]] bool must_done() const noexcept {
    const detail::run_state* r = detail::tls_run;
    if (r == nullptr) return false;
    return std::all_of(must_.begin(), must_.end(), [&](unsigned t) {
      return t < r->slots.size() && r->slots[t]->st == detail::thread_slot::state::finished;
    });
  }

  unsigned victim_;
  std::uint64_t k_;
  std::uint64_t budget_;
  std::unique_ptr<strategy> base_;
  std::vector<unsigned> must_;
  std::uint64_t seen_ = 0;
  unsigned locks_ = 0;  // detail::mutex critical sections the victim is inside
  bool held_ = false, released_ = false, starved_ = false, in_lock_ = false;
  std::uint64_t held_since_ = 0, others_ = 0;
};

struct progress_options {
  std::uint64_t budget = 5000;  // yield points the others may spend while the victim is held
  unsigned seeds = 4;           // random walks and PCT schedules per (victim, k), each
  std::uint64_t sample = 0;     // hold at most this many points per victim, spread (0: all)
  // The threads that must finish while `victim` is held (null or empty: all others).
  std::function<std::vector<unsigned>(unsigned victim)> must;
};

struct progress_summary {
  std::uint64_t points = 0;   // yield points of every victim (victim-first calibration)
  std::uint64_t tried = 0;    // (victim, k) pairs tried
  std::uint64_t covered = 0;  // pairs at which some run really held the victim
  std::uint64_t in_lock = 0;  // pairs inside a mutex critical section (never held)
  std::uint64_t runs = 0, held_runs = 0, starved_runs = 0;
  std::uint64_t max_others_steps = 0;  // over held, not starved runs
  std::string first_failure, first_starved;

  [[nodiscard]] std::string describe() const {
    return std::to_string(points) + " yield points (" + std::to_string(tried) + " tried, " +
           std::to_string(covered) + " held at, " + std::to_string(in_lock) + " inside a mutex), " +
           std::to_string(runs) + " runs, " + std::to_string(held_runs) +
           " with the victim held, " + std::to_string(starved_runs) +
           " starved; the others needed at most " + std::to_string(max_others_steps) +
           " yield points while the victim was held";
  }
};

// For each of `threads` victims: a victim-first calibration run counts its yield points;
// then at each point k (or a sample) one victim-first run and o.seeds random walks and
// PCT schedules hold it. run(strategy&) runs the scenario once and returns "" or its
// failure. Scaled by LOCKLESS_DSCHED_SCALE (seeds and sample).
template <class Run>
progress_summary explore_progress(unsigned threads, const progress_options& o, Run&& run) {
  std::uint64_t scale = 1;
  if (const char* sc = std::getenv("LOCKLESS_DSCHED_SCALE"); sc != nullptr && *sc != 0) {
    scale = std::max<std::uint64_t>(1, std::strtoull(sc, nullptr, 10));
  }
  const std::uint64_t seeds = o.seeds * scale;
  const std::uint64_t sample = o.sample * scale;
  progress_summary s;
  for (unsigned v = 0; v < threads; ++v) {
    std::vector<unsigned> must;
    if (o.must) must = o.must(v);
    auto one = [&](hold_at& strat) {
      ++s.runs;
      const std::string why = run(static_cast<strategy&>(strat));
      if (!why.empty() && s.first_failure.empty()) s.first_failure = strat.describe() + ": " + why;
    };
    hold_at calib(v, std::numeric_limits<std::uint64_t>::max(), nullptr, o.budget, must);
    one(calib);
    const std::uint64_t points = calib.victim_points();
    s.points += points;
    const std::uint64_t stride = sample == 0 ? 1 : std::max<std::uint64_t>(1, points / sample);
    for (std::uint64_t k = 0; k < points; k += stride) {
      ++s.tried;
      std::vector<std::unique_ptr<hold_at>> strategies;
      strategies.push_back(std::make_unique<hold_at>(v, k, nullptr, o.budget, must));
      for (std::uint64_t i = 0; i < seeds; ++i) {
        const std::uint64_t seed = 7 + i + 1000 * k + 1000000 * std::uint64_t{v};
        strategies.push_back(std::make_unique<hold_at>(
            v, k, std::make_unique<random_walk>(seed, 30), o.budget, must));
        strategies.push_back(std::make_unique<hold_at>(
            v, k, std::make_unique<pct>(seed, 1 + static_cast<unsigned>(i % 3), 4 * points + 50),
            o.budget, must));
      }
      bool covered = false, locked = false;
      for (auto& strat : strategies) {
        one(*strat);
        locked = locked || strat->in_lock();
        if (!strat->held()) continue;
        covered = true;
        ++s.held_runs;
        if (strat->starved()) {
          ++s.starved_runs;
          if (s.first_starved.empty()) s.first_starved = strat->describe();
        } else {
          s.max_others_steps = std::max(s.max_others_steps, strat->others_steps());
        }
      }
      s.covered += covered ? 1 : 0;
      s.in_lock += !covered && locked ? 1 : 0;
    }
  }
  return s;
}

// A schedule written by hand, over call sites: each step runs one thread until its next
// yield point is in the named function (it stops before that access; with `then`, that
// many yield points later), or until it finishes (nullptr), then goes to the next step.
// attach(options) installs the observer that tells it where each thread stands. When the
// step's thread cannot run, or the plan is over, run_to_block decides. For a regression
// that random and PCT schedules do not reach: the interleaving is named step by step
// (tests/dsched/bounded_queue_regression.cpp), and trace() shows the functions each thread
// went through, so a test can check that the plan went where it meant to.
class site_plan : public strategy {
 public:
  struct step {
    unsigned thread;
    const char* stop_before;
    unsigned then = 0;  // yield points more after reaching stop_before, then stop
  };
  explicit site_plan(std::vector<step> plan) : plan_(std::move(plan)) {}
  // Sets o.observer to follow the scheduled threads for this plan (which must outlive
  // the runs).
  void attach(options& o) {
    o.observer = [this](unsigned t, event e, const site& where) { observe(t, e, where); };
  }
  void begin(unsigned threads) override {
    at_.assign(threads, "");
    finished_.assign(threads, false);
    i_ = 0;
    moved_ = false;
  }
  void observe(unsigned t, event e, const site& where) {
    if (t >= at_.size()) return;
    if (e == event::finish) finished_[t] = true;
    if (at_[t] != where.function) trace_ += std::to_string(t) + ":" + where.function + " ";
    at_[t] = where.function;
    if (i_ < plan_.size() && plan_[i_].thread == t) {
      moved_ = true;
      const char* stop = plan_[i_].stop_before;
      if (reached_) {
        ++past_;
      } else if (stop != nullptr && detail::names_function(at_[t], stop)) {
        reached_ = true;
      }
    }
  }
  [[nodiscard]] unsigned pick(const choice& c) override {
    while (i_ < plan_.size()) {
      const step& st = plan_[i_];
      const bool done = finished_[st.thread] || (moved_ && reached_ && past_ >= st.then);
      if (!done) break;
      ++i_;
      moved_ = false;
      reached_ = false;
      past_ = 0;
      // The next step's thread may stand at its stop already.
      if (i_ < plan_.size() && plan_[i_].stop_before != nullptr &&
          detail::names_function(at_[plan_[i_].thread], plan_[i_].stop_before) &&
          plan_[i_].then == 0) {
        moved_ = true;
        reached_ = true;
      }
    }
    if (i_ < plan_.size()) {
      const unsigned want = plan_[i_].thread;
      for (unsigned t : c.runnable) {
        if (t == want) return want;
      }
    }
    return run_to_block{}.pick(c);
  }
  [[nodiscard]] std::string describe() const override { return "site_plan"; }
  // The functions each thread passed through, in order (for a failure message).
  [[nodiscard]] const std::string& trace() const noexcept { return trace_; }

 private:
  std::vector<step> plan_;
  std::vector<std::string> at_;
  std::vector<bool> finished_;
  std::size_t i_ = 0;
  bool moved_ = false;
  bool reached_ = false;
  unsigned past_ = 0;
  std::string trace_;
};

// Which of a site_walk's functions the runs reached: attach(options) sets the options'
// observer to record them, unreached() lists those no yield point of those runs was in.
// A walk's list names functions by hand, so a renamed function, or one whose accesses are
// all in the functions it calls (where names the innermost), would leave the walk cold
// there without a word: a test that probes a few runs first and expects unreached() to be
// empty says so instead.
class function_probe {
 public:
  explicit function_probe(const std::string& functions)
      : names_(detail::split_functions(functions)),
        reached_(names_.size(), false),
        left_(names_.size()) {}
  // Sets o.observer (the probe must outlive the runs).
  void attach(options& o) {
    o.observer = [this](unsigned, event, const site& where) { see(where.function); };
  }
  // A yield point in `function` (for an observer that does more than the probe's).
  void see(std::string_view function) {
    if (left_ == 0) return;  // every name reached: nothing more to learn (and no cost)
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!reached_[i] && detail::names_function(function, names_[i])) {
        reached_[i] = true;
        --left_;
      }
    }
  }
  // Runs `scenario` (strategy& -> "" or what went wrong; it runs with options this probe is
  // attached to) under `walks` site_walks over `functions` (seeds 1 .. walks), the probe's
  // runs: "", or the first failure and its walk.
  template <class Scenario>
  std::string walk(const std::string& functions, unsigned hot_percent, unsigned cold_percent,
                   Scenario&& scenario, std::uint64_t walks = 40) {
    for (std::uint64_t seed = 1; seed <= walks; ++seed) {
      site_walk w(seed, functions, hot_percent, cold_percent);
      const std::string why = scenario(static_cast<strategy&>(w));
      if (!why.empty()) return why + "\nunder " + w.describe();
    }
    return "";
  }
  // The names no run reached, '|'-separated ("" when every one was).
  [[nodiscard]] std::string unreached() const {
    std::string out;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!reached_[i]) out += (out.empty() ? "" : "|") + names_[i];
    }
    return out;
  }

 private:
  std::vector<std::string> names_;
  std::vector<bool> reached_;
  std::size_t left_;  // names not reached yet
};

}  // namespace lockless::dsched

// ---- the library's schedule hooks (declared in lockless/detail/schedule_hooks.hpp) --------

inline void lockless::detail::schedule_hooks::point(event e, const void* addr,
                                                    site where) noexcept {
  ::lockless::dsched::point(e, addr, where);
}
inline bool lockless::detail::schedule_hooks::park(event e, const void* addr, site where) noexcept {
  return ::lockless::dsched::park(e, addr, where);
}
inline void lockless::detail::schedule_hooks::wake(const void* addr, unsigned n) noexcept {
  ::lockless::dsched::wake(addr, n);
}
