// tests/fuzz/epoch_seq.cpp: sequential fuzzing of epoch_domain.
//
// The input is decoded as a sequence of operations on one per-input epoch_domain:
// pin/unpin through nested epoch_guards (and through the BasicLockable lock()/unlock()),
// retire with the default deleter, a small (inline) lambda and a big (boxed) lambda,
// bursts of retires that fill whole bags, flush(), synchronize() and barrier() (which must
// throw std::logic_error while the thread is pinned), and stats() checks. A sequential
// model knows what was retired and freed:
//   - every retired object is freed exactly once, by the deleter it was retired with;
//   - none is freed while a pin period that was open when it was retired is still open;
//   - stats(): retired_pending == retired - freed, pinned_threads == (nest > 0), the
//     epoch never goes back, a pinned thread's epoch is E or E - 1 (INV1);
//   - synchronize() runs no deleter and moves E by at least 2; barrier() frees everything
//     this (only) thread retired before it.
// At the end the guards are released, barrier() must free everything, and the domain is
// destroyed.
//
// Encoding: one op byte, decoded by the epoch alphabet (structures/epoch_ops.hpp, from_byte:
// op % 12 with a flag bit), then its operands: pin (a new guard, at most 8), unpin (the
// innermost guard), lock, unlock (lock() when nothing is locked), retire / retire_small /
// retire_big (default, small-lambda, big-lambda deleter; bit 7 of the op byte: through the
// innermost guard), retire_burst (operand: a count byte % 200), flush, synchronize,
// barrier, stats.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include <lockless/epoch.hpp>

#include "structures/epoch_ops.hpp"
#include "support/fuzz_input.hpp"

namespace {

namespace ops = lockless::test::epoch_ops;
using ops::op;

struct model_state {
  std::vector<std::uint8_t> freed;         // per object id: times freed
  std::vector<std::uint64_t> session;      // per object id: pin period open at retire (0: none)
  std::vector<std::uint8_t> deleter_kind;  // per object id: 0 default, 1 small, 2 big
  std::size_t retired = 0;
  std::size_t freed_total = 0;
  std::size_t by_kind[3] = {0, 0, 0};  // frees observed per deleter kind
  unsigned nest = 0;                   // guards + lock() count
  std::uint64_t cur_session = 0;       // id of the current pin period (if nest > 0)
};

model_state* g_model = nullptr;

// synchronize() and barrier() must throw std::logic_error while the thread is pinned.
template <class F>
bool throws_logic_error(F&& f) {
  try {
    f();
  } catch (const std::logic_error&) {
    return true;
  }
  return false;
}

struct tracked {
  std::uint64_t id;
  explicit tracked(std::uint64_t i) noexcept : id(i) {}
  tracked(const tracked&) = delete;
  tracked& operator=(const tracked&) = delete;
  ~tracked() {
    model_state& m = *g_model;
    FUZZ_CHECK(id < m.freed.size());
    FUZZ_CHECK(m.freed[id] == 0);  // exactly once
    // Never while a pin period that was open at its retire is still open.
    FUZZ_CHECK(!(m.nest > 0 && m.session[id] != 0 && m.session[id] == m.cur_session));
    m.freed[id] = 1;
    ++m.freed_total;
  }
};

void run(const std::uint8_t* data, std::size_t size) {
  model_state m;
  g_model = &m;
  lockless_fuzz::input in(data, size);
  {
    lockless::epoch_domain domain;
    std::vector<std::unique_ptr<lockless::epoch_guard>> guards;
    unsigned locks = 0;  // domain.lock() depth
    std::uint64_t last_epoch = domain.epoch();

    auto pin_begin = [&] {
      if (m.nest++ == 0) ++m.cur_session;
    };
    auto pin_end = [&] { --m.nest; };

    auto new_object = [&](std::uint8_t kind) {
      const std::uint64_t id = m.freed.size();
      m.freed.push_back(0);
      m.session.push_back(m.nest > 0 ? m.cur_session : 0);
      m.deleter_kind.push_back(kind);
      ++m.retired;
      return new tracked(id);
    };

    auto retire_one = [&](std::uint8_t kind, bool via_guard) {
      tracked* p = new_object(kind);
      lockless::epoch_guard* g = (via_guard && !guards.empty()) ? guards.back().get() : nullptr;
      switch (kind) {
        case 0:
          if (g)
            g->retire(p);
          else
            domain.retire(p);
          break;
        case 1: {  // small lambda: stored inline
          model_state* mp = &m;
          auto del = [mp](tracked* t) noexcept {
            FUZZ_CHECK(mp->deleter_kind[t->id] == 1);
            ++mp->by_kind[1];
            delete t;
          };
          static_assert(sizeof(del) <= lockless::detail::retired::inline_size);
          if (g)
            g->retire(p, del);
          else
            domain.retire(p, del);
          break;
        }
        default: {  // big lambda: boxed on the heap with the pointer
          std::array<std::uint64_t, 4> pad{0x1111, 0x2222, 0x3333, p->id};
          model_state* mp = &m;
          auto del = [mp, pad](tracked* t) noexcept {
            FUZZ_CHECK(pad[0] == 0x1111 && pad[3] == t->id);
            FUZZ_CHECK(mp->deleter_kind[t->id] == 2);
            ++mp->by_kind[2];
            delete t;
          };
          static_assert(sizeof(del) > lockless::detail::retired::inline_size);
          if (g)
            g->retire(p, del);
          else
            domain.retire(p, del);
          break;
        }
      }
    };

    auto check_stats = [&] {
      const lockless::epoch_stats s = domain.stats();
      FUZZ_CHECK(s.global_epoch >= last_epoch);  // monotonic
      last_epoch = s.global_epoch;
      FUZZ_CHECK(s.global_epoch == domain.epoch());
      FUZZ_CHECK(s.retired_pending == m.retired - m.freed_total);
      FUZZ_CHECK(s.pinned_threads == (m.nest > 0 ? 1u : 0u));
      FUZZ_CHECK(s.registered_threads <= 1);
      if (m.nest > 0) {
        FUZZ_CHECK(s.oldest_pinned_epoch <= s.global_epoch);
        FUZZ_CHECK(s.global_epoch <= s.oldest_pinned_epoch + 1);  // INV1
      } else {
        FUZZ_CHECK(s.oldest_pinned_epoch == lockless::epoch_stats::no_pinned_thread);
      }
    };

    while (!in.empty()) {
      const std::uint8_t byte = in.u8();
      const bool via_guard = (byte & 0x80) != 0;
      switch (const op o = ops::from_byte(byte)) {
        case op::pin:  // a nested guard
          if (guards.size() < 8) {
            guards.push_back(std::make_unique<lockless::epoch_guard>(domain));
            pin_begin();
          }
          break;
        case op::unpin:  // the innermost guard
          if (!guards.empty()) {
            guards.pop_back();
            pin_end();
          }
          break;
        case op::lock:
        case op::unlock:  // BasicLockable facade
          if (o == op::unlock && locks > 0) {
            domain.unlock();
            --locks;
            pin_end();
          } else if (locks < 4) {
            domain.lock();
            ++locks;
            pin_begin();
          }
          break;
        case op::retire:
          retire_one(0, via_guard);
          break;
        case op::retire_small:
          retire_one(1, via_guard);
          break;
        case op::retire_big:
          retire_one(2, via_guard);
          break;
        case op::retire_burst: {  // fills bags, so seal + advance + collect run inside retire
          const unsigned n = in.u8() % 200;
          for (unsigned i = 0; i < n; ++i) retire_one(static_cast<std::uint8_t>(i % 3), false);
          break;
        }
        case op::flush: {
          const std::size_t freed_before = m.freed_total;
          domain.flush();
          FUZZ_CHECK(m.freed_total >= freed_before);
          break;
        }
        case op::synchronize: {
          const std::size_t freed_before = m.freed_total;
          const std::uint64_t e0 = domain.epoch();
          if (m.nest > 0) {
            FUZZ_CHECK(throws_logic_error([&] { domain.synchronize(); }));
          } else {
            domain.synchronize();
            FUZZ_CHECK(domain.epoch() >= e0 + 2);
          }
          FUZZ_CHECK(m.freed_total == freed_before);  // runs no deleters
          break;
        }
        case op::barrier: {
          if (m.nest > 0) {
            const std::size_t freed_before = m.freed_total;
            FUZZ_CHECK(throws_logic_error([&] { domain.barrier(); }));
            FUZZ_CHECK(m.freed_total == freed_before);
          } else {
            domain.barrier();
            FUZZ_CHECK(m.freed_total == m.retired);  // single thread: everything
          }
          break;
        }
        case op::stats:
          check_stats();
          break;
        default:
          break;  // from_byte decodes only the domain's calls above
      }
    }
    check_stats();

    // Release every pin, then barrier(): everything retired must be freed exactly once.
    while (!guards.empty()) {
      guards.pop_back();
      pin_end();
    }
    while (locks > 0) {
      domain.unlock();
      --locks;
      pin_end();
    }
    FUZZ_CHECK(m.nest == 0);
    domain.barrier();
    FUZZ_CHECK(m.freed_total == m.retired);
    check_stats();
    std::size_t kinds[3] = {0, 0, 0};
    for (std::size_t id = 0; id < m.freed.size(); ++id) {
      FUZZ_CHECK(m.freed[id] == 1);
      ++kinds[m.deleter_kind[id]];
    }
    FUZZ_CHECK(m.by_kind[1] == kinds[1] && m.by_kind[2] == kinds[2]);
  }  // ~epoch_domain: nothing left to free
  FUZZ_CHECK(m.freed_total == m.retired);
  g_model = nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size);
  return 0;
}
