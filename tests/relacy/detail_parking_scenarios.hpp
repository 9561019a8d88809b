// Relacy scenarios of detail/parking.hpp (event_count), shared by detail_parking.cpp (the
// real header must pass) and detail_parking_mutants.cpp (weakened copies must be caught).
//
// A lost wake-up is a consumer parked in the shim's atomic::wait with nobody left to wake
// it: Relacy reports DEADLOCK once every unfinished thread is parked. The condition the
// consumers wait for is an item counter the producer increments with release and
// consumers take with an acquire CAS: the condition's own accesses are ordinary
// acquire/release, so only event_count's fences ([KW2], [KN1]) can order them against the
// waiter count (the store-buffering shape of the lost wake-up).
//
//   parking_handoff        1 producer, 1 consumer, one item; the consumer spells the
//                          protocol out: prepare_wait, check, cancel_wait or wait.
//   parking_two_consumers  1 producer, 2 consumers, two items, notify_one per item,
//                          consumers use await().
//   parking_notify_all     the same with notify_all.
//   parking_ping_pong      2 threads, two event counts, two round trips: each thread
//                          waits for its turn and hands the turn over (the counts are
//                          reused, so the waiter count must come back to 0 each time).
// Every scenario ends with each event count's waiter count back at 0.
#pragma once

#include <lockless/detail/atomic.hpp>
#include <lockless/detail/parking.hpp>

namespace lockless_relacy {

namespace parking {

constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;
constexpr auto acq_rel = std::memory_order_acq_rel;

using lockless::detail::event_count;

enum class consumer_style { explicit_protocol, await };

// The condition every scenario's consumers wait for: items that thread 0 makes available
// (release increments) and the other threads take (acquire CAS), one each.
template <int Threads>
struct item_pool {
  lockless::detail::atomic<int>* items = nullptr;
  int taken[Threads];

  void make() {
    items = new lockless::detail::atomic<int>(0);
    for (int& t : taken) t = 0;
  }
  void check_and_free() {
    int total = 0;
    for (int t : taken) total += t;
    RL_ASSERT(total == Threads - 1);  // every item taken exactly once
    RL_ASSERT(items->load(acquire) == 0);
    delete items;
  }
  void put() { (void)items->fetch_add(1, release); }  // the condition, made true
  bool try_take() {
    int n = items->load(acquire);
    while (n > 0) {
      if (items->compare_exchange_weak(n, n - 1, acq_rel, acquire)) return true;
    }
    return false;
  }
};

template <class Derived, int Threads, bool NotifyAll, consumer_style Style>
struct items_suite : rl::test_suite<Derived, Threads> {
  event_count* ec = nullptr;
  item_pool<Threads> pool;

  void before() {
    ec = new event_count;
    pool.make();
  }
  void after() {
    pool.check_and_free();
    RL_ASSERT(ec->waiter_count() == 0);  // every prepare_wait was withdrawn or waited
    delete ec;
  }
  bool try_take() { return pool.try_take(); }

  void thread(unsigned index) {
    if (index == 0) {  // the producer: one item per consumer
      for (int i = 1; i < Threads; ++i) {
        pool.put();
        if (NotifyAll) {
          ec->notify_all();
        } else {
          ec->notify_one();
        }
      }
      return;
    }
    if (Style == consumer_style::await) {
      ec->await([&] { return try_take(); });
    } else {
      for (;;) {
        if (try_take()) break;  // the fast path: no announcement
        const event_count::key k = ec->prepare_wait();
        if (try_take()) {
          ec->cancel_wait();
          break;
        }
        ec->wait(k);
      }
    }
    ++pool.taken[index];
  }
};

struct parking_handoff : items_suite<parking_handoff, 2, false, consumer_style::explicit_protocol> {
};
struct parking_two_consumers : items_suite<parking_two_consumers, 3, false, consumer_style::await> {
};
struct parking_notify_all : items_suite<parking_notify_all, 3, true, consumer_style::await> {};

struct parking_ping_pong : rl::test_suite<parking_ping_pong, 2> {
  static constexpr int rounds = 2;
  event_count* ec[2] = {nullptr, nullptr};        // ec[i]: thread i waits on it
  lockless::detail::atomic<int>* turn = nullptr;  // whose turn: 0 or 1
  int moves[2];

  void before() {
    ec[0] = new event_count;
    ec[1] = new event_count;
    turn = new lockless::detail::atomic<int>(0);
    moves[0] = moves[1] = 0;
  }
  void after() {
    RL_ASSERT(moves[0] == rounds && moves[1] == rounds);
    RL_ASSERT(turn->load(acquire) == 0);
    RL_ASSERT(ec[0]->waiter_count() == 0 && ec[1]->waiter_count() == 0);
    delete turn;
    delete ec[0];
    delete ec[1];
  }

  void thread(unsigned index) {
    const int me = static_cast<int>(index);
    const int other = 1 - me;
    for (int r = 0; r < rounds; ++r) {
      ec[me]->await([&] { return turn->load(acquire) == me; });
      ++moves[me];
      turn->store(other, release);
      ec[other]->notify_one();
    }
  }
};

}  // namespace parking

using parking::parking_handoff;
using parking::parking_notify_all;
using parking::parking_ping_pong;
using parking::parking_two_consumers;

}  // namespace lockless_relacy
