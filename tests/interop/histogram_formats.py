#!/usr/bin/python3
"""interop_histogram_formats: the library's three exposition formats read by real clients.

Runs interop_histogram_formats_writer (histogram_formats.cpp), which writes one exposition
in each format and a JSON file of what the snapshots held (and the observations behind
them), then checks, each part bounded by a timeout:

  1. the JSON itself against the observations: classic cumulative counts, count and sum
     (added in observation order, as one shard does), and the native buckets worked out
     here with Prometheus' key function (frexp; glibc's exp2 for the schema > 0 bounds, as
     the library; reduced to the reported schema by i -> (i+1)>>1);
  2. text 0.0.4: `promtool check metrics` passes with no lint problem, and
     prometheus_client.parser reads every family, help text and sample, equal to the JSON
     (bucket le values and counts in order, +Inf last, _sum, _count; escaped labels);
  3. OpenMetrics 1.0: prometheus_client.openmetrics.parser (strict: # EOF, canonical
     +Inf, bucket order, no NaN or negative counter, no _sum with a negative bound) reads
     the same samples, without _sum/_count where a classic bound or the sum is negative or
     the sum is NaN;
  4. protobuf: protoc compiles the published metrics.proto (python_out, in a temporary
     directory) and python3-protobuf decodes the varint-delimited MetricFamily stream:
     name, help, type, labels, sample_count, sample_sum, the classic buckets (no +Inf
     bucket), and for native series schema, zero_threshold, zero_count and the spans +
     deltas expanded to per-index counts, equal to the JSON; series without native buckets
     have no native field; spans after the first are more than 2 apart (smaller gaps are
     closed, as client_golang does); an empty native histogram with zero_threshold 0
     carries the no-op span (offset 0, length 0).

Usage: histogram_formats.py --program W --proto metrics.proto --protoc P --promtool T
Uses Debian's /usr/bin/python3 (its python3-prometheus-client and python3-protobuf).
"""

import argparse
import bisect
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

TIMEOUT_S = 20
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def same_float(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def fl(s):
    return float(s)  # "%.17g" strings: nan, inf, -inf included


# ---- 1. the JSON against the observations ----------------------------------------------

def native_key(a, s):
    """Prometheus' bucket index of |v| = a (finite, > 0) at schema s."""
    frac, exp = math.frexp(a)
    if s > 0:
        n = 1 << s
        bounds = [math.exp2(i / n - 1.0) for i in range(n)]
        return (exp - 1) * n + bisect.bisect_left(bounds, frac)
    k = exp - (1 if frac == 0.5 else 0)
    return (k + (1 << -s) - 1) >> -s


def inf_key(s):
    return ((1024 << s) if s >= 0 else (1024 >> -s)) + 1


def reduce_key(k, s_from, s_to):
    while s_from > s_to:
        k = (k + 1) >> 1
        s_from -= 1
    return k


def check_observations(fam, ser):
    where = f"{fam['name']}{ser['labels']}"
    obs = [(fl(v), n) for v, n in ser["observations"]]
    count = sum(n for _, n in obs)
    check(ser["count"] == count, f"{where}: count {ser['count']} != {count} observations")
    total = 0.0
    for v, n in obs:
        total += v * n
    check(same_float(fl(ser["sum"]), total), f"{where}: sum {ser['sum']} != {total!r}")
    bounds = [fl(b) for b in ser["bounds"]]
    want = [sum(n for v, n in obs if v <= b) for b in bounds] + [count]
    check(ser["cumulative"] == want, f"{where}: cumulative {ser['cumulative']} != {want}")
    if not ser["native"]:
        return
    s, s0, zt = ser["schema"], ser["configured_schema"], fl(ser["zero_threshold"])
    zero, pos, neg = 0, {}, {}
    for v, n in obs:
        if math.isnan(v):
            continue
        if abs(v) <= zt:
            zero += n
            continue
        k = inf_key(s) if math.isinf(v) else reduce_key(native_key(abs(v), s0), s0, s)
        side = pos if v > 0 else neg
        side[k] = side.get(k, 0) + n
    check(ser["zero_count"] == zero, f"{where}: zero_count {ser['zero_count']} != {zero}")
    check(dict(ser["positive"]) == pos, f"{where}: positive {ser['positive']} != {sorted(pos.items())}")
    check(dict(ser["negative"]) == neg, f"{where}: negative {ser['negative']} != {sorted(neg.items())}")


# ---- 2./3. text formats ------------------------------------------------------------------

def expected_samples(fam, ser, openmetrics):
    """(sample name, labels without le, le or None, value) in exposition order."""
    name, labels = fam["name"], dict(ser["labels"])
    out = []
    for b, c in zip([fl(b) for b in ser["bounds"]] + [math.inf], ser["cumulative"]):
        out.append((name + "_bucket", labels, b, c))
    if openmetrics and (any(fl(b) < 0 for b in ser["bounds"]) or not fl(ser["sum"]) >= 0):
        return out  # OpenMetrics: no _sum (nor _count) with a negative bound or sum, or NaN
    out.append((name + "_sum", labels, None, fl(ser["sum"])))
    out.append((name + "_count", labels, None, ser["count"]))
    return out


def check_text_families(kind, families, expected):
    got = {f.name: f for f in families}
    check(sorted(got) == sorted(f["name"] for f in expected["families"]),
          f"{kind}: families {sorted(got)}")
    n = 0
    for fam in expected["families"]:
        f = got.get(fam["name"])
        if not check(f is not None, f"{kind}: family {fam['name']} missing"):
            continue
        check(f.type == "histogram", f"{kind}: {fam['name']} type {f.type}")
        check(f.documentation == fam["help"], f"{kind}: {fam['name']} help {f.documentation!r}")
        want = []
        for ser in fam["series"]:
            want += expected_samples(fam, ser, kind == "openmetrics")
        check(len(f.samples) == len(want),
              f"{kind}: {fam['name']}: {len(f.samples)} samples, expected {len(want)}")
        for s, (wname, wlabels, wle, wvalue) in zip(f.samples, want):
            labels = dict(s.labels)
            le = labels.pop("le", None)
            what = f"{kind}: {s.name}{s.labels} {s.value!r}"
            check(s.name == wname, f"{what}: expected name {wname}")
            check(labels == wlabels, f"{what}: expected labels {wlabels}")
            if wle is None:
                check(le is None, f"{what}: unexpected le")
            else:
                check(le is not None and float(le) == wle, f"{what}: expected le {wle!r}")
            check(same_float(float(s.value), float(wvalue)), f"{what}: expected value {wvalue!r}")
            if isinstance(wvalue, int):  # counts: exact integers, also past 2^53
                check(s.value == wvalue, f"{what}: expected count {wvalue}")
            n += 1
    return n


def parse_and_check(kind, parser, data, expected):
    try:
        families = list(parser.text_string_to_metric_families(data.decode()))
    except ValueError as e:  # the parser rejected the exposition
        check(False, f"{kind}: the parser rejects it: {e}")
        return 0
    return check_text_families(kind, families, expected)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, **kw)


def check_promtool(promtool, text):
    r = run([promtool, "check", "metrics"], input=text)
    out = (r.stdout + r.stderr).decode(errors="replace").strip()
    check(r.returncode == 0 and out == "",
          f"promtool check metrics: exit {r.returncode}, output:\n{out}")


# ---- 4. protobuf ---------------------------------------------------------------------------

TIMESTAMP_STUB = """syntax = "proto3";
package google.protobuf;
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
"""


def load_metrics_pb2(protoc, proto, tmp):
    # metrics.proto imports google/protobuf/timestamp.proto, whose source Debian ships only
    # with libprotobuf-dev; protoc needs just its shape (the generated module imports the
    # real google.protobuf.timestamp_pb2). The file is compiled under its base name: its
    # package, io.prometheus.client, would clash with Python's io module as a path.
    src = os.path.join(tmp, "proto")
    os.makedirs(os.path.join(src, "google", "protobuf"))
    with open(os.path.join(src, "google", "protobuf", "timestamp.proto"), "w") as f:
        f.write(TIMESTAMP_STUB)
    shutil.copy(proto, os.path.join(src, "metrics.proto"))
    out = os.path.join(tmp, "pb2")
    os.makedirs(out)
    r = run([protoc, f"-I{src}", f"--python_out={out}", os.path.join(src, "metrics.proto")])
    if r.returncode != 0:
        raise RuntimeError(f"protoc failed: {r.stderr.decode(errors='replace')}")
    sys.path.insert(0, out)
    return importlib.import_module("metrics_pb2")


def read_varint(data, pos):
    shift = value = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift >= 64:
            raise ValueError("varint too long")


def expand(spans, deltas, where):
    out, index, count, d = {}, 0, 0, 0
    for i, sp in enumerate(spans):
        index += sp.offset
        if i > 0:
            check(sp.offset > 2, f"{where}: span {i} offset {sp.offset}: gaps <= 2 are closed")
        for _ in range(sp.length):
            if not check(d < len(deltas), f"{where}: more span buckets than deltas"):
                return out
            count += deltas[d]
            d += 1
            check(count >= 0, f"{where}: negative bucket count at index {index}")
            out[index] = count
            index += 1
    check(d == len(deltas), f"{where}: {len(deltas) - d} deltas left over")
    return out


def check_protobuf(pb2, data, expected):
    pos, got = 0, []
    while pos < len(data):
        n, pos = read_varint(data, pos)
        check(pos + n <= len(data), "protobuf: truncated MetricFamily")
        mf = pb2.MetricFamily()
        mf.ParseFromString(data[pos:pos + n])
        pos += n
        got.append(mf)
    fams = expected["families"]
    check([m.name for m in got] == [f["name"] for f in fams],
          f"protobuf: families {[m.name for m in got]}")
    histograms = 0
    for mf, fam in zip(got, fams):
        check(mf.help == fam["help"], f"protobuf: {mf.name} help {mf.help!r}")
        check(mf.type == pb2.HISTOGRAM, f"protobuf: {mf.name} type {mf.type}")
        check(len(mf.metric) == len(fam["series"]), f"protobuf: {mf.name}: {len(mf.metric)} metrics")
        for m, ser in zip(mf.metric, fam["series"]):
            where = f"protobuf: {mf.name}{ser['labels']}"
            histograms += 1
            check([(l.name, l.value) for l in m.label] == list(ser["labels"].items()),
                  f"{where}: labels {[(l.name, l.value) for l in m.label]}")
            check(m.HasField("histogram"), f"{where}: no histogram")
            h = m.histogram
            check(h.sample_count == ser["count"], f"{where}: sample_count {h.sample_count}")
            check(same_float(h.sample_sum, fl(ser["sum"])), f"{where}: sample_sum {h.sample_sum!r}")
            buckets = [(b.upper_bound, b.cumulative_count) for b in h.bucket]
            want = list(zip([fl(b) for b in ser["bounds"]], ser["cumulative"][:-1]))
            check(buckets == want, f"{where}: buckets {buckets} != {want}")
            native_fields = [f for f in ("schema", "zero_threshold", "zero_count") if h.HasField(f)]
            if not ser["native"]:
                check(native_fields == [] and not h.positive_span and not h.negative_span
                      and not h.positive_delta and not h.negative_delta,
                      f"{where}: native fields in a classic-only series")
                continue
            check(len(native_fields) == 3, f"{where}: native fields {native_fields}")
            check(h.schema == ser["schema"], f"{where}: schema {h.schema}")
            check(h.zero_threshold == fl(ser["zero_threshold"]), f"{where}: zero_threshold {h.zero_threshold!r}")
            check(h.zero_count == ser["zero_count"], f"{where}: zero_count {h.zero_count}")
            for side in ("positive", "negative"):
                spans = getattr(h, side + "_span")
                deltas = getattr(h, side + "_delta")
                got_b = {i: c for i, c in expand(spans, deltas, f"{where} {side}").items() if c}
                check(got_b == dict(ser[side]), f"{where}: {side} {sorted(got_b.items())} != {ser[side]}")
            empty = not ser["positive"] and not ser["negative"] and ser["zero_count"] == 0
            noop = [(s.offset, s.length) for s in h.positive_span] == [(0, 0)]
            if empty and fl(ser["zero_threshold"]) == 0:
                check(noop and not h.negative_span, f"{where}: no no-op span in an empty native histogram")
            else:
                check(all(s.length > 0 for s in list(h.positive_span) + list(h.negative_span)),
                      f"{where}: an empty span")
    return histograms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--program", required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--protoc", required=True)
    ap.add_argument("--promtool", required=True)
    args = ap.parse_args()
    for what, path in (("protoc (protobuf-compiler)", args.protoc),
                       ("promtool (prometheus)", args.promtool),
                       ("metrics.proto (golang-github-prometheus-client-model-dev)", args.proto)):
        if not os.path.exists(path):
            print(f"interop_histogram_formats: {what} not found at '{path}' "
                  "(scripts/install-deps.sh --tests installs it)", file=sys.stderr)
            return 1
    from prometheus_client import parser as text_parser
    from prometheus_client.openmetrics import parser as om_parser

    with tempfile.TemporaryDirectory() as tmp:
        files = [os.path.join(tmp, n) for n in ("metrics.txt", "metrics.om", "metrics.pb", "expected.json")]
        r = run([args.program] + files)
        if r.returncode != 0:
            print(f"writer failed ({r.returncode}): {r.stderr.decode(errors='replace')}", file=sys.stderr)
            return 1
        with open(files[3]) as f:
            expected = json.load(f)
        with open(files[0], "rb") as f:
            text = f.read()
        with open(files[1], "rb") as f:
            om = f.read()
        with open(files[2], "rb") as f:
            pb = f.read()

        series = 0
        for fam in expected["families"]:
            for ser in fam["series"]:
                check_observations(fam, ser)
                series += 1
        check_promtool(args.promtool, text)
        n_text = parse_and_check("text", text_parser, text, expected)
        n_om = parse_and_check("openmetrics", om_parser, om, expected)
        pb2 = load_metrics_pb2(args.protoc, args.proto, tmp)
        n_pb = check_protobuf(pb2, pb, expected)

    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    print(f"interop_histogram_formats: {len(expected['families'])} families, {series} series; "
          f"observations vs snapshots, promtool, {n_text} text 0.0.4 samples, {n_om} OpenMetrics "
          f"samples, {n_pb} protobuf histograms checked: "
          f"{'FAILED (' + str(len(failures)) + ')' if failures else 'all equal'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
