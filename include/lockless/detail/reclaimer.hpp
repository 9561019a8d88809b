// lockless/detail/reclaimer.hpp: the `reclaimer` concept, the seam between node-based
// containers and their memory-reclamation scheme.
//
// WHAT
//   A container that unlinks nodes other threads may still be reading takes a Reclaimer
//   type parameter (treiber_stack<T, Reclaimer = epoch_reclaimer>) and checks it with
//   static_assert(detail::reclaimer<Reclaimer>). It never deletes an unlinked node and
//   never dereferences a shared node it did not obtain through a guard, so a scheme can be
//   swapped without touching the container's algorithm. The shape is the one a
//   pointer-based scheme needs (hazard pointers: a pointer is safe only once it has been
//   published in a slot and re-validated against its source), of which epochs are the
//   degenerate case where the pin alone protects everything.
//
// THE CONTRACT (R a reclaimer, g an R::guard_type, src a const detail::atomic<T*>&)
//   R::guard_type   RAII: what the container holds around every access that dereferences
//                   shared nodes. Need not be copyable or movable (pin() returns a prvalue).
//   r.pin()         begins a protected section and returns its guard. May throw (e.g.
//                   bad_alloc when a thread registers); then nothing happened. Containers
//                   call it before touching the structure, so a throw leaves it unchanged.
//                   A const member: the reclaimer object is shared by all threads.
//   g.protect(src, order) -> T*
//                   loads src with `order` and returns the pointer, which stays safe to
//                   dereference (not freed, not reused) while g lives, unless g protects
//                   something else since (below). `order` is the order of the load that
//                   produced the pointer, chosen by the container for its own reasons:
//                   acquire to pair with the release that published the node, so its
//                   fields are visible. A scheme may load src several times (hazard
//                   pointers: load, publish, full fence, re-load until stable); each of
//                   those loads uses `order`, and the value returned is the last one read.
//                   Epochs: one load; the pin already protects every node that was
//                   reachable after it began.
//   g.protect(src, loaded, order) -> T*
//                   the same for a pointer the container has just read from src by other
//                   means with at least `order` (e.g. the reload of a failed CAS): makes
//                   it safe to dereference and returns the pointer to use, which for a
//                   pointer-based scheme may be a newer value of src (re-validation
//                   failed: loaded with `order`). Epochs: returns `loaded`, no load.
//                   Containers pass every pointer they will dereference through one of
//                   the two protect()s.
//   Scope of protection: a pointer returned by protect() is guaranteed safe until the
//                   guard's next protect() or its destruction, whichever comes first (a
//                   pointer-based scheme may have one slot per guard). Schemes may give
//                   more (epochs protect everything while pinned); containers rely on no
//                   more. A container that must hold k pointers at once takes k guards.
//   g.retire(p), g.retire(p, deleter)
//                   hands over a node that the caller has unlinked (unreachable for
//                   threads that start a protected section afterwards) and that nobody
//                   retires again: it is destroyed with `delete p` (or `deleter(p)`) once
//                   no guard can still reach it, possibly long after g is gone. noexcept:
//                   after the unlink there is no way back (a scheme that cannot store the
//                   node calls std::terminate). Deleters must not throw.
//   R               nothrow move constructible (containers take it by value and move it
//                   into a member). What a retire was handed must stay valid until the
//                   scheme frees it: a scheme with shared state (an epoch domain) must
//                   outlive every container using it; one whose state the object owns
//                   frees what is left when it is destroyed, after its container.
//
// The concept checks signatures, noexcept and result types with a probe node type; the
// semantics above are the scheme's promise and are tested per scheme (tests/unit/).
#pragma once

#include <concepts>
#include <type_traits>

#include "atomic.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail {

// Stand-ins for a container's private node type and a deleter, for the checks below.
struct reclaimer_probe_node {};
struct reclaimer_probe_deleter {
  void operator()(reclaimer_probe_node*) const noexcept {}
};

template <class G>
concept reclaimer_guard =
    std::is_object_v<G> && std::is_nothrow_destructible_v<G> &&
    requires(G& g, const atomic<reclaimer_probe_node*>& src, reclaimer_probe_node* p,
             reclaimer_probe_deleter del, memory_order order) {
      { g.protect(src, order) } noexcept -> std::same_as<reclaimer_probe_node*>;
      { g.protect(src, p, order) } noexcept -> std::same_as<reclaimer_probe_node*>;
      { g.retire(p) } noexcept;
      { g.retire(p, del) } noexcept;
    };

template <class R>
concept reclaimer = std::is_object_v<R> && std::is_nothrow_move_constructible_v<R> && requires {
  typename R::guard_type;
} && reclaimer_guard<typename R::guard_type> && requires(const R& r) {
  { r.pin() } -> std::same_as<typename R::guard_type>;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE::detail
