// tests/structures/drr_scheduler_model.hpp: deficit round robin written the plain way
// (Shreedhar & Varghese 1995, with one item per pop), the sequential specification of
// lockless::drr_scheduler.
//
// Used by fuzz_drr_scheduler_seq (the scheduler, driven by one thread, must produce the
// same outputs, item by item), by the unit tests' expectations, and by the benchmark's
// std::mutex-protected DRR (bench/drr_scheduler_impls.hpp), so "the same semantics" is
// one piece of code.
//
// Semantics, as the header describes them: a flow joins the back of the active list when
// a push makes it non-empty; the flow at the front starts a turn (deficit += quantum) and
// is served while its first item's cost is at most its deficit; a turn ends when the
// first item costs more (back of the list, deficit kept) or when the flow drains
// (checked right after each pop: deficit reset to 0, back of the list); a turn that finds
// its flow empty (only a drained one can be: the header's idle mark) takes it off the list. So a
// drained flow that is refilled before its next turn keeps its place. Removing a flow
// closes it to pushes; its items are still delivered. close() closes every flow; pops
// then drain what is left and report closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "lockless/queue_status.hpp"

namespace lockless_test {

template <class V>
class drr_model {
 public:
  using flow_id = std::size_t;
  struct item {
    flow_id flow;
    V value;
  };

  // Ids are dense, in order of addition, never reused.
  flow_id add_flow(std::uint32_t quantum, std::size_t capacity) {
    flows_.push_back(flow_rec{quantum, capacity, {}, 0, false, closed_});
    return flows_.size() - 1;
  }
  // false for an unknown or already removed flow.
  bool remove_flow(flow_id f) {
    if (f >= flows_.size() || flows_[f].removed) return false;
    flows_[f].removed = true;
    flows_[f].closed = true;
    return true;
  }
  void close() {
    closed_ = true;
    for (auto& f : flows_) f.closed = true;
  }
  [[nodiscard]] bool is_closed() const { return closed_; }
  [[nodiscard]] bool exists(flow_id f) const { return f < flows_.size() && !flows_[f].removed; }

  lockless::queue_status try_push(flow_id f, V v, std::uint32_t cost) {
    if (f >= flows_.size() || flows_[f].closed) return lockless::queue_status::closed;
    flow_rec& r = flows_[f];
    if (r.q.size() >= r.capacity) return lockless::queue_status::full;
    r.q.push_back(entry{std::move(v), cost});
    if (!r.active) {
      r.active = true;
      list_.push_back(f);
    }
    return lockless::queue_status::success;
  }

  // The next item, or the status (empty, or closed once closed and drained).
  std::pair<std::optional<item>, lockless::queue_status> try_pop() {
    for (;;) {
      if (!current_) {
        if (list_.empty()) {
          return {std::nullopt,
                  closed_ ? lockless::queue_status::closed : lockless::queue_status::empty};
        }
        const flow_id next = list_.front();
        list_.pop_front();
        flow_rec& n = flows_[next];
        if (n.q.empty()) {  // drained a round ago, still empty: leaves the list
          n.active = false;
          continue;
        }
        n.deficit += n.quantum;  // a new turn
        current_ = next;
      }
      flow_rec& r = flows_[*current_];
      const std::uint32_t c = r.q.front().cost;
      if (c > r.deficit) {  // the turn ends with items left
        list_.push_back(*current_);
        current_.reset();
        continue;
      }
      r.deficit -= c;
      item out{*current_, std::move(r.q.front().value)};
      r.q.pop_front();
      if (r.q.empty()) {  // drained: no credit kept, one more turn on the list
        r.deficit = 0;
        list_.push_back(*current_);
        current_.reset();
      }
      return {std::move(out), lockless::queue_status::success};
    }
  }

  [[nodiscard]] std::size_t size(flow_id f) const { return flows_[f].q.size(); }
  [[nodiscard]] std::uint64_t deficit(flow_id f) const { return flows_[f].deficit; }

 private:
  struct entry {
    V value;
    std::uint32_t cost;
  };
  struct flow_rec {
    std::uint32_t quantum;
    std::size_t capacity;
    std::deque<entry> q;
    std::uint64_t deficit;
    bool active;
    bool closed;
    bool removed = false;
  };
  std::vector<flow_rec> flows_;
  std::deque<flow_id> list_;
  std::optional<flow_id> current_;
  bool closed_ = false;
};

}  // namespace lockless_test
