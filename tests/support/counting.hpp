// tests/support/counting.hpp: payload types and deleters that count what happens to them.
//
//   counted<Tag>            copyable value type with a 64-bit value; counts constructions
//                           and destructions per Tag; a canary field catches double
//                           destruction and use of a destroyed object (both count as an
//                           error instead of silently passing).
//   move_only<Tag>          the same, move-only.
//   throwing<Tag>           its value and copy constructors throw on demand (thread-local
//                           countdown, see throw_on_nth_construction); moves never throw.
//   deletion_tracker        pointer-based bookkeeping for retire(p, deleter): every object
//                           is registered when made, must be freed exactly once, and can
//                           be marked "must not be freed yet". Mutex-protected: for unit
//                           tests and moderate stress.
//   id_free_tracker         lock-free, id-based variant for heavy stress: slot i counts
//                           how often object i was freed (must end at exactly 1).
//   checked_object          canary + checksum that readers verify; poison() before free.
//   poisoning_deleter<Tr>   retire deleter for checked_object: reports the free to a
//                           deletion_tracker (by address) or id_free_tracker (by id),
//                           poisons the object, deletes it.
//   quarantine<T>           a "free" that keeps the memory: objects it made are poisoned
//                           when freed and stay readable until the quarantine dies, so a
//                           too-early free is seen, deterministically, in every build.
//
// Counters live in atomics and are never asserted inside the type: the test reads them
// and asserts on the main thread (errors() == 0, live() == 0, ...).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace lockless_test {

// Per-Tag instance statistics.
struct instance_counters {
  std::atomic<long> constructions{0};
  std::atomic<long> destructions{0};
  // Double destructions, and copies/moves/reads of an already destroyed object.
  std::atomic<long> errors{0};

  [[nodiscard]] long live() const noexcept {
    return constructions.load(std::memory_order_relaxed) -
           destructions.load(std::memory_order_relaxed);
  }
  void reset() noexcept {
    constructions.store(0, std::memory_order_relaxed);
    destructions.store(0, std::memory_order_relaxed);
    errors.store(0, std::memory_order_relaxed);
  }
};

namespace detail {

inline constexpr std::uint64_t canary_alive = 0xA11CE5A11CE5A11CULL;
inline constexpr std::uint64_t canary_dead = 0xDEADDEADDEADDEADULL;

// The canary is volatile so that the compiler cannot drop the store in the destructor
// as a dead store to an object whose lifetime ends (GCC's lifetime DSE would).
template <class Tag>
class canaried {
 public:
  static instance_counters& counters() noexcept {
    static instance_counters c;
    return c;
  }

 protected:
  canaried() noexcept { counters().constructions.fetch_add(1, std::memory_order_relaxed); }
  ~canaried() {
    if (canary_ != canary_alive) counters().errors.fetch_add(1, std::memory_order_relaxed);
    canary_ = canary_dead;
    counters().destructions.fetch_add(1, std::memory_order_relaxed);
  }
  canaried(const canaried&) = delete;
  canaried& operator=(const canaried&) = delete;

  // Called on every read of the object and on the source of every copy or move.
  void check() const noexcept {
    if (canary_ != canary_alive) counters().errors.fetch_add(1, std::memory_order_relaxed);
  }

 public:
  [[nodiscard]] bool alive() const noexcept { return canary_ == canary_alive; }

 private:
  volatile std::uint64_t canary_ = canary_alive;
};

}  // namespace detail

// A copyable counted value. A moved-from object keeps its value (and stays alive: it
// is still destroyed, and counted, like any other object).
template <class Tag = void>
class counted : public detail::canaried<Tag> {
  using base = detail::canaried<Tag>;

 public:
  explicit counted(std::uint64_t v = 0) noexcept : value_(v) {}
  counted(const counted& o) noexcept : base(), value_(o.value()) {}
  counted(counted&& o) noexcept : base(), value_(o.value()) {}
  counted& operator=(const counted& o) noexcept {
    this->check();
    value_ = o.value();
    return *this;
  }
  counted& operator=(counted&& o) noexcept {
    this->check();
    value_ = o.value();
    return *this;
  }
  ~counted() = default;

  [[nodiscard]] std::uint64_t value() const noexcept {
    this->check();
    return value_;
  }
  friend bool operator==(const counted& a, const counted& b) noexcept {
    return a.value() == b.value();
  }

 private:
  std::uint64_t value_;
};

// A move-only counted value.
template <class Tag = void>
class move_only : public detail::canaried<Tag> {
  using base = detail::canaried<Tag>;

 public:
  explicit move_only(std::uint64_t v = 0) noexcept : value_(v) {}
  move_only(const move_only&) = delete;
  move_only& operator=(const move_only&) = delete;
  move_only(move_only&& o) noexcept : base(), value_(o.value()) { o.value_ = moved_from; }
  move_only& operator=(move_only&& o) noexcept {
    this->check();
    value_ = o.value();
    o.value_ = moved_from;
    return *this;
  }
  ~move_only() = default;

  static constexpr std::uint64_t moved_from = ~std::uint64_t{0};

  [[nodiscard]] std::uint64_t value() const noexcept {
    this->check();
    return value_;
  }

 private:
  std::uint64_t value_;
};

// ---- throwing constructors ------------------------------------------------------------

struct injected_error : std::runtime_error {
  injected_error() : std::runtime_error("lockless_test: injected constructor failure") {}
};

// 0: disarmed. n > 0: the n-th throwing<>-construction (value or copy) on this thread from
// now on throws injected_error (and disarms).
inline constinit thread_local long throw_countdown = 0;

// RAII: arms the countdown for the current thread, disarms on scope exit.
class throw_on_nth_construction {
 public:
  explicit throw_on_nth_construction(long n) noexcept { throw_countdown = n; }
  ~throw_on_nth_construction() { throw_countdown = 0; }
  throw_on_nth_construction(const throw_on_nth_construction&) = delete;
  throw_on_nth_construction& operator=(const throw_on_nth_construction&) = delete;
};

namespace detail {
inline void maybe_throw() {
  if (throw_countdown > 0 && --throw_countdown == 0) throw injected_error();
}
}  // namespace detail

// Value and copy construction may throw (countdown); moves are noexcept, as containers
// whose pop moves the value out require. Instances are counted under Tag; a construction
// that throws is not counted (nothing was constructed).
template <class Tag = void>
class throwing {
 public:
  explicit throwing(std::uint64_t v) : c_((detail::maybe_throw(), v)) {}
  throwing(std::uint64_t a, std::uint64_t b) : c_((detail::maybe_throw(), a * 1000 + b)) {}
  throwing(const throwing& o) : c_((detail::maybe_throw(), o.value())) {}
  throwing(throwing&& o) noexcept : c_(std::move(o.c_)) {}
  throwing& operator=(const throwing& o) {
    detail::maybe_throw();
    c_ = o.c_;
    return *this;
  }
  throwing& operator=(throwing&& o) noexcept {
    c_ = std::move(o.c_);
    return *this;
  }
  ~throwing() = default;

  [[nodiscard]] std::uint64_t value() const noexcept { return c_.value(); }
  static instance_counters& counters() noexcept { return counted<Tag>::counters(); }

 private:
  counted<Tag> c_;
};

// ---- objects read by concurrent readers ------------------------------------------------

// An object whose integrity a reader can verify: a canary plus a checksum of its fields,
// both written at construction. poison() (called by a deleter just before freeing)
// overwrites them, so a reader that reaches a freed or being-freed object sees a mismatch
// even without ASan (and ASan reports the use after free itself).
struct checked_object {
  explicit checked_object(std::uint64_t id_, std::uint64_t salt = 0) noexcept
      : id(id_), a(id_ * 0x9E3779B97F4A7C15ULL + salt), b(~a ^ salt), sum(mix(id, a, b)) {}

  [[nodiscard]] bool valid() const noexcept {
    return canary == detail::canary_alive && sum == mix(id, a, b);
  }
  void poison() noexcept {
    canary = detail::canary_dead;
    sum = ~sum;
  }

  volatile std::uint64_t canary = detail::canary_alive;
  std::uint64_t id;
  std::uint64_t a;
  std::uint64_t b;
  volatile std::uint64_t sum;

 private:
  static constexpr std::uint64_t mix(std::uint64_t x, std::uint64_t y, std::uint64_t z) noexcept {
    return (x * 31 + y) * 0x100000001B3ULL ^ z;
  }
};

// ---- retire deleters ------------------------------------------------------------------

// Bookkeeping for objects handed to retire(p, deleter). make<T>() registers an object as
// outstanding; the deleter must find it outstanding (else: double free or a pointer never
// registered), and it must not be one the test has forbidden to be freed yet.
class deletion_tracker {
 public:
  deletion_tracker() = default;
  deletion_tracker(const deletion_tracker&) = delete;
  deletion_tracker& operator=(const deletion_tracker&) = delete;

  template <class T, class... Args>
  T* make(Args&&... args) {
    T* p = new T(std::forward<Args>(args)...);
    expect(p);
    return p;
  }

  void expect(const void* p) {
    std::lock_guard lock(mutex_);
    if (!outstanding_.insert(p).second) ++errors_;  // registered twice while outstanding
    ++registered_;
  }

  // The object at p must not be freed until allow(p).
  void forbid(const void* p) {
    std::lock_guard lock(mutex_);
    forbidden_.insert(p);
  }
  void allow(const void* p) {
    std::lock_guard lock(mutex_);
    forbidden_.erase(p);
  }

  // Called by the deleters, before the object is destroyed.
  void on_free(const void* p) noexcept {
    std::lock_guard lock(mutex_);
    if (outstanding_.erase(p) == 0) ++errors_;  // double free, or never registered
    if (forbidden_.count(p) != 0) ++early_;
    ++freed_;
  }

  [[nodiscard]] std::size_t registered() const {
    std::lock_guard lock(mutex_);
    return registered_;
  }
  [[nodiscard]] std::size_t freed() const {
    std::lock_guard lock(mutex_);
    return freed_;
  }
  [[nodiscard]] std::size_t outstanding() const {
    std::lock_guard lock(mutex_);
    return outstanding_.size();
  }
  [[nodiscard]] bool is_outstanding(const void* p) const {
    std::lock_guard lock(mutex_);
    return outstanding_.count(p) != 0;
  }
  // Frees of unknown or already freed pointers.
  [[nodiscard]] std::size_t errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  // Frees of pointers that were forbidden at the time.
  [[nodiscard]] std::size_t early_frees() const {
    std::lock_guard lock(mutex_);
    return early_;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<const void*> outstanding_;
  std::unordered_set<const void*> forbidden_;
  std::size_t registered_ = 0;
  std::size_t freed_ = 0;
  std::size_t errors_ = 0;
  std::size_t early_ = 0;
};

// The deleter to pass to retire(p, deleter): reports to the tracker, then deletes.
// One pointer wide: the retire machinery stores it inline.
template <class T>
struct tracking_deleter {
  deletion_tracker* tracker;
  void operator()(T* p) const noexcept {
    tracker->on_free(p);
    delete p;
  }
};

// Lock-free, id-based: object i (0 <= i < size) reports its free with on_free(i). No
// mutex, so it adds no happens-before edges between threads (TSan sees the code under
// test alone).
class id_free_tracker {
 public:
  explicit id_free_tracker(std::size_t size)
      : size_(size), counts_(new std::atomic<unsigned>[size]) {
    for (std::size_t i = 0; i < size; ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  void on_free(std::size_t id) noexcept {
    if (id >= size_) {
      out_of_range_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    counts_[id].fetch_add(1, std::memory_order_relaxed);
  }

  [[nodiscard]] bool freed(std::size_t id) const noexcept {
    return counts_[id].load(std::memory_order_relaxed) != 0;
  }
  [[nodiscard]] unsigned free_count(std::size_t id) const noexcept {
    return counts_[id].load(std::memory_order_relaxed);
  }
  // Ids in [0, n) not freed exactly once.
  [[nodiscard]] std::vector<std::size_t> not_freed_exactly_once(std::size_t n) const {
    std::vector<std::size_t> bad;
    for (std::size_t i = 0; i < n && i < size_; ++i) {
      if (counts_[i].load(std::memory_order_relaxed) != 1) bad.push_back(i);
    }
    return bad;
  }
  [[nodiscard]] std::size_t total_frees() const noexcept {
    std::size_t t = 0;
    for (std::size_t i = 0; i < size_; ++i) t += counts_[i].load(std::memory_order_relaxed);
    return t;
  }
  [[nodiscard]] long out_of_range() const noexcept {
    return out_of_range_.load(std::memory_order_relaxed);
  }

 private:
  std::size_t size_;
  std::unique_ptr<std::atomic<unsigned>[]> counts_;
  std::atomic<long> out_of_range_{0};
};

// The deleter for checked_object that a use-after-free detector wants: reports the free
// (deletion_tracker: by address; id_free_tracker: by id), poisons the object so that a
// reader still holding it sees the poison, then deletes it. One pointer: stored inline.
template <class Tracker>
struct poisoning_deleter {
  Tracker* tracker;
  void operator()(checked_object* p) const noexcept {
    if constexpr (std::is_same_v<Tracker, id_free_tracker>) {
      tracker->on_free(static_cast<std::size_t>(p->id));
    } else {
      tracker->on_free(p);
    }
    p->poison();
    delete p;
  }
};

// ---- quarantine ---------------------------------------------------------------------

// A "free" that keeps the memory, for deliberately broken structures and reclaimers and
// for scheduled runs: make() creates an object the quarantine owns; free(p) poisons it
// (T::poison(), e.g. checked_object's) and keeps its memory until the quarantine is
// destroyed. A reader that reaches a freed object is then defined behaviour and sees the
// poison deterministically, in the plain, ASan and TSan builds alike. adopt(p) takes an
// object made elsewhere with new. Thread-safe (a mutex; free() is noexcept).
template <class T>
class quarantine {
 public:
  quarantine() = default;
  quarantine(const quarantine&) = delete;
  quarantine& operator=(const quarantine&) = delete;

  template <class... Args>
  T* make(Args&&... args) {
    auto p = std::make_unique<T>(std::forward<Args>(args)...);
    std::lock_guard lock(mutex_);
    owned_.push_back(std::move(p));
    return owned_.back().get();
  }
  void adopt(T* p) {
    std::lock_guard lock(mutex_);
    owned_.emplace_back(p);
  }
  // p must be one of ours (make() or adopt()).
  void free(T* p) noexcept { p->poison(); }

  // Objects made or adopted so far.
  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return owned_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<T>> owned_;
};

}  // namespace lockless_test
