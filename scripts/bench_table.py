#!/usr/bin/env python3
"""Comparison table from Google Benchmark JSON files (python3 standard library only).

    python3 scripts/bench_table.py [--markdown] build/release/bench-results/*.json

Benchmark names follow  <suite>/<workload>/<impl>[/<args>...][/real_time][/threads:N]
(e.g. stack/push_pop_pair/lockless_treiber/real_time/threads:2); the older
BM_<Family>/<impl>[/<args>...][/threads:N] shape is read too. Rows are grouped by
(suite, workload, args, threads); within a group there is one row per implementation.

Only the `median` aggregates are used (a file without aggregates falls back to its single
runs). The figure is items_per_second (M items/s) when every row of a group reports it,
otherwise real time per iteration (ns). Two ratios follow, both "> 1 means faster":
  vs lockless  against the best `lockless_*` implementation of the group
  vs mutex     against the best `std_mutex*` implementation (the baseline to beat)
User counters (e.g. p50/p99 latencies) are listed in the last column.

--cpu-time uses CPU time instead of wall time: ns of CPU per iteration (summed over the
threads) and items per CPU-second. At threads:1 on a shared machine this is the cost of
the code itself, without the time the process waited for a CPU; with more threads it is
the CPU spent per item (spinning and yielding included), not throughput.
"""

import argparse
import json
import os
import platform
import re
import sys

# Name components that are options, not part of what is measured.
OPTION_RE = re.compile(
    r"^(real_time|process_time|manual_time|"
    r"(threads|iterations|repeats|min_time|min_warmup_time):.*)$")

# Keys of a benchmark entry that are not user counters.
STANDARD_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "items_per_second", "aggregate_name", "aggregate_unit", "error_occurred",
    "error_message", "label",
}

NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse_name(name, entry):
    """-> (suite, workload, impl, args, threads) from a benchmark name."""
    parts = name.split("/")
    threads = entry.get("threads", 1)
    for part in parts:
        if part.startswith("threads:"):
            threads = int(part.split(":", 1)[1])
    rest = [p for p in parts if not OPTION_RE.match(p)]
    if rest and rest[0].startswith("BM_"):        # BM_<Family>[/<impl>]/<args>...
        suite, workload = rest[0][3:], ""
        impl, args = "-", rest[1:]
        if args and not re.fullmatch(r"[-0-9.]+", args[0]):
            impl, args = args[0], args[1:]
    elif len(rest) >= 3:                          # <suite>/<workload>/<impl>/<args>...
        suite, workload, impl, args = rest[0], rest[1], rest[2], rest[3:]
    elif len(rest) == 2:                          # <suite>/<impl>
        suite, workload, impl, args = rest[0], "", rest[1], []
    else:
        suite, workload, impl, args = (rest[0] if rest else name), "", "-", []
    return suite, workload, impl, tuple(args), threads


def load(paths):
    """-> (rows, contexts). A row is a dict with the parsed name and the figures."""
    rows, contexts, failed = [], [], False
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            print(f"bench_table: cannot read {path}: {e}", file=sys.stderr)
            failed = True
            continue
        contexts.append((path, data.get("context", {})))
        entries = data.get("benchmarks", [])
        has_aggregates = any(e.get("run_type") == "aggregate" for e in entries)
        for e in entries:
            if has_aggregates:
                if e.get("run_type") != "aggregate" or e.get("aggregate_name") != "median":
                    continue
                name = e.get("run_name") or re.sub(r"_median$", "", e["name"])
            else:
                name = e.get("run_name") or e["name"]
            suite, workload, impl, args, threads = parse_name(name, e)
            unit = NS_PER_UNIT.get(e.get("time_unit", "ns"), 1.0)
            counters = {k: v for k, v in e.items()
                        if k not in STANDARD_KEYS and isinstance(v, (int, float))}
            rows.append({
                "suite": suite, "workload": workload, "impl": impl, "args": args,
                "threads": threads,
                "items": e.get("items_per_second"),
                "ns": e.get("real_time", 0.0) * unit,
                "cpu_ns": e.get("cpu_time", 0.0) * unit,
                "error": e.get("error_message") if e.get("error_occurred") else None,
                "counters": counters,
            })
    return rows, contexts, failed


def fmt_num(v):
    """Compact number: 3 significant digits, no exponent for usual magnitudes."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def to_cpu_time(rows):
    """Rows whose figures are CPU time: ns = CPU ns, items = items per CPU-second."""
    out = []
    for r in rows:
        r = dict(r)
        if r["items"] and r["cpu_ns"] > 0:
            r["items"] = r["items"] * r["ns"] / r["cpu_ns"]
        r["ns"] = r["cpu_ns"]
        out.append(r)
    return out


def build_table(rows):
    """-> list of table rows (lists of cells); None marks a group separator."""
    groups = {}
    for r in rows:
        key = (r["suite"], r["workload"], r["args"], r["threads"])
        groups.setdefault(key, []).append(r)

    def sort_key(key):
        suite, workload, args, threads = key
        return (suite, workload, [(0, int(a)) if a.isdigit() else (1, a) for a in args], threads)

    table = []
    for key in sorted(groups, key=sort_key):
        suite, workload, args, threads = key
        members = [r for r in groups[key] if not r["error"]]
        throughput = bool(members) and all(r["items"] for r in members)

        # Higher score = faster, whatever the metric.
        def score(r):
            return r["items"] if throughput else (1.0 / r["ns"] if r["ns"] > 0 else 0.0)

        def best(prefix):
            cands = [r for r in members if r["impl"].startswith(prefix)]
            return max(cands, key=score) if cands else None

        def ratio(r, ref):
            if r["error"] or ref is None or score(ref) == 0:
                return "-"
            return f"{score(r) / score(ref):.2f}x"

        ref_lockless, ref_mutex = best("lockless_"), best("std_mutex")
        title = "/".join(p for p in (suite, workload, *args) if p)
        ordered = sorted(groups[key], key=lambda r: (r["error"] is not None, -score(r)
                                                     if not r["error"] else 0, r["impl"]))
        if table:
            table.append(None)
        for i, r in enumerate(ordered):
            if r["error"]:
                figure, unit = "error: " + r["error"], ""
            elif throughput:
                figure, unit = f"{r['items'] / 1e6:.2f}", "M items/s"
            else:
                figure, unit = (f"{r['ns']:.1f}" if r["ns"] >= 10 else f"{r['ns']:.3g}"), "ns"
            extra = " ".join(f"{k}={fmt_num(v)}" for k, v in sorted(r["counters"].items()))
            table.append([title if i == 0 else "", str(threads) if i == 0 else "",
                          r["impl"], figure, unit, ratio(r, ref_lockless),
                          ratio(r, ref_mutex), extra])
    return table


HEADER = ["benchmark", "threads", "implementation", "median", "unit", "vs lockless",
          "vs mutex", "counters"]
RIGHT_ALIGNED = {1, 3, 5, 6}


def print_text(table):
    widths = [len(h) for h in HEADER]
    for row in table:
        if row:
            widths = [max(w, len(c)) for w, c in zip(widths, row)]

    def line(cells):
        out = [c.rjust(w) if i in RIGHT_ALIGNED else c.ljust(w)
               for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out).rstrip()

    print(line(HEADER))
    print(line(["-" * w for w in widths]))
    for row in table:
        print("" if row is None else line(row))


def print_markdown(table):
    def esc(c):
        return c.replace("|", "\\|")
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "|".join("---:" if i in RIGHT_ALIGNED else "---"
                         for i in range(len(HEADER))) + "|")
    for row in table:
        if row is not None:
            print("| " + " | ".join(esc(c) for c in row) + " |")


def machine_lines(contexts, cpu_time=False):
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for ln in f:
                if ln.startswith("model name"):
                    model = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [f"machine: {platform.node()}, {os.cpu_count()} CPUs (nproc), {model}"]
    seen = set()
    for path, ctx in contexts:
        desc = (ctx.get("host_name", "?"), ctx.get("num_cpus", "?"),
                ctx.get("mhz_per_cpu", "?"), ctx.get("library_build_type", "?"))
        if desc in seen:
            continue
        seen.add(desc)
        lines.append(f"results from: host {desc[0]}, {desc[1]} CPUs @ {desc[2]} MHz, "
                     f"benchmark library build: {desc[3]}, {ctx.get('date', '?')}")
        if ctx.get("library_build_type") == "debug":
            lines.append("note: the Google Benchmark library reports a debug build (Debian's package "
                         "does); it does not change how the measured code was compiled")
        if ctx.get("host_name") not in (None, platform.node()):
            lines.append("WARNING: results come from another host; the CPU model above is this host's")
    lines.append("figures are medians of repetitions; ratios > 1 mean faster than the reference")
    if cpu_time:
        lines.append("figures are CPU time (--cpu-time): CPU ns per iteration, items per CPU-second")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--cpu-time", action="store_true",
                    help="use CPU time instead of wall time (see above)")
    ap.add_argument("files", nargs="+", help="Google Benchmark JSON output files")
    opts = ap.parse_args()

    rows, contexts, failed = load(opts.files)
    if opts.cpu_time:
        rows = to_cpu_time(rows)
    for ln in machine_lines(contexts, opts.cpu_time):
        print(f"{ln}  " if opts.markdown else ln)   # two spaces: Markdown line break
    print()
    table = build_table(rows)
    if not table:
        print("(no benchmark results)")
    elif opts.markdown:
        print_markdown(table)
    else:
        print_text(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
