#!/usr/bin/env bash
# Runs every benchmark suite and prints a comparison table:
#
#   bash scripts/bench.sh                 5 repetitions per benchmark, medians reported
#   bash scripts/bench.sh --quick         3 repetitions, --benchmark_min_time=0.05
#   bash scripts/bench.sh --markdown      the table as Markdown (for docs/benchmarks.md)
#   LOCKLESS_BENCH_ARGS="--benchmark_filter=stack/" bash scripts/bench.sh
#
# Steps: install the peers (install-deps.sh --bench), configure + build the `release` preset
# (-O2, no -march), run each build/release/bench/bench_* executable with JSON output to
# build/release/bench-results/<name>.json, then scripts/bench_table.py over those files.
# Console output of the runs stays human-readable; the JSON goes to the files.
# Repetitions are randomly interleaved across the benchmarks of a suite
# (--benchmark_enable_random_interleaving): on a shared, noisy machine a load spike then
# hits repetitions of every implementation alike instead of all repetitions of one, so
# the side-by-side ratios stay fair. Turn it off with
# LOCKLESS_BENCH_ARGS=--benchmark_enable_random_interleaving=false.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

repetitions=5
extra_run_args=()
table_args=()
for arg in "$@"; do
  case "$arg" in
    --quick) repetitions=3; extra_run_args+=(--benchmark_min_time=0.05) ;;
    --markdown) table_args+=(--markdown) ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
# Extra Google Benchmark flags from the environment (word-split on purpose).
read -r -a user_args <<<"${LOCKLESS_BENCH_ARGS:-}"

bash scripts/install-deps.sh --bench

cmake --preset release
cmake --build --preset release --parallel "${LOCKLESS_JOBS:-$(nproc)}"

build="build/release"
results="$build/bench-results"
rm -rf "$results"
mkdir -p "$results"

shopt -s nullglob
benches=("$build"/bench/bench_*)
json_files=()
failed=()
for exe in "${benches[@]}"; do
  [[ -f "$exe" && -x "$exe" ]] || continue
  name=$(basename "$exe")
  printf '\n==================== %s ====================\n' "$name"
  # A suite that crashes is reported at the end; the others still run.
  if "$exe" \
      --benchmark_repetitions="$repetitions" \
      --benchmark_report_aggregates_only=true \
      --benchmark_out="$results/$name.json" \
      --benchmark_out_format=json \
      --benchmark_enable_random_interleaving=true \
      "${extra_run_args[@]}" "${user_args[@]}"; then
    json_files+=("$results/$name.json")
  else
    failed+=("$name")
  fi
done

if [[ ${#json_files[@]} -gt 0 ]]; then
  printf '\n'
  python3 scripts/bench_table.py "${table_args[@]}" "${json_files[@]}"
fi
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "bench.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
if [[ ${#json_files[@]} -eq 0 ]]; then
  echo "bench.sh: no bench_* executables under $build/bench/" >&2
  exit 1
fi
