# Relacy mutants of unbounded_queue.hpp: deliberately broken copies of the header that the
# scenarios of unbounded_queue_scenarios.hpp must reject (lockless_relacy_mutant() in
# CMakeLists.txt). Each becomes the test relacy_<mutant>, built from
# unbounded_queue_mutants.cpp, whose table says which scenarios must catch it and how.
# Every FIND is exact code that occurs once in the header (after the earlier mutations of
# the same mutant).

# [UE2] the CAS that publishes an element (EMPTY -> FULL) relaxed: the pop that takes the
# cell reads an element it does not happen-after. Expected: DATA RACE on the element.
lockless_relacy_mutant(mutant_unbounded_queue_publish_relaxed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND [=[c.state.compare_exchange_strong(expected, cell_full, std::memory_order_release,
                                            std::memory_order_relaxed)]=]
  REPLACE [=[c.state.compare_exchange_strong(expected, cell_full, std::memory_order_relaxed,
                                            std::memory_order_relaxed)]=])

# [UD3] the pop's load of its cell's state relaxed: a FULL cell's element is read without
# the push's release. Expected: DATA RACE on the element.
lockless_relacy_mutant(mutant_unbounded_queue_take_relaxed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "std::uint32_t st = c.state.load(std::memory_order_acquire);"
  REPLACE "std::uint32_t st = c.state.load(std::memory_order_relaxed);")

# [UE3] the CAS that links a new segment without release (the failure order stays
# acquire): a thread that reaches the segment through seg->next, and then through head_ or
# tail_, does not see its initialisation nor the element in its cell 0. Expected: DATA RACE
# (a cell's marker or element against the segment's construction), or a lost value.
lockless_relacy_mutant(mutant_unbounded_queue_link_relaxed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND [=[seg->next.compare_exchange_strong(next, spare, std::memory_order_acq_rel,
                                              std::memory_order_acquire)]=]
  REPLACE [=[seg->next.compare_exchange_strong(next, spare, std::memory_order_acquire,
                                              std::memory_order_acquire)]=])

# [UN1] the pop's load of seg->next (moving head_ on) relaxed: the consumer enters the new
# segment without its initialisation. Expected: DATA RACE.
lockless_relacy_mutant(mutant_unbounded_queue_advance_next_relaxed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND [=[bool advance_head(segment* seg, Guard& guard) noexcept {
    segment* next = seg->next.load(std::memory_order_acquire);]=]
  REPLACE [=[bool advance_head(segment* seg, Guard& guard) noexcept {
    segment* next = seg->next.load(std::memory_order_relaxed);]=])

# [UE1] the push's ticket relaxed instead of seq_cst: the ticket and the closed_ check
# after it ([UC2]) can be ordered after close() and the consumer's drained check ([UD6])
# in S: the consumer says closed, then the push succeeds. Expected: assertion (closed said
# while a value is, or then gets, queued).
lockless_relacy_mutant(mutant_unbounded_queue_ticket_relaxed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "const std::uint64_t i = seg->enq.fetch_add(1, std::memory_order_seq_cst);"
  REPLACE "const std::uint64_t i = seg->enq.fetch_add(1, std::memory_order_relaxed);")

# [UC2] the push's closed_ check after its ticket acquire instead of seq_cst: the same
# store -> load pattern, broken on the other side. Expected: assertion, as above.
lockless_relacy_mutant(mutant_unbounded_queue_push_closed_acquire
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "if (closed_->load(std::memory_order_seq_cst)) {"
  REPLACE "if (closed_->load(std::memory_order_acquire)) {")

# Tried and NOT declared (not caught; the report / header comment says why):
#   [UH0] the tail_ CAS before the head CAS dropped, or moved after the head CAS and the
#         retire: 1,000,000 random executions of uq_tail_lag pass. tail_ lags a segment
#         only while the push that linked its successor is between [UE3] and [UE4], and
#         that push's own guard blocks the second epoch advance; the use after free needs
#         a third thread to pin between the first and the second advance, i.e. the linker
#         stalled across a whole pop and flush: three preemptions at chosen points (random
#         schedules: about (2/3)^40; context bound 3 with three threads is far too dear).

# The consumer's look answers empty for "only the ticket at deq, its cell unwritten"
# without checking closed_ ([UC3]): once a push that took that ticket read closed and gave
# up, the queue says empty for ever instead of closed. Expected: assertion (empty after
# close) or DEADLOCK (a blocking pop never told closed).
lockless_relacy_mutant(mutant_unbounded_queue_look_ignores_closed
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "if (e == d + 1 && !closed_->load(std::memory_order_seq_cst)) {"
  REPLACE "if (e == d + 1) {")

# drained() says closed for a full last segment without sealing it ([UC5]): a push that
# read closed_ false before the close then links a successor with its element, after a
# pop said closed. Expected: assertion (a value queued after closed was said).
lockless_relacy_mutant(mutant_unbounded_queue_closed_without_seal
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND [=[if (seg->next.compare_exchange_strong(next, sealed(), std::memory_order_acq_rel,
                                          std::memory_order_acquire) ||
        next == sealed()) {]=]
  REPLACE "if (next == nullptr || next == sealed()) {")

# Wake-up: close() does not wake the sleeping pops. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_unbounded_queue_close_no_notify
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "if constexpr (may_block) not_empty_->notify_all();"
  REPLACE "{}")

# Wake-up: a push does not wake a sleeping pop. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_unbounded_queue_push_no_notify
  PROGRAM unbounded_queue_mutants
  HEADER lockless/unbounded_queue.hpp
  FIND "if constexpr (may_block) not_empty_->notify_one_after_rmw();"
  REPLACE "{}")
