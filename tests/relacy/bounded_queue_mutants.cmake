# Relacy mutants of bounded_queue.hpp (Vyukov's ring with counters and two give-up
# protocols): deliberately broken copies of the header that the scenarios of
# bounded_queue_scenarios.hpp must reject (lockless_relacy_mutant() in CMakeLists.txt). Each
# becomes the test relacy_<mutant>, built from bounded_queue_mutants.cpp, whose table says
# which scenarios must catch it and how. The tags ([QP4], ...) are those of the header's
# MEMORY-ORDERING CONTRACT.
#
# Every FIND is exact code and must occur once in the header (after the earlier mutations
# of the same mutant). The two light fences ([QP5] in publish(), [QT5] in free_cell()) are
# the same call followed by the same load: they are told apart by the test after the load.

# (a) [QP4] the publish (seq = ful(t)) relaxed: the element's construction no longer
#     happens-before its move-out by the pop that takes it ([QT2]). Expected: DATA RACE on
#     the cell (its access_marker: the push's build against the pop's move-out).
lockless_relacy_mutant(mutant_bounded_queue_publish_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "c.seq.store(ful(t), std::memory_order_release);"
  REPLACE "c.seq.store(ful(t), std::memory_order_relaxed);")

# (b) [QT2] the pop's acquire loads of seq relaxed, both: take_once's (the common path)
#     and pop_step's. The other half of (a). Expected: DATA RACE on the cell. (The fast path's
#     is the one that matters: a published cell is taken from there.)
lockless_relacy_mutant(mutant_bounded_queue_pop_seq_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "const std::uint64_t s = ch.seq.load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t s = ch.seq.load(std::memory_order_relaxed);")
lockless_relacy_mutant(mutant_bounded_queue_pop_seq_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "const std::uint64_t s = cell_at(h).seq.load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t s = cell_at(h).seq.load(std::memory_order_relaxed);")

# (c) [QT4] the free (seq = vac(t + 2^k)) relaxed: the pop's move-out (or a given-up push's
#     take-back) no longer happens-before the next push builds in the cell ([QP2]).
#     Expected: DATA RACE on the cell, in every scenario that puts a second element
#     through a cell.
lockless_relacy_mutant(mutant_bounded_queue_free_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "c.seq.store(vac(t + lap_step_), std::memory_order_release);"
  REPLACE "c.seq.store(vac(t + lap_step_), std::memory_order_relaxed);")

# (d) [QP2] the push's acquire loads of seq relaxed, both: claim_once's (the common path)
#     and claim_step's. The other half of (c). Expected: DATA RACE on the cell, as in (c).
lockless_relacy_mutant(mutant_bounded_queue_claim_seq_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "cu.seq.load(std::memory_order_acquire)"
  REPLACE "cu.seq.load(std::memory_order_relaxed)")
lockless_relacy_mutant(mutant_bounded_queue_claim_seq_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "const std::uint64_t s = cell_at(u).seq.load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t s = cell_at(u).seq.load(std::memory_order_relaxed);")

# (e) [QP5] the light fence of publish() removed: the store-buffering pair of a pop's
#     give-up ([QG2]) broken on the producer's side. The producer's load of the record may
#     miss the give-up's intent while the give-up's re-read of seq misses the publish: the
#     ticket is abandoned (head_ passes it) and published (the push reports success).
#     Expected: an assertion (the value is lost).
lockless_relacy_mutant(mutant_bounded_queue_publish_no_fence
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[detail::asymmetric_fence::light_fence();
    return k.load(std::memory_order_relaxed);]=]
  REPLACE [=[return k.load(std::memory_order_relaxed);]=])

# (f) [QT5] the light fence of free_cell() removed: the store-buffering pair of a push's
#     give-up ([QS2]) broken on the holder's side. The holder's load of the record may miss
#     the give-up's intent while the give-up's re-read of seq misses the free: the ticket
#     is declared dead and the cell freed for it, not past it. Expected: an assertion (the
#     cell is vacant for a ticket that tail_ has passed: it is lost to the ring, and the
#     queue accepts fewer than capacity() values once quiescent).
lockless_relacy_mutant(mutant_bounded_queue_free_no_fence
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[detail::asymmetric_fence::light_fence();
    const std::uint64_t x = k.load(std::memory_order_relaxed);
    if (!has_record(x) || !about(x, lap(t))) [[likely]]]=]
  REPLACE [=[const std::uint64_t x = k.load(std::memory_order_relaxed);
    if (!has_record(x) || !about(x, lap(t))) [[likely]]]=])

# (g) [QG2] the heavy fence of a pop's give-up removed (help_give_up()): the pair of (e)
#     broken on the give-up's side, the same lost value. Expected: an assertion. (Relacy
#     orders its seq_cst fence only against seq_cst fences; by [atomics.order] the
#     give-up's seq_cst CAS and load would pair with the light fence as modelled, a
#     seq_cst fence. The real light fence is a compiler barrier, so the catch is the one
#     that matters: see bounded_queue_mutants.cpp.)
lockless_relacy_mutant(mutant_bounded_queue_give_up_no_fence
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[detail::asymmetric_fence::heavy_fence();
      if (c.seq.load(std::memory_order_seq_cst) != vac(h)) continue;]=]
  REPLACE [=[if (c.seq.load(std::memory_order_seq_cst) != vac(h)) continue;]=])

# (h) [QS2] the heavy fence of a push's give-up removed (help_skip()): the pair of (f)
#     broken on the give-up's side, the same lost cell. Expected: an assertion (as (g)).
lockless_relacy_mutant(mutant_bounded_queue_skip_no_fence
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[detail::asymmetric_fence::heavy_fence();
      const std::uint64_t s2 = c.seq.load(std::memory_order_seq_cst);]=]
  REPLACE [=[const std::uint64_t s2 = c.seq.load(std::memory_order_seq_cst);]=])

# Program order: take() frees the cell ([QT4]) BEFORE moving the element out, so the next
#     push may claim the cell ([QP2]) and build its element over the one being moved (the
#     marker's write moves along with the move-out it marks). Expected: DATA RACE on the
#     cell.
lockless_relacy_mutant(mutant_bounded_queue_free_before_move
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());
    const std::uint64_t x = free_cell(c, k, h);]=]
  REPLACE [=[const std::uint64_t x = free_cell(c, k, h);
    c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());]=])

# (i) Wake-up: a push does not wake a sleeping pop after its publish ([QP4]).
#     Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_push_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if constexpr (may_block) not_empty_->notify_one_after_light_fence();"
  REPLACE "{}")

# (i) Wake-up: close() does not wake the sleeping pops. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_close_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "not_empty_->notify_all();"
  REPLACE "{}")

# (j) [QT1] the pop's load of head_ and [QT3] its take relaxed (as they were in the first
#     version of this header): a pop that reads head_ past a ticket another pop took no
#     longer sees what that thread did before its take (its claim and publish of a later
#     ticket), and answers empty although no order of the operations leaves the queue
#     empty. Expected: an assertion in bq_push_pop_pairs.
lockless_relacy_mutant(mutant_bounded_queue_take_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "std::uint64_t hw = head_.load(std::memory_order_acquire);"
  REPLACE "std::uint64_t hw = head_.load(std::memory_order_relaxed);")
lockless_relacy_mutant(mutant_bounded_queue_take_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[head_.compare_exchange_weak(hw, nw, std::memory_order_acq_rel,
                                     std::memory_order_acquire)]=]
  REPLACE [=[head_.compare_exchange_weak(hw, nw, std::memory_order_relaxed,
                                     std::memory_order_relaxed)]=])

# (k) [QF1] full answered from the cell alone, as Vyukov's ring does: a push whose cell is
#     still held by the previous lap says full without reading head_ (and holes_), though
#     a pop that took a later ticket may have freed its cell already. The read of head_
#     that a polling producer pays on every failure (docs/benchmarks.md, "Polling
#     callers") is what this mutant saves. Expected: an assertion in bq_push_give_up
#     (its last push must succeed: one cell is free).
lockless_relacy_mutant(mutant_bounded_queue_full_from_cell
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (holes_.load(std::memory_order_seq_cst) == 0 ? full_at(u, hw >> 2) : !vacant_ahead(u)) {"
  REPLACE "if ((void)hw, true) {")

# (l) [QE1] empty answered from the cell alone, as Vyukov's ring does: a pop whose ticket
#     is not published says empty without reading tail_, though a later ticket may be
#     published (docs/testing.md's empty-while-non-empty). The other read of "Polling
#     callers". Expected: an assertion (program-order emptiness: the thread's own earlier
#     push is still queued).
lockless_relacy_mutant(mutant_bounded_queue_empty_from_cell
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (t <= h) {"
  REPLACE "if (true) {")

# (m) [QO1] no mark: a push publishes its ticket while the ticket before it is unpublished
#     and leaves order_ quiet, so a pop whose ticket is that unpublished one answers empty
#     from its cell while the later value waits (empty-while-non-empty again). Expected: an
#     assertion in bq_order_mark (program-order emptiness).
lockless_relacy_mutant(mutant_bounded_queue_order_unmarked
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if ((&c - 1)->seq.load(std::memory_order_relaxed) < vac(t) - 2) [[unlikely]]"
  REPLACE "if ((void)c, (void)t, false)")

# (n) [QO3] the clearing without its second load of tail_: a pop that found the queue
#     quiet makes order_ quiet although a push claimed since, and that push saw order_
#     marked (before the clearing) and did not mark it. Expected: an assertion in
#     bq_order_clear (program-order emptiness).
lockless_relacy_mutant(mutant_bounded_queue_order_clear_unchecked
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (tail_.load(std::memory_order_seq_cst) != tw) return;"
  REPLACE "(void)tw;")

# (o) [QO4] close() without marking order_: a pop that finds its cell vacant answers empty
#     from order_ after the close, where it must say closed. Expected: an assertion in
#     bq_order_close (a closed queue drained says closed: the drain of after(), and a
#     thread that closed never sees empty later).
lockless_relacy_mutant(mutant_bounded_queue_close_unmarked
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "remark(order_closed);"
  REPLACE "{}")

# (p) [QR1] the holder clears a record to 0, not to no_record(lap): the record goes back to
#     a word that a helper of the same give-up may have read, and that helper's intent CAS
#     writes the very word another helper announced and is about to commit (an ABA, no
#     weak-memory effect). Relacy's random and bounded searches do not reach it: it needs
#     three threads of one give-up suspended at chosen points and a push in between. The
#     planned schedules of tests/dsched/bounded_queue_regression.cpp do, step by step.
#     Expected: the push side loses a value (lincheck A5), and the pop side's full push
#     walks the lap for a hole that was never made (the trace shows vacant_ahead).
lockless_dsched_mutant(mutant_bounded_queue_record_cleared_to_zero
  SOURCE bounded_queue_regression
  FILTER "DschedBoundedQueueRegression.*IntentsOfTwoHelpersAreNeverTheSameWord"
  EXPECT "A5 lost: value inserted and never removed.*5:vacant_ahead"
  HEADER lockless/bounded_queue.hpp
  FIND "if (k.compare_exchange_strong(x, no_record(target), std::memory_order_seq_cst,"
  REPLACE "if (k.compare_exchange_strong(x, 0, std::memory_order_seq_cst,")

# Not declared:
#   [QP1], [QP3]: acquire / acq_rel for the symmetry of the full answer's argument with
#         (j); no scenario needs them (not minimised).
