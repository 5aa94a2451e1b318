#!/usr/bin/env python3
"""Monitor benchmark: cairn vs nannyML (and Evidently, and for engine II scikit-learn and
fairlearn) on the same 1M + 1M rows x 20 columns, side by side in one run. Records wall time,
CPU time (user + system) and peak RSS of each process (GNU time), and the load average.

Suites:
  drift  engine I: univariate drift, PCA reconstruction, data quality (cairn_bench.yaml;
         nannyml_bench.py --suite drift; evidently_bench.py, which does not chunk)
  full   engines I + II: the drift suite plus realized performance, calibration, CBPE and
         fairness (cairn_bench_full.yaml; nannyml_bench.py --suite full)

Usage (from the repo root):
    python3 -m venv /tmp/venv-monitor && /tmp/venv-monitor/bin/pip install -r tests/monitor/goldens/requirements-outcomes.txt
    python3 -m venv /tmp/venv-monitor-ev && /tmp/venv-monitor-ev/bin/pip install -r tests/monitor/goldens/requirements-evidently.txt
    cmake -S . -B build-monitor -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_ONLY="common;models;monitor;cli"
    ninja -C build-monitor cairn
    /tmp/venv-monitor/bin/python bench/monitor/run_bench.py [--suite drift|full|both] [--rows 1000000]
        [--skip-nannyml] [--skip-evidently] [--runs 3]

The data goes to /tmp/cairn-bench-monitor-v2 (made once by make_data.py).
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_DATA = "/tmp/cairn-bench-monitor-v2"


def timed(cmd, runs=1, ok_codes=(0,)):
    best = None
    for _ in range(runs):
        load = os.getloadavg()[0]
        p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M %x"] + cmd, capture_output=True, text=True)
        m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)", p.stderr)
        if m is None or int(m[5]) not in ok_codes:
            sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
        r = dict(wall=float(m[1]), cpu=float(m[2]) + float(m[3]), rss_mb=int(m[4]) / 1024,
                 out=p.stdout + p.stderr, load=load)
        if best is None or r["wall"] < best["wall"]:
            best = r
    return best


def config(name, data):
    text = open(os.path.join(HERE, name)).read().replace(DEFAULT_DATA, data)
    path = os.path.join(data, name)
    open(path, "w").write(text)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", choices=["drift", "full", "both"], default="both")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--cairn", default=os.path.join(ROOT, "build-monitor", "cairn"))
    ap.add_argument("--nannyml-python", default="/tmp/venv-monitor/bin/python")
    ap.add_argument("--evidently-python", default="/tmp/venv-monitor-ev/bin/python")
    ap.add_argument("--skip-nannyml", action="store_true")
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="cairn runs (best wall time is kept)")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.data, "reference.csv")):
        subprocess.run([a.nannyml_python, os.path.join(HERE, "make_data.py"), a.data, str(a.rows)], check=True)
    raw_mb = a.rows * 2 * 20 * 8 / 2**20
    suites = ["drift", "full"] if a.suite == "both" else [a.suite]
    results = {}
    start_load = os.getloadavg()
    for suite in suites:
        cfg = config("cairn_bench.yaml" if suite == "drift" else "cairn_bench_full.yaml", a.data)
        out = os.path.join(a.data, "out-" + suite)
        # Exit code 3 means "alerts were raised" (the analysis period drifts).
        results[(suite, "cairn")] = timed([a.cairn, "monitor", "run", cfg, "--out", out, "--quiet"], a.runs, (0, 3))
        if suite == "drift":
            results[(suite, "cairn (1 thread)")] = timed(
                [a.cairn, "monitor", "run", cfg, "--out", out + "-1", "--quiet", "--threads", "1"], a.runs, (0, 3))
        if not a.skip_nannyml:
            results[(suite, "nannyML 0.13.1")] = timed(
                [a.nannyml_python, os.path.join(HERE, "nannyml_bench.py"), a.data, "--suite", suite])
        if suite == "drift" and not a.skip_evidently:
            results[(suite, "Evidently 0.7.21 (no chunks)")] = timed(
                [a.evidently_python, os.path.join(HERE, "evidently_bench.py"), a.data])
    end_load = os.getloadavg()
    print(f"rows: {a.rows} reference + {a.rows} analysis, 20 monitored columns; raw numeric data "
          f"(rows x 20 x 8 B x 2) = {raw_mb:.0f} MiB; load average (1/5/15 min) at start "
          f"{start_load[0]:.1f}/{start_load[1]:.1f}/{start_load[2]:.1f}, at end "
          f"{end_load[0]:.1f}/{end_load[1]:.1f}/{end_load[2]:.1f}")
    print("| suite | tool | wall s | CPU s | peak RSS MiB | RSS / raw | load (1 min) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (suite, k), r in results.items():
        print(f"| {suite} | {k} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.0f} | "
              f"{r['rss_mb'] / raw_mb:.2f} | {r['load']:.1f} |")
    for suite in suites:
        if (suite, "nannyML 0.13.1") in results:
            c, n = results[(suite, "cairn")], results[(suite, "nannyML 0.13.1")]
            print(f"{suite}: nannyML / cairn: wall {n['wall'] / c['wall']:.1f}x, CPU {n['cpu'] / c['cpu']:.1f}x")
    for (suite, k), r in results.items():
        for line in r["out"].splitlines():
            if line.startswith(("nannyml", "evidently")):
                print(f"{suite} {k}: {line}")


if __name__ == "__main__":
    main()
