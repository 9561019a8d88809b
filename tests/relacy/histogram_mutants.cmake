# Relacy mutants of histogram.hpp: deliberately broken copies of the header that the
# scenarios of histogram_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# histogram_mutants.cpp, whose table says which scenarios must catch it and how. Every
# FIND is exact code that occurs once in the header (after the earlier mutations of the
# same mutant). The counters are atomics, so every ordering mutant shows as a wrong value
# read, i.e. a failed scenario assertion (an inconsistent or inexact snapshot).

# [HL1] a shard's lock taken relaxed: the holder does not see the previous holder's
# counts (an observer's load-add-store loses an increment, a snapshot reads stale
# counters). Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lock_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND [=[b.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                     std::memory_order_relaxed)]=]
  REPLACE [=[b.compare_exchange_strong(expected, 1, std::memory_order_relaxed,
                                     std::memory_order_relaxed)]=])

# [HL2] a shard's lock released relaxed: the same edge, broken on the holder's side.
# Expected: assertion.
lockless_relacy_mutant(mutant_histogram_unlock_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "sh.busy.value.store(0, std::memory_order_release);"
  REPLACE "sh.busy.value.store(0, std::memory_order_relaxed);")

# [HO1] a guest's join relaxed: the snapshot's reset of the set the call joins (its
# emptied table codes) need not be visible; the guest reads the code it claimed before
# the reset, counts in a slot whose code is now empty, and the next snapshot skips it.
# Expected: assertion (native buckets add up to less than count).
lockless_relacy_mutant(mutant_histogram_join_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "lane.count_and_hot.value.fetch_add(1, std::memory_order_acquire);"
  REPLACE "lane.count_and_hot.value.fetch_add(1, std::memory_order_relaxed);")

# Why only hist_native_reuse catches [HO1] and [HS2]: in the C++ model, without the edge
# the modification order of a counter may put a guest's fetch_add before the reset's
# store of 0 (a reset erasing an increment), but Relacy orders every atomic's stores as
# it executes them and serves a read-modify-write the latest one, so that execution does
# not exist there. What Relacy does show is a stale plain LOAD: the guest's load of a
# table code ([HN1]) returns the code claimed before the reset.

# [HS2] the guests' flip relaxed: the same edge, broken on the snapshot's side.
# Expected: as [HO1].
lockless_relacy_mutant(mutant_histogram_flip_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "lane.count_and_hot.value.exchange((hot ^ 1) << 63, std::memory_order_release);"
  REPLACE "lane.count_and_hot.value.exchange((hot ^ 1) << 63, std::memory_order_relaxed);")

# [HO4] a guest's completion relaxed: the snapshot sees `completed` reach `started`
# without the counters the call incremented: it reads a stale bucket or sum.
# Expected: assertion.
lockless_relacy_mutant(mutant_histogram_done_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "set.cells[completed_cell].fetch_add(1, std::memory_order_release);"
  REPLACE "set.cells[completed_cell].fetch_add(1, std::memory_order_relaxed);")

# [HS3] the snapshot's wait for the guests relaxed: the same edge, broken on the
# snapshot's side. Expected: as [HO4].
lockless_relacy_mutant(mutant_histogram_wait_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "while (old_hot.cells[completed_cell].load(std::memory_order_acquire) != started) wait.pause();"
  REPLACE "while (old_hot.cells[completed_cell].load(std::memory_order_relaxed) != started) wait.pause();")

# The snapshot does not wait for the guests that joined the old hot set (it checks
# once): it reads and resets a set that calls are still adding to. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_no_wait
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "while (old_hot.cells[completed_cell].load(std::memory_order_acquire) != started) wait.pause();"
  REPLACE "if (old_hot.cells[completed_cell].load(std::memory_order_acquire) != started) wait.pause();")

# [HS1] the snapshot mutex not taken: two snapshots flip, drain and compact at once, and
# update the base together. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_no_mutex
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "std::unique_lock<detail::mutex> lock(snap_.mutex);"
  REPLACE "std::unique_lock<detail::mutex> lock(snap_.mutex, std::defer_lock);")
lockless_relacy_mutant(mutant_histogram_no_mutex
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "lock.unlock();"
  REPLACE "{}")

# INV2 broken: the drained set is not reset, so its counts, already in the base, are
# counted again the next time the set is drained. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_no_reset
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "reset(old_hot);"
  REPLACE "{}")

# The owner lanes (hist_lanes): a snapshot's read of a lane is a seqlock read. Each
# mutant lets it keep a torn lane (a bucket counted without its sum, or the reverse).

# [HW2] the owner's counter store relaxed: it need not carry the odd sequence with it.
# Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lane_store_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_release);"
  REPLACE "c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);")

# [HW3] the owner's closing sequence store relaxed. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lane_publish_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "seq.store(s + 2, std::memory_order_release);"
  REPLACE "seq.store(s + 2, std::memory_order_relaxed);")

# [HR1] the snapshot's first sequence load relaxed. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lane_read_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "const std::uint64_t before = set.cells[seq_cell].load(std::memory_order_acquire);"
  REPLACE "const std::uint64_t before = set.cells[seq_cell].load(std::memory_order_relaxed);")

# [HR2] the snapshot's loads of the bucket counters relaxed. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lane_counters_relaxed
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "out[b] = cells[b].load(std::memory_order_acquire);"
  REPLACE "out[b] = cells[b].load(std::memory_order_relaxed);")

# [HR3] the snapshot does not re-read the sequence. Expected: assertion.
lockless_relacy_mutant(mutant_histogram_lane_no_recheck
  PROGRAM histogram_mutants
  HEADER lockless/histogram.hpp
  FIND "if (set.cells[seq_cell].load(std::memory_order_relaxed) == before) break;"
  REPLACE "break;")
