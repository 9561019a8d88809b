# Relacy mutants of bounded_queue.hpp: deliberately broken copies of the header that the
# scenarios of bounded_queue_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# bounded_queue_mutants.cpp, whose table says which scenarios must catch it and how.
#
# Every FIND is exact code and must occur once in the header (after the earlier mutations
# of the same mutant). The enqueue CAS ([QE4]) is seq_cst/acquire and the dequeue CAS
# ([QD4]) acq_rel/acquire, so each is found by its orders (the [QD4] FIND also takes the
# `break;` after it along); the loads of an entry ([QE2], [QD2]) are spelled identically
# and each FIND takes the code that follows it along to be unique.

# Expected: DATA RACE on a slot (its access_marker): pusher's build vs popper's move.
# (a) [QE4] enqueue's CAS of the entry loses both halves (relaxed/relaxed; a relaxed success
#     order needs a relaxed failure order under Relacy): publishing the index no longer
#     publishes the slot's contents. Expected: DATA RACE on the slot (a pusher's build and
#     the popper's move-out, or a popper's move-out and the next pusher's build via free_).
lockless_relacy_mutant(mutant_bounded_queue_enqueue_cas_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[cell.compare_exchange_weak(e, desired, std::memory_order_seq_cst,
                                       std::memory_order_acquire)]=]
  REPLACE [=[cell.compare_exchange_weak(e, desired, std::memory_order_relaxed,
                                       std::memory_order_relaxed)]=])

lockless_relacy_mutant(mutant_bounded_queue_enqueue_cas_no_release
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[cell.compare_exchange_weak(e, desired, std::memory_order_seq_cst,
                                       std::memory_order_acquire)]=]
  REPLACE [=[cell.compare_exchange_weak(e, desired, std::memory_order_acquire,
                                       std::memory_order_acquire)]=])

lockless_relacy_mutant(mutant_bounded_queue_dequeue_load_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[std::uint64_t e = cell.load(std::memory_order_acquire);
      for (;;) {
        const std::uint64_t e_cycle = e >> cycle_shift_;]=]
  REPLACE [=[std::uint64_t e = cell.load(std::memory_order_relaxed);
      for (;;) {
        const std::uint64_t e_cycle = e >> cycle_shift_;]=])

# Tried and NOT caught (no mutant declared; the header's contract says why these orders
# are not model-checked):
#   [QE2] enqueue's load of the entry acquire -> relaxed: the race it guards (an
#         unsafe-marked entry filled with a stale head_, [QE3]) was not reached: 2,000,000
#         random executions each of bq_try_cap1 and bq_try_three pass. Its partner [QD4]
#         is caught (d), through the same lost-slot consequence.
#   [QD0] dequeue's load of threshold_ acquire -> relaxed, and
#   [QE5] enqueue's reset of threshold_ release -> relaxed: every scenario passes
#         (100,000 executions each; [QE5] also 2,000,000 of bq_try_cap1). The threshold
#         is a hint that only leads to "empty" or to one more round; the slot's contents
#         always come through [QE4]/[QD2].

# (d) [QD4] dequeue's CAS that burns an entry or marks it unsafe loses its release half
#     (acquire/acquire): an enqueuer on free_ that reads the unsafe mark ([QE2]) no longer
#     sees the dequeuer's ticket in head_ ([QE3]) and fills an entry that dequeuer already
#     passed. Expected: a slot index is stranded; with nothing in flight the queue refuses
#     a push below capacity() (assertion in after()).
lockless_relacy_mutant(mutant_bounded_queue_dequeue_cas_no_release
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[cell.compare_exchange_weak(e, desired, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
          break;]=]
  REPLACE [=[cell.compare_exchange_weak(e, desired, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
          break;]=])

# (e) Program order: dequeue forgets to say closed after a futile round that saw the
#     closed bit ([QD5]), and says empty. Expected: DEADLOCK (a blocking pop woken by
#     close finds "empty" and sleeps again, for ever) or an assertion (a closed thread's
#     try_pop says empty).
lockless_relacy_mutant(mutant_bounded_queue_no_closed_after_round
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (Closable && (raw_tail & closed_bit) != 0) return closed;"
  REPLACE "{}")

# (f) Program order: catch_up ([QD7]) moves tail_ up to head_ and drops the closed bit on
#     the way. Expected: an assertion (a push accepted after close) or DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_catch_up_drops_closed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "tail_.compare_exchange_weak(raw_tail, head | (raw_tail & closed_bit),"
  REPLACE "tail_.compare_exchange_weak(raw_tail, head,")

# (g) Program order: a pop gives the slot's index back to free_ BEFORE moving the element
#     out, so the next pusher may build its element over the one being moved. (The slot's
#     access marker is written before either, so Relacy sees no race on it: the element
#     itself notices.) Expected: an assertion (a value lost and another popped twice).
lockless_relacy_mutant(mutant_bounded_queue_give_back_before_move
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[queue_result<T> r(std::in_place, std::move(*s.get()));
    std::destroy_at(s.get());
    give_back(i);]=]
  REPLACE [=[give_back(i);
    queue_result<T> r(std::in_place, std::move(*s.get()));
    std::destroy_at(s.get());]=])

# (h) Wake-up: close() does not wake the sleeping pops. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_close_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "not_empty_->notify_all();"
  REPLACE "{}")

# (i) Wake-up: a push does not wake a sleeping pop. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_push_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if constexpr (may_block) not_empty_->notify_one_after_rmw();"
  REPLACE "{}")
