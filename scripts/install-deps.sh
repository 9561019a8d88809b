#!/usr/bin/env bash
# Installs the Debian 12 packages lockless needs, and only those that are missing.
#
#   bash scripts/install-deps.sh --tests    compilers, CMake/Ninja, GoogleTest, Relacy, libFuzzer,
#                                           the AArch64 cross compiler and qemu-user, and the
#                                           real Prometheus components of tests/interop/
#   bash scripts/install-deps.sh --bench    Google Benchmark and the peer libraries
#   bash scripts/install-deps.sh            both
#
# Idempotent: when everything is installed it touches nothing (no apt-get update). Runs
# apt-get as root, or through sudo when not root.
set -euo pipefail

# googletest (the sources in /usr/src/googletest) is also what the aarch64 preset builds
# GoogleTest from: libgtest-dev is amd64 only.
tests_pkgs=(build-essential cmake ninja-build g++ clang-19 libfuzzer-19-dev libclang-rt-19-dev
            clang-format-19 googletest libgtest-dev relacy-dev python3
            g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
            prometheus python3-prometheus-client python3-protobuf protobuf-compiler
            golang-github-prometheus-client-model-dev libcpp-httplib-dev)
bench_pkgs=(build-essential cmake ninja-build g++ libbenchmark-dev libboost-dev
            libconcurrentqueue-dev libatomic-queue-dev libtbb-dev libxenium-dev libcds-dev
            prometheus-cpp-dev python3)

wanted=()
if [[ $# -eq 0 ]]; then
  set -- --tests --bench
fi
for arg in "$@"; do
  case "$arg" in
    --tests) wanted+=("${tests_pkgs[@]}") ;;
    --bench) wanted+=("${bench_pkgs[@]}") ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument '$arg' (use --tests and/or --bench)" >&2; exit 2 ;;
  esac
done

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for pkg in "${wanted[@]}"; do
  if ! installed "$pkg" && [[ " ${missing[*]} " != *" $pkg "* ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root, no sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
