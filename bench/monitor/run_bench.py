#!/usr/bin/env python3
"""Monitor benchmark: cairn vs nannyML (and Evidently) on the same 1M + 1M rows x 20 columns,
side by side in one run. Records wall time, CPU time and peak RSS of each (GNU time).

Usage (from the repo root):
    python3 -m venv /tmp/venv-monitor && /tmp/venv-monitor/bin/pip install -r tests/monitor/goldens/requirements.txt
    python3 -m venv /tmp/venv-monitor-ev && /tmp/venv-monitor-ev/bin/pip install -r tests/monitor/goldens/requirements-evidently.txt
    cmake -S . -B build-monitor -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_ONLY="common;monitor;cli"
    ninja -C build-monitor cairn
    /tmp/venv-monitor/bin/python bench/monitor/run_bench.py [--rows 1000000] [--skip-nannyml] [--skip-evidently]

The data goes to /tmp/cairn-bench-monitor (made once by make_data.py).
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def timed(cmd, runs=1):
    best = None
    for _ in range(runs):
        p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %U %S %M"] + cmd, capture_output=True, text=True)
        m = re.search(r"TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", p.stderr)
        if m is None:
            sys.exit(f"{cmd[0]} failed:\n{p.stderr[-2000:]}")
        r = dict(wall=float(m[1]), cpu=float(m[2]) + float(m[3]), rss_mb=int(m[4]) / 1024, out=p.stdout + p.stderr)
        if best is None or r["wall"] < best["wall"]:
            best = r
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data", default="/tmp/cairn-bench-monitor")
    ap.add_argument("--cairn", default=os.path.join(ROOT, "build-monitor", "cairn"))
    ap.add_argument("--nannyml-python", default="/tmp/venv-monitor/bin/python")
    ap.add_argument("--evidently-python", default="/tmp/venv-monitor-ev/bin/python")
    ap.add_argument("--skip-nannyml", action="store_true")
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument("--runs", type=int, default=3, help="cairn runs (best wall time is kept)")
    a = ap.parse_args()
    ref = os.path.join(a.data, "reference.csv")
    if not os.path.exists(ref):
        subprocess.run([a.nannyml_python, os.path.join(HERE, "make_data.py"), a.data, str(a.rows)], check=True)
    raw_mb = a.rows * 2 * 20 * 8 / 2**20
    cfg = os.path.join(HERE, "cairn_bench.yaml")
    text = open(cfg).read().replace("/tmp/cairn-bench-monitor", a.data)
    cfg_run = os.path.join(a.data, "cairn_bench.yaml")
    open(cfg_run, "w").write(text)
    results = {}
    results["cairn"] = timed([a.cairn, "monitor", "run", cfg_run, "--out", os.path.join(a.data, "out"), "--quiet"],
                             a.runs)
    results["cairn (1 thread)"] = timed([a.cairn, "monitor", "run", cfg_run, "--out", os.path.join(a.data, "out1"),
                                        "--quiet", "--threads", "1"], a.runs)
    if not a.skip_nannyml:
        results["nannyML 0.13.1"] = timed([a.nannyml_python, os.path.join(HERE, "nannyml_bench.py"), a.data])
    if not a.skip_evidently:
        results["Evidently 0.7.21 (no chunks)"] = timed([a.evidently_python, os.path.join(HERE, "evidently_bench.py"),
                                                          a.data])
    print(f"rows: {a.rows} reference + {a.rows} analysis, 20 monitored columns; raw numeric data "
          f"(rows x 20 x 8 B x 2) = {raw_mb:.0f} MiB")
    print("| tool | wall s | CPU s | peak RSS MiB | RSS / raw |")
    print("|---|---|---|---|---|")
    for k, r in results.items():
        print(f"| {k} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.0f} | {r['rss_mb'] / raw_mb:.2f} |")
    if "nannyML 0.13.1" in results:
        c, n = results["cairn"], results["nannyML 0.13.1"]
        print(f"nannyML / cairn: wall {n['wall'] / c['wall']:.1f}x, CPU {n['cpu'] / c['cpu']:.1f}x")
    for k, r in results.items():
        for line in r["out"].splitlines():
            if line.startswith(("nannyml", "evidently")):
                print(f"{k}: {line}")


if __name__ == "__main__":
    main()
