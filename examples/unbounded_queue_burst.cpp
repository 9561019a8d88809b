// examples/unbounded_queue_burst.cpp: the memory an unbounded_queue holds grows with a
// burst and goes back when the burst drains. A counting allocator shows it: the empty
// queue holds one segment (plus a small shared block for the cache of free segments);
// 100,000 queued ints take about 400 segments of 256 cells; after the drain, and once the
// epoch domain has run the deleters of the retired segments, the queue holds its current
// segment again plus at most cached_segments free ones kept for reuse.
//
// The queue reclaims through its own epoch_domain here, so that barrier() can free every
// retired segment at a moment the program chooses; with the default domain the segments
// are freed as the program's threads go on retiring and flushing. The teaching page
// (docs/algorithms/unbounded_queue.md) quotes the part between the markers.
#include <lockless/epoch.hpp>
#include <lockless/unbounded_queue.hpp>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <memory>

// Counts the blocks it has handed out and not yet taken back, for every type it is rebound
// to (the queue allocates segments and its cache block through rebound copies).
inline std::atomic<long> live_blocks{0};

template <class T>
struct counting_allocator {
  using value_type = T;
  counting_allocator() = default;
  template <class U>
  counting_allocator(const counting_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    live_blocks.fetch_add(1, std::memory_order_relaxed);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    live_blocks.fetch_sub(1, std::memory_order_relaxed);
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const counting_allocator<U>&) const noexcept {
    return true;
  }
};

int main() {
  // [burst-begin]
  using queue = lockless::unbounded_queue<int, lockless::epoch_reclaimer, counting_allocator<int>,
                                          lockless::unbounded_queue_options{
                                              .may_block = false,  // try forms only
                                              .segment_size = 256,
                                              .cached_segments = 2}>;
  lockless::epoch_domain domain;  // declared first: it outlives the queue
  queue q{lockless::epoch_reclaimer(domain)};
  const long empty = live_blocks.load();  // one segment and the cache block

  for (int i = 0; i < 100000; ++i) (void)q.try_push(i);  // a burst: never refused
  const long burst = live_blocks.load();                 // about 100000 / 256 segments

  int next = 0;  // FIFO: the values come out as 0, 1, ... 99999
  bool in_order = true;
  while (lockless::queue_result<int> r = q.try_pop()) {
    if (*r != next++) in_order = false;
  }
  domain.barrier();  // run the deleters of the segments the pops retired
  const long drained = live_blocks.load();
  // [burst-end]

  std::printf("blocks held: empty %ld, after the burst %ld, drained %ld (cache keeps <= %zu)\n",
              empty, burst, drained, queue::cached_segments);
  const bool ok = in_order && next == 100000 && burst >= 100000 / 256 &&
                  drained <= empty + static_cast<long>(queue::cached_segments);
  return ok ? 0 : 1;
}
