#!/usr/bin/env python3
"""Profiles `cairn server` under tracking_bench.py's ingest load (log-batch, 1000 metrics per
request, 8 client processes): prints points/s and the server's CPU time per point and, with
--perf OUT, records `perf record -g` on the server for the duration of the load.

Usage: python3 bench/tracking/ingest_profile.py --cairn build/cairn [--seconds 8]
        [--clients 8] [--perf /tmp/ingest.perf.data]
Then: perf report -i /tmp/ingest.perf.data --no-children --sort dso,symbol
Not a test: nothing here asserts a timing.
"""

import argparse
import os
import signal
import subprocess
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
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--perf", help="write a perf record -g profile of the server here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-profile-") as data:
        proc, port, _ = tracking_bench.start_cairn(args.cairn, data)
        perf = None
        try:
            if args.perf:
                perf = subprocess.Popen(["perf", "record", "-g", "-F", "1999", "-o", args.perf,
                                         "-p", str(proc.pid)], stderr=subprocess.DEVNULL)
                time.sleep(1)
            rate, cpu_us = tracking_bench.bench_ingest(port, args.clients, args.seconds,
                                                       server_pid=proc.pid)
        finally:
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait()
            tracking_bench.stop(proc)
        print(f"ingest {rate:,.0f} points/s, {cpu_us:.2f} us of server CPU per point, "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
