# Deliberately broken copies of the headers that the Relacy scenarios must reject (see
# lockless_relacy_mutant() in CMakeLists.txt). Each tests/relacy/mutant_<x>.cpp runs the
# scenarios that should catch its mutation and exits 0 only if Relacy reports each one
# with the expected kind of failure, so these tests do not use WILL_FAIL: a mutant that
# slips through, or is caught for another reason, fails its test.
#
# Every FIND is exact and must occur once in its header: when a header changes so that a
# FIND no longer matches, configuration fails here instead of a mutant silently becoming
# the real code. Keep the mutations in step with the ordering tags of the headers.

# ---- treiber_stack.hpp ----------------------------------------------------------------

# (a) push's CAS [P2] loses its release: a popper reads the node's next and payload
#     without a happens-before edge from the pusher's writes. Expected: DATA RACE.
lockless_relacy_mutant(mutant_treiber_push_relaxed
  HEADER lockless/treiber_stack.hpp
  FIND "compare_exchange_weak(expected, n, std::memory_order_release,"
  REPLACE "compare_exchange_weak(expected, n, std::memory_order_relaxed,")

# (d) try_pop deletes the unlinked node at once instead of retiring it: the textbook
#     use-after-free of a Treiber stack without reclamation. Expected: ACCESS TO FREED
#     MEMORY (another popper reads the node's next).
lockless_relacy_mutant(mutant_treiber_delete_not_retire
  HEADER lockless/treiber_stack.hpp
  FIND "guard.retire(expected);"
  REPLACE "delete expected;")

# ---- epoch.hpp ------------------------------------------------------------------------
# store_then_full_fence() has an x86-64 branch (one XCHG) that the LOCKLESS_RELACY build
# never compiles; the mutations below hit the portable branch, which is the one checked.

# (b) pin's store->load fence [G1] is gone: the writer's scan may miss a pin whose later
#     load of the structure still sees the old object. Expected: ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_epoch_pin_no_fence
  HEADER lockless/epoch.hpp
  FIND [=[// ordered by the fence that follows
    detail::fence(std::memory_order_seq_cst);]=]
  REPLACE [=[// MUTANT: [G1]'s fence removed]=])

# (b') pin's fence [G1] weakened to acq_rel, which does not order a store before a later
#     load (store buffering). Expected: ACCESS TO FREED MEMORY / DATA RACE.
lockless_relacy_mutant(mutant_epoch_pin_acq_rel_fence
  HEADER lockless/epoch.hpp
  FIND [=[// ordered by the fence that follows
    detail::fence(std::memory_order_seq_cst);]=]
  REPLACE [=[// MUTANT: [G1]'s fence weakened
    detail::fence(std::memory_order_acq_rel);]=])

# (c) unpin's store [G3] loses its release: the critical section's reads no longer
#     happen-before the scanner that sees "not pinned", hence before the deleter.
#     Expected: DATA RACE with the destructor's write (the poisoning scenarios).
lockless_relacy_mutant(mutant_epoch_unpin_relaxed
  HEADER lockless/epoch.hpp
  FIND "r.state.store(0, std::memory_order_release);"
  REPLACE "r.state.store(0, std::memory_order_relaxed);")

# (e) try_advance's fence [A1] is gone. A thread that seals a bag has seal's fence [S1]
#     before its scan anyway, but a thread that only advances (flush() with nothing to
#     seal) does not: it may miss a pin and advance past it. Expected: ACCESS TO FREED
#     MEMORY (ebr_advancer).
lockless_relacy_mutant(mutant_epoch_advance_no_fence
  HEADER lockless/epoch.hpp
  FIND [=[// loads see everything before this point.
    detail::fence(std::memory_order_seq_cst);]=]
  REPLACE [=[// MUTANT: [A1]'s fence removed]=])

# (f) the scan's load of a record [A2] is relaxed: "not pinned" no longer orders the
#     reader's critical section before the advance, hence before the deleter.
#     Expected: DATA RACE with the destructor's write.
lockless_relacy_mutant(mutant_epoch_scan_relaxed
  HEADER lockless/epoch.hpp
  FIND "r->state.load(std::memory_order_acquire);"
  REPLACE "r->state.load(std::memory_order_relaxed);")

# (g) collect's load of the epoch [R2] is relaxed: a thread that frees a bag because
#     another thread advanced the epoch is not ordered after the critical sections that
#     advance waited for. Expected: DATA RACE with the destructor's write (needs three
#     threads: ebr_two_readers).
lockless_relacy_mutant(mutant_epoch_collect_relaxed
  HEADER lockless/epoch.hpp
  FIND "const std::uint64_t e = epoch_.value.load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);")

# (h) synchronize()'s fence [Y0] is gone (the bug these scenarios found): the epoch that
#     sets the wait's target may be read before the caller's unlink is visible, so a
#     reader that pinned at a newer epoch and still loads the unlinked object is not
#     waited for. Expected: DATA RACE (destructor's write) / ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_epoch_synchronize_no_fence
  HEADER lockless/epoch.hpp
  FIND [=[one epoch stale and the wait one epoch short (found by Relacy).
    detail::fence(std::memory_order_seq_cst);]=]
  REPLACE [=[one epoch stale and the wait one epoch short (found by Relacy).
    // MUTANT: [Y0]'s fence removed]=])
