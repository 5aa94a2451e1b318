#!/usr/bin/env python3
"""Pipeline overhead benchmark: cairn vs DVC `repro`, same pipelines, same machine, one run.

1. N no-op steps (default 1000): wall time of a first run / N = per-step scheduling overhead.
   cairn runs them at -j 1 (DVC's repro is serial) and at -j 2.
2. Cached re-run of 100 steps over 1 GB of inputs (100 files x 10 MiB): the pipeline runs
   once (populating caches and hash memos), then the timed re-run must execute nothing.
3. N built-in steps (default 100, cairn only): independent `ingest` steps of a 3-row CSV,
   uncached; wall time / N = what a built-in step costs, each being a `cairn pipeline step`
   child process of the cairn binary (before that change they ran in-process).

Usage (DVC from the pinned bench/pipeline/requirements.txt in its own venv):
  python3 -m venv /tmp/venv-pipeline && /tmp/venv-pipeline/bin/pip install -r bench/pipeline/requirements.txt
  python3 bench/pipeline/run_bench.py --cairn build-pipeline/cairn --dvc /tmp/venv-pipeline/bin/dvc
  (--parts noop,builtin without --dvc: cairn alone, e.g. to compare two builds back to back)
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(cmd, cwd, env=None):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed in {cwd}:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return dt, out


def cairn_noop_spec(n):
    lines = ["name: noop", "steps:"]
    for i in range(n):
        lines.append(f"  s{i}: {{run: [\"true\"], cache: false}}")
    return "\n".join(lines) + "\n"


def dvc_noop_yaml(n):
    lines = ["stages:"]
    for i in range(n):
        lines.append(f"  s{i}:\n    cmd: \"true\"\n    always_changed: true")
    return "\n".join(lines) + "\n"


def cairn_data_spec(n):
    lines = ["name: big", "steps:"]
    for i in range(n):
        lines.append(f"  s{i}:\n    run: \"wc -c < data/in_{i}.bin > out/out_{i}.txt\"\n"
                     f"    inputs: [data/in_{i}.bin]\n    outputs: [out/out_{i}.txt]")
    return "\n".join(lines) + "\n"


def dvc_data_yaml(n):
    lines = ["stages:"]
    for i in range(n):
        lines.append(f"  s{i}:\n    cmd: \"wc -c < data/in_{i}.bin > out/out_{i}.txt\"\n"
                     f"    deps: [data/in_{i}.bin]\n    outs: [out/out_{i}.txt]")
    return "\n".join(lines) + "\n"


def cairn_builtin_spec(n):
    lines = ["name: builtin", "steps:"]
    for i in range(n):
        lines.append(f"  s{i}: {{type: ingest, with: {{path: tiny.csv}}, outputs: [out/o_{i}.csv], "
                     "cache: false}")
    return "\n".join(lines) + "\n"


def dvc_init(d, dvc):
    run(["git", "init", "-q"], d)
    run([dvc, "init", "-q"], d)
    run([dvc, "config", "core.analytics", "false"], d)
    run([dvc, "config", "core.autostage", "false"], d)


def make_inputs(data_dir, n, size):
    data_dir.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    for i in range(n):
        p = data_dir / f"in_{i}.bin"
        with open(p, "wb") as f:
            for k in range(size >> 20):
                # Distinct content per file: prefix the block with the file and block index.
                f.write(f"{i}:{k}:".encode() + block[: (1 << 20) - len(f"{i}:{k}:")])


def bench_noop(args, root):
    n = args.noop_steps
    res = {}
    for jobs in (1, 2):
        d = root / f"cairn-noop-j{jobs}"
        d.mkdir()
        (d / "pipeline.yaml").write_text(cairn_noop_spec(n))
        dt, _ = run([args.cairn, "pipeline", "run", "pipeline.yaml", "-q", "-j", str(jobs)], d)
        res[f"cairn -j {jobs}"] = dt
    if args.dvc:
        d = root / "dvc-noop"
        d.mkdir()
        dvc_init(d, args.dvc)
        (d / "dvc.yaml").write_text(dvc_noop_yaml(n))
        dt, _ = run([args.dvc, "repro", "-q"], d)
        res["dvc repro"] = dt
    return res


def bench_builtin(args, root):
    n = args.builtin_steps
    res = {}
    for jobs in (1, 2):
        d = root / f"cairn-builtin-j{jobs}"
        d.mkdir()
        (d / "tiny.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
        (d / "pipeline.yaml").write_text(cairn_builtin_spec(n))
        dt, _ = run([args.cairn, "pipeline", "run", "pipeline.yaml", "-q", "-j", str(jobs)], d)
        res[f"cairn -j {jobs}"] = dt
    return res


def bench_cached(args, root):
    n, size = args.data_steps, args.file_mib << 20
    shared = root / "inputs"
    make_inputs(shared, n, size)
    res = {}
    d = root / "cairn-data"
    (d / "out").mkdir(parents=True)
    os.symlink(shared, d / "data")
    (d / "pipeline.yaml").write_text(cairn_data_spec(n))
    cold, _ = run([args.cairn, "pipeline", "run", "pipeline.yaml", "-q", "-j", "2"], d)
    warm, out = run([args.cairn, "pipeline", "run", "pipeline.yaml", "-j", "2"], d)
    assert f"0 ran, {n} cached" in out.stderr, out.stderr[-500:]
    res["cairn"] = (cold, warm)
    if args.dvc:
        d = root / "dvc-data"
        (d / "out").mkdir(parents=True)
        dvc_init(d, args.dvc)
        os.symlink(shared, d / "data")
        (d / "dvc.yaml").write_text(dvc_data_yaml(n))
        cold, _ = run([args.dvc, "repro", "-q"], d)
        warm, out = run([args.dvc, "repro"], d)
        res["dvc repro"] = (cold, warm)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True)
    ap.add_argument("--dvc", default="")
    ap.add_argument("--noop-steps", type=int, default=1000)
    ap.add_argument("--data-steps", type=int, default=100)
    ap.add_argument("--file-mib", type=int, default=10)
    ap.add_argument("--builtin-steps", type=int, default=100)
    ap.add_argument("--parts", default="noop,cached,builtin",
                    help="comma list of the parts to run: noop, cached, builtin")
    ap.add_argument("--workdir", default="")
    args = ap.parse_args()
    args.cairn = str(Path(args.cairn).resolve())
    root = Path(args.workdir or tempfile.mkdtemp(prefix="cairn-pipeline-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        if args.dvc:
            v = subprocess.run([args.dvc, "--version"], capture_output=True, text=True).stdout.strip()
            print(f"dvc {v}")
        parts = set(args.parts.split(","))
        if "noop" in parts:
            noop = bench_noop(args, root)
            print(f"\n## {args.noop_steps} no-op steps (first run, wall time)")
            print("| runner | total (s) | per step (ms) |\n|---|---:|---:|")
            for k, v in noop.items():
                print(f"| {k} | {v:.3f} | {1000 * v / args.noop_steps:.2f} |")
        if "cached" in parts:
            cached = bench_cached(args, root)
            gib = args.data_steps * args.file_mib / 1024
            print(f"\n## {args.data_steps} steps over {gib:.2f} GiB of inputs")
            print("| runner | first run (s) | cached re-run (s) |\n|---|---:|---:|")
            for k, (cold, warm) in cached.items():
                print(f"| {k} | {cold:.3f} | {warm:.3f} |")
        if "builtin" in parts:
            builtin = bench_builtin(args, root)
            print(f"\n## {args.builtin_steps} built-in steps (ingest of a 3-row CSV, first run)")
            print("| runner | total (s) | per step (ms) |\n|---|---:|---:|")
            for k, v in builtin.items():
                print(f"| {k} | {v:.3f} | {1000 * v / args.builtin_steps:.2f} |")
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
