#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz/ (built by the `fuzz` preset into build/fuzz).
#
#   bash scripts/fuzz.sh --smoke            60 s of fuzzing split evenly between the
#                                           targets, but at least 10 s each
#   bash scripts/fuzz.sh --long [SECONDS]   every target for SECONDS each (default 3600)
#   bash scripts/fuzz.sh --list             the targets found
#
# Each target fuzzes a COPY of its seed corpus in build/fuzz/work/<target>/ (the corpus in
# tests/fuzz/corpus/ is never written to; copy interesting new inputs there by hand) and
# writes crash/leak/timeout reproducers to build/fuzz/work/<target>-artifacts/. Reproduce
# one with `build/fuzz/tests/fuzz/<target> <file>`.
# Prints executions per second per target (libFuzzer's -print_final_stats=1 lines) and
# exits non-zero if any target found a crash, a leak, a timeout or failed to run.
# Environment: LOCKLESS_FUZZ_BUILD_DIR (default build/fuzz), LOCKLESS_FUZZ_ARGS (extra
# libFuzzer flags, e.g. "-only_ascii=1"), LOCKLESS_FUZZ_JOBS (targets fuzzed at a time,
# default LOCKLESS_JOBS or the number of CPUs: 14 targets of 10 s take 70 s on 2 CPUs).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

mode=""
seconds=""
case "${1:-}" in
  --smoke) mode=smoke ;;
  --long)  mode=long;  seconds="${2:-3600}" ;;
  --list)  mode=list ;;
  -h|--help|"") sed -n '2,17p' "$0"; [[ -n "${1:-}" ]]; exit $? ;;
  *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
esac
if [[ ! "$seconds" =~ ^[0-9]*$ ]]; then
  echo "fuzz.sh: --long takes a number of seconds, got '$seconds'" >&2
  exit 2
fi

build_dir="${LOCKLESS_FUZZ_BUILD_DIR:-build/fuzz}"
bin_dir="$build_dir/tests/fuzz"
corpus_root="tests/fuzz/corpus"
work_root="$build_dir/work"

targets=()
for src in tests/fuzz/*.cpp; do
  [[ -e "$src" ]] || continue
  targets+=("fuzz_$(basename "$src" .cpp)")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz.sh: no tests/fuzz/*.cpp targets" >&2
  exit 1
fi
if [[ $mode == list ]]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
if [[ $mode == smoke ]]; then
  seconds=$((60 / ${#targets[@]}))
  ((seconds >= 10)) || seconds=10
fi

# Any sanitizer report is fatal; leaks are reported (libFuzzer checks them per input).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
read -r -a extra <<<"${LOCKLESS_FUZZ_ARGS:-}"
parallel="${LOCKLESS_FUZZ_JOBS:-${LOCKLESS_JOBS:-$(nproc)}}"
if [[ ! "$parallel" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: LOCKLESS_FUZZ_JOBS must be a positive number, got '$parallel'" >&2
  exit 2
fi

# fuzz_one <target>: fuzzes one target; writes its console lines to $work_root/<target>.out
# and its summary row (status "ok" or not) to $work_root/<target>.row.
fuzz_one() {
  local t=$1 bin="$bin_dir/$1" work="$work_root/$1" artifacts="$work_root/$1-artifacts"
  local log="$work_root/$1.log" out="$work_root/$1.out" row="$work_root/$1.row"
  local rc units eps corp status
  if [[ ! -x "$bin" ]]; then
    echo "fuzz.sh: $bin not built (cmake --preset fuzz && cmake --build --preset fuzz)" >"$out"
    printf '%-28s NOT BUILT\n' "$t" >"$row"
    return 0
  fi
  # smoke: a fresh copy each time (reproducible); long: keep growing the previous work corpus.
  if [[ $mode == smoke ]]; then rm -rf "$work"; fi
  mkdir -p "$work" "$artifacts"
  if [[ -d "$corpus_root/$t" ]]; then cp -n "$corpus_root/$t"/* "$work"/ 2>/dev/null || true; fi
  printf '\n---- %s: %ss on %s\n' "$t" "$seconds" "$work" >"$out"
  set +e
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${extra[@]}" "$work" >"$log" 2>&1
  rc=$?
  set -e
  units=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 || true)
  if [[ $rc -eq 0 ]]; then
    status=ok
  else
    status="FAILED (exit $rc)"
    grep -E '^(==[0-9]+==ERROR|fuzz check failed|SUMMARY|artifact_prefix|Test unit written)' \
      "$log" | head -n 20 >>"$out" || true
    echo "full log: $log" >>"$out"
  fi
  printf '%-28s %-18s %10s execs  %8s exec/s  %s\n' "$t" "$status" "${units:-?}" "${eps:-?}" \
    "${corp:-}" >"$row"
}

# Up to $parallel targets at a time (each libFuzzer process is one thread); their output is
# printed in target order once all have finished.
mkdir -p "$work_root"
rm -f "$work_root"/*.row "$work_root"/*.out
failed=0
start=$SECONDS
pids=()
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  fuzz_one "$t" &
  pids+=($!)
done
wait "${pids[@]}" || true
results=()
ok_row='^[^ ]+ +ok '
for t in "${targets[@]}"; do
  cat "$work_root/$t.out"
  row=$(cat "$work_root/$t.row" 2>/dev/null || printf '%-28s FAILED (no result)' "$t")
  [[ "$row" =~ $ok_row ]] || failed=1
  results+=("$row")
done

printf '\n==== fuzz.sh --%s summary (%ds)\n' "$mode" $((SECONDS - start))
printf '%s\n' "${results[@]}"
exit $failed
