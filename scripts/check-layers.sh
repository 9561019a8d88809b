#!/usr/bin/env bash
# The completeness check: every public header of lockless has all of its layers.
#
#   bash scripts/check-layers.sh            check every include/lockless/<name>.hpp
#   bash scripts/check-layers.sh NAME...    check only these structures
#
# A structure is done when its code, tests, benchmark, docs page and example all exist
# (docs/design.md, "Adding a structure"). For include/lockless/<name>.hpp this means, each
# file found by the structure's name:
#   unit     tests/unit/<name>*.cpp
#   stress   tests/stress/<name>*.cpp, one of which feeds its histories to the checker of
#            tests/support/ (the linearizability checker; epoch, a reclaimer with no
#            sequential specification, is checked by the reclamation checker instead;
#            histogram, whose reads are snapshots of monotone counters, by
#            support/snapshot_check.hpp)
#   dsched   tests/dsched/<name>*.cpp
#   relacy   tests/relacy/<name>*.cpp (not counting the mutant program) and
#            tests/relacy/<name>_mutants.cmake declaring at least one mutant
#   fuzz     tests/fuzz/<name>*.cpp
#   bench    bench/<name>*.cpp
#   docs     docs/algorithms/<name>.md
#   example  examples/<name>*.cpp
#   alphabet tests/structures/<name>_ops.hpp: the one operation alphabet that stress, dsched,
#            fuzz (and bench, where it mixes operations) spell the structure's operations in
# lockless.hpp (the umbrella header) and queue_status.hpp (a vocabulary type of the
# queues) are not structures. Prints one line per missing layer and exits 1 if any is
# missing; the test command runs it first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

not_structures=" lockless queue_status "

# The checker a structure's stress test must use (a pattern for grep -E on its includes).
stress_checker() {
  case "$1" in
    epoch) echo '#include "support/counting\.hpp"' ;;  # freed exactly once, none early
    histogram) echo '#include "support/snapshot_check\.hpp"' ;;  # snapshots of monotone counters
    *) echo '#include "support/lincheck\.hpp"' ;;
  esac
}

names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
  for h in include/lockless/*.hpp; do
    n=$(basename "$h" .hpp)
    [[ "$not_structures" == *" $n "* ]] && continue
    names+=("$n")
  done
fi
if [[ ${#names[@]} -eq 0 ]]; then
  echo "check-layers: no public headers under include/lockless/" >&2
  exit 1
fi

missing=0
miss() {
  printf 'check-layers: %s: missing %s layer: %s\n' "$1" "$2" "$3"
  missing=$((missing + 1))
}

# files <glob...>: the existing files among the globs, one per line.
files() {
  local f
  for f in "$@"; do [[ -e "$f" ]] && printf '%s\n' "$f"; done
  return 0
}

for n in "${names[@]}"; do
  if [[ ! -f "include/lockless/$n.hpp" ]]; then
    miss "$n" header "no include/lockless/$n.hpp"
    continue
  fi
  [[ -n "$(files tests/unit/"$n".cpp tests/unit/"$n"_*.cpp)" ]] ||
    miss "$n" unit "no tests/unit/$n*.cpp"

  stress=$(files tests/stress/"$n".cpp tests/stress/"$n"_*.cpp)
  if [[ -z "$stress" ]]; then
    miss "$n" stress "no tests/stress/$n*.cpp"
  else
    checker=$(stress_checker "$n")
    # shellcheck disable=SC2086
    grep -qE "$checker" $stress ||
      miss "$n" stress "no tests/stress/$n*.cpp uses its checker ($checker)"
  fi

  [[ -n "$(files tests/dsched/"$n".cpp tests/dsched/"$n"_*.cpp)" ]] ||
    miss "$n" dsched "no tests/dsched/$n*.cpp"

  relacy=$(files tests/relacy/"$n".cpp tests/relacy/"$n"_*.cpp | grep -v "_mutants\.cpp$" || true)
  [[ -n "$relacy" ]] || miss "$n" relacy "no tests/relacy/$n*.cpp"
  mutants="tests/relacy/${n}_mutants.cmake"
  if [[ ! -f "$mutants" ]]; then
    miss "$n" relacy "no $mutants"
  elif ! grep -qE "^[[:space:]]*lockless_relacy_mutant\(" "$mutants"; then
    miss "$n" relacy "$mutants declares no mutant (a checker that never fails proves nothing)"
  fi

  [[ -n "$(files tests/fuzz/"$n".cpp tests/fuzz/"$n"_*.cpp)" ]] ||
    miss "$n" fuzz "no tests/fuzz/$n*.cpp"
  [[ -n "$(files bench/"$n".cpp bench/"$n"_*.cpp)" ]] ||
    miss "$n" bench "no bench/$n*.cpp"
  [[ -f "docs/algorithms/$n.md" ]] || miss "$n" docs "no docs/algorithms/$n.md"
  [[ -n "$(files examples/"$n".cpp examples/"$n"_*.cpp)" ]] ||
    miss "$n" example "no examples/$n*.cpp"
  [[ -f "tests/structures/${n}_ops.hpp" ]] ||
    miss "$n" alphabet "no tests/structures/${n}_ops.hpp"
done

if [[ $missing -ne 0 ]]; then
  echo "check-layers: $missing missing layer(s); see docs/design.md, \"Adding a structure\"" >&2
  exit 1
fi
echo "check-layers: every layer present for: ${names[*]}"
