// tests/support/reference_containers.hpp: the mutex-protected reference containers that
// the checkers' self-tests record and check (correct by construction: every operation
// runs under one std::mutex), and that deliberately broken variants derive from.
//
//   mutex_stack                  push(v) / pop() -> std::optional
//   mutex_queue                  enqueue(v) / dequeue() -> std::optional
//   mutex_container(order, cap)  both, chosen at run time, optionally bounded:
//                                insert(v) -> bool (false: full) / remove() -> optional
//
// Values are std::uint64_t (unique_value(), support/values.hpp). A derived broken
// variant uses the protected mutex_ and items_ (front = oldest).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

namespace lockless::test {

enum class removal_order { lifo, fifo };

class mutex_container {
 public:
  explicit mutex_container(removal_order order, std::size_t capacity = 0)
      : order_(order), capacity_(capacity) {}
  mutex_container(const mutex_container&) = delete;
  mutex_container& operator=(const mutex_container&) = delete;

  // False (and nothing inserted) when a bounded container is full.
  bool insert(std::uint64_t v) {
    std::lock_guard<std::mutex> g(mutex_);
    if (capacity_ != 0 && items_.size() >= capacity_) return false;
    items_.push_back(v);
    return true;
  }
  std::optional<std::uint64_t> remove() {
    std::lock_guard<std::mutex> g(mutex_);
    return take_locked();
  }

 protected:
  // The next value in removal order, or nullopt; mutex_ must be held.
  std::optional<std::uint64_t> take_locked() {
    if (items_.empty()) return std::nullopt;
    std::uint64_t v = 0;
    if (order_ == removal_order::lifo) {
      v = items_.back();
      items_.pop_back();
    } else {
      v = items_.front();
      items_.pop_front();
    }
    return v;
  }

  std::mutex mutex_;
  std::deque<std::uint64_t> items_;

 private:
  removal_order order_;
  std::size_t capacity_;
};

class mutex_stack : public mutex_container {
 public:
  mutex_stack() : mutex_container(removal_order::lifo) {}
  void push(std::uint64_t v) { (void)insert(v); }
  std::optional<std::uint64_t> pop() { return remove(); }
};

class mutex_queue : public mutex_container {
 public:
  mutex_queue() : mutex_container(removal_order::fifo) {}
  void enqueue(std::uint64_t v) { (void)insert(v); }
  std::optional<std::uint64_t> dequeue() { return remove(); }
};

}  // namespace lockless::test
