// tests/epoch_dso/lib_b.cpp: library B of the shared-library test (see epoch_dso.hpp).
#include "epoch_dso.hpp"
#include "epoch_dso_impl.hpp"

lockless::epoch_domain* epoch_dso_b_make_domain() {
  return epoch_dso_impl::make_domain();
}
void epoch_dso_b_destroy_domain(lockless::epoch_domain* d) {
  epoch_dso_impl::destroy_domain(d);
}
void epoch_dso_b_stats(lockless::epoch_domain* d, epoch_dso_stats* out) {
  epoch_dso_impl::stats(d, out);
}
void epoch_dso_b_barrier(lockless::epoch_domain* d) {
  epoch_dso_impl::barrier(d);
}
void epoch_dso_b_guard(lockless::epoch_domain* d, std::size_t* pinned) {
  epoch_dso_impl::guard(d, pinned);
}
void epoch_dso_b_pin_and_report(lockless::epoch_domain* foreign, lockless::epoch_domain* own,
                                std::size_t* foreign_pinned, std::size_t* own_pinned) {
  epoch_dso_impl::pin_and_report(foreign, own, foreign_pinned, own_pinned);
}
void epoch_dso_b_retire_counted(lockless::epoch_domain* foreign, lockless::epoch_domain* own,
                                std::size_t n, std::atomic<std::size_t>* freed) {
  epoch_dso_impl::retire_counted(foreign, own, n, freed);
}
