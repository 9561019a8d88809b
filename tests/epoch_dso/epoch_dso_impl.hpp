// tests/epoch_dso/epoch_dso_impl.hpp: the code behind epoch_dso.hpp, compiled once into
// each library (lib_a.cpp, lib_b.cpp). Everything here, and everything it instantiates
// from lockless/epoch.hpp, is hidden: each library runs its own copy.
#pragma once

#include <lockless/epoch.hpp>

#include <atomic>
#include <cstddef>

#include "epoch_dso.hpp"

namespace epoch_dso_impl {

inline lockless::epoch_domain* make_domain() {
  return new lockless::epoch_domain;
}

inline void destroy_domain(lockless::epoch_domain* d) {
  delete d;
}

inline void stats(lockless::epoch_domain* d, epoch_dso_stats* out) {
  const lockless::epoch_stats s = d->stats();
  out->pinned = s.pinned_threads;
  out->registered = s.registered_threads;
  out->pending = s.retired_pending;
}

inline void barrier(lockless::epoch_domain* d) {
  d->barrier();
}

inline void guard(lockless::epoch_domain* d, std::size_t* pinned) {
  lockless::epoch_guard g(*d);
  *pinned = d->stats().pinned_threads;
}

inline void pin_and_report(lockless::epoch_domain* foreign, lockless::epoch_domain* own,
                           std::size_t* foreign_pinned, std::size_t* own_pinned) {
  {
    lockless::epoch_guard g(*own);
  }  // this library's thread cache now names `own`
  lockless::epoch_guard g(*foreign);
  *foreign_pinned = foreign->stats().pinned_threads;
  *own_pinned = own->stats().pinned_threads;
}

struct counting_deleter {
  std::atomic<std::size_t>* freed;
  void operator()(int* p) const noexcept {
    freed->fetch_add(1, std::memory_order_relaxed);
    delete p;
  }
};

inline void retire_counted(lockless::epoch_domain* foreign, lockless::epoch_domain* own,
                           std::size_t n, std::atomic<std::size_t>* freed) {
  {
    lockless::epoch_guard g(*own);
  }  // this library's thread cache now names `own`
  for (std::size_t i = 0; i < n; ++i) {
    foreign->retire(new int(static_cast<int>(i)), counting_deleter{freed});
  }
}

}  // namespace epoch_dso_impl
