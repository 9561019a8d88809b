# Relacy mutants of treiber_stack.hpp: deliberately broken copies of the header that the
# scenarios of treiber_stack_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# treiber_stack_mutants.cpp, whose table says which scenarios must catch it and how; a
# mutant that slips through, or is caught for another reason, fails its test.
#
# Every FIND is exact code and must occur once in its header: when the header changes so
# that a FIND no longer matches, configuration fails here instead of a mutant silently
# becoming the real code. Keep the mutations in step with the header's ordering tags.

# (a) push's CAS [TP2] loses its release: a popper reads the node's next and payload
#     without a happens-before edge from the pusher's writes. Expected: DATA RACE.
lockless_relacy_mutant(mutant_treiber_stack_push_relaxed
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND "compare_exchange_weak(expected, n, std::memory_order_release,"
  REPLACE "compare_exchange_weak(expected, n, std::memory_order_relaxed,")

# (d) try_pop deletes the unlinked node at once instead of retiring it: the textbook
#     use-after-free of a Treiber stack without reclamation. Expected: ACCESS TO FREED
#     MEMORY (another popper reads the node's next).
lockless_relacy_mutant(mutant_treiber_stack_delete_not_retire
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND "guard.retire(expected);"
  REPLACE "(void)guard;  // MUTANT: deleted, not retired
    delete expected;")

# (p) pop's load of head_ [TC1] (the order it passes to guard.protect, which the epoch
#     guard's load uses) is relaxed: the popper reads the node's next ([TC2], before its
#     CAS) without a happens-before edge from the push that wrote it. Expected: DATA RACE.
lockless_relacy_mutant(mutant_treiber_stack_pop_load_relaxed
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND "node* expected = guard.protect(head_.value, std::memory_order_acquire);"
  REPLACE "node* expected = guard.protect(head_.value, std::memory_order_relaxed);")

# (q) pop's CAS [TC3] is relaxed on failure: the head it reloads into `expected` is
#     dereferenced (its next) in the next round without a happens-before edge from the
#     push that wrote it. Expected: DATA RACE.
lockless_relacy_mutant(mutant_treiber_stack_pop_cas_failure_relaxed
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND [=[compare_exchange_weak(expected, next, std::memory_order_acquire,
                                        std::memory_order_acquire);]=]
  REPLACE [=[compare_exchange_weak(expected, next, std::memory_order_acquire,
                                        std::memory_order_relaxed);]=])


# (s) try_pop loads head_ BEFORE its guard pins (the load-bearing program order between the
#     pin and [TC1]): the node it loaded may be retired by another popper and freed while
#     the epoch moves on unobstructed, and is then dereferenced under a guard that came too
#     late to protect it. Two stacked mutations: the early load, then its use as
#     `expected`. Expected: ACCESS TO FREED MEMORY.
lockless_relacy_mutant(mutant_treiber_stack_load_before_pin
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND "auto guard = reclaimer_.pin();"
  REPLACE [=[node* early = head_->load(std::memory_order_acquire);
    auto guard = reclaimer_.pin();]=])
lockless_relacy_mutant(mutant_treiber_stack_load_before_pin
  PROGRAM treiber_stack_mutants
  HEADER lockless/treiber_stack.hpp
  FIND "node* expected = guard.protect(head_.value, std::memory_order_acquire);"
  REPLACE "node* expected = early;")
