#!/usr/bin/env python3
"""runs/search profile over a large run set (issue 2's budget), through the real server.

Creates (or reuses, --db) a cairn SQLite store with R runs x 10 metrics (m0..m9, uniform in
[0, 1)) x 5 params (p0..p4, 'v0'..'v9') x 2 tags (mlflow.runName, team 't0'..'t4'), written
straight into the schema cairn's migrations created (the server makes it on first start;
100k runs through the API take too long). Then starts `cairn server` on it and times
runs/search for a few common shapes, 100 results each, printing p50/p99 in ms.
Pass --db to keep the store between runs (the server applies new migrations on start).

Usage: python3 bench/tracking/search_profile.py --cairn build-searchperf/cairn
        [--runs 100000] [--n 40] [--db /tmp/search_profile.db]
Not a test: nothing here asserts a timing.
"""

import argparse
import http.client
import json
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SHAPES = [
    ("filter metric+param, order metrics.m0 DESC",
     "metrics.m3 > 0.5 and params.p1 = 'v7'", ["metrics.m0 DESC"]),
    ("no filter, default order", "", []),
    ("no filter, order start_time ASC", "", ["attributes.start_time ASC"]),
    ("no filter, order start_time DESC", "", ["attributes.start_time DESC"]),
    ("no filter, order end_time DESC", "", ["attributes.end_time DESC"]),
    ("tag filter, default order", "tags.team = 't3'", []),
    ("param filter, order params.p2 ASC", "params.p0 = 'v1'", ["params.p2 ASC"]),
    ("metric filter only, order metrics.m1 ASC", "metrics.m5 < 0.1", ["metrics.m1 ASC"]),
]


def start_cairn(binary, db):
    art = tempfile.mkdtemp(prefix="search-profile-art-")
    proc = subprocess.Popen(
        [binary, "server", "--port", "0", "--quiet", "--backend-store-uri", f"sqlite:///{db}",
         "--artifacts-destination", art],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    return proc, port


def stop(proc, conn):
    """Close our keep-alive connection first (older servers waited on it at shutdown)."""
    conn.close()
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def call(conn, path, body):
    conn.request("POST", path, body=json.dumps(body).encode(),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    payload = r.read()
    if r.status != 200:
        raise RuntimeError(f"{path} -> {r.status} {payload[:300]!r}")
    return json.loads(payload)


def populate(db, runs, exp_id):
    rng = random.Random(7)
    con = sqlite3.connect(db)
    cur = con.cursor()
    ts = 1_700_000_000_000
    for i in range(runs):
        rid = uuid.UUID(int=rng.getrandbits(128)).hex
        cur.execute("INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time,"
                    " end_time, lifecycle_stage, artifact_uri) VALUES"
                    " (?, ?, ?, 'bench', 'FINISHED', ?, ?, 'active', ?)",
                    (rid, f"run-{i}", exp_id, ts + i, ts + i + 1000, f"/tmp/a/{rid}/artifacts"))
        for k in range(10):
            v = rng.random()
            cur.execute("INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan)"
                        " VALUES (?, ?, 0, ?, ?, 0)", (rid, f"m{k}", ts, v))
            cur.execute("INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)"
                        " VALUES (?, ?, ?, 0, ?, 0)", (rid, f"m{k}", v, ts))
        for k in range(5):
            cur.execute("INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)",
                        (rid, f"p{k}", f"v{rng.randrange(10)}"))
        cur.execute("INSERT INTO tags (run_uuid, key, value) VALUES (?, 'mlflow.runName', ?)",
                    (rid, f"run-{i}"))
        cur.execute("INSERT INTO tags (run_uuid, key, value) VALUES (?, 'team', ?)",
                    (rid, f"t{rng.randrange(5)}"))
    con.commit()
    con.executescript("PRAGMA analysis_limit=400; ANALYZE;")  # what the store runs
    con.close()


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2], s[min(len(s) - 1, int(len(s) * 0.99))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cairn", default="build/cairn")
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--n", type=int, default=40, help="timed searches per shape")
    ap.add_argument("--db", default=None, help="store to create or reuse")
    args = ap.parse_args()

    db = Path(args.db or tempfile.mkdtemp(prefix="search-profile-") + "/cairn.db")
    fresh = not db.exists()
    proc, port = start_cairn(args.cairn, db)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        if fresh:
            exp_id = call(conn, "/api/2.0/mlflow/experiments/create",
                          {"name": "search-profile"})["experiment_id"]
            stop(proc, conn)
            t = time.perf_counter()
            populate(db, args.runs, int(exp_id))
            print(f"populated {args.runs:,} runs in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
            proc, port = start_cairn(args.cairn, db)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=search-profile")
        exp_id = json.loads(conn.getresponse().read())["experiment"]["experiment_id"]
        print(f"{'shape':48} {'p50 ms':>8} {'p99 ms':>8} {'runs':>5}")
        for name, flt, order in SHAPES:
            body = {"experiment_ids": [exp_id], "filter": flt, "order_by": order,
                    "max_results": 100}
            first = call(conn, "/api/2.0/mlflow/runs/search", body)  # warm-up
            samples = []
            for _ in range(args.n):
                t = time.perf_counter()
                call(conn, "/api/2.0/mlflow/runs/search", body)
                samples.append((time.perf_counter() - t) * 1000)
            p50, p99 = percentiles(samples)
            print(f"{name:48} {p50:8.2f} {p99:8.2f} {len(first.get('runs', [])):5d}")
    finally:
        stop(proc, conn)
    print(f"store: {db}", file=sys.stderr)


if __name__ == "__main__":
    main()
