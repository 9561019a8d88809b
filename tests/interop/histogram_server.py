#!/usr/bin/python3
"""interop_histogram_server: a real Prometheus server scrapes lockless histograms.

Starts interop_histogram_server_endpoint (histogram_server.cpp) and Debian's Prometheus
2.42 with --enable-feature=native-histograms, both on 127.0.0.1, waits until Prometheus has
scraped the endpoint, then asks Prometheus' HTTP API for what it stored and computed and
compares it with the figures the endpoint wrote (histogram_snapshot of the same data):

  * every series, exactly: the classic _bucket series (le and cumulative count), _sum and
    _count; the native histogram samples (count, sum, and every bucket: boundary rule,
    lower and upper boundary, count); and no other series of the families;
  * histogram_quantile(q, <name>_bucket) against histogram_snapshot::quantile(q), and
    histogram_quantile(q, <name>) on the native series against native_quantile(q), for
    q in the endpoint's list, within a relative 1e-9 (both NaN counts as equal; the
    report says how many agree to the bit).

Two scrape jobs on the one endpoint, because Prometheus 2.42 ingests a protobuf histogram
whose first series has native fields (deltas, a zero count or a zero threshold above 0;
textparse.isNativeHistogram) as a native histogram ONLY: its classic buckets are dropped
(scrape_classic_histograms, which keeps both, came with 2.45). With the feature flag,
Prometheus asks every target for protobuf first.
  job "protobuf": /metrics, negotiated: protobuf. The native families arrive as native
      histograms; lockless_interop_request_bytes (classic only) as classic series parsed
      from protobuf.
  job "text": /metrics-text, always text 0.0.4: the classic buckets of every family,
      the native ones included (a native family without classic bounds has only le="+Inf").

The expected native buckets are the snapshot's (index, count, and the boundaries from
histogram_snapshot::native_upper_bound), shown as Prometheus' API shows them (2.42's
FloatHistogram.AllBucketIterator): negative buckets first, most negative first, as
[-upper, -lower) (rule 1); the zero bucket [-t, t] (rule 3) only when its count is above
0; positive buckets as (lower, upper] (rule 0); a bucket's end that reaches into the zero
bucket is cut at -t / t. Empty buckets are not listed. Rules and counts must be equal;
boundaries equal up to BOUND_TOLERANCE (a relative 1e-15, a few ulp): lockless reports the
doubles nearest 2^(i/2^s), while Prometheus computes boundaries from its own table of
16-digit literals, which differs from the nearest doubles by up to 3 ulp in 341 of its 510
fractions (see detail::native_fraction_tables in histogram.hpp). No bucket here has a
value within a few ulp of a boundary, so the bucket of every observation is the same.

Exit status 0 when everything agrees; otherwise 1, with each difference, Prometheus' log
and the endpoint's stderr. Runs in about 10 s (bounded: 45 s of waiting at most).
"""

import argparse
import ctypes
import json
import math
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

WAIT_SECONDS = 45  # the most the test waits for Prometheus to start and scrape
REL_TOLERANCE = 1e-9
BOUND_TOLERANCE = 1e-15
JOBS = ("protobuf", "text")
MAX_PRINTED = 60  # differences printed


class Failure(Exception):
    pass


def die_with_parent():
    """In the child, before exec: SIGTERM when the driver dies, even by SIGKILL (a ctest
    timeout), so no Prometheus outlives the test (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=5.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        body = e.read().decode("utf-8", "replace")
        raise Failure(f"GET {url}: HTTP {e.code}: {body}") from None


def query(base, expr):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    d = http_json(url)
    if d.get("status") != "success":
        raise Failure(f"query {expr!r}: {d}")
    return d["data"]["result"]


def num(s):
    """A number as Prometheus' API and the endpoint spell it ("NaN", "+Inf", "1e-05")."""
    return float(s)


def same(a, b, tolerance=0.0):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    if math.isinf(a) or math.isinf(b):
        return False
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def labels_key(metric, drop=("__name__", "instance", "le")):
    return tuple(sorted((k, v) for k, v in metric.items() if k not in drop))


def start_endpoint(endpoint, tmp):
    expected_path = os.path.join(tmp, "expected.json")
    with open(os.path.join(tmp, "endpoint.log"), "wb") as err:
        proc = subprocess.Popen([endpoint, expected_path, str(WAIT_SECONDS + 40)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                preexec_fn=die_with_parent)
    return proc, expected_path


def endpoint_port(proc, expected_path):
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    line = proc.stdout.readline().decode() if ready else ""
    if not line.startswith("PORT "):
        raise Failure(f"the endpoint did not report its port (got {line!r})")
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    return int(line.split()[1]), expected


def write_config(tmp, port):
    path = os.path.join(tmp, "prometheus.yml")
    jobs = ""
    for job, metrics_path in (("protobuf", "/metrics"), ("text", "/metrics-text")):
        jobs += (f"  - job_name: {job}\n"
                 f"    metrics_path: {metrics_path}\n"
                 f"    static_configs:\n"
                 f"      - targets: ['127.0.0.1:{port}']\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "  evaluation_interval: 1m\nscrape_configs:\n" + jobs)
    return path


def start_prometheus(prometheus, tmp, config, deadline):
    """Starts Prometheus on a free port (another pick if that one was taken meanwhile) and
    waits for /-/ready. Returns (process, base URL, log path)."""
    for attempt in range(3):
        port = free_port()
        log_path = os.path.join(tmp, f"prometheus-{attempt}.log")
        data = os.path.join(tmp, f"data-{attempt}")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [prometheus, f"--config.file={config}", f"--storage.tsdb.path={data}",
                 f"--web.listen-address=127.0.0.1:{port}", "--enable-feature=native-histograms"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent)
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return proc, base, log_path
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        if proc.poll() is None:
            stop(proc, "prometheus")
            raise Failure(f"Prometheus not ready within {WAIT_SECONDS} s", log_path)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            if "address already in use" not in f.read():
                raise Failure(f"Prometheus exited with status {proc.returncode}", log_path)
    raise Failure("Prometheus found no free port in 3 attempts", log_path)


def wait_for_scrapes(base, deadline):
    """Until both targets are up after a successful scrape. A failed scrape is retried (a
    busy machine can miss the 1 s timeout); the last errors are reported at the deadline."""
    health, errors = {}, {}
    while time.monotonic() < deadline:
        targets = http_json(base + "/api/v1/targets?state=active")["data"]["activeTargets"]
        for t in targets:
            job = t["labels"].get("job")
            health[job] = t.get("health")
            if t.get("lastError"):
                errors[job] = f"scrape of {t['scrapeUrl']} failed: {t['lastError']}"
        if all(health.get(job) == "up" for job in JOBS):
            return
        time.sleep(0.2)
    raise Failure(f"the targets were not scraped within {WAIT_SECONDS} s: health {health}, "
                  f"errors {errors or 'none'}")


def expected_series(expected):
    """{(name, labels incl. job): value}: a float for classic series, for native ones a dict
    {count, sum, buckets: [(rule, lower, upper, count)]}."""
    out = {}
    for fam in expected["families"]:
        name = fam["name"]
        for s in fam["series"]:
            for job in JOBS:
                labels = tuple(sorted(list(s["labels"].items()) + [("job", job)]))
                if job == "protobuf" and s["native"]:
                    out[(name, labels)] = {"count": float(s["count"]), "sum": num(s["sum"]),
                                           "buckets": prometheus_buckets(s)}
                    continue
                bounds = [num(b) for b in s["upper_bounds"]] + [math.inf]
                for bound, cumulative in zip(bounds, s["cumulative"]):
                    key = tuple(sorted(labels + (("le", bound),)))
                    out[(name + "_bucket", key)] = float(cumulative)
                out[(name + "_sum", labels)] = num(s["sum"])
                out[(name + "_count", labels)] = float(s["count"])
    return out


def prometheus_buckets(s):
    t = num(s["zero_threshold"])
    out = []
    for b in reversed(s["negative"]):
        out.append((1, -num(b["upper"]), min(-num(b["lower"]), -t), float(b["count"])))
    if s["zero_count"] > 0:
        out.append((3, -t, t, float(s["zero_count"])))
    for b in s["positive"]:
        out.append((0, max(num(b["lower"]), t), num(b["upper"]), float(b["count"])))
    return out


def stored_series(base):
    out = {}
    for r in query(base, '{__name__=~"lockless_interop_.+"}'):
        metric = r["metric"]
        labels = labels_key(metric)
        if "le" in metric:
            labels = tuple(sorted(labels + (("le", num(metric["le"])),)))
        if "histogram" in r:
            h = r["histogram"][1]
            value = {"count": num(h["count"]), "sum": num(h["sum"]),
                     "buckets": [(int(b[0]), num(b[1]), num(b[2]), num(b[3]))
                                 for b in h.get("buckets", [])]}
        else:
            value = num(r["value"][1])
        out[(metric["__name__"], labels)] = value
    return out


def compare_series(expected, stored, problems):
    for key in sorted(set(expected) | set(stored), key=repr):
        if key not in stored:
            problems.append(f"series missing in Prometheus: {key}")
        elif key not in expected:
            problems.append(f"unexpected series in Prometheus: {key} = {stored[key]}")
        elif isinstance(expected[key], dict) != isinstance(stored[key], dict):
            problems.append(f"{key}: expected {expected[key]}, Prometheus has {stored[key]}")
        elif isinstance(expected[key], dict):
            e, s = expected[key], stored[key]
            for field in ("count", "sum"):
                if not same(e[field], s[field]):
                    problems.append(f"{key}: native {field} {s[field]!r}, ours {e[field]!r}")
            if len(e["buckets"]) != len(s["buckets"]):
                problems.append(f"{key}: Prometheus has {len(s['buckets'])} native buckets, "
                                f"ours {len(e['buckets'])}")
            for eb, sb in zip(e["buckets"], s["buckets"]):
                if (eb[0] != sb[0] or eb[3] != sb[3] or
                        not all(same(x, y, BOUND_TOLERANCE) for x, y in zip(eb[1:3], sb[1:3]))):
                    problems.append(f"{key}: native bucket [rule, lower, upper, count] "
                                    f"Prometheus {list(sb)!r}, ours {list(eb)!r}")
        elif not same(expected[key], stored[key]):
            problems.append(f"{key}: Prometheus {stored[key]!r}, ours {expected[key]!r}")


def compare_quantiles(base, expected, problems):
    """Returns (compared, bit-identical)."""
    compared = identical = 0
    qs = expected["quantiles"]
    for fam in expected["families"]:
        name = fam["name"]
        for kind, selector, field in (("classic", name + "_bucket", "quantile"),
                                      ("native", name, "native_quantile")):
            want = {}
            for s in fam["series"]:
                for job in JOBS:
                    if kind == "native" and not (s["native"] and job == "protobuf"):
                        continue
                    if kind == "classic" and s["native"] and job == "protobuf":
                        continue
                    labels = tuple(sorted(list(s["labels"].items()) + [("job", job)]))
                    want[labels] = s[field]
            if not want:
                continue
            for i, q in enumerate(qs):
                got = {labels_key(r["metric"]): num(r["value"][1])
                       for r in query(base, f"histogram_quantile({q}, {selector})")}
                if set(got) != set(want):
                    problems.append(f"histogram_quantile({q}, {selector}): series {sorted(got)}, "
                                    f"expected {sorted(want)}")
                for labels in sorted(set(got) & set(want)):
                    ours, theirs = num(want[labels][i]), got[labels]
                    compared += 1
                    if same(ours, theirs):
                        identical += 1
                    elif not same(ours, theirs, REL_TOLERANCE):
                        selected = ",".join(f'{k}="{v}"' for k, v in labels)
                        problems.append(
                            f"histogram_quantile({q}, {selector}{{{selected}}}) ({kind}): "
                            f"Prometheus {theirs!r}, ours ({field}) {ours!r}")
    return compared, identical


def print_file(title, path):
    print(f"---- {title} ({path}) ----")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        sys.stdout.writelines(lines[-150:])
    except OSError as e:
        print(f"(cannot read: {e})")


def stop(proc, name):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop on SIGTERM; killing it")
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--prometheus", default="/usr/bin/prometheus")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="lockless-interop-prometheus-")
    endpoint = prometheus = None
    log_path = None
    ok = False
    try:
        endpoint, expected_path = start_endpoint(args.endpoint, tmp)
        port, expected = endpoint_port(endpoint, expected_path)
        config = write_config(tmp, port)
        deadline = time.monotonic() + WAIT_SECONDS
        prometheus, base, log_path = start_prometheus(args.prometheus, tmp, config, deadline)
        ready = time.monotonic()
        wait_for_scrapes(base, deadline)
        scraped = time.monotonic()

        series_problems, quantile_problems = [], []
        want = expected_series(expected)
        have = stored_series(base)
        while set(have) != set(want) and time.monotonic() < deadline:
            time.sleep(0.2)  # not expected: both targets are up, so both scrapes are stored
            have = stored_series(base)
        compare_series(want, have, series_problems)
        compared, identical = compare_quantiles(base, expected, quantile_problems)
        problems = quantile_problems + series_problems

        print(f"Prometheus ready after {ready - started:.1f} s, both jobs scraped after "
              f"{scraped - started:.1f} s; {len(want)} series and {compared} "
              f"histogram_quantile results compared ({identical} identical to the bit), "
              f"{time.monotonic() - started:.1f} s in all")
        for fam in expected["families"]:
            for s in fam["series"]:
                if s["native"]:
                    print(f"  {fam['name']}{s['labels']}: schema {s['schema']}, "
                          f"{len(s['positive'])} positive and {len(s['negative'])} negative "
                          f"native buckets, zero bucket {s['zero_count']}")
        if problems:
            print(f"FAILED: {len(problems)} differences between Prometheus and lockless "
                  f"({len(quantile_problems)} quantiles, {len(series_problems)} series):")
            for p in problems[:MAX_PRINTED]:
                print("  " + p)
            if len(problems) > MAX_PRINTED:
                print(f"  ... and {len(problems) - MAX_PRINTED} more")
        else:
            ok = True
            print("OK: Prometheus' series and histogram_quantile values equal lockless' own")
    except Failure as e:
        print(f"FAILED: {e.args[0]}")
        if len(e.args) > 1:
            log_path = e.args[1]
    finally:
        stop(prometheus, "prometheus")
        if endpoint is not None:
            try:
                endpoint.stdin.close()  # the endpoint's signal to stop
                endpoint.wait(timeout=10)
            except subprocess.TimeoutExpired:
                stop(endpoint, "the endpoint")
        if not ok:
            if log_path:
                print_file("Prometheus' log", log_path)
            print_file("the endpoint's stderr", os.path.join(tmp, "endpoint.log"))
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
