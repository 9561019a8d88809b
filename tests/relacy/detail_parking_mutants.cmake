# Relacy mutants of detail/parking.hpp (event_count): deliberately broken copies of the
# header that the scenarios of detail_parking_scenarios.hpp must reject
# (lockless_relacy_mutant() in CMakeLists.txt). Each becomes the test relacy_<mutant>,
# built from detail_parking_mutants.cpp, whose table says which scenarios must catch it and
# how; a mutant that slips through, or is caught for another reason, fails its test.
#
# Every FIND is exact code and must occur once in the header: when the header changes so
# that a FIND no longer matches, configuration fails here instead of a mutant silently
# becoming the real code. Keep the mutations in step with the header's ordering tags.
# Every one is a lost wake-up, reported as DEADLOCK.

# [KN1] the notifier's full fence is gone: its load of the waiter count [KN2] may read 0
#       while the waiter's check reads the condition as false (store buffering).
lockless_relacy_mutant(mutant_parking_notify_no_fence
  PROGRAM detail_parking_mutants
  HEADER lockless/detail/parking.hpp
  FIND [=[notify_fence<AfterRmw>();
    if (waiters_.load(std::memory_order_relaxed) == 0) [[likely]]]=]
  REPLACE [=[if (waiters_.load(std::memory_order_relaxed) == 0) [[likely]]]=])

# [KW2] the waiter's full fence is gone: the other half of the same store buffering.
lockless_relacy_mutant(mutant_parking_prepare_no_fence
  PROGRAM detail_parking_mutants
  HEADER lockless/detail/parking.hpp
  FIND [=[if (asymmetric_) {
      asymmetric_fence::heavy_fence();
    } else {
      full_fence();
    }
    return key{epoch_.load(std::memory_order_acquire)};]=]
  REPLACE [=[return key{epoch_.load(std::memory_order_acquire)};]=])

# [KW3] the key's load is relaxed: a key that already includes the notifier's bump no longer
#       brings the condition with it; the waiter checks a stale condition and sleeps on an
#       epoch nobody will bump again.
lockless_relacy_mutant(mutant_parking_key_relaxed
  PROGRAM detail_parking_mutants
  HEADER lockless/detail/parking.hpp
  FIND [=[return key{epoch_.load(std::memory_order_acquire)};]=]
  REPLACE [=[return key{epoch_.load(std::memory_order_relaxed)};]=])

# Not a mutant: [KN3]'s release weakened to relaxed. The full fence [KN1] before it already
# makes the bump a release under the C++ model, so Relacy rightly passes it (the header
# says why it stays release).

# [KN3] no bump at all (notify only wakes): the key no longer records that a notify
#       happened, so a notify between the waiter's check and its block is lost, and a woken
#       waiter finds its key unchanged and sleeps again.
lockless_relacy_mutant(mutant_parking_notify_no_bump
  PROGRAM detail_parking_mutants
  HEADER lockless/detail/parking.hpp
  FIND [=[(void)epoch_.fetch_add(1, std::memory_order_release);]=]
  REPLACE [=[(void)0;]=])
