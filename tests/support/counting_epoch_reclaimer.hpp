// tests/support/counting_epoch_reclaimer.hpp: lockless::epoch_reclaimer with every retired
// object's deleter wrapped to count, for scenarios that must show that reclamation really
// ran during an execution (a deleter run while other threads may still be inside an
// operation is what an ACCESS TO FREED MEMORY needs).
//
//   counting_epoch_reclaimer<&evidence>   evidence() returns the scenario's record: an
//                                         object with `bool in_run` and an unsigned
//                                         `deleters_in_run`; a deleter that runs while
//                                         in_run is true adds one to deleters_in_run.
//
// pin(), protect() and retire() are epoch_reclaimer's (the same guard, the same domain:
// the one given to the constructor). Used by the Relacy scenarios of drr_scheduler and
// unbounded_queue; nothing here is Relacy-specific.
#pragma once

#include <lockless/epoch.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace lockless_test {

template <auto Evidence>
class counting_epoch_reclaimer {
  template <class D>
  struct counted {
    D inner;
    template <class T>
    void operator()(T* p) noexcept {
      auto& e = Evidence();
      if (e.in_run) ++e.deleters_in_run;
      inner(p);
    }
  };

 public:
  class guard_type {
   public:
    explicit guard_type(lockless::epoch_domain& d) : g_(d) {}
    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src,
                             std::memory_order order) const noexcept {
      return g_.protect(src, order);
    }
    template <class T>
    [[nodiscard]] T* protect(const lockless::detail::atomic<T*>& src, T* loaded,
                             std::memory_order order) const noexcept {
      return g_.protect(src, loaded, order);
    }
    template <class T>
    void retire(T* p) noexcept {
      g_.retire(p, counted<std::default_delete<T>>{{}});
    }
    template <class T, class D>
    void retire(T* p, D&& deleter) noexcept {
      g_.retire(p, counted<std::decay_t<D>>{std::forward<D>(deleter)});
    }

   private:
    lockless::epoch_guard g_;
  };

  explicit counting_epoch_reclaimer(lockless::epoch_domain& d) noexcept : d_(&d) {}
  [[nodiscard]] guard_type pin() const { return guard_type(*d_); }

 private:
  lockless::epoch_domain* d_;
};

}  // namespace lockless_test
