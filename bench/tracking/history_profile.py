#!/usr/bin/env python3
"""Large-history profile of `cairn server`: logs one metric key with --batches x 1000 points
(log-batch, one client, steps in order), then times metrics/get-history through HTTP: the
first page (max_results=25000) and the whole history, best of --repeat.

Usage: python3 bench/tracking/history_profile.py --cairn build/cairn [--batches 1000]
        [--repeat 3]
Not a test: nothing here asserts a timing.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tracking_bench  # noqa: E402  (same folder)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cairn", default="build/cairn")
    ap.add_argument("--batches", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="history-profile-") as data:
        proc, port, _ = tracking_bench.start_cairn(args.cairn, data)
        try:
            conn = tracking_bench.Conn("127.0.0.1", port)
            run = conn.call("POST", "/api/2.0/mlflow/runs/create",
                            {"experiment_id": "0", "start_time": 1})["run"]["info"]["run_id"]
            t0 = time.perf_counter()
            for b in range(args.batches):
                body = json.dumps({"run_id": run, "metrics": [
                    {"key": "loss", "value": (b * 1000 + i) * 0.001,
                     "timestamp": 1_700_000_000_000 + b, "step": b * 1000 + i}
                    for i in range(1000)]})
                conn.call("POST", "/api/2.0/mlflow/runs/log-batch", body.encode())
                if b % 100 == 99:
                    print(f"  logged {(b + 1) * 1000:,} points", file=sys.stderr)
            logged = time.perf_counter() - t0
            print(f"logged {args.batches * 1000:,} points in {logged:.1f} s")
            for page in (25000, None):
                path = f"/api/2.0/mlflow/metrics/get-history?run_id={run}&metric_key=loss"
                if page:
                    path += f"&max_results={page}"
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    got = conn.call("GET", path)
                    times.append(time.perf_counter() - t)
                print(f"get-history max_results={page or 'unset'}: {len(got['metrics']):,} points, "
                      f"best {min(times) * 1000:.0f} ms")
        finally:
            tracking_bench.stop(proc)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
