// lockless/treiber_stack.hpp: Treiber's lock-free LIFO stack.
//
// WHAT
//   An unbounded multi-producer multi-consumer stack: a singly linked list whose head is
//   one atomic pointer. push links a new node in front of the head with a CAS; pop swings
//   the head to the second node with a CAS. The simplest lock-free structure there is,
//   and the pattern every node-based structure of this library copies: nodes carry a
//   payload in a detail::var, every pointer that is dereferenced comes from the
//   Reclaimer's guard.protect(), unlinked nodes go to the Reclaimer, never to delete.
//   Reclaimer: any detail::reclaimer (detail/reclaimer.hpp); epoch_reclaimer by default.
//   The code is detail::treiber_core below, written once for two stacks: treiber_stack
//   backs off after a failed CAS (detail::backoff), elimination_stack (elimination_stack.hpp)
//   sends the operation to an elimination array instead. Every tag of this header is in
//   treiber_core.
//
// GUARANTEES
//   Linearizable LIFO stack. Every pushed value is popped at most once; a value is
//   popped only after its push began. Values pushed by one thread, and not popped in
//   between, come out in reverse order of their pushes.
//   Progress: push and try_pop are lock-free apart from memory allocation (push takes a
//   node from a per-thread cache, else from operator new). Each retries a
//   compare_exchange_weak on head_, and a failed attempt is either another operation's CAS
//   on head_ succeeding or a spurious failure of the weak CAS. C++ does not bound spurious
//   failures, so the lock-freedom argument leans on the hardware: x86-64 (LOCK CMPXCHG)
//   and AArch64 with LSE (CAS) never fail spuriously; on LL/SC machines a spurious failure
//   needs the reservation lost between the load-linked and the store-conditional (an
//   interrupt, an eviction), which does not recur forever, and the loop retries.
//   compare_exchange_strong would not remove this assumption, only move it into its own
//   LL/SC retry loop. Neither is wait-free (a thread can lose every CAS under contention).
//   A preempted thread stalls nobody, except that while it is inside try_pop it holds a
//   Reclaimer guard: with epochs, that delays the reclamation of every node retired
//   meanwhile (see epoch.hpp). So try_pop never gives its CPU away of its own accord: its
//   backoff spins and does not yield (push's does).
//   Exceptions: push/emplace give the strong guarantee (allocation or T's constructor
//   throws: the stack is unchanged). try_pop needs T's move constructor to be noexcept
//   (checked at compile time), because after the winning CAS the node is ours alone and
//   there is no way to put it back without reintroducing ABA. try_pop may throw
//   std::bad_alloc before it touches the stack (pin() may throw: a thread's first epoch
//   guard registers it with the domain); after the winning CAS, retiring the node cannot
//   fail (noexcept by the concept) except by std::terminate, with epochs when no memory
//   is left for a retire batch (see epoch.hpp retire()).
//
// MEMORY-ORDERING CONTRACT
//   [TP1] push reads head_ relaxed: only a first guess for the CAS.
//   [TP2] push's CAS is release: the node's payload and next pointer are written before it
//         and become visible with it. Pairs with [TC1]/[TC3] (acquire loads of head_).
//   [TC1] pop's load of head_ is acquire, so reading the node's next and payload after it
//         sees what [TP2] published. It is guard.protect(head_, acquire): the Reclaimer does
//         the load with that order (epochs: exactly one load; see detail/reclaimer.hpp).
//   [TC2] pop reads the node's next: safe because the node is guarded and next is
//         immutable once published.
//   [TC3] pop's CAS is acquire on failure: it reloads head_ into `expected` and the next
//         round reads that node's next ([TC2]) before its CAS; pairs with [TP2] (checked by
//         a mutant). The success order claims nothing: every write to head_ is an RMW, so
//         the load that produced `expected` already synchronized with the node's push. It
//         is acquire in the code only because Relacy (2019) cannot model a failure order
//         stronger than the success order. The reloaded pointer then goes through
//         guard.protect(head_, expected, acquire) before the next round dereferences it:
//         for epochs that returns it unchanged, no load (the pin protects it already); a
//         pointer-based scheme (hazard pointers) would publish it and re-validate it
//         against head_, returning a newer head (loaded acquire) if it changed.
//   Reclamation: try_pop holds the Reclaimer's guard from [TC1] until the node is retired;
//   every node it dereferences came from guard.protect(). With epochs the guard (epoch.hpp
//   [EG1]) orders its pin before [TC1].
//
// INVARIANTS
//   INV1: every node reachable from head_ was published by a release CAS [TP2], and its
//         next field never changes after that.
//   INV2: a node is unlinked by exactly one successful CAS [TC3], and only that thread
//         touches its payload afterwards, then retires it (never deletes it directly).
//   INV3: no ABA. A node a popper holds in `expected` cannot be freed and reallocated
//         while its guard protects it, so head_ == expected at [TC3] means the node is
//         still the head, and its next (INV1) is the right successor. push needs no
//         guard: it never dereferences head_, and an ABA on the value it compares is
//         harmless (the new node links to whatever head_ is at the CAS).
//
// LINEARIZATION POINTS
//   LP(push): the successful CAS [TP2].
//   LP(try_pop, success): the successful CAS [TC3].
//   LP(try_pop, empty): the load [TC1] or failed-CAS reload [TC3] that returned null (with
//   a pointer-based Reclaimer, possibly the re-validating load of its protect()).
//   was_empty(): the load [TW1]; the answer may be stale by the time it is used.
//
// WHEN NOT TO USE IT
//   Under heavy contention all threads fight for one cache line: throughput falls below
//   a mutex-protected std::stack on small machines, and it does not scale. Prefer
//   elimination_stack when push and pop rates are similar and contention is high, or a
//   per-thread design when LIFO order across threads is not needed.
//
// REFERENCES
//   R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM Research Report
//     RJ 5118, 1986.
//   M. Herlihy, N. Shavit, "The Art of Multiprocessor Programming", ch. 11.
//   docs/algorithms/treiber_stack.md: the teaching page for this header.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "detail/atomic.hpp"
#include "detail/node_pool.hpp"
#include "detail/platform.hpp"
#include "detail/reclaimer.hpp"
#include "epoch.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// The reclaimer frees popped nodes a bag at a time; the node pool's per-thread cache must
// hold a whole bag of them (detail/node_pool.hpp), or every bag spills into the allocator.
static_assert(detail::node_pool<1, 1>::capacity >= detail::epoch_bag::capacity,
              "the node pool's cache holds a whole epoch bag");

namespace detail {

// What a Treiber stack does after a failed CAS on head_: the contention policy. The stack's
// code (treiber_core below) is written once; treiber_stack plugs in plain exponential
// backoff, elimination_stack (elimination_stack.hpp) plugs in an elimination array, where a
// push and a pop that both failed can meet and cancel out. A policy is an object stored in
// the stack with a begin() that returns the per-operation state, which has
//   exchange_first        (static constexpr bool) visit the policy before the first CAS
//                         (elimination_stack's test mode that forces exchanges), with
//   push_first(node), pop_first()  as the two below, but not after a failed CAS
//   push_conflict(node)   after a failed push CAS: true when the node was handed to a pop
//                         (the push is then complete and the node no longer the caller's)
//   pop_conflict()        after a failed pop CAS: a node handed over by a push (the pop
//                         owns it: nobody else ever dereferences it), or nullptr
// The stack calls begin() only after its first CAS failed (or, with exchange_first, at
// once), so an uncontended operation never builds the policy's state.
struct no_elimination {
  struct attempt {
    static constexpr bool exchange_first = false;
    // The first retry already waits 32 PAUSEs: a failed CAS on head_ means another core
    // owns its line, and retrying at once only takes the line away from the thread that is
    // about to succeed (measured on 2 vCPUs: 13.5 -> 25.8 M pairs/s at 2 threads, 13.4 ->
    // 23.6 at 4; docs/benchmarks.md). The pop's backoff never yields the CPU: it holds its
    // Reclaimer guard, and with epochs a thread off the CPU while pinned stops every node
    // retired meanwhile from being freed (measured on 2 vCPUs at 8 threads: about 27 ->
    // 43 M pairs/s).
    backoff bo{32};
    bool push_conflict(void*) noexcept {
      bo.pause();
      return false;
    }
    void* pop_conflict() noexcept {
      bo.pause_pinned();  // the pop holds its guard: never yield it away (detail::backoff)
      return nullptr;
    }
  };
  static attempt begin() noexcept { return {}; }
  static constexpr bool exchange_first = attempt::exchange_first;
};

// The Treiber stack itself, for treiber_stack and elimination_stack: every tag of this
// header is in here. Contention: the policy above.
template <class T, class Reclaimer, class Contention>
class treiber_core {
  static_assert(std::is_object_v<T> && !std::is_const_v<T>,
                "treiber_stack<T>: T must be a non-const object type");
  static_assert(std::is_nothrow_destructible_v<T>, "treiber_stack<T>: ~T() must not throw");
  static_assert(detail::reclaimer<Reclaimer>,
                "treiber_stack<T, Reclaimer>: Reclaimer must model lockless::detail::reclaimer "
                "(guard_type, pin(), guard.protect(source, order), guard.retire(p); see "
                "lockless/detail/reclaimer.hpp)");

 public:
  using value_type = T;
  using reclaimer_type = Reclaimer;

  treiber_core() = default;
  explicit treiber_core(Reclaimer reclaimer) noexcept(
      std::is_nothrow_move_constructible_v<Reclaimer>)
      : reclaimer_(std::move(reclaimer)) {}

  treiber_core(const treiber_core&) = delete;
  treiber_core& operator=(const treiber_core&) = delete;

  // Destroys the remaining values. Precondition: no other thread uses the stack. Nodes
  // popped earlier are owned by the reclaimer and freed by it.
  ~treiber_core() {
    node* n = head_->load(std::memory_order_acquire);  // quiescent: pairs with [TP2]
    while (n != nullptr) delete std::exchange(n, n->next.get());
  }

  void push(const T& value)
    requires std::is_copy_constructible_v<T>
  {
    emplace(value);
  }
  void push(T&& value)
    requires std::is_move_constructible_v<T>
  {
    emplace(std::move(value));
  }

  // Constructs the value in a new node, then links it. Strong exception guarantee.
  template <class... Args>
  void emplace(Args&&... args)
    requires std::is_constructible_v<T, Args...>
  {
    node* n = new node(std::forward<Args>(args)...);  // may throw: nothing published yet
    // [TP1] relaxed: only the first guess for the CAS, which validates it.
    node* expected = head_->load(std::memory_order_relaxed);
    if constexpr (contention_type::exchange_first) {
      push_contended(n, expected);  // the policy's test mode: the exchanger first
      return;
    }
    n->next.get_mut() = expected;  // n is still private: a plain write
    if (link(n, expected)) [[likely]]
      return;
    push_contended(n, expected);
  }

  // Pops the top value into a new optional, or returns nullopt if the stack was empty.
  [[nodiscard]] std::optional<T> try_pop() {
    std::optional<T> out;
    pop_into([&](T&& v) noexcept { out.emplace(std::move(v)); });
    return out;
  }

  // Pops the top value into `out` (move-assigned) and returns true, or returns false
  // and leaves `out` untouched. T's move assignment must be noexcept as well.
  [[nodiscard]] bool try_pop(T& out) {
    static_assert(std::is_nothrow_move_assignable_v<T>,
                  "treiber_stack<T>::try_pop(T&) needs a noexcept move assignment; use "
                  "the std::optional<T> overload");
    return pop_into([&](T&& v) noexcept { out = std::move(v); });
  }

  // True if the stack was empty at some moment during the call. Approximate by nature:
  // another thread may push or pop right after.
  [[nodiscard]] bool was_empty() const noexcept {
    // [TW1] relaxed: only the null test is used, nothing is dereferenced.
    return head_->load(std::memory_order_relaxed) == nullptr;
  }

  [[nodiscard]] const Reclaimer& reclaimer() const noexcept { return reclaimer_; }

 private:
  // Nodes come from a per-thread block cache (detail/node_pool.hpp): a popped node's
  // memory is reused only after the reclaimer frees it, i.e. when no guard can reach it.
  struct node : detail::pooled<node> {
    template <class... Args>
    explicit node(Args&&... args)
        : value(std::in_place, std::forward<Args>(args)...), next(std::in_place, nullptr) {}
    detail::var<T> value;
    detail::var<node*> next;
  };

  // [TP2], the push's one CAS: links n (whose next is `expected`) in front of the head.
  bool link(node* n, node*& expected) noexcept {
    // [TP2] release: publishes n's payload and next (INV1); pairs with [TC1]/[TC3].
    // LP(push) on success. On failure `expected` gets the current head (relaxed: it
    // is not dereferenced, only linked to).
    return head_->compare_exchange_weak(expected, n, std::memory_order_release,
                                        std::memory_order_relaxed);
  }

  // After a failed [TP2] (or first, in the policy's test mode): the policy's turn (backoff,
  // or an exchange that hands n to a pop), then [TP2] again, until one of them succeeds.
  // Out of line: the uncontended push never builds the policy's per-operation state.
  [[gnu::noinline]] void push_contended(node* n, node* expected) noexcept {
    auto cm = contention_.begin();
    if constexpr (contention_type::exchange_first) {
      if (cm.push_first(n)) return;  // handed to a pop: n is no longer ours
    } else {
      if (cm.push_conflict(n)) return;
    }
    for (;;) {
      // `expected` is the head the failed CAS read; stale after an exchange attempt, which
      // costs one more failed CAS, never a wrong link.
      n->next.get_mut() = expected;  // n is still private: a plain write
      if (link(n, expected)) return;
      if (cm.push_conflict(n)) return;  // handed to a pop: n is no longer ours
    }
  }

  // The pop: hands the value, moved out of the unlinked node, to `sink`.
  template <class Sink>
  bool pop_into(Sink&& sink) {
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "treiber_stack<T>::try_pop needs a noexcept move constructor: once a node "
                  "is unlinked there is no safe way to put it back (ABA), so a throwing "
                  "move would lose the value. Wrap T in std::unique_ptr if needed.");
    auto guard = reclaimer_.pin();  // may throw: nothing touched yet
    if constexpr (contention_type::exchange_first) {
      // The policy's test mode: the exchanger before the central stack.
      if (void* got = contention_.begin().pop_first()) return take_handed(got, sink);
    }
    // [TC1] acquire: pairs with [TP2]; the node's next and payload are visible. Protected:
    // allocated for as long as the guard protects it (INV3).
    node* expected = guard.protect(head_.value, std::memory_order_acquire);
    if (expected == nullptr) return false;  // LP(try_pop, empty) when this reads null
    if (unlink(expected)) [[likely]]
      return finish_pop(guard, expected, sink);
    return pop_contended(guard, expected, sink);
  }

  // [TC2] and [TC3], the pop's one CAS: swings the head from `expected` to its next.
  bool unlink(node*& expected) noexcept {
    node* next = expected->next.get();  // [TC2] safe: protected (INV3), immutable (INV1)
    // [TC3] acquire on failure: the reloaded head is dereferenced in the next round;
    // pairs with [TP2]. The success order claims nothing (the load that produced
    // `expected` already synchronized with its push) and is acquire only because
    // Relacy (2019) rejects a failure order stronger than the success order.
    // LP(try_pop) on success.
    return head_->compare_exchange_weak(expected, next, std::memory_order_acquire,
                                        std::memory_order_acquire);
  }

  // After a failed [TC3]: the policy's turn (backoff, or an exchange with a push that hands
  // its node over), then [TC3] again, until the pop succeeds or finds the stack empty.
  // Inline (the guard and the sink stay in registers), but only reached after a failure,
  // so the uncontended pop never builds the policy's state either.
  template <class Guard, class Sink>
  bool pop_contended(Guard& guard, node* expected, Sink& sink) {
    auto cm = contention_.begin();
    for (;;) {
      // [TC3] failed: `expected` is the head it reloaded (acquire), not yet protected.
      // Epochs: returned as is, no load. Pointer-based schemes: published and
      // re-validated against head_ (a newer head comes back, loaded acquire).
      expected = guard.protect(head_.value, expected, std::memory_order_acquire);
      if (void* got = cm.pop_conflict()) return take_handed(got, sink);
      if (expected == nullptr) return false;  // LP(try_pop, empty) when this reads null
      if (unlink(expected)) return finish_pop(guard, expected, sink);
    }
  }

  // After the winning [TC3]: the node is ours alone (INV2).
  template <class Guard, class Sink>
  static bool finish_pop(Guard& guard, node* expected, Sink& sink) noexcept {
    sink(std::move(expected->value.get_mut()));  // INV2: ours alone now
    guard.retire(expected);                      // readers that loaded it may still look at next
    return true;
  }

  // A node a push handed over through the contention policy: it never was in the stack
  // and nobody else ever dereferences it, so it is freed at once, not retired.
  template <class Sink>
  static bool take_handed(void* got, Sink& sink) noexcept {
    node* n = static_cast<node*>(got);
    sink(std::move(n->value.get_mut()));
    delete n;
    return true;
  }

  detail::cache_padded<detail::atomic<node*>> head_{nullptr};  // alone on its line(s)
  [[no_unique_address]] Reclaimer reclaimer_;

 protected:
  using contention_type = Contention;
  // For a policy that keeps state bits below a node's address (elimination_stack.hpp).
  static constexpr std::size_t node_alignment = alignof(node);

  [[no_unique_address]] Contention contention_;
};

}  // namespace detail

template <class T, class Reclaimer = epoch_reclaimer>
class treiber_stack : public detail::treiber_core<T, Reclaimer, detail::no_elimination> {
 public:
  using detail::treiber_core<T, Reclaimer, detail::no_elimination>::treiber_core;
};

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE
