#!/usr/bin/env bash
# Instructions per single-threaded push+pop pair, counted by valgrind --tool=callgrind:
#
#   bash scripts/callgrind_pair.sh                   every stack, 1000000 pairs each
#   bash scripts/callgrind_pair.sh 200000            fewer pairs (same figures, faster)
#   bash scripts/callgrind_pair.sh 200000 lockless_treiber boost_lockfree_stack
#   bash scripts/callgrind_pair.sh --suite bounded_queue [pairs] [impl...]
#   bash scripts/callgrind_pair.sh --suite unbounded_queue [pairs] [impl...]
#   bash scripts/callgrind_pair.sh --suite histogram [observes] [impl...]
#   bash scripts/callgrind_pair.sh --suite drr_scheduler [pairs] [impl...]
#                                                    another suite's driver,
#                                                    bench/<suite>_callgrind.cpp (default
#                                                    treiber_stack; bounded_queue and
#                                                    unbounded_queue count try_push+try_pop
#                                                    pairs, histogram single observe()
#                                                    calls: "pair" reads "observe" there)
#   LOCKLESS_CALLGRIND_ANNOTATE=1 bash scripts/callgrind_pair.sh ...
#                                                    also print callgrind_annotate's
#                                                    per-function and per-line counts
#
# Builds the `release` preset's callgrind_<suite> (bench/<suite>_callgrind.cpp: -O2, the same
# flags as the benchmark suites, plus -g for line tables), runs it once per implementation
# under callgrind with --toggle-collect='*measured_*' (only the measured loop is
# counted: no warm-up, registration or start-up), and prints Ir (instructions executed)
# per pair, the part of it spent in the allocator (glibc malloc/free and operator
# new/delete, exclusive counts), and the ratio to lockless_treiber. Counts are deterministic up to a few instructions per pair: use them where
# timings are too noisy. Output files: build/release/callgrind/callgrind.<impl>.out.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

suite=treiber_stack
case "${1:-}" in
  --suite) suite=${2:?callgrind_pair.sh: --suite needs a name}; shift 2 ;;
  --suite=*) suite=${1#--suite=}; shift ;;
esac
if ! [[ -f "bench/${suite}_callgrind.cpp" ]]; then
  echo "callgrind_pair.sh: no bench/${suite}_callgrind.cpp for suite '$suite'" >&2
  exit 2
fi

pairs=${1:-1000000}
shift || true
if ! [[ "$pairs" =~ ^[0-9]+$ ]] || [[ "$pairs" -eq 0 ]]; then
  echo "callgrind_pair.sh: the first argument is the number of pairs (got '$pairs')" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "callgrind_pair.sh: valgrind not installed" >&2; exit 1; }

cmake --preset release >/dev/null
cmake --build --preset release --target "callgrind_$suite" >/dev/null

exe=build/release/bench/callgrind_$suite
outdir=build/release/callgrind
mkdir -p "$outdir"

if [[ $# -gt 0 ]]; then
  impls=("$@")
else
  mapfile -t impls < <("$exe" --list)
fi

declare -A per_pair=() alloc_per_pair=()
for impl in "${impls[@]}"; do
  out="$outdir/callgrind.$impl.out"
  rm -f "$out"
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    --toggle-collect='*measured_*' --dump-instr=yes \
    "$exe" "$impl" "$pairs" 2>"$outdir/valgrind.$impl.log" ||
    { echo "callgrind_pair.sh: $impl failed, see $outdir/valgrind.$impl.log" >&2; exit 1; }
  ir=$(awk '/^(totals|summary):/ { print $2; exit }' "$out")
  per_pair[$impl]=$(awk -v ir="$ir" -v n="$pairs" 'BEGIN { printf "%.1f", ir / n }')
  # Exclusive counts of the allocator's functions (glibc malloc/free, operator new/delete).
  alloc=$(callgrind_annotate --auto=no --threshold=100 --show-percs=no "$out" 2>/dev/null |
    awk '/malloc\/(malloc|arena)\.c:|operator new|operator delete/ { gsub(",", "", $1); s += $1 }
         END { print s + 0 }')
  alloc_per_pair[$impl]=$(awk -v ir="$alloc" -v n="$pairs" 'BEGIN { printf "%.1f", ir / n }')
  if [[ -n "${LOCKLESS_CALLGRIND_ANNOTATE:-}" ]]; then
    printf '\n==================== %s ====================\n' "$impl"
    callgrind_annotate --inclusive=yes --auto=yes --show-percs=no "$out" 2>/dev/null |
      head -n 200 || true
  fi
done

unit=pair
[[ "$suite" == histogram ]] && unit=observe
printf '\n%d %ss per implementation, single thread, counted by callgrind\n' "$pairs" "$unit"
ref=""
for impl in "${impls[@]}"; do
  [[ -z "$ref" && "$impl" == lockless_* ]] && ref=$impl
done
ref=${ref:-${impls[0]}}
printf '%-26s %15s %22s %18s\n' "implementation" "Ir per $unit" "of which malloc/free" "Ir / Ir($ref)"
for impl in "${impls[@]}"; do
  ratio=$(awk -v a="${per_pair[$impl]}" -v b="${per_pair[$ref]}" 'BEGIN { printf "%.2f", a / b }')
  printf '%-26s %15s %22s %18s\n' "$impl" "${per_pair[$impl]}" "${alloc_per_pair[$impl]}" "$ratio"
done
