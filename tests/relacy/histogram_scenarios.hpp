// tests/relacy/histogram_scenarios.hpp: Relacy scenarios of lockless::histogram
// (observers racing snapshots: the shards' try-locks, and the guests' lane, whose hot/cold
// flip an observer races when it finds every shard busy), shared by histogram.cpp (the
// real header) and histogram_mutants.cpp (broken copies of it, histogram_mutants.cmake).
//
// Every scenario builds its histogram in before() and destroys it in after(), so every
// execution starts from scratch. Classic bounds are always {1, 2} (three buckets with
// +Inf); native scenarios add native buckets at schema 0 with a small max_buckets. Under
// Relacy a thread starts at shard (model thread index & (shards - 1)).
//
// Each thread runs a fixed script (a string of letters):
//   S            snapshot(), checked at once (below)
//   a b c        observe(0.5), observe(1.5), observe(4.0): one value per classic bucket
//   p q w n z    observe(1.0), observe(2.0), observe(4.0), observe(-2.0), observe(0.0):
//                powers of two (native keys known in closed form) and the zero bucket
//   1 .. 9       pacing: wait until that many snapshots of this execution have returned,
//                WITHOUT synchronizing with them (a relaxed load of a test counter, polled
//                without a yield: a yield would stop Relacy from serving this thread stale
//                values it saw before). A native snapshot is hundreds of atomic steps (it
//                reads the fixed schema -4 overflow array) against an observe()'s few, so
//                without pacing the random scheduler finishes the observers long before
//                the later snapshots start.
// Every value is a small dyadic number, so every partial sum is exact in any order and a
// snapshot's sum can be compared with ==.
//
// What is checked. The counters are all atomics, so a missing happens-before shows up
// only as a wrong VALUE read (a stale counter, a stale table code): the checks are exact.
//   - every snapshot is internally consistent: count == the +Inf bucket, cumulative counts
//     non-decreasing; native: zero_count + positive + negative == count, buckets
//     ascending with non-zero counts, at most max_buckets of them unless the schema is
//     -4, the schema within -4..configured.
//   - every snapshot is EXACTLY some multiset of the scripts' observations (whole
//     observe() calls, never half of one): the classic buckets, count and sum, and the
//     native zero count and buckets at the snapshot's schema (keys computed here in
//     closed form, not by the header), for some number of observations of each value;
//     the snapshotting thread's own observations made before the call are all in it,
//     its later ones are not. (Not a per-thread prefix: a thread's calls may go to
//     different shards or to the guests' lane, and a snapshot is not one cut across them.)
//   - monotone: a thread's later snapshot has every cumulative count at least the earlier
//     one's, a schema no finer, and every native bucket of the earlier one (reduced to the
//     later schema) at most as full.
//   - after() (every thread joined): a snapshot holds every observation exactly, and a
//     second one right after it is identical (nothing lost or doubled by a drain, a reset
//     or a compaction).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include <lockless/histogram.hpp>

namespace lockless_relacy {

// A scenario's histogram.
struct hist_config {
  std::size_t shards = 1;
  std::size_t lanes = 0;  // owner lanes (classic only): model thread t owns lane t if t < lanes
  bool native = false;
  std::int32_t schema = 0;        // native only
  std::uint32_t max_buckets = 2;  // native only
};

inline constexpr double hist_bounds[] = {1.0, 2.0};
inline constexpr int hist_classic = 3;  // classic buckets, +Inf included

// The value a script letter observes.
inline double hist_value(char c) {
  switch (c) {
    case 'a':
      return 0.5;
    case 'b':
      return 1.5;
    case 'c':
      return 4.0;
    case 'p':
      return 1.0;
    case 'q':
      return 2.0;
    case 'w':
      return 4.0;
    case 'n':
      return -2.0;
    case 'z':
      return 0.0;
    default:
      RL_ASSERT(!"a letter these scenarios do not spell");
      return 0.0;
  }
}

// The classic bucket of v: the first bound >= v, else +Inf.
inline int hist_classic_bucket(double v) {
  for (int b = 0; b < hist_classic - 1; ++b) {
    if (v <= hist_bounds[b]) return b;
  }
  return hist_classic - 1;
}

// The native key of |v| = 2^e at schema s: bucket i holds (2^((i-1)*2^-s), 2^(i*2^-s)],
// so i = ceil(e * 2^s).
inline std::int32_t hist_native_key(double v, std::int32_t s) {
  int exp = 0;
  const double frac = std::frexp(std::fabs(v), &exp);
  RL_ASSERT(frac == 0.5);  // the scenarios observe powers of two only
  const std::int32_t e = exp - 1;
  if (s >= 0) return e * (std::int32_t{1} << s);
  return (e + (std::int32_t{1} << -s) - 1) >> -s;  // ceil(e / 2^-s)
}

// Key at schema `from` reduced to `to` <= from (pairs merge: i -> ceil(i / 2)).
inline std::int32_t hist_reduce(std::int32_t key, std::int32_t from, std::int32_t to) {
  for (; from > to; --from) key = (key + 1) >> 1;
  return key;
}

// What a thread keeps of its last snapshot, for the monotonicity check (plain data: a
// histogram_snapshot's vectors would be Relacy allocations outliving the execution).
struct hist_summary {
  static constexpr int max_native = 8;
  bool valid = false;
  std::uint64_t cumulative[hist_classic] = {};
  std::int32_t schema = 0;
  std::uint64_t zero = 0;
  int positive_count = 0;
  int negative_count = 0;
  lockless::native_bucket positive[max_native] = {};
  lockless::native_bucket negative[max_native] = {};
};

// Counts, across the executions of one run, those in which some snapshot taken during the
// run was partial: it counted some observations but not all of them (evidence that a
// scenario really races observers with snapshots). Only written by the executions, which
// keeps Relacy's replay deterministic.
struct hist_evidence {
  unsigned long long executions = 0;
  unsigned long long with_partial = 0;
  bool partial = false;  // in the current execution
};
inline hist_evidence& evidence() {
  static hist_evidence e;
  return e;
}

template <class Derived, int Threads, hist_config C>
struct hist_suite : rl::test_suite<Derived, Threads> {
  static constexpr int max_ops = 6;

  lockless::histogram* h = nullptr;
  hist_summary last[Threads];  // written and read only by its thread
  // Snapshots returned so far in this execution (pacing only: relaxed, publishes nothing).
  lockless::detail::atomic<int> snapshots_done;
  static constexpr int max_polls = 20000;

  static const char* script(int t) { return Derived::scripts[t]; }
  static bool is_observe(char op) { return op != 'S' && !is_pacing(op); }
  static bool is_pacing(char op) { return op >= '1' && op <= '9'; }
  // The observations of thread t's script (its letters but S), and how many.
  static int observations(int t) {
    int n = 0;
    for (const char* s = script(t); *s != '\0'; ++s) n += is_observe(*s) ? 1 : 0;
    return n;
  }
  static char observation(int t, int k) {
    for (const char* s = script(t); *s != '\0'; ++s) {
      if (is_observe(*s) && k-- == 0) return *s;
    }
    RL_ASSERT(!"no such observation");
    return 0;
  }

  void before() {
    std::vector<double> bounds(std::begin(hist_bounds), std::end(hist_bounds));
    if constexpr (C.native) {
      lockless::native_buckets nb;
      nb.schema = C.schema;
      nb.max_buckets = C.max_buckets;
      h = new lockless::histogram(std::move(bounds), nb, C.shards);
    } else {
      h = new lockless::histogram(std::move(bounds), C.shards, C.lanes);
    }
    RL_ASSERT(h->shard_count() == C.shards);
    RL_ASSERT(h->lane_count() == C.lanes);
    snapshots_done.store(0, std::memory_order_relaxed);
    evidence().partial = false;
  }

  void thread(unsigned index) {
    const int t = static_cast<int>(index);
    int observed = 0;
    for (const char* s = script(t); *s != '\0'; ++s) {
      RL_ASSERT(s - script(t) < max_ops);
      if (*s == 'S') {
        snapshot_and_check(t, observed);
        snapshots_done.fetch_add(1, std::memory_order_relaxed);
      } else if (is_pacing(*s)) {
        for (int polls = 0; polls < max_polls; ++polls) {
          if (snapshots_done.load(std::memory_order_relaxed) >= *s - '0') break;
        }
      } else {
        h->observe(hist_value(*s));
        ++observed;
      }
    }
  }

  void after() {
    const value_table v = values();
    const lockless::histogram_snapshot first = h->snapshot();
    check_consistent(first);
    RL_ASSERT(matches(first, v, v.total));
    const lockless::histogram_snapshot second = h->snapshot();
    check_consistent(second);
    RL_ASSERT(second.cumulative == first.cumulative);
    RL_ASSERT(second.count == first.count);
    RL_ASSERT(second.sum == first.sum);
    RL_ASSERT(second.schema == first.schema);
    RL_ASSERT(second.zero_count == first.zero_count);
    RL_ASSERT(second.positive == first.positive);
    RL_ASSERT(second.negative == first.negative);
    delete h;
    h = nullptr;
    ++evidence().executions;
    if (evidence().partial) ++evidence().with_partial;
  }

  // ---- the checks ----------------------------------------------------------------------
  void snapshot_and_check(int t, int observed) {
    const lockless::histogram_snapshot s = h->snapshot();
    check_consistent(s);
    // Its own observations: exactly those made before the call; the others': any.
    const value_table v = values();
    int lo[8] = {};
    int hi[8] = {};
    for (int i = 0; i < v.n; ++i) hi[i] = v.total[i];
    for (int k = 0; k < observations(t); ++k) {
      const int i = v.index(observation(t, k));
      if (k < observed) {
        ++lo[i];
      } else {
        --hi[i];
      }
    }
    int count[8];
    RL_ASSERT(some_counts_match(s, v, 0, count, lo, hi));
    int total = 0;
    for (int u = 0; u < Threads; ++u) total += observations(u);
    if (s.count > 0 && s.count < static_cast<std::uint64_t>(total)) evidence().partial = true;
    if (last[t].valid) check_monotone(last[t], s);
    last[t] = summarize(s);
  }

  static void check_consistent(const lockless::histogram_snapshot& s) {
    RL_ASSERT(s.cumulative.size() == static_cast<std::size_t>(hist_classic));
    for (int b = 1; b < hist_classic; ++b) RL_ASSERT(s.cumulative[b - 1] <= s.cumulative[b]);
    RL_ASSERT(s.count == s.cumulative.back());
    RL_ASSERT(s.native == C.native);
    if constexpr (C.native) {
      RL_ASSERT(s.schema >= -4 && s.schema <= C.schema);
      std::uint64_t total = s.zero_count;
      for (const auto* side : {&s.positive, &s.negative}) {
        for (std::size_t i = 0; i < side->size(); ++i) {
          RL_ASSERT((*side)[i].count > 0);
          if (i > 0) RL_ASSERT((*side)[i - 1].index < (*side)[i].index);
          total += (*side)[i].count;
        }
      }
      RL_ASSERT(total == s.count);  // no NaN observed
      RL_ASSERT(s.positive.size() + s.negative.size() <= C.max_buckets || s.schema == -4);
      RL_ASSERT(s.positive.size() <= hist_summary::max_native &&
                s.negative.size() <= hist_summary::max_native);
    }
  }

  // The distinct values of the scenario's scripts, and how often each is observed.
  struct value_table {
    char letter[8] = {};
    int total[8] = {};
    int n = 0;
    int index(char c) const {
      for (int i = 0; i < n; ++i) {
        if (letter[i] == c) return i;
      }
      return -1;
    }
  };
  static value_table values() {
    value_table v;
    for (int t = 0; t < Threads; ++t) {
      for (int k = 0; k < observations(t); ++k) {
        const char c = observation(t, k);
        int i = v.index(c);
        if (i < 0) {
          RL_ASSERT(v.n < 8);
          i = v.n++;
          v.letter[i] = c;
        }
        ++v.total[i];
      }
    }
    return v;
  }

  // Is s exactly some multiset of the scenario's observations with between lo[i] and
  // hi[i] observations of value i? Tries every count vector (a handful of values, each
  // observed a few times).
  static bool some_counts_match(const lockless::histogram_snapshot& s, const value_table& v, int i,
                                int* count, const int* lo, const int* hi) {
    if (i == v.n) return matches(s, v, count);
    for (int c = lo[i]; c <= hi[i]; ++c) {
      count[i] = c;
      if (some_counts_match(s, v, i + 1, count, lo, hi)) return true;
    }
    return false;
  }

  // Does s hold exactly count[i] observations of value i, for every i? (No allocation:
  // this runs for every candidate of every snapshot.)
  static bool matches(const lockless::histogram_snapshot& s, const value_table& v,
                      const int* count) {
    std::uint64_t bucket[hist_classic] = {};
    double sum = 0.0;
    std::uint64_t zero = 0;
    lockless::native_bucket positive[8] = {};
    lockless::native_bucket negative[8] = {};
    int positive_n = 0;
    int negative_n = 0;
    for (int i = 0; i < v.n; ++i) {
      if (count[i] == 0) continue;
      const double x = hist_value(v.letter[i]);
      const auto c = static_cast<std::uint64_t>(count[i]);
      bucket[hist_classic_bucket(x)] += c;
      sum += x * static_cast<double>(c);
      if constexpr (C.native) {
        if (x == 0.0) {
          zero += c;
          continue;
        }
        lockless::native_bucket* side = x < 0 ? negative : positive;
        int& n = x < 0 ? negative_n : positive_n;
        const std::int32_t key = hist_native_key(x, s.schema);
        int j = 0;
        while (j < n && side[j].index != key) ++j;
        if (j == n) side[n++] = {key, 0};
        side[j].count += c;
      }
    }
    std::uint64_t below = 0;
    for (int b = 0; b < hist_classic; ++b) {
      below += bucket[b];
      if (s.cumulative[b] != below) return false;
    }
    if (s.count != below || s.sum != sum) return false;
    if constexpr (C.native) {
      if (s.zero_count != zero) return false;
      if (!same_buckets(positive, positive_n, s.positive)) return false;
      if (!same_buckets(negative, negative_n, s.negative)) return false;
    }
    return true;
  }

  // The same buckets (`want` in any order, `have` ascending).
  static bool same_buckets(const lockless::native_bucket* want, int n,
                           const std::vector<lockless::native_bucket>& have) {
    if (have.size() != static_cast<std::size_t>(n)) return false;
    for (int j = 0; j < n; ++j) {
      bool found = false;
      for (const lockless::native_bucket& b : have) found = found || b == want[j];
      if (!found) return false;
    }
    return true;
  }

  // Every native bucket of `earlier`, reduced to `schema`, has at most the count of the
  // same bucket in `later`.
  static bool native_within(const lockless::native_bucket* earlier, int n, std::int32_t from,
                            const std::vector<lockless::native_bucket>& later,
                            std::int32_t schema) {
    std::vector<lockless::native_bucket> reduced;
    for (int i = 0; i < n; ++i) {
      const std::int32_t key = hist_reduce(earlier[i].index, from, schema);
      bool found = false;
      for (lockless::native_bucket& b : reduced) {
        if (b.index == key) {
          b.count += earlier[i].count;
          found = true;
        }
      }
      if (!found) reduced.push_back({key, earlier[i].count});
    }
    for (const lockless::native_bucket& r : reduced) {
      std::uint64_t have = 0;
      for (const lockless::native_bucket& b : later) have += b.index == r.index ? b.count : 0;
      if (have < r.count) return false;
    }
    return true;
  }

  static void check_monotone(const hist_summary& earlier, const lockless::histogram_snapshot& s) {
    for (int b = 0; b < hist_classic; ++b) RL_ASSERT(earlier.cumulative[b] <= s.cumulative[b]);
    if constexpr (C.native) {
      RL_ASSERT(s.schema <= earlier.schema);
      RL_ASSERT(earlier.zero <= s.zero_count);
      RL_ASSERT(native_within(earlier.positive, earlier.positive_count, earlier.schema, s.positive,
                              s.schema));
      RL_ASSERT(native_within(earlier.negative, earlier.negative_count, earlier.schema, s.negative,
                              s.schema));
    }
  }

  static hist_summary summarize(const lockless::histogram_snapshot& s) {
    hist_summary r;
    r.valid = true;
    for (int b = 0; b < hist_classic; ++b) r.cumulative[b] = s.cumulative[b];
    r.schema = s.schema;
    r.zero = s.zero_count;
    r.positive_count = static_cast<int>(s.positive.size());
    r.negative_count = static_cast<int>(s.negative.size());
    for (int i = 0; i < r.positive_count; ++i) r.positive[i] = s.positive[i];
    for (int i = 0; i < r.negative_count; ++i) r.negative[i] = s.negative[i];
    return r;
  }
};

// ---- the scenarios -------------------------------------------------------------------

// (a) Two observers share the one shard (one finds it busy now and then, held by the
// other or by a snapshot, and counts in the guests' lane); a third thread snapshots
// twice, racing them.
struct hist_one_shard : hist_suite<hist_one_shard, 3, hist_config{.shards = 1}> {
  static constexpr const char* scripts[3] = {"ac", "ba", "SS"};
};

// (b) Two shards (threads 0 and 2 start at shard 0, thread 1 at shard 1) and three
// snapshotters racing each other on the snapshot mutex: each observer snapshots after
// its own observations (which its snapshot must include), thread 2 observes between its
// two snapshots.
struct hist_two_shards : hist_suite<hist_two_shards, 3, hist_config{.shards = 2}> {
  static constexpr const char* scripts[3] = {"abS", "cbS", "SaS"};
};

// (c) Native buckets, schema 0, max_buckets 2, one shard: 1.0, 2.0 and 4.0 are three
// buckets at schema 0 and two at -1 (2.0 and 4.0 merge), -2.0 a fourth (down to -4), so
// snapshots coarsen while observers claim table slots. Before the first snapshot returns
// each observer counts one value; after it, both race the second snapshot, which holds
// the shard for hundreds of steps: they meet in the guests' lane, claiming slots at once
// ([HN1]; 4.0 by both), the third distinct slot claimed in a set lowers the hints
// ([HN2]), and the snapshot compacts the shard's table at the schema it reports.
struct hist_native_coarsen
    : hist_suite<hist_native_coarsen, 3,
                 hist_config{.shards = 1, .native = true, .schema = 0, .max_buckets = 2}> {
  static constexpr const char* scripts[3] = {"p1qw", "w1pn", "SS"};
};

// (d) Native buckets, max_buckets large enough that the schema stays. The observer counts
// 1.0 in the guests' lane whenever it finds the shard held by a snapshot: first (often)
// in set 0 while the first snapshot reads the shard, claiming 1.0's slot there; then,
// once two snapshots returned (the first reset set 0, emptying its slots; the second's
// flip made it hot again), while the third reads the shard. The code it reads then must
// be the reset's (empty), never the one it claimed before ([HO1] / [HS2]): counted in a
// slot whose code is empty, the observation is skipped by the third snapshot, whose
// native buckets then add up to less than its count. The observer takes no shard lock
// in between (that would synchronize it with the reset through [HL2]).
struct hist_native_reuse
    : hist_suite<hist_native_reuse, 2,
                 hist_config{.shards = 1, .native = true, .schema = 0, .max_buckets = 4}> {
  static constexpr const char* scripts[2] = {"p2p", "SSS"};
};

// (e) Owner lanes: threads 0 and 1 own lanes 0 and 1 and count there with plain loads and
// release stores under their lane's sequence ([HW1]-[HW3]); thread 2 has no lane (its
// observation goes to the shard) and snapshots twice, reading each lane under the
// sequence ([HR1]-[HR3]) while its owner may be half-way through a call: a torn read (a
// bucket counted without its sum, or the reverse) must be retried, never reported. The
// pause hint ([HP1]) sends an owner's calls during the read to the shard.
struct hist_lanes : hist_suite<hist_lanes, 3, hist_config{.shards = 1, .lanes = 2}> {
  static constexpr const char* scripts[3] = {"abc", "cab", "aSS"};
};

// (f) One lane, whose owner snapshots too: thread 0 counts in lane 0 and then snapshots
// (its own observations must be in it: the read of its own lane, paused by itself, sees
// them); thread 1 (no lane) snapshots around its own observation, racing thread 0's
// calls and its snapshot on the mutex and the pause hint.
struct hist_lane_owner_snapshots
    : hist_suite<hist_lane_owner_snapshots, 2, hist_config{.shards = 1, .lanes = 1}> {
  static constexpr const char* scripts[2] = {"abcS", "SbS"};
};

}  // namespace lockless_relacy
