#!/usr/bin/env bash
# THE test command of lockless (CI runs it through .ci/run):
#
#   bash scripts/test.sh            all presets: dev, relacy, asan, tsan, fuzz
#   bash scripts/test.sh --quick    dev only (unit, stress, package, example tests)
#   LOCKLESS_TEST_PRESETS="dev relacy" bash scripts/test.sh     a chosen subset
#
# Each preset is `cmake --preset P && cmake --build --preset P && ctest --preset P` (see
# CMakePresets.json for what each preset builds and which test labels it runs):
#   dev     unit + stress + package + example tests, RelWithDebInfo, -Werror
#   relacy  Relacy model checking of the real headers (label relacy)
#   asan    unit + stress under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan    unit + stress under ThreadSanitizer
#   fuzz    clang++-19 libFuzzer targets, smoke runs (only once tests/fuzz/ exists)
# Stress tests are RUN_SERIAL in ctest, so running ctest with -j is safe.
#
# Environment: LOCKLESS_TEST_PRESETS (default "dev relacy asan tsan fuzz"), LOCKLESS_JOBS
# (build and ctest parallelism, default nproc). The last line printed is "N passed, N failed",
# summed over every ctest run (a configure/build failure counts as one failed test); the exit
# status is non-zero when anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

presets="${LOCKLESS_TEST_PRESETS:-dev relacy asan tsan fuzz}"
for arg in "$@"; do
  case "$arg" in
    --quick) presets="dev" ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
jobs="${LOCKLESS_JOBS:-$(nproc)}"

bash scripts/install-deps.sh --tests

log_dir="build/test-logs"
mkdir -p "$log_dir"

total_passed=0
total_failed=0
summary=()

banner() { printf '\n==================== %s ====================\n' "$*"; }

# note <preset> <text>: one line of the final summary.
note() { summary+=("$(printf '%-8s %s' "$1" "$2")"); }

# elapsed <start-seconds>: "3m07s" since then.
elapsed() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# configure_and_build <preset>: returns non-zero (and records one failure) if either fails.
configure_and_build() {
  local preset=$1
  banner "$preset: configure"
  if ! cmake --preset "$preset"; then
    note "$preset" "CONFIGURE FAILED"
    total_failed=$((total_failed + 1))
    return 1
  fi
  banner "$preset: build"
  if ! cmake --build --preset "$preset" --parallel "$jobs"; then
    note "$preset" "BUILD FAILED"
    total_failed=$((total_failed + 1))
    return 1
  fi
}

# run_ctest <preset> <start-seconds>: runs the preset's tests and adds its counts to the totals,
# parsed from ctest's "NN% tests passed, F tests failed out of T" line.
run_ctest() {
  local preset=$1 start=$2 log="$log_dir/$1.log" rc line total failed
  banner "$preset: test"
  set +e
  ctest --preset "$preset" --parallel "$jobs" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  if [[ -n "$line" ]]; then
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    total_passed=$((total_passed + total - failed))
    total_failed=$((total_failed + failed))
    if [[ $rc -ne 0 && $failed -eq 0 ]]; then   # e.g. ctest itself errored after the run
      total_failed=$((total_failed + 1))
      note "$preset" "$((total - failed))/$total passed, but ctest exited $rc  ($(elapsed "$start"))"
    else
      note "$preset" "$((total - failed))/$total passed  ($(elapsed "$start"))"
    fi
  elif [[ $rc -eq 0 ]]; then
    note "$preset" "no tests to run  ($(elapsed "$start"))"
  else
    # No summary line: no tests found (noTestsAction=error) or ctest could not run.
    total_failed=$((total_failed + 1))
    note "$preset" "CTEST FAILED (exit $rc, no test summary; see $log)"
  fi
}

# fuzz: only once tests/fuzz/CMakeLists.txt exists.
run_fuzz() {
  local start=$1
  if [[ ! -f tests/fuzz/CMakeLists.txt ]]; then
    note fuzz "skipped (no tests/fuzz/CMakeLists.txt yet)"
    return 0
  fi
  configure_and_build fuzz || return 0
  # ---- HOOK (fuzz issue): scripts/fuzz.sh --smoke runs every fuzz target for a bounded
  # ---- time on its seed corpus. It counts as one test here.
  if [[ -f scripts/fuzz.sh ]]; then
    banner "fuzz: scripts/fuzz.sh --smoke"
    if bash scripts/fuzz.sh --smoke; then
      total_passed=$((total_passed + 1))
      note fuzz "scripts/fuzz.sh --smoke passed  ($(elapsed "$start"))"
    else
      total_failed=$((total_failed + 1))
      note fuzz "scripts/fuzz.sh --smoke FAILED  ($(elapsed "$start"))"
    fi
  fi
  # Fuzz smoke runs registered as ctest tests (label fuzz), if any.
  run_ctest fuzz "$start"
}

for preset in $presets; do
  start=$SECONDS
  if [[ "$preset" == fuzz ]]; then
    run_fuzz "$start"
  elif configure_and_build "$preset"; then
    run_ctest "$preset" "$start"
  fi
done

banner "lockless test summary"
printf '%s\n' "${summary[@]}"
echo "logs of the ctest runs: $log_dir/"
echo
echo "$total_passed passed, $total_failed failed"
[[ $total_failed -eq 0 ]]
