// lockless/histogram.hpp: a Prometheus-style histogram whose observe() is lock-free,
// allocation-free and scales across cores, with consistent snapshots, PromQL quantiles,
// exponential ("native") buckets, and the Prometheus exposition formats
// (detail/histogram_exposition.hpp, included at the end).
//
// WHAT
//   A histogram counts observations (latencies, sizes) in buckets and keeps their count
//   and sum. Two bucket layouts, usable together:
//     classic  upper bounds chosen by the user, strictly increasing and finite; +Inf is
//              implied. An observation v falls in the first bucket whose bound is >= v
//              ("le", less or equal).
//     native   Prometheus native histograms: exponential buckets of a schema s in -4..8;
//              bucket i (i an int32) holds (2^((i-1)*2^-s), 2^(i*2^-s)] for positive v, the
//              same for |v| among negative buckets; |v| <= zero_threshold goes to the zero
//              bucket. Buckets exist only where observed (sparse), at most max_buckets of
//              them (positive + negative): past that the resolution is reduced (s -> s-1
//              merges pairs of neighbours exactly, i -> (i+1)>>1), as the Go client does.
//
//   Counts live in three places. With classic buckets only, first in OWNER LANES (below):
//   L count sets, lane i written only by the thread that holds lane number i
//   (detail::thread_lane(): a process-wide number in 0..63 that one live thread holds at
//   a time), with no read-modify-write at all. Then (threads without a lane here, a lane
//   paused by a snapshot, and every call of a histogram with native buckets) in SHARDS,
//   N of them, each a count set (classic buckets, sum, native table) on its own cache
//   lines with a one-word TRY-LOCK. A thread starts at its own shard
//   (detail::thread_stripe(): stripes are handed out one per thread, round-robin, so up
//   to N threads that observe together start at N different shards):
//     observe(v):  for each shard, starting at the thread's own:
//                    if it is free, take it (one CAS), add v to its counters with plain
//                    loads and stores, release it (one store), done
//                  all N busy: count v in the GUESTS' LANE (below), which never fails
//     snapshot():  (snapshots take turns: one mutex, never touched by observe)
//                  for each lane: read it under its sequence (below)
//                  for each shard: take its lock (waiting for an observer inside it, a
//                  few instructions), read its counters, release it
//                  drain the guests' lane
//                  choose the native schema of the result; compact the shards' tables
//   A shard's counters only grow and are changed only under its lock, so what a snapshot
//   reads under the lock is the shard's exact state after some set of whole observe()
//   calls. One locked instruction per observe() (the CAS); the lock is never waited for
//   by observe(): a busy shard is skipped. The cache line of a shard moves between cores
//   only when threads outnumber shards or collide, or when a snapshot reads it.
//
//   The GUESTS' LANE is the Go client's hot/cold protocol (client_golang's histogram,
//   Rabenstein 2019): two count sets, HOT and COLD, and one word, count_and_hot, whose
//   bit 63 says which set is hot and bits 0..62 count the calls that joined it:
//     observe(v):  n = count_and_hot.fetch_add(1)            the call joins set n>>63
//                  set.bucket[find(v)] += 1; set.sum += v     (atomic read-modify-writes)
//                  set.completed += 1                         last: "I am done with set"
//     snapshot():  n = count_and_hot.exchange(other << 63)    FLIP, and restart the count
//                  started = n & (2^63 - 1)                  calls that joined the old hot
//                  wait until old_hot.completed == started   its last observer left
//                  add old_hot into the snapshots' base; zero old_hot
//   The base (kept by snapshots, under their mutex) holds everything the lane ever
//   counted before the last flip; the old hot set, once its observers have left, holds the
//   rest up to this flip. The lane costs four read-modify-writes per call; it is there so
//   that observe() never waits, not for speed.
//
// OWNER LANES (a seqlock per lane: one writer, readers retry)
//   A lane has one writer, the holder of its number, so it needs no lock and no atomic
//   read-modify-write, only an order in which to write. Its count set's first word is a
//   SEQUENCE, odd while the owner writes:
//     observe(v):  if the lane's PAUSE word is 0:          (else: the shards, as above)
//                    s = seq; seq = s + 1                  relaxed
//                    bucket[find(v)] += 1; sum += v        plain loads, release stores
//                    seq = s + 2                           release
//     snapshot():  pause = 1                               a hint, relaxed
//                  repeat: s = seq (acquire); if s is odd, wait and repeat
//                          read the counters (acquire); until seq is still s
//                  pause = 0
//   A read that overlaps a call sees the sequence odd or changed and retries. The pause
//   word only keeps that from going on: an owner that sees it counts in the shards, so a
//   read waits for at most the call in flight, as it waits for a shard's holder. Lane
//   numbers pass to the next thread when their holder exits (detail/per_thread.hpp
//   [PL2]/[PL3], a release and an acquire), so the lane's counts stay and grow on. L =
//   the shard count by default (at most 64; lanes: the constructor's third argument).
//   Native buckets get no lanes: each snapshot re-keys every count set's native table
//   (compact(), below), which needs the set's writer stopped, and a lane's owner cannot be
//   stopped without a store-load fence in observe(), the cost the lanes exist to avoid.
//   On x86-64 every access of observe() on a lane is a plain load or store: about 4 ns a
//   call with Prometheus' 11 default bounds (bucket search included), against 9-11 ns
//   with a shard's lock (docs/benchmarks.md).
//
// GUARANTEES
//   observe(): lock-free in the strict sense (a thread suspended inside a shard only makes
//   others skip that shard; the guests' lane is lock-free), wait-free on its own lane, no
//   allocation, no system call (a thread's first call takes a lane number: one CAS).
//   With no more threads observing at once than shards, and no snapshot running, every
//   call takes its own shard's lock at the first try and no cache line is shared.
//   snapshot(): consistent while others observe: count equals the +Inf bucket and the sum
//   of every bucket (classic and native, NaN aside, see below); sum is the sum of exactly
//   the observations counted; a snapshot includes every observe() that returned before
//   snapshot() was called (and perhaps some that ran concurrently, in whole: never half
//   of one); a later snapshot never shows fewer observations in any bucket (counts are
//   cumulative: this is a counter, in Prometheus terms). Snapshots never block observe();
//   concurrent snapshots are safe (they take turns on a mutex). A snapshot waits for an
//   observer inside a shard, a lane or the guests' old hot set to leave: a thread
//   preempted there delays the snapshot until it runs again, never another observer.
//   Cost O((lanes + shards) x (classic buckets + native table)).
//   A snapshot is not one atomic cut across shards: two observations in different shards
//   may appear in either order. Each shard's part is a prefix of that shard's calls.
//
// SPECIAL VALUES (as Prometheus' Go client counts them)
//   NaN: counted in count and in the classic +Inf bucket; sum becomes NaN; no native
//        bucket (so a native histogram's buckets may add up to less than count).
//   +Inf / -Inf: the classic +Inf bucket (-Inf: the first bucket); sum becomes +-Inf;
//        native: the bucket just past the largest finite one (its upper bound is +Inf,
//        Prometheus' "inf bucket"), among positive or negative buckets.
//   observe(v, n) counts n observations of v at once (sum += v*n); n == 0 does nothing.
//
// NATIVE BUCKETS, MEMORY AND THE BOUND
//   Each count set has a table of C = bit_ceil(max(16, 3 * max_buckets)) slots; a slot's
//   code packs bucket index, sign and schema, so buckets of several schemas can share a
//   table. A bucket seen for the first time takes a free slot. Observers count at the
//   histogram's current schema, a HINT: the one the last snapshot reported, lowered by
//   one by an observer whose set gets past max_buckets claimed slots (and again each
//   max_buckets/2 further), so a set whose observations spread wider than the bound goes
//   coarser step by step instead of filling its table. Each snapshot re-keys the shards'
//   tables at the schema it reports (merging neighbours) and empties the guests' old hot
//   set, which makes room again. An observation that still finds its table full is
//   counted in a fixed dense array at schema -4 (the coarsest: 133 buckets per sign cover
//   every double), so no observation is ever lost, at the price of resolution: a snapshot
//   that sees it reports schema -4. A snapshot reports the finest schema (at most the
//   configured one, at most the coarsest bucket it read) at which at most max_buckets
//   buckets are populated (never below -4). The bound is applied at snapshot time,
//   lazily, since observe() must not wait, and schemas only go down (counts are
//   cumulative). Size max_buckets for the spread that one scrape interval sees.
//   Memory: L + N + 2 count sets of (classic buckets + 3) x 8 bytes, plus with native buckets
//   12 x C + 8 x 268 bytes each, every array on its own cache lines; N = shards (the
//   default: twice the hardware threads, at most 64, or 8 with native buckets).
//
// MEMORY-ORDERING CONTRACT (every atomic access below)
//   Data flow: a lane's counters are written by its owner alone and read by snapshots
//   under its sequence; a shard's counters are written and read only under its lock; the
//   guests' sets are written by the observers that joined them and read by the snapshot
//   after those observers finished, and reset only while cold.
//   [HW1] owner: the sequence, relaxed load and relaxed store of s + 1 (odd). Only this
//         thread writes the lane (the previous holder's last value reaches it through the
//         lane number's hand-over, detail/per_thread.hpp [PL2]); [HW2]'s release stores,
//         which follow it, keep it first.
//   [HW2] owner: the bucket counter and the sum, relaxed loads, release stores. A snapshot
//         whose acquire load ([HR2]) reads one of them synchronizes with it, so its
//         re-check ([HR3]) reads the odd sequence (or later) and it retries.
//   [HW3] owner: the sequence, release store of s + 2 (even). Pairs with [HR1]: a
//         snapshot that reads s + 2 sees every counter of that call.
//   [HR1] snapshot: the lane's sequence, acquire; odd: wait and retry.
//   [HR2] snapshot: the lane's counters and sum, acquire loads. Pair with [HW2].
//   [HR3] snapshot: the sequence again, relaxed (the acquire loads before it keep it
//         after them); unchanged: nothing was written meanwhile, else retry.
//   [HP1] snapshot: the lane's pause word, relaxed store of 1 before the read; [HP2]
//         relaxed store of 0 after it; [HP3] the owner's relaxed load (1: count in the
//         shards). A hint only: whether the owner sees it early or late, the sequence
//         decides what the read keeps.
//   [HL1] observe: a shard's lock, a relaxed look then CAS 0 -> 1, acquire (failure
//         relaxed: nothing is read after a failure). Pairs with [HL2]: the previous
//         holder's counts happen-before this holder's loads, so no increment is lost.
//   [HL2] observe and snapshot: release of the lock, store 0, release. Pairs with the next
//         [HL1] or [HS6].
//   [HL3] observe and snapshot: a shard's counters and table, relaxed loads and stores
//         (plain ones, in effect): the lock orders them, only its holder touches them.
//   [HO1] guests: count_and_hot.fetch_add(1), acquire. Pairs with the flip's release
//         ([HS2]): the snapshot's reset of the set this call joins (zeroed counters,
//         emptied native table, its schema hint) happens-before the call's own
//         increments, so a reset can never erase an increment. Later observers'
//         fetch_adds continue the flip's release sequence.
//   [HO2] guests: the bucket counters (classic, zero bucket, native slot counts, overflow,
//         slots claimed), fetch_add relaxed: atomic read-modify-writes lose nothing; who
//         reads them is ordered by [HO4]/[HS3].
//   [HO3] guests: the sum, a CAS loop on the double's bits, relaxed (as [HO2]); the
//         failure order relaxed too (the loop re-reads the current bits).
//   [HN1] guests: a native slot's code, load relaxed, CAS EMPTY -> code relaxed/relaxed.
//         A code is a number, not a pointer to data: an observer that finds the code (or
//         claims it) adds to the slot's count, an atomic counter, so no data hangs on the
//         code's order. The table is emptied only while cold ([HO1]).
//   [HN2] the schema hints (the histogram's and a guest set's): relaxed loads, lowered by
//         relaxed CAS, never raised except by a reset while cold. Every code carries its
//         own schema, so a stale hint costs resolution, never correctness.
//   [HO4] guests: set.completed.fetch_add(1), release: the call's last access to the
//         set. Pairs with [HS3]: every counter increment of the call happens-before the
//         snapshot's reads. The completed increments since the set's reset form one
//         release sequence, so the snapshot's load that reads `started` synchronizes with
//         every call whose increment came before.
//   [HS1] snapshot: snap_.mutex (detail::mutex): snapshots take turns. Orders one
//         snapshot's drain and reset of the guests' set, its base and schema, before the
//         next snapshot.
//   [HS2] snapshot: the guests' flip, count_and_hot.exchange(other << 63), release:
//         publishes the reset of the set that becomes hot to the observers that will join
//         it ([HO1]). Its result (the calls that joined the old set) needs no acquire:
//         what those calls wrote is read after [HS3].
//   [HS3] snapshot: old_hot.completed.load(acquire) until it equals `started`. Pairs with
//         [HO4]: after it, every increment of every call that joined the set is visible
//         and no observer will touch the set again until a later flip hands it out.
//   [HS4] snapshot: relaxed reads of the guests' old hot set (ordered by [HS3]) and its
//         reset (relaxed stores, published by the next [HS2], which comes after [HS1]).
//   [HS5] snapshot: which guests' set is hot, a relaxed load of count_and_hot; only
//         snapshots flip it, and they take turns ([HS1]).
//   [HS6] snapshot: takes a shard's lock as [HL1] does, waiting (backoff) while an
//         observer holds it; releases it with [HL2].
//
// INVARIANTS
//   INV0  a lane's counters change only in its owner's calls, one at a time, each one
//         inside an odd sequence value: between two even values they describe exactly
//         the calls counted there so far.
//   INV1  a shard's counters change only under its lock, by whole observe() calls:
//         between two holders they describe exactly the calls counted there so far.
//   INV2  the guests' cold set is empty and no observer touches it: every call that
//         joined it finished before the snapshot that made it cold returned.
//   INV3  the snapshots' base plus the guests' hot set hold every observation the guests'
//         lane ever counted (the flip restarts the count of calls; the drain moves the old set
//         into the base).
//   INV4  the histogram's schema (snap_.schema) only goes down; the hints are never finer
//         than it after a snapshot; every code is at its own schema, and no native bucket
//         a snapshot reads is finer than the schema it reports.
//
// LINEARIZATION
//   observe() takes effect at its lane's even sequence store [HW3] (LP(observe, lane)), at
//   its shard's lock release [HL2] (LP(observe)), or in the guests' lane at [HO1]: a
//   snapshot that reads the lane's sequence later, takes the shard's lock later, or whose
//   flip comes later in count_and_hot's order, counts it. A snapshot is linearizable per lane
//   and per shard (at each lane's sequence, each shard's lock), not across them (see
//   GUARANTEES).
//
// REFERENCES
//   B. Rabenstein, client_golang's histogram (the hot/cold count sets, 2019); Prometheus
//   native histograms (schema, spans, zero bucket), prometheus/client_model's
//   metrics.proto; PromQL histogram_quantile (Prometheus 2.42 as packaged by Debian 12:
//   linear interpolation within a bucket, for both layouts). Seqlocks: C. Lameter (Linux,
//   2.6); H.-J. Boehm, "Can seqlocks get along with programming language memory models?"
//   (MSPC 2012): the reader's acquire loads of the data, the writer's release stores.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "detail/atomic.hpp"
#include "detail/config.hpp"
#include "detail/error.hpp"
#include "detail/per_thread.hpp"
#include "detail/platform.hpp"

namespace lockless::inline LOCKLESS_ABI_NAMESPACE {

// ---- layouts -------------------------------------------------------------------------

// Prometheus native (exponential) buckets.
struct native_buckets {
  // Resolution: bucket boundaries at powers of 2^(2^-schema). -4 (factor 65536) .. 8
  // (factor ~1.0027). 3 gives a factor of ~1.09 (about 4.4% relative error).
  std::int32_t schema = 3;
  // |v| <= zero_threshold counts in the zero bucket. Finite, >= 0. The Go client's default.
  double zero_threshold = 0x1p-128;
  // The most populated buckets (positive + negative) a snapshot reports; 1 .. 32768.
  std::uint32_t max_buckets = 160;
};

// Upper bounds start, start+width, ..., count of them. Throws std::invalid_argument unless
// count >= 1, start and width finite, width > 0 and every bound finite.
[[nodiscard]] inline std::vector<double> linear_buckets(double start, double width,
                                                        std::size_t count) {
  if (count == 0 || !std::isfinite(start) || !std::isfinite(width) || !(width > 0)) {
    detail::throw_invalid_argument(
        "lockless::linear_buckets: needs count >= 1, finite start, width > 0");
  }
  std::vector<double> b(count);
  for (std::size_t i = 0; i < count; ++i) b[i] = start + static_cast<double>(i) * width;
  if (!std::isfinite(b.back()))
    detail::throw_invalid_argument("lockless::linear_buckets: bounds overflow");
  return b;
}

// Upper bounds start, start*factor, ..., count of them. Throws std::invalid_argument unless
// count >= 1, start > 0, factor > 1, and every bound finite and strictly increasing.
[[nodiscard]] inline std::vector<double> exponential_buckets(double start, double factor,
                                                             std::size_t count) {
  if (count == 0 || !std::isfinite(start) || !(start > 0) || !std::isfinite(factor) ||
      !(factor > 1)) {
    detail::throw_invalid_argument(
        "lockless::exponential_buckets: needs count >= 1, start > 0, factor > 1");
  }
  std::vector<double> b(count);
  b[0] = start;
  for (std::size_t i = 1; i < count; ++i) {
    b[i] = b[i - 1] * factor;
    if (!std::isfinite(b[i]) || !(b[i] > b[i - 1])) {
      detail::throw_invalid_argument("lockless::exponential_buckets: bounds overflow");
    }
  }
  return b;
}

// count upper bounds from min to max (both included), spaced by a constant factor.
// Throws std::invalid_argument unless count >= 2 and 0 < min < max, both finite.
[[nodiscard]] inline std::vector<double> exponential_buckets_range(double min, double max,
                                                                   std::size_t count) {
  if (count < 2 || !std::isfinite(min) || !std::isfinite(max) || !(min > 0) || !(max > min)) {
    detail::throw_invalid_argument(
        "lockless::exponential_buckets_range: needs count >= 2 and 0 < min < max, finite");
  }
  // In logarithms: max / min itself may overflow (1e-300 .. 1e300).
  const double step = (std::log(max) - std::log(min)) / static_cast<double>(count - 1);
  std::vector<double> b(count);
  b[0] = min;
  for (std::size_t i = 1; i + 1 < count; ++i) {
    b[i] = std::exp(std::log(min) + step * static_cast<double>(i));
  }
  b[count - 1] = max;
  for (std::size_t i = 1; i < count; ++i) {
    if (!std::isfinite(b[i]) || !(b[i] > b[i - 1])) {
      detail::throw_invalid_argument(
          "lockless::exponential_buckets_range: min and max too close for count bounds");
    }
  }
  return b;
}

// ---- snapshots -----------------------------------------------------------------------

struct native_bucket {
  std::int32_t index = 0;   // bucket i: (2^((i-1)*2^-schema), 2^(i*2^-schema)] in |v|
  std::uint64_t count = 0;  // observations in this bucket alone (not cumulative), > 0
  friend bool operator==(const native_bucket&, const native_bucket&) = default;
};

// What a histogram held at one moment; see histogram::snapshot().
struct histogram_snapshot {
  std::vector<double> upper_bounds;       // classic bounds (without the implied +Inf)
  std::vector<std::uint64_t> cumulative;  // upper_bounds.size() + 1 cumulative counts;
                                          // the last is the +Inf bucket, == count
  std::uint64_t count = 0;                // observations, NaN included
  double sum = 0.0;                       // their sum

  bool native = false;  // the fields below are meaningful
  std::int32_t schema = 0;
  double zero_threshold = 0.0;
  std::uint64_t zero_count = 0;
  std::vector<native_bucket> positive;  // ascending index, populated buckets only
  std::vector<native_bucket> negative;  // ascending index (of |v|), populated only

  // PromQL histogram_quantile(q) over the classic buckets (Prometheus 2.42): linear
  // interpolation within the bucket holding rank q*count, the first bucket's lower end
  // taken as 0 (or its bound, if that is <= 0); a rank in the +Inf bucket returns the
  // largest finite bound. NaN when count is 0, when there is no finite bound, or q is
  // NaN; -Inf for q < 0, +Inf for q > 1.
  [[nodiscard]] double quantile(double q) const;
  // PromQL histogram_quantile(q) over the native buckets (Prometheus 2.42: linear
  // interpolation within the bucket; the zero bucket's range is [-t, t], cut at 0 when
  // only one sign has buckets). NaN without native buckets, or as quantile() does.
  [[nodiscard]] double native_quantile(double q) const;

  // The boundaries Prometheus gives native bucket `index` at `schema` (its getBound()):
  // upper bound 2^(index*2^-schema); the last finite bucket's is DBL_MAX, the inf
  // bucket's +Inf.
  [[nodiscard]] static double native_upper_bound(std::int32_t index, std::int32_t schema);
};

namespace detail {

inline constexpr std::int32_t native_min_schema = -4;
inline constexpr std::int32_t native_max_schema = 8;
// Keys at schema -4 of the non-zero doubles: 2^-1074 has key -67, DBL_MAX 64, the inf
// bucket 65.
inline constexpr std::int32_t coarse_min_key = -67;
inline constexpr std::int32_t coarse_keys = 65 - coarse_min_key + 1;  // 133

// The fractions 2^(i/2^s - 1), i = 0 .. 2^s - 1, for schema s in 1..8: the bucket
// boundaries within one power of two, as frexp() gives the fraction. Two tables:
//   bounds   the double nearest each boundary (what native_upper_bound() reports);
//   keys     the largest double <= each boundary, so that "frac <= keys[i]" is exactly
//            "frac <= 2^(i/2^s - 1)": a value lands in the bucket the real number says.
// Both come from long double arithmetic (double's exp2 may be an ulp off). Prometheus'
// own table (client_golang's nativeHistogramBounds, 16-digit literals) differs from the
// nearest doubles by up to 3 ulp in 341 of its 510 entries: a value within 3 ulp of a
// boundary may land in the neighbouring bucket of the one client_golang picks, and the
// boundaries Prometheus shows may differ from ours in the last digits.
struct native_fraction_tables {
  double bounds[native_max_schema + 1][1 << native_max_schema];
  double keys[native_max_schema + 1][1 << native_max_schema];
  native_fraction_tables() noexcept {
    for (std::int32_t s = 1; s <= native_max_schema; ++s) {
      const std::int32_t n = std::int32_t{1} << s;
      for (std::int32_t i = 0; i < n; ++i) {
        const long double exact =
            std::exp2l(static_cast<long double>(i) / static_cast<long double>(n) - 1.0L);
        const double nearest = static_cast<double>(exact);
        bounds[s][i] = nearest;
        keys[s][i] =
            static_cast<long double>(nearest) > exact ? std::nextafter(nearest, 0.0) : nearest;
      }
    }
  }
};
inline const native_fraction_tables& native_fractions() noexcept {
  static const native_fraction_tables tables;
  return tables;
}
inline const double* native_fraction_bounds(std::int32_t schema) noexcept {
  return native_fractions().bounds[schema];
}

// The native bucket index of |v| (finite, > 0) at schema s (Prometheus' key function).
inline std::int32_t native_key(double a, std::int32_t s) noexcept {
  // a = frac * 2^exp, frac in [0.5, 1): from the bits for normal numbers (frexp is a
  // library call), by frexp for subnormals.
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(a);
  int exp = static_cast<int>(bits >> 52);
  double frac = 0;
  if (exp != 0) [[likely]] {
    exp -= 1022;
    frac = std::bit_cast<double>((bits & ((std::uint64_t{1} << 52) - 1)) |
                                 (std::uint64_t{1022} << 52));
  } else {
    frac = std::frexp(a, &exp);
  }
  if (s > 0) {
    const std::int32_t n = std::int32_t{1} << s;
    const double* b = native_fractions().keys[s];  // the first boundary >= frac
    const auto i = static_cast<std::int32_t>(std::lower_bound(b, b + n, frac) - b);
    return (exp - 1) * n + i;
  }
  const std::int32_t k = exp - (frac == 0.5 ? 1 : 0);  // key at schema 0
  return (k + (std::int32_t{1} << -s) - 1) >> -s;      // ceil(k / 2^-s)
}

// The key of the inf bucket at schema s: one past DBL_MAX's (whose key is 1024 * 2^s).
inline std::int32_t native_inf_key(std::int32_t s) noexcept {
  return (s >= 0 ? (std::int32_t{1024} << s) : (std::int32_t{1024} >> -s)) + 1;
}

// A key at schema `from` mapped to schema `to` <= from: each step merges pairs exactly.
inline std::int32_t native_reduce(std::int32_t key, std::int32_t from, std::int32_t to) noexcept {
  for (; from > to; --from) key = (key + 1) >> 1;  // arithmetic shift: ceil(key / 2)
  return key;
}

// n objects of T on their own cache lines (aligned, padded to whole lines), value-
// constructed; freed by padded_array's destructor.
template <class T>
class padded_array {
 public:
  padded_array() = default;
  explicit padded_array(std::size_t n) : n_(n) {
    if (n_ == 0) return;
    const std::size_t bytes =
        (n_ * sizeof(T) + cache_line_size - 1) / cache_line_size * cache_line_size;
    p_ = static_cast<T*>(::operator new(bytes, std::align_val_t{cache_line_size}));
    for (std::size_t i = 0; i < n_; ++i) ::new (static_cast<void*>(p_ + i)) T();
  }
  padded_array(const padded_array&) = delete;
  padded_array& operator=(const padded_array&) = delete;
  padded_array(padded_array&& o) noexcept
      : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  padded_array& operator=(padded_array&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  ~padded_array() {
    if (p_ == nullptr) return;
    for (std::size_t i = 0; i < n_; ++i) p_[i].~T();
    ::operator delete(p_, std::align_val_t{cache_line_size});
  }
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  const T& operator[](std::size_t i) const noexcept { return p_[i]; }
  [[nodiscard]] std::size_t size() const noexcept { return n_; }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

inline std::uint64_t double_bits(double d) noexcept {
  return std::bit_cast<std::uint64_t>(d);
}
inline double bits_double(std::uint64_t u) noexcept {
  return std::bit_cast<double>(u);
}

}  // namespace detail

// ---- the histogram -------------------------------------------------------------------

class histogram {
 public:
  // Classic buckets with these upper bounds (strictly increasing, finite; +Inf implied;
  // empty: only the +Inf bucket). shards: how many shards (0: a default from the hardware,
  // twice the hardware threads, at most 64, or at most 8 with native buckets, whose tables
  // make a shard larger); rounded up to a power of two. Throws std::invalid_argument for a
  // bound that is NaN or infinite, bounds not strictly increasing, or shards > 1024.
  // lanes: how many owner lanes (0: none, shards only; default_lanes: as many as shards;
  // at most detail::max_thread_lanes, 64: a larger number is cut to that). A thread whose
  // lane number (detail::thread_lane()) is below it counts there without a read-modify-write.
  static constexpr std::size_t default_lanes = static_cast<std::size_t>(-1);
  explicit histogram(std::vector<double> upper_bounds, std::size_t shards = 0,
                     std::size_t lanes = default_lanes)
      : histogram(std::move(upper_bounds), nullptr, shards, lanes) {}
  // histogram h({0.1, 0.5, 1}): a braced list of bounds (without this overload the list
  // could also initialise a native_buckets, and the call would be ambiguous).
  explicit histogram(std::initializer_list<double> upper_bounds, std::size_t shards = 0,
                     std::size_t lanes = default_lanes)
      : histogram(std::vector<double>(upper_bounds), nullptr, shards, lanes) {}
  // Classic and native buckets. Throws std::invalid_argument also for a schema outside
  // -4..8, a zero_threshold that is negative, NaN or infinite, max_buckets 0 or > 32768.
  // A histogram with native buckets has no owner lanes (see OWNER LANES).
  histogram(std::vector<double> upper_bounds, const native_buckets& native, std::size_t shards = 0)
      : histogram(std::move(upper_bounds), &native, shards, 0) {}
  // Native buckets only (the classic part is the +Inf bucket).
  explicit histogram(const native_buckets& native, std::size_t shards = 0)
      : histogram(std::vector<double>{}, &native, shards, 0) {}

  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;
  ~histogram() = default;

  // Counts one observation of v (NaN and infinities: see SPECIAL VALUES).
  void observe(double v) noexcept { observe(v, 1); }

  // Counts n observations of v. Lock-free (it never waits: a busy shard is skipped), no
  // allocation, no system call.
  void observe(double v, std::uint64_t n) noexcept {
    if (n == 0) return;
    if (lane_count_ != 0) {  // classic buckets only: the thread's own lane, if it has one
      const std::size_t lane = detail::thread_lane();
      if (lane < lane_count_) [[likely]] {
        shard& l = lanes_[lane];
        // [HP3] relaxed: the pause hint ([HP1]); the sequence makes the read safe.
        if (l.busy.value.load(std::memory_order_relaxed) == 0) [[likely]] {
          count_owned(l.set, bucket_cell(v), v, n);
          return;
        }
      }
    }
    observe_shared(v, n);
  }

  // A consistent snapshot (see GUARANTEES). Allocates the result; may throw bad_alloc.
  [[nodiscard]] histogram_snapshot snapshot() const;

  [[nodiscard]] std::span<const double> upper_bounds() const noexcept { return bounds_; }
  [[nodiscard]] bool has_native() const noexcept { return native_; }
  // The configured native layout (schema: the configured one, not the current one).
  [[nodiscard]] native_buckets native_layout() const noexcept { return native_config_; }
  [[nodiscard]] std::size_t shard_count() const noexcept { return shard_mask_ + 1; }
  [[nodiscard]] std::size_t lane_count() const noexcept { return lane_count_; }

 private:
  // One count set's words, in `cells`: completed (guest sets), sum bits, the classic
  // buckets (the last is +Inf), then with native buckets: zero count, slots claimed,
  // table counts [C], overflow [2 x 133] (positive then negative, at schema -4).
  static constexpr std::size_t completed_cell = 0;
  static constexpr std::size_t seq_cell = 0;  // an owner lane's sequence, in the same place
  static constexpr std::size_t sum_cell = 1;
  static constexpr std::size_t first_bucket_cell = 2;
  static constexpr std::int32_t empty_key = -1;  // codes are >= 0 (encode())

  struct count_set {
    detail::padded_array<detail::atomic<std::uint64_t>> cells;
    detail::padded_array<detail::atomic<std::int32_t>> keys;  // native table codes [C]
  };

  // A shard: counts that only grow, updated under a try-lock by plain loads and stores
  // (one thread at a time), read under the same lock by snapshots.
  struct shard {
    detail::cache_padded<detail::atomic<std::uint32_t>> busy{0};  // 1: someone counts or reads
    count_set set;
  };
  // The guests' lane, for an observe() that finds every shard busy: Go's hot/cold
  // protocol, read-modify-writes on the counters, so it never fails.
  struct guest_lane {
    detail::cache_padded<detail::atomic<std::uint64_t>> count_and_hot{0};
    count_set sets[2];
  };

  histogram(std::vector<double> upper_bounds, const native_buckets* native, std::size_t shards,
            std::size_t lanes);

  std::size_t bucket_cell(double v) const noexcept {
    const std::size_t n = bounds_.size();
    if (std::isnan(v)) return first_bucket_cell + n;  // NaN: the +Inf bucket
    // The first bound >= v: the number of bounds < v. Branch-free (latencies are random,
    // so a branchy search mispredicts about once per level): a count for few buckets (the
    // bounds padded to 16 with +Inf), a binary search with conditional moves for many.
    if (n <= 16) return first_bucket_cell + detail::count_less16(few_bounds_, v);
    const double* b = bounds_.data();
    std::size_t lo = 0;
    std::size_t len = n;
    while (len > 1) {
      const std::size_t half = len / 2;
      lo = b[lo + half - 1] < v ? lo + half : lo;
      len -= half;
    }
    return first_bucket_cell + lo + (b[lo] < v ? 1 : 0);
  }

  // Native cells: zero_cell(), distinct_cell() (slots claimed), table_cell(i),
  // overflow_cell(negative, key at -4).
  std::size_t zero_cell() const noexcept { return first_bucket_cell + bounds_.size() + 1; }
  std::size_t distinct_cell() const noexcept { return zero_cell() + 1; }
  std::size_t table_cell(std::size_t i) const noexcept { return distinct_cell() + 1 + i; }
  std::size_t overflow_cell(bool negative, std::int32_t key) const noexcept {
    return table_cell(table_size_) + (negative ? detail::coarse_keys : 0) +
           static_cast<std::size_t>(key - detail::coarse_min_key);
  }
  std::size_t cells_per_set() const noexcept {
    return native_ ? overflow_cell(true, detail::coarse_min_key) + detail::coarse_keys
                   : first_bucket_cell + bounds_.size() + 1;
  }

  // A table slot's code: bucket key, sign and schema in one non-negative int32
  // (|key| < 2^19, so the code is below 2^29).
  static std::int32_t encode(std::int32_t key, bool negative, std::int32_t schema) noexcept {
    return (key * 2 + (negative ? 1 : 0)) * 16 + (schema - detail::native_min_schema) +
           (std::int32_t{1} << 28);
  }
  static std::int32_t code_schema(std::int32_t code) noexcept {
    return ((code - (std::int32_t{1} << 28)) & 15) + detail::native_min_schema;
  }
  static bool code_negative(std::int32_t code) noexcept {
    return (((code - (std::int32_t{1} << 28)) >> 4) & 1) != 0;
  }
  static std::int32_t code_key(std::int32_t code) noexcept {
    return (code - (std::int32_t{1} << 28)) >> 5;
  }
  std::size_t home(std::int32_t code) const noexcept {
    return static_cast<std::size_t>((static_cast<std::uint32_t>(code) * 0x9E3779B1u) >> 7) &
           (table_size_ - 1);
  }

  // The native key of v at schema s (v not NaN, |v| above the zero threshold).
  static std::int32_t key_of(double v, std::int32_t s) noexcept {
    const double a = std::fabs(v);
    return std::isinf(a) ? detail::native_inf_key(s) : detail::native_key(a, s);
  }

  // ---- the shards (a try-lock each) ----

  // [HL1] the shard's lock: a relaxed look, then CAS 0 -> 1, acquire (failure relaxed:
  // nothing is read then). Pairs with [HL2]: everything the previous holder counted
  // happens-before this holder's loads.
  static bool try_lock(shard& sh) noexcept {
    detail::atomic<std::uint32_t>& b = sh.busy.value;
    std::uint32_t expected = 0;
    return b.load(std::memory_order_relaxed) == 0 &&
           b.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                     std::memory_order_relaxed);
  }
  // [HL2] release: this holder's counts happen-before the next holder's reads ([HL1],
  // [HS6]).
  static void unlock(shard& sh) noexcept { sh.busy.value.store(0, std::memory_order_release); }

  // [HL3] relaxed: a counter updated under the shard's lock; the lock orders it.
  static void add_locked(detail::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Where an observation goes: its classic bucket's cell and, with native buckets, the
  // zero bucket or a table code (computed at the hint schema read here).
  struct place {
    std::size_t cell;
    enum class kind : std::uint8_t { none, zero, table } native;
    std::int32_t schema;
    std::int32_t key;
    bool negative;
    std::int32_t code;
  };
  place locate(double v) const noexcept {
    place p{bucket_cell(v), place::kind::none, 0, 0, false, 0};
    if (native_) locate_native(p, v);
    return p;
  }
  void locate_native(place& p, double v) const noexcept {
    if (std::isnan(v)) return;  // NaN: no native bucket
    if (std::fabs(v) <= native_config_.zero_threshold) {
      p.native = place::kind::zero;
      return;
    }
    p.native = place::kind::table;
    // [HN2] relaxed: the histogram's schema is a hint; every code carries its own schema.
    p.schema = target_schema_.value.load(std::memory_order_relaxed);
    p.key = key_of(v, p.schema);
    p.negative = v < 0;
    p.code = encode(p.key, p.negative, p.schema);
  }
  std::size_t overflow_cell(const place& p) const noexcept {
    return overflow_cell(p.negative,
                         detail::native_reduce(p.key, p.schema, detail::native_min_schema));
  }

  void count_locked(count_set& set, const place& p, double v, std::uint64_t n) const noexcept {
    add_locked(set.cells[p.cell], n);  // [HL3]
    detail::atomic<std::uint64_t>& sum = set.cells[sum_cell];
    sum.store(detail::double_bits(detail::bits_double(sum.load(std::memory_order_relaxed)) +
                                  v * static_cast<double>(n)),
              std::memory_order_relaxed);  // [HL3]
    if (p.native != place::kind::none) count_native_locked(set, p, n);
  }

  void count_native_locked(count_set& set, const place& p, std::uint64_t n) const noexcept {
    if (p.native == place::kind::zero) {
      add_locked(set.cells[zero_cell()], n);  // [HL3]
      return;
    }
    const std::size_t mask = table_size_ - 1;
    std::size_t i = home(p.code);
    for (std::size_t probes = 0; probes < table_size_; ++probes, i = (i + 1) & mask) {
      detail::atomic<std::int32_t>& k = set.keys[i];
      const std::int32_t seen = k.load(std::memory_order_relaxed);  // [HL3]
      if (seen == p.code) {
        add_locked(set.cells[table_cell(i)], n);  // [HL3]
        return;
      }
      if (seen == empty_key) {
        k.store(p.code, std::memory_order_relaxed);  // [HL3]
        add_locked(set.cells[table_cell(i)], n);     // [HL3]
        const std::uint64_t d = set.cells[distinct_cell()].load(std::memory_order_relaxed) + 1;
        set.cells[distinct_cell()].store(d, std::memory_order_relaxed);  // [HL3]
        claimed_slot(d, p.schema);
        return;
      }
    }
    add_locked(set.cells[overflow_cell(p)], n);  // [HL3] the table is full
  }

  // The set has d claimed slots after one more at schema s: past max_buckets, and every
  // max_buckets/2 further, the histogram's hint goes one step coarser (the tables are
  // compacted at the snapshot's schema by the next snapshot).
  void claimed_slot(std::uint64_t d, std::int32_t s) const noexcept {
    const std::uint64_t max = native_config_.max_buckets;
    const std::uint64_t step = std::max<std::uint64_t>(1, max / 2);
    if (d > max && (d - max - 1) % step == 0 && s > detail::native_min_schema) lower_target(s - 1);
  }

  // [HN2] lowers the histogram's schema hint to s (never raises it); relaxed: a hint.
  void lower_target(std::int32_t s) const noexcept {
    std::int32_t cur = target_schema_.value.load(std::memory_order_relaxed);
    while (cur > s && !target_schema_.value.compare_exchange_weak(cur, s, std::memory_order_relaxed,
                                                                  std::memory_order_relaxed)) {
    }
  }

  // The shards (a try-lock each), then the guests' lane: every call of a histogram with
  // native buckets, and the calls of threads without a lane here or whose lane is paused.
  [[gnu::noinline]] void observe_shared(double v, std::uint64_t n) noexcept {
    const place p = locate(v);  // outside the lock: the critical section stays short
    const std::size_t start = detail::thread_stripe();
    for (std::size_t k = 0; k <= shard_mask_; ++k) {
      shard& sh = shards_[(start + k) & shard_mask_];
      if (try_lock(sh)) [[likely]] {
        count_locked(sh.set, p, v, n);
        unlock(sh);
        return;
      }
    }
    observe_guest(guest_, p, v, n);  // every shard busy: the guests' lane, which never fails
  }

  // ---- the owner lanes (one writer each: a seqlock) ----

  // The lane's holder counts: the sequence odd while it writes, the counters, the sequence
  // even again. No read-modify-write, nothing another core writes (but the pause hint).
  static void count_owned(count_set& set, std::size_t cell, double v, std::uint64_t n) noexcept {
    detail::atomic<std::uint64_t>& seq = set.cells[seq_cell];
    // [HW1] relaxed: only this thread writes the lane (its previous holder's last value is
    // ordered by detail::thread_lane()'s hand-over); odd: a call is writing. The release
    // stores below keep it first.
    const std::uint64_t s = seq.load(std::memory_order_relaxed);
    seq.store(s + 1, std::memory_order_relaxed);
    // [HW2] release: a snapshot that reads a counter written here ([HR2], acquire) then
    // reads the sequence at s + 1 or later ([HR3]), and retries.
    detail::atomic<std::uint64_t>& c = set.cells[cell];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_release);
    detail::atomic<std::uint64_t>& sum = set.cells[sum_cell];
    sum.store(detail::double_bits(detail::bits_double(sum.load(std::memory_order_relaxed)) +
                                  v * static_cast<double>(n)),
              std::memory_order_release);
    // [HW3] release: pairs with [HR1]; a snapshot that reads s + 2 sees this call whole.
    seq.store(s + 2, std::memory_order_release);
  }

  // ---- the guests' lane (Go's hot/cold protocol) ----

  void observe_guest(guest_lane& lane, const place& p, double v, std::uint64_t n) const noexcept {
    // [HO1] acquire: pairs with [HS2]; the set's reset happens-before.
    const std::uint64_t word = lane.count_and_hot.value.fetch_add(1, std::memory_order_acquire);
    count_set& set = lane.sets[word >> 63];
    // [HO2] relaxed: ordered for the snapshot by [HO4].
    set.cells[p.cell].fetch_add(n, std::memory_order_relaxed);
    add_sum(set, v * static_cast<double>(n));  // [HO3]
    if (p.native != place::kind::none) guest_native(set, p, n);
    // [HO4] release: pairs with [HS3]; everything above happens-before the snapshot's reads.
    set.cells[completed_cell].fetch_add(1, std::memory_order_release);
  }

  static void add_sum(count_set& set, double d) noexcept {
    detail::atomic<std::uint64_t>& s = set.cells[sum_cell];
    // [HO3] relaxed CAS loop (failure relaxed: the loop re-reads).
    std::uint64_t old = s.load(std::memory_order_relaxed);
    while (!s.compare_exchange_weak(old, detail::double_bits(detail::bits_double(old) + d),
                                    std::memory_order_relaxed, std::memory_order_relaxed)) {
    }
  }

  void guest_native(count_set& set, const place& p, std::uint64_t n) const noexcept {
    if (p.native == place::kind::zero) {
      set.cells[zero_cell()].fetch_add(n, std::memory_order_relaxed);  // [HO2]
      return;
    }
    const std::size_t mask = table_size_ - 1;
    std::size_t i = home(p.code);
    for (std::size_t probes = 0; probes < table_size_; ++probes, i = (i + 1) & mask) {
      detail::atomic<std::int32_t>& k = set.keys[i];
      std::int32_t seen = k.load(std::memory_order_relaxed);  // [HN1]
      bool claimed = false;
      if (seen == empty_key) {
        // [HN1] relaxed/relaxed: a code publishes no data (the count is an atomic counter).
        claimed = k.compare_exchange_strong(seen, p.code, std::memory_order_relaxed,
                                            std::memory_order_relaxed);
        if (claimed) seen = p.code;
      }
      if (seen != p.code) continue;
      set.cells[table_cell(i)].fetch_add(n, std::memory_order_relaxed);  // [HO2]
      if (claimed) {
        // [HO2] relaxed: slots claimed, a trigger only.
        claimed_slot(set.cells[distinct_cell()].fetch_add(1, std::memory_order_relaxed) + 1,
                     p.schema);
      }
      return;
    }
    set.cells[overflow_cell(p)].fetch_add(n, std::memory_order_relaxed);  // [HO2] table full
  }

  // ---- snapshots ----

  // What one snapshot gathers: classic counts per bucket (not cumulative), sum, zero
  // count, native buckets as (schema, negative, key, count).
  struct native_entry {
    std::int32_t schema;
    bool negative;
    std::int32_t key;
    std::uint64_t count;
  };
  struct gathered {
    std::vector<std::uint64_t> buckets;
    double sum = 0.0;
    std::uint64_t zero = 0;
    std::vector<native_entry> native;
  };
  // Adds the set's counts to g (relaxed loads: the caller holds the set's lock, or the set
  // is cold and its observers have finished).
  void gather(const count_set& set, gathered& g) const;
  // The guests' lane: flip, wait, move the old hot set's counts into g, reset it.
  void drain_guests(gathered& g) const;
  void reset(count_set& set) const;
  // A snapshot's read of a lane: pause its holder, read until the sequence is even and
  // unchanged across the read, resume it. Adds the lane's counts to g; tmp has a slot per
  // classic bucket.
  void read_lane(shard& l, gathered& g, std::vector<std::uint64_t>& tmp) const noexcept;
  // [HS6] a snapshot takes a shard's lock as observe() does ([HL1]), waiting for it.
  static void lock_shard(shard& sh) noexcept {
    detail::backoff wait;
    while (!try_lock(sh)) wait.pause();
  }
  // The entries of every list brought to schema s and merged: one per (sign, key), sorted
  // by sign (positive first), then key.
  static std::vector<native_entry> merged_at(
      std::int32_t s, std::initializer_list<const std::vector<native_entry>*> lists);
  // Re-keys a shard's native table at schema s (or coarser), merging; under its lock.
  // scratch has room for table_size_ entries (nothing allocates under a shard's lock).
  void compact(count_set& set, std::int32_t s,
               std::vector<std::pair<std::int32_t, std::uint64_t>>& scratch) const;

  std::vector<double> bounds_;
  alignas(16) double few_bounds_[16];  // with at most 16 bounds: them, then +Inf
  bool native_ = false;
  native_buckets native_config_{};
  std::size_t table_size_ = 0;
  std::size_t shard_mask_ = 0;
  std::unique_ptr<shard[]> shards_;
  std::size_t lane_count_ = 0;
  std::unique_ptr<shard[]> lanes_;  // busy: the pause hint; set.cells[seq_cell]: the sequence
  mutable guest_lane guest_;
  // The histogram's current native schema, a hint for observers ([HN2]).
  mutable detail::cache_padded<detail::atomic<std::int32_t>> target_schema_{0};
  // What snapshots keep, away from the fields observe() reads. Under the mutex ([HS1]).
  struct alignas(detail::cache_line_size) snapshot_state {
    detail::mutex mutex;      // [HS1]
    std::int32_t schema = 0;  // the schema of the last snapshot's native buckets
    gathered base;            // every guest observation absorbed so far
  };
  mutable snapshot_state snap_;
};

// ---- out-of-line members -------------------------------------------------------------

inline histogram::histogram(std::vector<double> upper_bounds, const native_buckets* native,
                            std::size_t shards, std::size_t lanes)
    : bounds_(std::move(upper_bounds)) {
  for (std::size_t i = 0; i < 16; ++i) {
    few_bounds_[i] = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
  }
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i])) {
      detail::throw_invalid_argument(
          "lockless::histogram: bucket bounds must be finite (the +Inf bucket is implied)");
    }
    if (i > 0 && !(bounds_[i] > bounds_[i - 1])) {
      detail::throw_invalid_argument(
          "lockless::histogram: bucket bounds must be strictly increasing");
    }
  }
  if (native != nullptr) {
    if (native->schema < detail::native_min_schema || native->schema > detail::native_max_schema) {
      detail::throw_invalid_argument("lockless::histogram: native schema must be in -4..8");
    }
    if (!std::isfinite(native->zero_threshold) || native->zero_threshold < 0) {
      detail::throw_invalid_argument(
          "lockless::histogram: native zero_threshold must be finite and >= 0");
    }
    if (native->max_buckets == 0 || native->max_buckets > 32768) {
      detail::throw_invalid_argument("lockless::histogram: native max_buckets must be in 1..32768");
    }
    native_ = true;
    native_config_ = *native;
    snap_.schema = native->schema;
    target_schema_.value.store(native->schema, std::memory_order_relaxed);  // before sharing
    table_size_ = std::bit_ceil(std::max<std::size_t>(16, 3 * std::size_t{native->max_buckets}));
  }
  if (shards > 1024) detail::throw_invalid_argument("lockless::histogram: at most 1024 shards");
  if (shards == 0) {
    const std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    shards = std::min<std::size_t>(native_ ? 8 : 64, 2 * hw);
  }
  if constexpr (detail::model_checked) shards = std::min<std::size_t>(shards, 4);
  shards = std::bit_ceil(shards);
  shard_mask_ = shards - 1;
  if (lanes == default_lanes) lanes = shards;
  lane_count_ = std::min(lanes, detail::max_thread_lanes);
  if constexpr (detail::model_checked) lane_count_ = std::min<std::size_t>(lane_count_, 4);
  if (native_) lane_count_ = 0;  // see OWNER LANES
  snap_.base.buckets.assign(bounds_.size() + 1, 0);
  shards_ = std::make_unique<shard[]>(shards);
  auto init = [&](count_set& set) {
    set.cells = detail::padded_array<detail::atomic<std::uint64_t>>(cells_per_set());
    // Relaxed stores before the histogram is shared (whatever shares it publishes them).
    for (std::size_t c = 0; c < set.cells.size(); ++c)
      set.cells[c].store(0, std::memory_order_relaxed);
    set.cells[sum_cell].store(detail::double_bits(0.0), std::memory_order_relaxed);
    if (native_) {
      set.keys = detail::padded_array<detail::atomic<std::int32_t>>(table_size_);
      for (std::size_t k = 0; k < table_size_; ++k)
        set.keys[k].store(empty_key, std::memory_order_relaxed);
    }
  };
  for (std::size_t i = 0; i < shards; ++i) init(shards_[i].set);
  if (lane_count_ != 0) {
    lanes_ = std::make_unique<shard[]>(lane_count_);
    for (std::size_t i = 0; i < lane_count_; ++i) init(lanes_[i].set);
  }
  for (count_set& set : guest_.sets) init(set);
}

inline void histogram::gather(const count_set& set, gathered& g) const {
  constexpr auto relaxed = std::memory_order_relaxed;
  for (std::size_t b = 0; b <= bounds_.size(); ++b) {
    g.buckets[b] += set.cells[first_bucket_cell + b].load(relaxed);
  }
  g.sum += detail::bits_double(set.cells[sum_cell].load(relaxed));
  if (!native_) return;
  g.zero += set.cells[zero_cell()].load(relaxed);
  for (std::size_t i = 0; i < table_size_; ++i) {
    const std::int32_t code = set.keys[i].load(relaxed);
    if (code == empty_key) continue;
    const std::uint64_t count = set.cells[table_cell(i)].load(relaxed);
    if (count != 0)
      g.native.push_back({code_schema(code), code_negative(code), code_key(code), count});
  }
  for (int neg = 0; neg < 2; ++neg) {
    for (std::int32_t key = detail::coarse_min_key;
         key < detail::coarse_min_key + detail::coarse_keys; ++key) {
      const std::uint64_t count = set.cells[overflow_cell(neg != 0, key)].load(relaxed);
      if (count != 0) g.native.push_back({detail::native_min_schema, neg != 0, key, count});
    }
  }
}

inline void histogram::compact(count_set& set, std::int32_t s,
                               std::vector<std::pair<std::int32_t, std::uint64_t>>& entries) const {
  constexpr auto relaxed = std::memory_order_relaxed;
  // [HL3] relaxed throughout: the caller holds the shard's lock.
  entries.clear();  // (code at s or coarser, count); capacity reserved by the caller
  for (std::size_t i = 0; i < table_size_; ++i) {
    const std::int32_t code = set.keys[i].load(relaxed);
    if (code == empty_key) continue;
    const std::uint64_t count = set.cells[table_cell(i)].load(relaxed);
    const std::int32_t from = code_schema(code);
    const std::int32_t to = std::min(from, s);
    entries.emplace_back(
        encode(detail::native_reduce(code_key(code), from, to), code_negative(code), to), count);
    set.keys[i].store(empty_key, relaxed);
    set.cells[table_cell(i)].store(0, relaxed);
  }
  std::sort(entries.begin(), entries.end());
  std::uint64_t distinct = 0;
  for (std::size_t r = 0; r < entries.size();) {
    const std::int32_t code = entries[r].first;
    std::uint64_t count = 0;
    for (; r < entries.size() && entries[r].first == code; ++r) count += entries[r].second;
    std::size_t i = home(code);
    while (set.keys[i].load(relaxed) != empty_key) i = (i + 1) & (table_size_ - 1);
    set.keys[i].store(code, relaxed);  // fewer codes than before: a free slot exists
    set.cells[table_cell(i)].store(count, relaxed);
    ++distinct;
  }
  set.cells[distinct_cell()].store(distinct, relaxed);
}

inline void histogram::reset(count_set& set) const {
  // [HS4] relaxed: published to the next observers of this set by the flip ([HS2]).
  for (std::size_t c = 0; c < set.cells.size(); ++c)
    set.cells[c].store(0, std::memory_order_relaxed);
  set.cells[sum_cell].store(detail::double_bits(0.0), std::memory_order_relaxed);
  if (!native_) return;
  for (std::size_t k = 0; k < table_size_; ++k)
    set.keys[k].store(empty_key, std::memory_order_relaxed);
}

inline void histogram::read_lane(shard& l, gathered& g,
                                 std::vector<std::uint64_t>& tmp) const noexcept {
  const count_set& set = l.set;
  // [HR1] as below. Still 0: the lane was never written (no holder of its number has
  // counted here), so there is nothing to add and nobody to pause; a call that returned
  // before snapshot() was called would have left it at 2 or more.
  if (set.cells[seq_cell].load(std::memory_order_acquire) == 0) return;
  // [HP1] relaxed: a hint; the holder's calls that see it count in the shards, so the
  // read below waits for at most the call in flight. Correctness rests on the sequence.
  l.busy.value.store(1, std::memory_order_relaxed);
  detail::backoff wait;
  std::uint64_t sum_bits = 0;
  for (;;) {
    // [HR1] acquire: pairs with [HW3]; an even value s + 2 brings that call's counters.
    const std::uint64_t before = set.cells[seq_cell].load(std::memory_order_acquire);
    if ((before & 1) == 0) {
      // [HR2] acquire: pairs with [HW2]; a counter of a later call brings its odd
      // sequence, which [HR3] then sees.
      const detail::atomic<std::uint64_t>* cells = &set.cells[first_bucket_cell];
      std::uint64_t* out = tmp.data();
      for (std::size_t b = 0, n = tmp.size(); b < n; ++b) {
        out[b] = cells[b].load(std::memory_order_acquire);
      }
      sum_bits = set.cells[sum_cell].load(std::memory_order_acquire);
      // [HR3] relaxed: after the acquire loads above. Unchanged: no call wrote meanwhile.
      if (set.cells[seq_cell].load(std::memory_order_relaxed) == before) break;
    }
    wait.pause();
  }
  // [HP2] relaxed: the hint withdrawn (snapshots take turns, [HS1]).
  l.busy.value.store(0, std::memory_order_relaxed);
  std::uint64_t* into = g.buckets.data();
  for (std::size_t b = 0, n = tmp.size(); b < n; ++b) into[b] += tmp[b];
  g.sum += detail::bits_double(sum_bits);
}

inline void histogram::drain_guests(gathered& g) const {
  guest_lane& lane = guest_;
  // [HS5] relaxed: which set is hot; only snapshots flip, and they take turns ([HS1]).
  const std::uint64_t hot = lane.count_and_hot.value.load(std::memory_order_relaxed) >> 63;
  // [HS2] release: the flip, also restarting the count of calls; publishes the reset of
  // the set that becomes hot (done by the previous snapshot) to [HO1].
  const std::uint64_t word =
      lane.count_and_hot.value.exchange((hot ^ 1) << 63, std::memory_order_release);
  const std::uint64_t started = word & ~(std::uint64_t{1} << 63);
  count_set& old_hot = lane.sets[hot];
  // [HS3] acquire: pairs with [HO4]; wait for the calls that joined old_hot to finish.
  detail::backoff wait;
  while (old_hot.cells[completed_cell].load(std::memory_order_acquire) != started) wait.pause();
  gather(old_hot, g);  // [HS4] relaxed reads, ordered by [HS3]
  reset(old_hot);
}

inline std::vector<histogram::native_entry> histogram::merged_at(
    std::int32_t s, std::initializer_list<const std::vector<native_entry>*> lists) {
  std::vector<native_entry> v;
  for (const std::vector<native_entry>* list : lists) {
    for (const native_entry& e : *list) {
      v.push_back({s, e.negative, detail::native_reduce(e.key, e.schema, s), e.count});
    }
  }
  std::sort(v.begin(), v.end(), [](const native_entry& a, const native_entry& b) {
    return std::pair(a.negative, a.key) < std::pair(b.negative, b.key);
  });
  std::size_t w = 0;
  for (std::size_t r = 0; r < v.size(); ++r) {
    if (w > 0 && v[w - 1].negative == v[r].negative && v[w - 1].key == v[r].key) {
      v[w - 1].count += v[r].count;
    } else {
      v[w++] = v[r];
    }
  }
  v.resize(w);
  return v;
}

inline histogram_snapshot histogram::snapshot() const {
  histogram_snapshot out;
  gathered shards;  // what the shards hold (cumulative, stays there)
  shards.buckets.assign(bounds_.size() + 1, 0);
  std::vector<std::pair<std::int32_t, std::uint64_t>> scratch;
  std::vector<std::uint64_t> lane_read(lane_count_ != 0 ? bounds_.size() + 1 : 0);
  std::unique_lock<detail::mutex> lock(snap_.mutex);  // [HS1]
  gathered& base = snap_.base;                        // what the guests' lane gave up so far
  if (native_) {
    // Every allocation before a shard is locked or the guests' lane flipped: an exception
    // there would leave a shard locked or a drained set half read.
    const std::size_t per_set = table_size_ + 2 * detail::coarse_keys;
    shards.native.reserve((shard_mask_ + 1) * per_set);
    base.native.reserve(base.native.size() + per_set);
    scratch.reserve(table_size_);
  }
  for (std::size_t i = 0; i < lane_count_; ++i) read_lane(lanes_[i], shards, lane_read);
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    lock_shard(shards_[i]);  // [HS6]
    gather(shards_[i].set, shards);
    unlock(shards_[i]);  // [HL2]
  }
  drain_guests(base);
  out.upper_bounds = bounds_;
  out.cumulative.assign(bounds_.size() + 1, 0);
  std::uint64_t below = 0;
  for (std::size_t b = 0; b <= bounds_.size(); ++b) {
    below += base.buckets[b] + shards.buckets[b];
    out.cumulative[b] = below;
  }
  out.count = below;
  out.sum = base.sum + shards.sum;
  if (!native_) return out;

  // One schema for every bucket: the finest at which at most max_buckets are populated,
  // no finer than the last snapshot's or than any bucket read.
  std::int32_t s = snap_.schema;
  for (const native_entry& e : base.native) s = std::min(s, e.schema);
  for (const native_entry& e : shards.native) s = std::min(s, e.schema);
  std::vector<native_entry> merged = merged_at(s, {&base.native, &shards.native});
  while (merged.size() > native_config_.max_buckets && s > detail::native_min_schema) {
    merged = merged_at(--s, {&base.native, &shards.native});
  }
  snap_.schema = s;
  lower_target(s);  // INV4: observers count at s or coarser from now on
  // The shards' tables and the base, compacted at s: room for what comes next.
  for (std::size_t i = 0; i <= shard_mask_; ++i) {
    lock_shard(shards_[i]);  // [HS6]
    compact(shards_[i].set, s, scratch);
    unlock(shards_[i]);  // [HL2]
  }
  base.native = merged_at(s, {&base.native});
  const std::uint64_t zero = base.zero + shards.zero;
  lock.unlock();

  out.native = true;
  out.schema = s;
  out.zero_threshold = native_config_.zero_threshold;
  out.zero_count = zero;
  for (const native_entry& e : merged) {
    (e.negative ? out.negative : out.positive).push_back({e.key, e.count});
  }
  return out;
}

inline double histogram_snapshot::native_upper_bound(std::int32_t index, std::int32_t schema) {
  if (schema < 0) {
    const std::int64_t e = std::int64_t{index} << -schema;
    if (e == 1024) return std::numeric_limits<double>::max();
    return std::ldexp(1.0, static_cast<int>(std::clamp<std::int64_t>(e, -2000, 2000)));
  }
  const std::int32_t n = std::int32_t{1} << schema;
  const std::int32_t frac_index = index & (n - 1);
  const double frac = schema == 0 ? 0.5 : detail::native_fraction_bounds(schema)[frac_index];
  const std::int32_t e = (index >> schema) + 1;
  if (frac == 0.5 && e == 1025) return std::numeric_limits<double>::max();
  return std::ldexp(frac, e);
}

inline double histogram_snapshot::quantile(double q) const {
  if (std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  const std::size_t n = cumulative.size();  // buckets including +Inf
  if (n < 2 || count == 0) return std::numeric_limits<double>::quiet_NaN();
  const double observations = static_cast<double>(cumulative.back());
  double rank = q * observations;
  std::size_t b = 0;  // the first of the finite buckets whose cumulative count >= rank
  while (b < n - 1 && static_cast<double>(cumulative[b]) < rank) ++b;
  if (b == n - 1) return upper_bounds[n - 2];
  if (b == 0 && upper_bounds[0] <= 0) return upper_bounds[0];
  double start = 0;
  const double end = upper_bounds[b];
  double in_bucket = static_cast<double>(cumulative[b]);
  if (b > 0) {
    start = upper_bounds[b - 1];
    in_bucket -= static_cast<double>(cumulative[b - 1]);
    rank -= static_cast<double>(cumulative[b - 1]);
  }
  return start + (end - start) * (rank / in_bucket);
}

inline double histogram_snapshot::native_quantile(double q) const {
  if (std::isnan(q) || !native) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  struct range {
    double lower, upper, count;
  };
  // Ascending: negative buckets from the most negative, the zero bucket (only when it
  // holds observations, as 2.42's bucket iterator), positive ones. A bucket's end inside
  // the zero bucket is cut at -t / t, as Prometheus does.
  std::vector<range> all;
  for (auto it = negative.rbegin(); it != negative.rend(); ++it) {
    all.push_back({-native_upper_bound(it->index, schema),
                   std::min(-native_upper_bound(it->index - 1, schema), -zero_threshold),
                   static_cast<double>(it->count)});
  }
  if (zero_count > 0) {
    all.push_back({-zero_threshold, zero_threshold, static_cast<double>(zero_count)});
  }
  for (const native_bucket& b : positive) {
    all.push_back({std::max(native_upper_bound(b.index - 1, schema), zero_threshold),
                   native_upper_bound(b.index, schema), static_cast<double>(b.count)});
  }
  const double total = static_cast<double>(count);
  const double rank = q * total;
  double seen = 0;
  range bucket{0, 0, 0};  // no bucket at all (only NaN observed): 0, or NaN for q = 0
  for (const range& r : all) {
    bucket = r;
    seen += r.count;
    if (seen >= rank) break;
  }
  if (bucket.lower < 0 && bucket.upper > 0) {
    if (negative.empty() && !positive.empty()) {
      bucket.lower = 0;
    } else if (positive.empty() && !negative.empty()) {
      bucket.upper = 0;
    }
  }
  seen = std::min(seen, total);
  if (seen < rank) return bucket.upper;
  const double r = rank - (seen - bucket.count);
  return bucket.lower + (bucket.upper - bucket.lower) * (r / bucket.count);
}

}  // namespace lockless::inline LOCKLESS_ABI_NAMESPACE

// The exposition formats (text 0.0.4, OpenMetrics, protobuf) of histogram_snapshot.
#include "detail/histogram_exposition.hpp"  // IWYU pragma: export
