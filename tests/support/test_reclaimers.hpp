// tests/support/test_reclaimers.hpp: reclaimers for tests only, so that containers'
// unit tests exercise the lockless::detail::reclaimer seam (lockless/detail/reclaimer.hpp)
// with a policy other than epochs.
//
//   quarantine_reclaimer   frees nothing while it lives: every retired object is kept,
//                          so no address is reused during a test, and freed when the
//                          reclaimer is destroyed (a container's reclaimer is a member:
//                          after the container's destructor has run). Counts pins,
//                          protects and retires, and counts an object retired twice as
//                          an error. Its re-validating protect(src, loaded, order)
//                          re-reads src, as a hazard-pointer scheme would, and returns
//                          the current value, so a container that ignored the returned
//                          pointer would be caught (it would CAS a stale guess forever
//                          or dereference the wrong node). Thread-safe; retire takes a
//                          mutex: for unit tests and moderate stress.
//
// Counters are read by the test on its main thread: s.reclaimer().retires() etc.
#pragma once

#include <lockless/detail/reclaimer.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <utility>
#include <vector>

namespace lockless_test {

class quarantine_reclaimer {
  // One retired object with its deleter.
  struct held {
    virtual ~held() = default;
    virtual void free() noexcept = 0;
  };
  template <class T, class Deleter>
  struct held_as final : held {
    held_as(T* p_, Deleter d_) : p(p_), d(std::move(d_)) {}
    void free() noexcept override { d(p); }
    T* p;
    Deleter d;
  };

  struct state {
    std::atomic<std::size_t> pins{0};
    std::atomic<std::size_t> guards_alive{0};
    std::atomic<std::size_t> protects{0};
    std::atomic<std::size_t> revalidations{0};        // protect(src, loaded, order) calls
    std::atomic<std::size_t> revalidated_changed{0};  // ... that returned another pointer
    mutable std::mutex m;
    std::vector<std::unique_ptr<held>> retired;  // in retire order, until ~state
    std::unordered_set<const void*> addresses;   // of everything in `retired`
    std::size_t double_retires = 0;

    ~state() {
      // A deleter may retire more objects into this quarantine: go round until empty.
      for (;;) {
        std::vector<std::unique_ptr<held>> batch;
        {
          std::lock_guard lock(m);
          batch.swap(retired);
          addresses.clear();
        }
        if (batch.empty()) break;
        for (auto& h : batch) h->free();
      }
    }

    template <class T, class Deleter>
    void retire(T* p, Deleter&& d) noexcept {  // bad_alloc here: std::terminate, by design
      auto h = std::make_unique<held_as<T, std::decay_t<Deleter>>>(p, std::forward<Deleter>(d));
      std::lock_guard lock(m);
      if (!addresses.insert(static_cast<const void*>(p)).second) {
        ++double_retires;  // not kept twice: freeing it twice would hide the count
        return;
      }
      retired.push_back(std::move(h));
    }
  };

 public:
  class guard_type {
   public:
    explicit guard_type(state& s) noexcept : s_(&s) {
      s_->guards_alive.fetch_add(1, std::memory_order_relaxed);
    }
    ~guard_type() { s_->guards_alive.fetch_sub(1, std::memory_order_relaxed); }
    guard_type(const guard_type&) = delete;
    guard_type& operator=(const guard_type&) = delete;

    // Nothing is ever freed while the quarantine lives: the load alone, with the
    // caller's order (which pairs with whatever published the object).
    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src,
                             std::memory_order order) noexcept {
      s_->protects.fetch_add(1, std::memory_order_relaxed);
      return src.load(order);
    }
    // Re-validation as a pointer-based scheme does it: re-read src with `order` and hand
    // back what it holds now (which the caller must use instead of `loaded`).
    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src, T* loaded,
                             std::memory_order order) noexcept {
      s_->revalidations.fetch_add(1, std::memory_order_relaxed);
      T* now = src.load(order);
      if (now != loaded) s_->revalidated_changed.fetch_add(1, std::memory_order_relaxed);
      return now;
    }

    template <class T>
    void retire(T* p) noexcept {
      s_->retire(p, std::default_delete<T>());
    }
    template <class T, class Deleter>
    void retire(T* p, Deleter&& deleter) noexcept {
      s_->retire(p, std::forward<Deleter>(deleter));
    }

   private:
    state* s_;
  };

  quarantine_reclaimer() : s_(std::make_unique<state>()) {}

  [[nodiscard]] guard_type pin() const noexcept {
    s_->pins.fetch_add(1, std::memory_order_relaxed);
    return guard_type(*s_);
  }

  [[nodiscard]] std::size_t pins() const noexcept {
    return s_->pins.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t guards_alive() const noexcept {
    return s_->guards_alive.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t protects() const noexcept {
    return s_->protects.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t revalidations() const noexcept {
    return s_->revalidations.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::size_t revalidated_changed() const noexcept {
    return s_->revalidated_changed.load(std::memory_order_relaxed);
  }
  // Objects held (each retired once); double_retires(): retires of an object already held.
  [[nodiscard]] std::size_t retires() const {
    std::lock_guard lock(s_->m);
    return s_->retired.size();
  }
  [[nodiscard]] std::size_t double_retires() const {
    std::lock_guard lock(s_->m);
    return s_->double_retires;
  }
  [[nodiscard]] bool holds(const void* p) const {
    std::lock_guard lock(s_->m);
    return s_->addresses.count(p) != 0;
  }

 private:
  std::unique_ptr<state> s_;  // owned: the reclaimer moves into its container
};

static_assert(lockless::detail::reclaimer<quarantine_reclaimer>);

}  // namespace lockless_test
