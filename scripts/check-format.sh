#!/usr/bin/env bash
# Checks that the C++ sources follow .clang-format (clang-format-19, Debian 12's
# clang-format-19 package; installed by scripts/install-deps.sh --tests).
#
#   bash scripts/check-format.sh                 list the files that differ; exit 1 if any does
#   bash scripts/check-format.sh --fix           reformat them in place
#   bash scripts/check-format.sh [--fix] FILE... the same, for these files only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fmt=clang-format-19
if ! command -v "$fmt" >/dev/null 2>&1; then
  echo "check-format: $fmt not found (apt-get install clang-format-19)" >&2
  exit 1
fi
fix=0
files=()
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    -*) echo "check-format: unknown option '$arg' (use --fix, then files)" >&2; exit 2 ;;
    *)
      if [[ ! -f "$arg" ]]; then
        echo "check-format: no such file: $arg" >&2
        exit 2
      fi
      files+=("$arg")
      ;;
  esac
done

if [[ ${#files[@]} -ne 0 ]]; then
  sources=("${files[@]}")
else
  mapfile -t sources < <(git ls-files -- include tests bench examples | grep -E '\.(hpp|cpp|h)$')
fi
bad=()
for f in "${sources[@]}"; do
  [[ -f "$f" ]] || continue
  if [[ $fix -eq 1 ]]; then
    "$fmt" -i "$f"
  elif ! "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
if [[ ${#bad[@]} -ne 0 ]]; then
  printf 'check-format: not formatted: %s\n' "${bad[@]}"
  echo "check-format: ${#bad[@]} file(s) differ from .clang-format; run bash scripts/check-format.sh --fix" >&2
  exit 1
fi
[[ $fix -eq 1 ]] && echo "check-format: formatted ${#sources[@]} files" || echo "check-format: ${#sources[@]} files follow .clang-format"
