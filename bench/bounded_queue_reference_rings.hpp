// bench/bounded_queue_reference_rings.hpp: four reference rings for bench_bounded_queue's
// try rows. They are cost models, not queues: no close, no blocking, no strict
// lock-freedom (a producer preempted between claiming and filling a slot stalls every
// consumer behind it, as in any Vyukov ring), values are std::uint64_t only. They answer
// one question: what does one step cost, when everything else is Vyukov's ring (the
// fastest FIFO ring on this machine: xenium's vyukov_bounded_queue)? Three vary the step
// that publishes an element; ref_ring_wrap varies only the shape of the claim's code.
//
//   ref_ring_store     Vyukov's ring as xenium has it: the tail (head) is claimed with a CAS
//                      when the slot's sequence word says it is free (full); the element
//                      is published with a release store of the sequence word. One
//                      read-modify-write per operation.
//   ref_ring_rmw       the same, but the publishing write is an exchange (an RMW), as in
//                      every design where a producer must learn atomically, when it
//                      publishes, whether a consumer gave up on its slot meanwhile (SCQ and
//                      LCRQ burn such a slot with a CAS; lockless::bounded_queue does four
//                      RMWs per operation over two index rings). Two RMWs per operation.
//   ref_ring_asym      the publish step of the next bounded_queue design
//                      (docs/algorithms/bounded_queue.md, "Toward Vyukov's speed"): a plain
//                      release store, then detail::asymmetric_fence::light_fence() (a
//                      compiler barrier once armed) and a load of the slot's "given up"
//                      mark, kept in a separate, read-mostly array. The consumer that gives
//                      up on a slot would pay heavy_fence() (a membarrier system call); here
//                      nobody ever gives up, so this is the fast path's cost only.
//                      Counter overtakes_per_m_items: how often, per million items, a
//                      failed try_pop found its slot unpublished while a later ticket had
//                      already been taken (tail > head + 1), and still unpublished when it
//                      looked again: an upper bound on how often a consumer of the strictly
//                      lock-free design would have to give up on a slot and pay the system
//                      call (a Vyukov consumer just answers "empty" there).
//   ref_ring_wrap      ref_ring_store, except that both claims compute the next ticket as a
//                      ring of any capacity must (bounded_queue's exact capacity): the
//                      position plus one, unless that is the capacity, when the ticket
//                      jumps to the next lap, behind a branch taken once a lap. At a
//                      power-of-two capacity the tickets are the same numbers as
//                      ref_ring_store's, so the two rows run the same memory operations in
//                      the same order and differ in a few instructions. Where the rows part
//                      (the oversubscribed try rows on 2 CPUs), the row reads something
//                      other than the ring's cost (docs/benchmarks.md, "The oversubscribed
//                      try rows read the scheduler").
//
// The capacity is rounded up to a power of two (1024 in the throughput rows, so nothing
// changes). Everything here is deliberately written like the peers' rings, in plain
// std::atomic, so that the rows differ only in the one step each varies.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include <lockless/detail/asymmetric_fence.hpp>

namespace lockless_bench {

enum class publish_kind { store, rmw, asym, wrap };

template <publish_kind Kind>
class reference_ring {
  struct cell {
    std::atomic<std::uint64_t> seq;
    std::uint64_t value;
  };
  // The "given up" marks of ref_ring_asym: the last ticket a consumer gave up on (read by
  // the producer after publishing) and the last a producer gave up on (read by the
  // consumer after freeing). Never written in these benchmarks.
  struct marks {
    std::atomic<std::uint64_t> consumer_gave_up{~std::uint64_t{0}};
    std::atomic<std::uint64_t> producer_gave_up{~std::uint64_t{0}};
  };

 public:
  explicit reference_ring(std::size_t capacity)
      : size_(round_up(capacity)),
        mask_(size_ - 1),
        cells_(new cell[size_]),
        marks_(Kind == publish_kind::asym ? new marks[size_] : nullptr) {
    for (std::size_t i = 0; i < size_; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
    if constexpr (Kind == publish_kind::asym) (void)lockless::detail::asymmetric_fence::arm();
  }

  bool try_push(std::uint64_t v) {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    cell* c = nullptr;
    for (;;) {
      c = &cells_[pos & mask_];
      const std::uint64_t s = c->seq.load(std::memory_order_acquire);
      if (s == pos) {
        if (tail_.compare_exchange_weak(pos, next(pos), std::memory_order_relaxed)) break;
      } else if (s < pos) {
        return false;  // full
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    c->value = v;
    publish(*c, pos + 1, &marks::consumer_gave_up, pos);
    return true;
  }

  bool try_pop(std::uint64_t& out) {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    cell* c = nullptr;
    for (;;) {
      c = &cells_[pos & mask_];
      const std::uint64_t s = c->seq.load(std::memory_order_acquire);
      if (s == pos + 1) {
        if (head_.compare_exchange_weak(pos, next(pos), std::memory_order_relaxed)) break;
      } else if (s < pos + 1) {
        if constexpr (Kind == publish_kind::asym) {
          // Still unpublished after a later ticket was seen taken (the re-read keeps a
          // single producer that published between the two loads from counting).
          if (s == pos && tail_.load(std::memory_order_relaxed) > pos + 1 &&
              c->seq.load(std::memory_order_acquire) == pos) {
            ++overtakes_;
          }
        }
        return false;  // empty
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
    out = c->value;
    publish(*c, pos + size_, &marks::producer_gave_up, pos + size_);
    return true;
  }

  // Overtakes seen by the calling thread's failed pops so far (ref_ring_asym only).
  static std::uint64_t overtakes_here() noexcept { return overtakes_; }

 private:
  // The ticket after t: t + 1, written for ref_ring_wrap as bounded_queue's claim writes it
  // (bounded_queue::next with size_ as the capacity and mask_ as its position mask).
  std::uint64_t next(std::uint64_t t) const {
    if constexpr (Kind == publish_kind::wrap) {
      if ((t & mask_) + 1 < size_) [[likely]]
        return t + 1;
      return (t | mask_) + 1;
    } else {
      return t + 1;
    }
  }

  static std::size_t round_up(std::size_t n) {
    std::size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }

  // Publishes `seq` (full for the consumer, or free for the next lap's producer); with
  // Kind == asym, then checks the other side's mark for `ticket` (the marks are touched
  // only in that kind, so the three rows differ in nothing else).
  void publish(cell& c, std::uint64_t seq, std::atomic<std::uint64_t> marks::* mark,
               std::uint64_t ticket) {
    if constexpr (Kind == publish_kind::rmw) {
      (void)c.seq.exchange(seq, std::memory_order_acq_rel);
    } else {
      c.seq.store(seq, std::memory_order_release);
    }
    if constexpr (Kind == publish_kind::asym) {
      lockless::detail::asymmetric_fence::light_fence();
      // Did the other side give up on this ticket meanwhile? (Never, here.)
      if ((marks_[ticket & mask_].*mark).load(std::memory_order_relaxed) == ticket) [[unlikely]]
        std::abort();
    }
  }

  static inline thread_local std::uint64_t overtakes_ = 0;

  std::size_t size_;
  std::size_t mask_;
  std::unique_ptr<cell[]> cells_;
  std::unique_ptr<marks[]> marks_;
  alignas(128) std::atomic<std::uint64_t> tail_{0};
  alignas(128) std::atomic<std::uint64_t> head_{0};
};

template <publish_kind Kind>
struct reference_ring_row {
  static constexpr const char* name = Kind == publish_kind::store  ? "ref_ring_store"
                                      : Kind == publish_kind::rmw  ? "ref_ring_rmw"
                                      : Kind == publish_kind::asym ? "ref_ring_asym"
                                                                   : "ref_ring_wrap";
  using q_type = reference_ring<Kind>;
  explicit reference_ring_row(std::size_t capacity) : q(capacity) {}
  // Always inline, as every adaptor of bounded_queue_impls.hpp (see there).
  [[gnu::always_inline]] bool try_push(std::uint64_t v) { return q.try_push(v); }
  [[gnu::always_inline]] bool try_pop(std::uint64_t& out) { return q.try_pop(out); }
  reference_ring<Kind> q;
};

// Runs f.template operator()<R>() for every reference ring.
template <class F>
void for_each_reference_ring(F&& f) {
  f.template operator()<reference_ring_row<publish_kind::store>>();
  f.template operator()<reference_ring_row<publish_kind::rmw>>();
  f.template operator()<reference_ring_row<publish_kind::asym>>();
  f.template operator()<reference_ring_row<publish_kind::wrap>>();
}

}  // namespace lockless_bench
