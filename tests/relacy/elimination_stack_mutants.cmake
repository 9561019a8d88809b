# Relacy mutants of elimination_stack.hpp: deliberately broken copies of the header that the
# scenarios of elimination_stack_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# elimination_stack_mutants.cpp, whose table says which scenarios must catch it and how; a
# mutant that slips through, or is caught for another reason, fails its test.
#
# Every FIND is exact code and must occur once in its header: when the header changes so
# that a FIND no longer matches, configuration fails here instead of a mutant silently
# becoming the real code. Keep the mutations in step with the header's ordering tags.

# [XP2] push's offer CAS relaxed instead of release: the pop that takes the node ([XC2],
# acquire) reads its payload without a happens-before edge from the push that built it.
# Expected: DATA RACE.
lockless_relacy_mutant(mutant_elimination_stack_XP2_relaxed
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND "slot.compare_exchange_strong(seen, n, std::memory_order_release,"
  REPLACE "slot.compare_exchange_strong(seen, n, std::memory_order_relaxed,")

# [XP3] push's give CAS relaxed instead of release: the waiting pop ([XC4] or [XC5],
# acquire) reads the given node's payload without a happens-before edge. Expected: DATA RACE.
lockless_relacy_mutant(mutant_elimination_stack_XP3_relaxed
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND "slot.compare_exchange_strong(seen, n | given_bit, std::memory_order_release,"
  REPLACE "slot.compare_exchange_strong(seen, n | given_bit, std::memory_order_relaxed,")

# [XC2] pop's take CAS relaxed instead of acquire: the same edge as [XP2], broken on the
# pop's side. Expected: DATA RACE.
lockless_relacy_mutant(mutant_elimination_stack_XC2_relaxed
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND "slot.compare_exchange_strong(seen, taken_word, std::memory_order_acquire,"
  REPLACE "slot.compare_exchange_strong(seen, taken_word, std::memory_order_relaxed,")

# [XC4] the waiting pop's loads relaxed instead of acquire: a give seen in the wait loop is
# followed by the read of the node's payload without a happens-before edge from [XP3].
# Expected: DATA RACE.
lockless_relacy_mutant(mutant_elimination_stack_XC4_relaxed
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND "const std::uintptr_t v = slot.load(std::memory_order_acquire);"
  REPLACE "const std::uintptr_t v = slot.load(std::memory_order_relaxed);")

# [XC5] the pop's withdraw CAS relaxed (failure order, and the success order with it): a
# give that came after the wait loop's last load makes the withdraw fail, and the node's
# payload is read without a happens-before edge from [XP3]. Expected: DATA RACE.
lockless_relacy_mutant(mutant_elimination_stack_XC5_relaxed
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND [=[slot.compare_exchange_strong(mine, empty_word, std::memory_order_acquire,
                                     std::memory_order_acquire)]=]
  REPLACE [=[slot.compare_exchange_strong(mine, empty_word, std::memory_order_relaxed,
                                     std::memory_order_relaxed)]=])

# [XP5] the push withdraws its offer with a plain store EMPTY instead of the CAS n -> EMPTY:
# a node a pop has just taken (and frees after reading it) is also pushed on the central
# stack, and overwrites TAKEN. Expected: ACCESS TO FREED MEMORY (the push links the freed
# node, a later pop reads it) or a failed assertion (a value popped twice).
lockless_relacy_mutant(mutant_elimination_stack_XP5_store
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND [=[slot.compare_exchange_strong(mine, empty_word, std::memory_order_relaxed,
                                     std::memory_order_relaxed)]=]
  REPLACE [=[(static_cast<void>(mine), slot.store(empty_word, std::memory_order_relaxed), true)]=])

# [XC5] the pop withdraws its waiting mark with a plain store EMPTY instead of the CAS
# WAITING -> EMPTY: a node a push has just given (the push has returned) is overwritten and
# lost. Expected: a failed assertion (a pushed value neither popped nor left in the stack).
lockless_relacy_mutant(mutant_elimination_stack_XC5_store
  PROGRAM elimination_stack_mutants
  HEADER lockless/elimination_stack.hpp
  FIND [=[slot.compare_exchange_strong(mine, empty_word, std::memory_order_acquire,
                                     std::memory_order_acquire)]=]
  REPLACE [=[(static_cast<void>(mine), slot.store(empty_word, std::memory_order_relaxed), true)]=])
