// examples/epoch_rcu_pointer.cpp: an RCU-style shared configuration on lockless's epochs.
//
// One writer replaces a heap-allocated `config` from time to time; many readers read the
// current one, all the time, without taking a lock and without touching a shared counter.
//
//   reader: pin (epoch_guard), load the pointer, read through it, unpin.
//   writer: build a new config, swap the pointer, retire the old config. lockless deletes
//           it once every reader that might still hold it has unpinned.
//
// Part 1 runs three readers against the writer. One reader pins through std::scoped_lock
// on the domain, which is BasicLockable (lock() pins, unlock() unpins: the shape of C++26's
// std::rcu_domain, WG21 P2545). Now and then the writer uses synchronize() instead of
// retire(): it waits until every reader that might hold the old config has unpinned, then
// deletes it directly (the classic "synchronize_rcu(); free(old);").
// Part 2 shows the one weakness of epochs, and how to see it: while a reader stays pinned,
// nothing retired after it began can be freed, anywhere in the domain; stats() shows
// the epoch the laggard is stuck at and the growing pile of garbage.
// Part 3 lets the reader go and frees everything with barrier().
//
// User code may use std::atomic directly; only the library's own headers go through its
// atomics shim.
#include <lockless/epoch.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct config {
  int version;
  std::string name;
  std::vector<int> limits;  // every limit is version * 10: readers check that
};

config* make_config(int version) {
  return new config{version, "config v" + std::to_string(version),
                    std::vector<int>(16, version * 10)};
}

// The shared pointer. Readers load it with acquire: the config's fields, written before
// the writer's release (the exchange below), are visible through it.
std::atomic<config*> current{nullptr};

// What a reader does with a config: check it is whole. Returns its version, or -1.
int check(const config& c) {
  for (int limit : c.limits) {
    if (limit != c.version * 10) return -1;
  }
  return c.name == "config v" + std::to_string(c.version) ? c.version : -1;
}

// A reader, the usual way: an epoch_guard of the default domain.
int read_config() {
  lockless::epoch_guard guard;  // pinned: what we load now stays allocated
  const config* c = current.load(std::memory_order_acquire);
  return check(*c);
}  // unpinned: the writer may now free what we saw

// The same reader written against the P2545-shaped facade: a domain is BasicLockable.
int read_config_scoped(lockless::epoch_domain& domain) {
  std::scoped_lock pin(domain);  // domain.lock() pins this thread, unlock() unpins
  const config* c = current.load(std::memory_order_acquire);
  return check(*c);
}

// The writer, the usual way: swap, then retire. Never waits.
void publish(int version) {
  // acq_rel: release publishes the new config; acquire makes the old one's contents
  // (written by whichever writer published it) visible to us before we retire it.
  config* old = current.exchange(make_config(version), std::memory_order_acq_rel);
  lockless::retire(old);  // deleted once no reader can still hold it
}

// The writer, the blocking way: swap, wait for the readers, delete.
void publish_and_wait(int version) {
  config* old = current.exchange(make_config(version), std::memory_order_acq_rel);
  lockless::default_epoch_domain().synchronize();  // every reader that saw `old` is done
  delete old;
}

}  // namespace

int main() {
  lockless::epoch_domain& domain = lockless::default_epoch_domain();
  current.store(make_config(0), std::memory_order_release);
  int version = 0;

  // ---- Part 1: three readers, one writer --------------------------------------------
  std::atomic<bool> writer_done{false};
  std::atomic<int> readers_started{0};
  std::atomic<long> reads{0};
  std::atomic<long> torn{0};       // readers that saw a config not fully written (or freed)
  std::atomic<long> backwards{0};  // readers that saw the version go down
  {
    std::vector<std::jthread> readers;
    for (int r = 0; r < 3; ++r) {
      readers.emplace_back([&, r] {
        int last = -1;
        long n = 0;
        readers_started.fetch_add(1, std::memory_order_relaxed);
        while (!writer_done.load(std::memory_order_relaxed)) {
          const int v = (r == 0) ? read_config_scoped(domain) : read_config();
          if (v < 0) torn.fetch_add(1, std::memory_order_relaxed);
          if (v < last) backwards.fetch_add(1, std::memory_order_relaxed);
          last = v;
          ++n;
        }
        reads.fetch_add(n, std::memory_order_relaxed);
      });
    }
    while (readers_started.load(std::memory_order_relaxed) < 3) std::this_thread::yield();
    for (int i = 0; i < 1000; ++i) {
      if (i % 250 == 249) {
        // Now and then, the blocking way. It waits for the readers: with more threads
        // than cores, for one preempted while pinned until the OS runs it again.
        publish_and_wait(++version);
      } else {
        publish(++version);
      }
    }
    writer_done.store(true, std::memory_order_relaxed);
  }  // readers join here
  std::printf(
      "part 1: %d configs published while 3 readers made %ld reads "
      "(%ld torn, %ld going backwards)\n",
      version, reads.load(), torn.load(), backwards.load());

  // ---- Part 2: a reader that stays pinned, seen through stats() ---------------------
  // Never block while holding a guard. This reader does, so that we can watch the effect.
  std::atomic<bool> pinned{false};
  std::atomic<bool> let_go{false};
  std::jthread sleepy([&] {
    lockless::epoch_guard guard;
    pinned.store(true, std::memory_order_release);
    pinned.notify_one();
    let_go.wait(false, std::memory_order_acquire);  // blocked while pinned
  });
  pinned.wait(false, std::memory_order_acquire);

  // 620 retirements fill 10 batches; each full batch tries once to advance the epoch.
  for (int i = 0; i < 620; ++i) publish(++version);

  // What a monitoring thread would look at. E can move at most one step past the epoch
  // the sleepy reader announced, so every later attempt to advance is refused.
  const lockless::epoch_stats s = domain.stats();
  const bool stall_seen =
      s.pinned_threads > 0 && s.stalled_advances >= 3 && s.oldest_pinned_epoch < s.global_epoch;
  std::printf(
      "part 2: global epoch %llu, a reader pinned at epoch %llu, %llu refused "
      "advances, %zu objects waiting: %s\n",
      static_cast<unsigned long long>(s.global_epoch),
      static_cast<unsigned long long>(s.oldest_pinned_epoch),
      static_cast<unsigned long long>(s.stalled_advances), s.retired_pending,
      stall_seen ? "stalled reader detected" : "no stall visible (unexpected)");

  let_go.store(true, std::memory_order_release);
  let_go.notify_one();
  sleepy.join();

  // barrier(): seal this thread's open batch, wait two epochs, free every sealed batch.
  domain.barrier();
  const std::size_t left = domain.stats().retired_pending;
  std::printf("part 3: reader unpinned, after barrier(): %zu objects waiting\n", left);

  delete current.exchange(nullptr, std::memory_order_acq_rel);  // no reader is left
  const bool ok = torn.load() == 0 && backwards.load() == 0 && stall_seen && left == 0;
  return ok ? 0 : 1;
}
