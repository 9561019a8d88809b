# Relacy mutants of bounded_queue.hpp (the cell ring): deliberately broken copies of the
# header that the scenarios of bounded_queue_scenarios.hpp must reject
# (lockless_relacy_mutant() in CMakeLists.txt). Each becomes the test relacy_<mutant>,
# built from bounded_queue_mutants.cpp, whose table says which scenarios must catch it and
# how.
#
# Every FIND is exact code and must occur once in the header (after the earlier mutations
# of the same mutant). The CASes on a cell word are told apart by the word they write
# (encode(..., claimed / full / busy), or nw for the release) and the two takes [QT3] by
# the name of the expected word (e in try_pop, w in lookahead()). A relaxed success order
# needs a relaxed failure order under Relacy, so a weakened CAS is relaxed/relaxed.

# (a) [QP4] the publish (claimed -> full) relaxed: the element's construction no longer
#     happens-before its move-out by the pop that takes it ([QT3]). Expected: DATA RACE on
#     the cell (its access_marker: the push's build against the pop's move-out).
lockless_relacy_mutant(mutant_bounded_queue_publish_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.w.compare_exchange_weak(w, encode(x.lap, x.dead, x.closed_after, full),
                                    std::memory_order_release, std::memory_order_relaxed)]=]
  REPLACE [=[c.w.compare_exchange_weak(w, encode(x.lap, x.dead, x.closed_after, full),
                                    std::memory_order_relaxed, std::memory_order_relaxed)]=])

# (b) [QT3] the take (full -> busy) relaxed, both of them: try_pop's and lookahead()'s.
#     The other half of (a). Expected: DATA RACE on the cell. (It is try_pop's take that
#     is caught: lookahead()'s alone passes 300,000 executions of every scenario, because
#     its scan has read the same full word with a seq_cst load [QW1] just before, and
#     that load acquires the publish already.)
lockless_relacy_mutant(mutant_bounded_queue_take_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.w.compare_exchange_strong(e, encode(x.lap, x.dead, x.closed_after, busy),
                                          std::memory_order_acquire, std::memory_order_acquire)]=]
  REPLACE [=[c.w.compare_exchange_strong(e, encode(x.lap, x.dead, x.closed_after, busy),
                                          std::memory_order_relaxed, std::memory_order_relaxed)]=])
lockless_relacy_mutant(mutant_bounded_queue_take_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.w.compare_exchange_strong(w, encode(x.lap, x.dead, x.closed_after, busy),
                                     std::memory_order_acquire, std::memory_order_acquire)]=]
  REPLACE [=[c.w.compare_exchange_strong(w, encode(x.lap, x.dead, x.closed_after, busy),
                                     std::memory_order_relaxed, std::memory_order_relaxed)]=])

# (c) [QT4] the release (busy or abandoned -> vacant for the next lap) relaxed: the pop's
#     move-out (or an abandoned push's take-back) no longer happens-before the next push
#     builds in the cell ([QP3]). Expected: DATA RACE on the cell, in every scenario that
#     puts a second element through a cell.
lockless_relacy_mutant(mutant_bounded_queue_release_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.w.compare_exchange_weak(w, nw, std::memory_order_release,
                                    std::memory_order_relaxed)]=]
  REPLACE [=[c.w.compare_exchange_weak(w, nw, std::memory_order_relaxed,
                                    std::memory_order_relaxed)]=])

# (d) [QP3] the claim (vacant -> claimed) relaxed: the other half of (c). Expected: DATA
#     RACE on the cell, as in (c).
lockless_relacy_mutant(mutant_bounded_queue_claim_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.w.compare_exchange_strong(w, encode(x.lap, 0, false, claimed),
                                        std::memory_order_acquire, std::memory_order_acquire)]=]
  REPLACE [=[c.w.compare_exchange_strong(w, encode(x.lap, 0, false, claimed),
                                        std::memory_order_relaxed, std::memory_order_relaxed)]=])

# (e) [QP1] claim()'s early-exit load of closed_ relaxed: a push refused for closed no
#     longer synchronises with the close ([QC2]), so a later pop of the same thread may
#     read the cells ([QT2], relaxed) as they were before the marker and answer empty.
#     Expected: an assertion (a thread told closed by a push hears empty from a pop).
lockless_relacy_mutant(mutant_bounded_queue_push_closed_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (closed_.load(std::memory_order_acquire)) return queue_status::closed;"
  REPLACE "if (closed_.load(std::memory_order_relaxed)) return queue_status::closed;")

# (f) [QC2] close()'s store of closed_ relaxed: the pair of (e), broken on the closing side.
#     Expected: an assertion, as in (e).
lockless_relacy_mutant(mutant_bounded_queue_close_flag_relaxed
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "closed_.store(true, std::memory_order_seq_cst);"
  REPLACE "closed_.store(true, std::memory_order_relaxed);")

# (g) Program order: take() releases the cell ([QT4]) BEFORE moving the element out, so
#     the next push may claim the cell ([QP3]) and build its element over the one being
#     moved. Relacy sees the element's accesses only through the cell's access marker and
#     has no scheduling point between the release's CAS and the move, so the marker's write
#     moves along with the move-out it marks (with the marker left before the release, the
#     mutant is invisible: 20,000 executions of every scenario pass). Expected: DATA RACE
#     on the cell (the pop's move-out against the next push's build, which acquired a
#     release made before that move-out).
lockless_relacy_mutant(mutant_bounded_queue_release_before_move
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND [=[c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());
    release(c);]=]
  REPLACE [=[release(c);
    c.marker.write();
    queue_result<T> r(std::in_place, std::move(*c.get()));
    std::destroy_at(c.get());]=])

# (h) Wake-up: close() does not wake the sleeping pops. Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_close_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "not_empty_->notify_all();"
  REPLACE "{}")

# (i) Wake-up: a push does not wake a sleeping pop after its publish ([QP4]).
#     Expected: DEADLOCK.
lockless_relacy_mutant(mutant_bounded_queue_push_no_notify
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if constexpr (may_block) not_empty_->notify_one_after_rmw();"
  REPLACE "{}")

# (j) is_closed() reads only the flag, not the marker placed before it ([QC3]). The
#     scenarios 1-9 never call is_closed() while the others run (after() calls it once the
#     flag is set); bq_close_observe ({"ixs", "rrs"} at capacity 1, try-only) does, after a
#     pop that read the marker. Expected: an assertion (that thread's is_closed() says
#     false after its pop said closed); found at execution 2,992 of a random run, 25 at
#     context bound 1. (The research prototype's first version had exactly this bug; the
#     dsched scenario test caught it there: a bulk push refused by the marker was recorded
#     as full.)
lockless_relacy_mutant(mutant_bounded_queue_is_closed_flag_only
  PROGRAM bounded_queue_mutants
  HEADER lockless/bounded_queue.hpp
  FIND "if (closed_.load(std::memory_order_seq_cst)) return true;"
  REPLACE "return closed_.load(std::memory_order_seq_cst);")

# Tried and NOT caught (no mutant declared):
#   lookahead() answers empty without reading h0 .. f-1 once more ([QW1]; the re-read loop
#         made to run zero times): 500,000 random executions of every scenario pass, and
#         bq_try_three at context bound 2 does not finish in 300 s. What it breaks is
#         linearizability against real time (a ticket before the frontier published while
#         the scan went on, so that there was never a moment with the queue empty), which
#         the scenarios' checks cannot see: they compare operations only in one thread's
#         program order, and the popping thread's own pushes are always seen by the scan
#         (it stops at the first published ticket, and the thread's own publish is visible
#         to it by coherence).
#   lookahead()'s take alone relaxed ([QT3]): see (b).
