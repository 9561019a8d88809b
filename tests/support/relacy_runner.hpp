// tests/support/relacy_runner.hpp: runs Relacy scenarios and reports what it did.
//
// Every test program of tests/relacy/ is a list of (scenario, plan) pairs handed to
// run() (a scenario that must pass) or to expect_failure() (a scenario compiled against a
// deliberately broken header, see <name>_mutants.cmake, that Relacy must reject with a given
// kind of failure). Each call prints one summary line: scheduler, executions, seconds,
// verdict. A program returns non-zero if any of its checks failed and names which.
//
// Include after "support/relacy_prelude.hpp". The prelude already includes every header
// below but <chrono>, which compiles after Relacy (checked with g++ 12 / libstdc++ 12).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lockless_relacy {

// How to explore a scenario.
struct plan {
  rl::scheduler_type_e scheduler = rl::sched_random;
  // Random scheduler: number of executions (iteration i uses seed i, so runs are
  // reproducible). Ignored by the systematic schedulers, which run to exhaustion.
  rl::iteration_t iterations = 100000;
  unsigned context_bound = 1;             // sched_bound only
  unsigned execution_depth_limit = 4000;  // scheduling points per execution (livelock)
};

inline plan random_plan(rl::iteration_t iterations) {
  plan p;
  p.scheduler = rl::sched_random;
  p.iterations = iterations;
  return p;
}

inline plan bound_plan(unsigned bound) {
  plan p;
  p.scheduler = rl::sched_bound;
  p.context_bound = bound;
  return p;
}

inline plan full_plan() {
  plan p;
  p.scheduler = rl::sched_full;
  return p;
}

// Command-line override of a program's plans, for reproducing or exploring further:
//   <program> random <iterations> | bound <context bound> | full
// Without arguments each check runs with the plan it was given in the program.
struct plan_override {
  bool active = false;
  plan value;
};

inline plan_override& override_plan() {
  static plan_override o;
  return o;
}

// Returns false (after printing the usage) on malformed arguments.
inline bool parse_args(int argc, char** argv) {
  if (argc <= 1) return true;
  const std::string kind = argv[1];
  plan p;
  if (kind == "random" && argc == 3) {
    p.scheduler = rl::sched_random;
    p.iterations = std::stoull(argv[2]);
  } else if (kind == "bound" && argc == 3) {
    p.scheduler = rl::sched_bound;
    p.context_bound = static_cast<unsigned>(std::stoul(argv[2]));
  } else if (kind == "full" && argc == 2) {
    p.scheduler = rl::sched_full;
  } else {
    std::cout << "usage: " << argv[0] << " [random <iterations> | bound <bound> | full]"
              << std::endl;
    return false;
  }
  override_plan() = {true, p};
  return true;
}

inline std::string describe(const plan& p) {
  switch (p.scheduler) {
    case rl::sched_random:
      return "random scheduler, " + std::to_string(p.iterations) + " iterations";
    case rl::sched_bound:
      return "context-bound scheduler, bound " + std::to_string(p.context_bound);
    case rl::sched_full:
      return "full-search scheduler";
    default:
      return "?";
  }
}

// Relacy prints a progress line every 64 K executions; the summary line says enough.
class null_buffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
};

struct outcome {
  rl::test_result_e result;
  rl::iteration_t executions;  // the failing one when result != success
  double seconds;
};

inline const plan& effective(const plan& given) {
  return override_plan().active ? override_plan().value : given;
}

template <class Suite>
outcome simulate(const plan& p) {
  static null_buffer quiet_buffer;
  static std::ostream quiet(&quiet_buffer);
  rl::test_params params;
  params.search_type = p.scheduler;
  params.iteration_count = p.iterations;
  params.context_bound = p.context_bound;
  params.execution_depth_limit = p.execution_depth_limit;
  params.output_stream = &std::cout;  // never a stream created outside the simulation
  params.progress_stream = &quiet;
  const auto start = std::chrono::steady_clock::now();
  rl::simulate<Suite>(params);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return {params.test_result, params.stop_iteration, took.count()};
}

// The checks of one test program, and its exit status.
class report {
 public:
  // The scenario must pass (no race, no freed-memory access, no leak, no failed assert).
  template <class Suite>
  void run(const char* name, const plan& given) {
    const plan& p = effective(given);
    std::cout << "=== " << name << ": " << describe(p) << std::endl;
    const outcome o = simulate<Suite>(p);
    const bool ok = o.result == rl::test_result_success;
    std::printf("--- %s: %s, %llu executions, %.2f s: %s\n", name, describe(p).c_str(),
                static_cast<unsigned long long>(o.executions), o.seconds,
                ok ? "PASS" : rl::test_result_str(o.result));
    std::fflush(stdout);
    note(name, p, ok);
  }

  // The scenario runs against a broken header: Relacy must report one of `expected`.
  template <class Suite>
  void expect_failure(const char* name, const plan& given,
                      std::initializer_list<rl::test_result_e> expected) {
    const plan& p = effective(given);
    std::cout << "=== " << name << " (mutant, must be caught): " << describe(p) << std::endl;
    const outcome o = simulate<Suite>(p);
    bool ok = false;
    std::string wanted;
    for (rl::test_result_e e : expected) {
      ok = ok || o.result == e;
      if (!wanted.empty()) wanted += " or ";
      wanted += rl::test_result_str(e);
    }
    if (o.result == rl::test_result_success) {
      std::printf("--- %s: %s, %llu executions, %.2f s: NOT CAUGHT (mutant passed; wanted %s)\n",
                  name, describe(p).c_str(), static_cast<unsigned long long>(o.executions),
                  o.seconds, wanted.c_str());
    } else {
      std::printf("--- %s: %s: Relacy reported %s at execution %llu after %.2f s: %s\n", name,
                  describe(p).c_str(), rl::test_result_str(o.result),
                  static_cast<unsigned long long>(o.executions), o.seconds,
                  ok ? "CAUGHT as expected" : ("WRONG KIND (wanted " + wanted + ")").c_str());
    }
    std::fflush(stdout);
    note(name, p, ok);
  }

  // A condition a program checks itself (e.g. that a scenario was not vacuous).
  void require(const char* name, bool ok, const char* what) {
    if (!ok) std::printf("--- %s: FAILED: %s\n", name, what);
    ++checks_;
    if (!ok) failed_.emplace_back(std::string(name) + " (" + what + ")");
  }

  int exit_code() const {
    if (failed_.empty()) {
      std::cout << "all " << checks_ << " checks passed" << std::endl;
      return 0;
    }
    std::cout << failed_.size() << " of " << checks_ << " checks FAILED:" << std::endl;
    for (const std::string& f : failed_) std::cout << "  " << f << std::endl;
    return 1;
  }

 private:
  void note(const char* name, const plan& p, bool ok) {
    ++checks_;
    if (!ok) failed_.emplace_back(std::string(name) + " (" + describe(p) + ")");
  }

  unsigned checks_ = 0;
  std::vector<std::string> failed_;
};

// ---- mutants ----------------------------------------------------------------------------
// A structure's mutants share one program (tests/relacy/<name>_mutants.cpp), built once
// per mutant that <name>_mutants.cmake declares; the build defines LOCKLESS_RELACY_MUTANT
// as the mutant's name, and the program's table says which checks that mutant must fail.
// An entry is written
//   mutant<"mutant_<name>">([]<class = void>(report& r) { r.expect_failure<...>(...); }),
// The checks are a lambda template, so that their body (the scenarios it instantiates) is
// compiled only in the build of the mutant it names: a build compiles one entry's
// scenarios, not the whole table's. With the survey compiled out as well (below), a
// histogram mutant compiles in 4.6 s instead of 6.8 s at -O0; either alone saves nothing.
// Checks that several entries share go in a function template for the same reason.
using mutant_checks = void (*)(report&);
using mutant_table = std::vector<std::pair<std::string, mutant_checks>>;

// A string literal as a template argument.
template <std::size_t N>
struct mutant_name {
  char value[N];
  consteval mutant_name(const char (&s)[N]) {  // NOLINT(google-explicit-constructor)
    for (std::size_t i = 0; i < N; ++i) value[i] = s[i];
  }
};

// One row of a mutant table: the name, and the checks if this build is that mutant's
// (nullptr otherwise; run_mutant() never calls another mutant's checks).
template <mutant_name Name, class Checks>
std::pair<std::string, mutant_checks> mutant(Checks) {
#if defined(LOCKLESS_RELACY_MUTANT)
  if constexpr (std::string_view(Name.value) == std::string_view(LOCKLESS_RELACY_MUTANT)) {
    return {Name.value, [](report& r) { Checks{}(r); }};
  }
#endif
  return {Name.value, nullptr};
}

// A template so that the static_assert below fires only in a program that calls it.
template <class Table = mutant_table>
int run_mutant(int argc, char** argv, const Table& table) {
#if defined(LOCKLESS_RELACY_MUTANT)
  if (!parse_args(argc, argv)) return 2;
  const std::string name = LOCKLESS_RELACY_MUTANT;
  for (const auto& [mutant, checks] : table) {
    if (mutant != name || checks == nullptr) continue;
    report r;
    checks(r);
    return r.exit_code();
  }
  std::cout << "mutant '" << name << "' has no entry in its program's table" << std::endl;
  return 2;
#else
  (void)argc;
  (void)argv;
  (void)table;
  static_assert(sizeof(Table) == 0,
                "a mutants program is built only by lockless_relacy_mutant() (its .cmake list)");
  return 2;
#endif
}

// ---- survey ----------------------------------------------------------------------------
// `relacy_<mutant> survey [<iterations> [<scenario>]]` runs every scenario of a mutants
// program (or the one named) against that mutant with <iterations> executions (default
// 100,000) and prints whether and when each failed: how a mutant's checks are chosen and
// their plans sized. A program lists its scenarios in the lambda template it hands
// run_survey():
//   if (is_survey(argc, argv))
//     return run_survey(argc, argv, random_plan, []<class = void>(const survey& s) {
//       s.one<my_scenario>("my_scenario");
//     });
// The survey instantiates every scenario, which costs a mutant build a third of its compile
// time, so it is compiled only when the relacy build is configured with
// -DLOCKLESS_RELACY_SURVEY=ON; otherwise `survey` says so and exits 2.
class survey {
 public:
  survey(rl::iteration_t iterations, const char* only, plan (*make_plan)(rl::iteration_t))
      : iterations_(iterations), only_(only), make_plan_(make_plan) {}

  template <class Suite>
  void one(const char* name) const {
    if (only_ != nullptr && std::strcmp(only_, name) != 0) return;
    const outcome o = simulate<Suite>(make_plan_(iterations_));
    std::printf("survey %-24s %s at execution %llu (%.2f s)\n", name,
                o.result == rl::test_result_success ? "passed" : rl::test_result_str(o.result),
                static_cast<unsigned long long>(o.executions), o.seconds);
    std::fflush(stdout);
  }

 private:
  rl::iteration_t iterations_;
  const char* only_;
  plan (*make_plan_)(rl::iteration_t);
};

inline bool is_survey(int argc, char** argv) {
  return argc >= 2 && std::strcmp(argv[1], "survey") == 0;
}

template <class Scenarios>
int run_survey(int argc, char** argv, plan (*make_plan)(rl::iteration_t), Scenarios scenarios) {
#if defined(LOCKLESS_RELACY_SURVEY)
  const survey s(argc >= 3 ? std::stoull(argv[2]) : 100000, argc >= 4 ? argv[3] : nullptr,
                 make_plan);
  scenarios(s);
  return 0;
#else
  (void)argc;
  (void)argv;
  (void)make_plan;
  (void)scenarios;
  std::cout << "survey: not built in; configure with -DLOCKLESS_RELACY_SURVEY=ON, e.g.\n"
               "  cmake --preset relacy -DLOCKLESS_RELACY_SURVEY=ON && cmake --build --preset "
               "relacy\n";
  return 2;
#endif
}

}  // namespace lockless_relacy
