# Relacy mutants of epoch.hpp: deliberately broken copies of the header that the
# scenarios of epoch_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# epoch_mutants.cpp, whose table says which scenarios must catch it and how; a
# mutant that slips through, or is caught for another reason, fails its test.
#
# Every FIND is exact code and must occur once in its header: when the header changes so
# that a FIND no longer matches, configuration fails here instead of a mutant silently
# becoming the real code. Keep the mutations in step with the header's ordering tags.

# store_then_full_fence() has an x86-64 branch (one XCHG) that the LOCKLESS_RELACY build
# never compiles; the mutations below hit the portable branch, which is the one checked.

# (b) pin's store->load fence [EG1] is gone: the writer's scan may miss a pin whose later
#     load of the structure still sees the old object. Expected: ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_epoch_pin_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[a.store(v, std::memory_order_release);
    detail::full_fence();]=]
  REPLACE [=[a.store(v, std::memory_order_release);  // MUTANT: [EG1]'s fence removed]=])

# (b') pin's fence [EG1] weakened to acq_rel, which does not order a store before a later
#     load (store buffering). Expected: ACCESS TO FREED MEMORY / DATA RACE.
lockless_relacy_mutant(mutant_epoch_pin_acq_rel_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[a.store(v, std::memory_order_release);
    detail::full_fence();]=]
  REPLACE [=[a.store(v, std::memory_order_release);
    // MUTANT: [EG1]'s fence weakened (the shim has no acq_rel fence: Relacy's own)
    rl::atomic_thread_fence(rl::mo_acq_rel, rl::debug_info(__func__, __FILE__, __LINE__));]=])

# (c) unpin's store [EG3] loses its release: the critical section's reads no longer
#     happen-before the scanner that sees "not pinned", hence before the deleter.
#     Expected: DATA RACE with the destructor's write (the poisoning scenarios).
lockless_relacy_mutant(mutant_epoch_unpin_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "r.state.store(0, std::memory_order_release);"
  REPLACE "r.state.store(0, std::memory_order_relaxed);")

# (e) try_advance's fence [EA1] is gone. A thread that seals a bag has seal's fence [ES1]
#     before its scan anyway, but a thread that only advances (flush() with nothing to
#     seal) does not: it may miss a pin and advance past it. Expected: ACCESS TO FREED
#     MEMORY (ebr_advancer).
lockless_relacy_mutant(mutant_epoch_advance_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr;]=]
  REPLACE [=[// MUTANT: [EA1]'s fence removed
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr;]=])

# (e') try_advance reads the epoch after its fence [EA1] instead of before it: a program
#     order, not a memory order (epoch.hpp INV1). The advancer's fence may then precede a
#     reader's pin [EG1], so its scan may miss the pin, while the epoch it compares the
#     records with is a newer one that another thread's advance wrote after the fence:
#     it advances from the writer's epoch and frees the batch the reader still reads.
#     Two stacked mutations (comment lines separate the load from the fence). Expected:
#     ACCESS TO FREED MEMORY (ebr_advance_order at context bound 1; no other scenario,
#     and no random plan, finds it).
lockless_relacy_mutant(mutant_epoch_advance_reads_epoch_after_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "std::uint64_t g = epoch_.value.load(std::memory_order_relaxed);"
  REPLACE "std::uint64_t g;  // MUTANT: read after [EA1], below")
lockless_relacy_mutant(mutant_epoch_advance_reads_epoch_after_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr;]=]
  REPLACE [=[detail::full_fence();
    g = epoch_.value.load(std::memory_order_relaxed);  // MUTANT: after [EA1]
    for (record* r = records_.load(std::memory_order_acquire); r != nullptr;]=])

# (f) the scan's load of a record [EA2] is relaxed: "not pinned" no longer orders the
#     reader's critical section before the advance, hence before the deleter.
#     Expected: DATA RACE with the destructor's write.
lockless_relacy_mutant(mutant_epoch_scan_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "r->state.load(std::memory_order_acquire);"
  REPLACE "r->state.load(std::memory_order_relaxed);")

# (g) collect's load of the epoch [ER2] is relaxed: a thread that frees a bag because
#     another thread advanced the epoch is not ordered after the critical sections that
#     advance waited for. Expected: DATA RACE with the destructor's write (needs three
#     threads: ebr_two_readers).
lockless_relacy_mutant(mutant_epoch_collect_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "const std::uint64_t e = epoch_.value.load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t e = epoch_.value.load(std::memory_order_relaxed);")

# (h) synchronize()'s fence [EY0] is gone (the bug these scenarios found): the epoch that
#     sets the wait's target may be read before the caller's unlink is visible, so a
#     reader that pinned at a newer epoch and still loads the unlinked object is not
#     waited for. Expected: DATA RACE (destructor's write) / ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_epoch_synchronize_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
    const std::uint64_t target]=]
  REPLACE [=[// MUTANT: [EY0]'s fence removed
    const std::uint64_t target]=])

# (i) seal's fence [ES1] is gone: the tag may be read before the unlink of the bag's
#     objects is visible to a reader that pins meanwhile at a newer epoch, so the tag is
#     older than that reader's epoch and the batch is freed under it (INV2). Needs the
#     epoch to move between the unlink and the seal (a flushing reader). Expected: DATA
#     RACE (destructor's write) / ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_epoch_seal_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
    b->epoch.get_mut() = ]=]
  REPLACE [=[// MUTANT: [ES1]'s fence removed
    b->epoch.get_mut() = ]=])

# (j) the push of a sealed batch [ES2] is relaxed: a collector that takes the list does
#     not see the sealing thread's writes to the bag (next, epoch, count, items) or to
#     the retired object. Expected: DATA RACE.
lockless_relacy_mutant(mutant_epoch_push_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "} while (!sealed_.compare_exchange_weak(head, first, std::memory_order_release,"
  REPLACE "} while (!sealed_.compare_exchange_weak(head, first, std::memory_order_relaxed,")

# (k) collect's take of the sealed list [ER1] is relaxed: the mirror image of (j).
#     Expected: DATA RACE.
lockless_relacy_mutant(mutant_epoch_take_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "bag* list = sealed_.exchange(nullptr, std::memory_order_acquire);"
  REPLACE "bag* list = sealed_.exchange(nullptr, std::memory_order_relaxed);")

# (l) the advance's CAS [EA3] loses its release half (acq_rel -> acquire): what the scan
#     [EA2] acquired (the readers' finished critical sections) is no longer handed on to a
#     collector on another thread that reads the new epoch ([ER2]). Needs a collector other
#     than the advancer. Expected: DATA RACE (destructor's write).
lockless_relacy_mutant(mutant_epoch_advance_cas_acquire
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "if (epoch_.value.compare_exchange_strong(g, g + 1, std::memory_order_acq_rel,"
  REPLACE "if (epoch_.value.compare_exchange_strong(g, g + 1, std::memory_order_acquire,")

# (m) collect's re-check [ER3] loses its fence: after putting kept batches back, the
#     collector may read a stale epoch while barrier() (past [EB1]) found the list empty
#     (store buffering), and nobody frees the batch barrier() waited for. Expected: USER
#     ASSERT FAILED (the writer's check once the collector has finished).
lockless_relacy_mutant(mutant_epoch_recheck_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
      if (epoch_.value.load(std::memory_order_acquire) == e) return;]=]
  REPLACE [=[// MUTANT: [ER3]'s fence removed
      if (epoch_.value.load(std::memory_order_acquire) == e) return;]=])

# (n) barrier()'s fence [EB1] is gone: the other half of (m). Expected: USER ASSERT FAILED.
lockless_relacy_mutant(mutant_epoch_barrier_no_fence
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND [=[detail::full_fence();
    collect(r, /*force=*/true);]=]
  REPLACE [=[// MUTANT: [EB1]'s fence removed
    collect(r, /*force=*/true);]=])

# (o) synchronize()'s wait loop reads the epoch relaxed [EY1]: when the advance that ends
#     the wait is another thread's, the caller is not ordered after the critical sections
#     that advance scanned, and its delete races with a reader. Expected: DATA RACE.
lockless_relacy_mutant(mutant_epoch_synchronize_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "while (epoch_.value.load(std::memory_order_acquire) < target) {"
  REPLACE "while (epoch_.value.load(std::memory_order_relaxed) < target) {")

# (r) Not a tag of the contract, but an ordering all the same: the release store that
#     publishes a new thread record on the domain's list is relaxed, so a scanner
#     ([EA2], walking the list without the registration mutex) reads the record's fields
#     before their initialisation. Expected: DATA RACE (or ACCESS TO UNINITIALIZED
#     VARIABLE).
lockless_relacy_mutant(mutant_epoch_record_publish_relaxed
  PROGRAM epoch_mutants
  HEADER lockless/epoch.hpp
  FIND "records_.store(r, std::memory_order_release);"
  REPLACE "records_.store(r, std::memory_order_relaxed);")
