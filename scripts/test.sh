#!/usr/bin/env bash
# THE test command of lockless (CI runs it through .ci/run):
#
#   bash scripts/test.sh            all presets: dev, aarch64, relacy, asan, tsan, fuzz
#   bash scripts/test.sh --quick    dev only
#   LOCKLESS_TEST_PRESETS="dev relacy" bash scripts/test.sh     a chosen subset
#
# It first installs what is missing (scripts/install-deps.sh --tests), runs the completeness
# check (scripts/check-layers.sh), the tag check (scripts/check-tags.py) and the format check
# (scripts/check-format.sh), each counted as one test, then runs each preset
# as `cmake --preset P && cmake --build --preset P && ctest --preset P` (CMakePresets.json
# says what each preset builds and which test labels it runs):
#   dev      unit, stress, package, example tests and the checkers' self-tests, RelWithDebInfo
#            (the structures' dsched tests run once, under asan: LOCKLESS_BUILD_DSCHED)
#   aarch64  cross build with g++-aarch64-linux-gnu; unit + example tests run under
#            qemu-aarch64 (the portable pin: release store + fence, not x86-64's XCHG)
#   relacy   Relacy model checking of the real headers (label relacy)
#   asan     unit + stress + dsched under AddressSanitizer + UndefinedBehaviorSanitizer
#            (clang++-19 at -O0: it compiles the tests in under half g++'s time)
#   tsan     unit + stress + the planned dsched schedules under ThreadSanitizer
#   fuzz     clang++-19 libFuzzer targets: scripts/fuzz.sh --smoke (counts as one test),
#            then the ctest tests labelled fuzz
# Stress tests are RUN_SERIAL in ctest, so ctest -j is safe.
#
# Environment: LOCKLESS_TEST_PRESETS (when unset: "dev aarch64 relacy asan tsan fuzz"; names
# must be test presets of CMakePresets.json), LOCKLESS_JOBS (build and ctest parallelism,
# default nproc).
# Unless an argument is wrong (exit 2), the last line printed is "N passed, N failed",
# summed over every ctest run. Each of these counts as one failed test: a failed dependency
# install (then nothing else runs), an empty preset list or an unknown preset name (then no
# preset runs), a configure or build failure, a missing fuzz layer (tests/fuzz/CMakeLists.txt
# or scripts/fuzz.sh). The exit status is non-zero when anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

default_presets="dev aarch64 relacy asan tsan fuzz"
presets="${LOCKLESS_TEST_PRESETS-$default_presets}"
for arg in "$@"; do
  case "$arg" in
    --quick) presets="dev" ;;
    -h|--help) awk 'NR > 1 { if (!/^#/) exit; sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
jobs="${LOCKLESS_JOBS:-$(nproc)}"

log_dir="build/test-logs"
total_passed=0
total_failed=0
summary=()
finished=0

banner() { printf '\n==================== %s ====================\n' "$*"; }

# note <what> <text>: one line of the final summary.
note() { summary+=("$(printf '%-8s %s' "$1" "$2")"); }

# fail <what> <text>: a summary line that counts as one failed test.
fail() {
  note "$1" "$2"
  total_failed=$((total_failed + 1))
}

# elapsed <start-seconds>: "3m07s" since then.
elapsed() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# finish: prints the summary, ending with "N passed, N failed", and exits (non-zero if
# anything failed).
finish() {
  finished=1
  banner "lockless test summary"
  if [[ ${#summary[@]} -gt 0 ]]; then
    printf '%s\n' "${summary[@]}"
  fi
  if [[ -d "$log_dir" ]]; then
    echo "logs of the ctest runs: $log_dir/"
  fi
  echo
  echo "$total_passed passed, $total_failed failed"
  if [[ $total_failed -eq 0 ]]; then exit 0; else exit 1; fi
}

# Anything that stops the script early (set -e) still ends with the summary line.
# shellcheck disable=SC2317  # only called by the EXIT trap
on_exit() {
  local rc=$?
  if [[ $finished -eq 0 ]]; then
    fail test.sh "ABORTED (exit $rc)"
    finish
  fi
}
trap on_exit EXIT

# configure_and_build <preset>: returns non-zero (and records one failure) if either fails.
configure_and_build() {
  local preset=$1
  banner "$preset: configure"
  if ! cmake --preset "$preset"; then
    fail "$preset" "CONFIGURE FAILED"
    return 1
  fi
  banner "$preset: build"
  if ! cmake --build --preset "$preset" --parallel "$jobs"; then
    fail "$preset" "BUILD FAILED"
    return 1
  fi
}

# run_ctest <preset> <start-seconds>: runs the preset's tests and adds its counts to the totals,
# parsed from ctest's "NN% tests passed, F tests failed out of T" line.
run_ctest() {
  local preset=$1 start=$2 log="$log_dir/$1.log" rc line total failed
  banner "$preset: test"
  mkdir -p "$log_dir"
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
      fail "$preset" "$((total - failed))/$total passed, but ctest exited $rc  ($(elapsed "$start"))"
    else
      note "$preset" "$((total - failed))/$total passed  ($(elapsed "$start"))"
    fi
  elif [[ $rc -eq 0 ]]; then
    note "$preset" "no tests to run  ($(elapsed "$start"))"
  else
    # No summary line: no tests found (noTestsAction=error) or ctest could not run.
    fail "$preset" "CTEST FAILED (exit $rc, no test summary; see $log)"
  fi
}

# fuzz: scripts/fuzz.sh --smoke runs every fuzz target for a bounded time on its seed corpus
# and counts as one test; then the ctest tests labelled fuzz run like any preset's.
run_fuzz() {
  local start=$1 missing=()
  [[ -f tests/fuzz/CMakeLists.txt ]] || missing+=(tests/fuzz/CMakeLists.txt)
  [[ -f scripts/fuzz.sh ]] || missing+=(scripts/fuzz.sh)
  if [[ ${#missing[@]} -gt 0 ]]; then
    fail fuzz "FUZZ LAYER MISSING (no ${missing[*]})"
    return 0
  fi
  configure_and_build fuzz || return 0
  banner "fuzz: scripts/fuzz.sh --smoke"
  if bash scripts/fuzz.sh --smoke; then
    total_passed=$((total_passed + 1))
    note fuzz "scripts/fuzz.sh --smoke passed  ($(elapsed "$start"))"
  else
    fail fuzz "scripts/fuzz.sh --smoke FAILED  ($(elapsed "$start"))"
  fi
  run_ctest fuzz "$start"
}

read -ra preset_list <<<"$presets"
if [[ ${#preset_list[@]} -eq 0 ]]; then
  echo "test.sh: the preset list is empty (LOCKLESS_TEST_PRESETS='$presets'); nothing to run" >&2
  fail presets "EMPTY PRESET LIST (LOCKLESS_TEST_PRESETS='$presets')"
  finish
fi

banner "dependencies: scripts/install-deps.sh --tests"
if ! bash scripts/install-deps.sh --tests; then
  fail deps "INSTALL FAILED (scripts/install-deps.sh --tests); nothing was built"
  finish
fi

# Every name must be a test preset of CMakePresets.json: a typo fails before anything runs.
known=$(cmake --list-presets=test | sed -n 's/^ *"\([^"]*\)".*/\1/p' | xargs)
unknown=0
for preset in "${preset_list[@]}"; do
  if [[ " $known " != *" $preset "* ]]; then
    echo "test.sh: unknown preset '$preset' (test presets in CMakePresets.json: $known)" >&2
    fail "$preset" "UNKNOWN PRESET (not a test preset in CMakePresets.json)"
    unknown=1
  fi
done
if [[ $unknown -ne 0 ]]; then
  finish
fi

# The house rules, before any build: every public header has all of its layers
# (scripts/check-layers.sh), the ordering tags are unique and the teaching pages agree with
# their headers on them (scripts/check-tags.py), and the sources follow .clang-format
# (scripts/check-format.sh). Each counts as one test.
for check in check-layers check-tags check-format; do
  case "$check" in
    check-tags) cmd=(python3 "scripts/$check.py") ;;
    *) cmd=(bash "scripts/$check.sh") ;;
  esac
  banner "$check: ${cmd[*]:1}"
  if "${cmd[@]}"; then
    note "$check" "passed"
    total_passed=$((total_passed + 1))
  else
    fail "$check" "FAILED (${cmd[*]} says what)"
  fi
done

for preset in "${preset_list[@]}"; do
  start=$SECONDS
  if [[ "$preset" == fuzz ]]; then
    run_fuzz "$start"
  elif configure_and_build "$preset"; then
    run_ctest "$preset" "$start"
  fi
done

finish
