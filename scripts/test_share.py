#!/usr/bin/env python3
"""How much of the test command's wall time one structure (or any name pattern) costs.

    python3 scripts/test_share.py histogram          # after `bash scripts/test.sh`
    python3 scripts/test_share.py 'histogram|thread_lane' --jobs 2 --build build

An issue says how much test time it may add ("the test command grows by at most 4
minutes"); a before/after difference of two whole runs on a shared VM is mostly noise (one
preset took 9m49 and 11m48 on identical sources). This script attributes instead, from what
the last run of scripts/test.sh left behind:

  build   every build edge (compile or link) of each preset's .ninja_log whose output
          matches the pattern: its CPU seconds / jobs (the builds keep every job busy);
  test    every ctest test in build/test-logs/<preset>.log whose name matches: its seconds
          / jobs, or in full for the RUN_SERIAL ones (stress_*, which run alone);
  fuzz    every fuzz target fuzzed by `fuzz.sh --smoke` whose name matches: its seconds
          (libFuzzer's "Done ... in N second(s)") / LOCKLESS_FUZZ_JOBS.

It prints one row per preset and the total. Configure steps and the checks that run before
the presets are not attributed (a few seconds in all).
"""
import argparse
import os
import re
import subprocess
import sys


def current_outputs(build_dir):
    """The outputs of the build graph as it is now (a .ninja_log keeps removed targets too)."""
    try:
        out = subprocess.run(["ninja", "-C", build_dir, "-t", "targets", "all"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {line.rsplit(": ", 1)[0] for line in out.splitlines() if ": " in line}


def ninja_edges(path):
    """Latest duration (s) of each output of a .ninja_log (v5: start end mtime output hash)."""
    last = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            start, end, out = int(parts[0]), int(parts[1]), parts[3]
            last[out] = (end - start) / 1000.0
    return last


TEST_LINE = re.compile(r"Test\s+#\d+: (\S+) \.*\s+Passed\s+([0-9.]+) sec")
FUZZ_DONE = re.compile(r"Done \d+ runs in (\d+) second")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pattern", help="regular expression matched against outputs and test names")
    ap.add_argument("--build", default="build", help="build root (default: build)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("LOCKLESS_JOBS", os.cpu_count() or 1)),
                    help="parallelism of the run (default: LOCKLESS_JOBS or the CPU count)")
    args = ap.parse_args()
    rx = re.compile(args.pattern)
    jobs = max(1, args.jobs)

    presets = ["dev", "aarch64", "relacy", "asan", "tsan", "fuzz"]
    rows = []
    for p in presets:
        log = os.path.join(args.build, p, ".ninja_log")
        build_cpu = 0.0
        n_edges = 0
        if os.path.exists(log):
            live = current_outputs(os.path.join(args.build, p))
            for out, secs in ninja_edges(log).items():
                if rx.search(out) and (live is None or out in live):
                    build_cpu += secs
                    n_edges += 1
        test_wall = 0.0
        n_tests = 0
        tlog = os.path.join(args.build, "test-logs", p + ".log")
        if os.path.exists(tlog):
            with open(tlog) as f:
                for m in TEST_LINE.finditer(f.read()):
                    name, secs = m.group(1), float(m.group(2))
                    if rx.search(name):
                        n_tests += 1
                        test_wall += secs if name.startswith("stress_") else secs / jobs
        fuzz_wall = 0.0
        if p == "fuzz":
            work = os.path.join(args.build, "fuzz", "work")
            fjobs = int(os.environ.get("LOCKLESS_FUZZ_JOBS", jobs))
            if os.path.isdir(work):
                for name in sorted(os.listdir(work)):
                    if name.endswith(".log") and rx.search(name):
                        with open(os.path.join(work, name)) as f:
                            m = FUZZ_DONE.findall(f.read())
                        if m:
                            fuzz_wall += int(m[-1]) / max(1, fjobs)
        rows.append((p, n_edges, build_cpu, build_cpu / jobs, n_tests, test_wall, fuzz_wall))

    print(f"pattern {args.pattern!r}, jobs {jobs}, build root {args.build}")
    print(f"{'preset':8} {'edges':>5} {'build CPU s':>11} {'build wall s':>12} {'tests':>5} "
          f"{'test wall s':>11} {'fuzz wall s':>11} {'total s':>8}")
    total = 0.0
    for p, n, cpu, bw, nt, tw, fw in rows:
        t = bw + tw + fw
        total += t
        print(f"{p:8} {n:5d} {cpu:11.1f} {bw:12.1f} {nt:5d} {tw:11.1f} {fw:11.1f} {t:8.1f}")
    print(f"{'total':8} {'':5} {'':11} {'':12} {'':5} {'':11} {'':11} {total:8.1f}"
          f"  ({total / 60:.2f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
