# Relacy mutants of drr_scheduler.hpp: deliberately broken copies of the header that the
# scenarios of drr_scheduler_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# drr_scheduler_mutants.cpp, whose table says which scenarios must catch it and how. Every
# FIND is exact code that occurs once in the header. docs/algorithms/drr_scheduler.md cites
# these names.

# ---- the activation handshake (store buffering: [DP4] + [DA1] against [DA3] + [DA4]) ----
# Each of the four accesses must be seq_cst: with one of them weaker, the producer's load
# of the active word can read the flow still listed while the consumer's re-check misses
# the item just published: nobody lists the flow again and the item is STRANDED (the final
# drain, with every push complete, says empty with the item still in the flow).
# Expected: assertion (a pushed item never delivered).

# [DP4] the publication seq_cst -> release: the store may be ordered after the load [DA1].
lockless_relacy_mutant(mutant_drr_scheduler_publish_release
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "s.seq.store(pos::full_seq(pos::lap(t)), std::memory_order_seq_cst);"
  REPLACE "s.seq.store(pos::full_seq(pos::lap(t)), std::memory_order_release);")

# [DA1] "is it listed?" seq_cst -> acquire: the load may be performed before [DP4].
lockless_relacy_mutant(mutant_drr_scheduler_listed_acquire
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "if (f->active.load(std::memory_order_seq_cst) != 0) return;"
  REPLACE "if (f->active.load(std::memory_order_acquire) != 0) return;")

# [DA3] the consumer's unlisting seq_cst -> release: the store may be ordered after the
# re-check [DA4].
lockless_relacy_mutant(mutant_drr_scheduler_unlist_release
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "f->active.store(0, std::memory_order_seq_cst);"
  REPLACE "f->active.store(0, std::memory_order_release);")

# [DA4] the re-check dropped: the consumer unlists a flow whose producer published and
# read the flow still listed in between (a plain interleaving, no weak order needed).
lockless_relacy_mutant(mutant_drr_scheduler_no_recheck
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "if (!item_arrived && !finished_now) return;"
  REPLACE "(void)item_arrived; (void)finished_now; return;")

# ---- the slots ----------------------------------------------------------------------------
# [DC1] the consumer's load of the head slot's sequence word acquire -> relaxed: an item
# published into a flow the consumer already holds (no inbox hand-over in between) is
# moved out without a happens-before edge from its construction.
# Expected: DATA RACE on the slot (its access_marker).
lockless_relacy_mutant(mutant_drr_scheduler_take_relaxed
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "if (s.seq.load(std::memory_order_acquire) != pos::full_seq(pos::lap(h))) {"
  REPLACE "if (s.seq.load(std::memory_order_relaxed) != pos::full_seq(pos::lap(h))) {")

# [DC3] the consumer's release of a slot release -> relaxed: the next lap's producer
# builds in the slot without a happens-before edge from the previous item's move-out.
# Expected: DATA RACE on the slot.
lockless_relacy_mutant(mutant_drr_scheduler_free_relaxed
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "constexpr std::memory_order dc3_order = std::memory_order_release;"
  REPLACE "constexpr std::memory_order dc3_order = std::memory_order_relaxed;")

# ---- the inbox ------------------------------------------------------------------------------
# [DI1] the producer's push onto the inbox release -> relaxed: the consumer's exchange
# [DI2] takes the flow without a happens-before edge from the write of its inbox link.
# Expected: DATA RACE on the link (a detail::var).
lockless_relacy_mutant(mutant_drr_scheduler_inbox_relaxed
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND [=[inbox_.compare_exchange_weak(top, f, std::memory_order_release,
                                       std::memory_order_relaxed)]=]
  REPLACE [=[inbox_.compare_exchange_weak(top, f, std::memory_order_relaxed,
                                       std::memory_order_relaxed)]=])

# ---- closing --------------------------------------------------------------------------------
# close_flow() sets the closed bit ([DX1]) but does not list the flow: a flow closed while
# unlisted (drained) is never visited again, so it is never finished. After close() the
# consumer never reports closed (assertion: the final drain says empty); a flow removed
# while unlisted is never retired, and the scheduler's destructor no longer owns it
# (MEMORY LEAK).
lockless_relacy_mutant(mutant_drr_scheduler_close_unlisted
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND [=[(void)f->tail.fetch_or(pos::closed_bit, std::memory_order_seq_cst);
    activate(f);]=]
  REPLACE [=[(void)f->tail.fetch_or(pos::closed_bit, std::memory_order_seq_cst);]=])

# [DK4] dropped: a pop after close() has begun frees its slot without closing the flow
# first; a push that read the scheduler open before the close claims that slot and
# succeeds, although the flow was full until after the close.
# Expected: assertion (drr_close_full_flow's success after the close).
lockless_relacy_mutant(mutant_drr_scheduler_free_after_close_open
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "if (closed_.load(std::memory_order_acquire) != 0) close_flow_before_free(f);"
  REPLACE "{}")

# ---- the wake-ups -------------------------------------------------------------------------
# [DG2] the leaving consumer reads the contended bit but does not wake the consumers that
# got busy and went to sleep: a waiter sleeps on with items listed (the holder left, the
# next push found its flow listed and notified nobody).
# Expected: DEADLOCK (every thread asleep or finished with an item listed).
lockless_relacy_mutant(mutant_drr_scheduler_leave_no_wake
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND [=[if ((g & gate_contended) != 0) {
          not_empty_->notify_all();]=]
  REPLACE [=[if ((g & gate_contended) != 0) {]=])

# No wake-up of the flow's producers after a pop: a producer asleep on its full flow is
# never told that a slot was freed (neither while the turn goes on nor when it ends
# drained: only a pop wakes the bucket).
# Expected: DEADLOCK (the producer sleeps with room in its flow).
lockless_relacy_mutant(mutant_drr_scheduler_pop_no_wake
  PROGRAM drr_scheduler_mutants
  HEADER lockless/drr_scheduler.hpp
  FIND "notify_bucket_after_rmw(f->cons.index);"
  REPLACE "{}")
