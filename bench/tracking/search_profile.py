#!/usr/bin/env python3
"""runs/search profile over a large run set (issue 2's budget), through the real servers.

Creates (or reuses, --db) a cairn SQLite store with R runs x 10 metrics (m0..m9, uniform in
[0, 1)) x 5 params (p0..p4, 'v0'..'v9') x 2 tags (mlflow.runName, team 't0'..'t4'), written
straight into the schema cairn's migrations created (the server makes it on first start;
100k runs through the API take too long). Then starts `cairn server` on it and times
runs/search for a few common shapes, 100 results each, printing p50/p99 in ms.
Pass --db to keep the store between runs (the server applies new migrations on start).

With --mlflow, the same runs (same ids, values, params and tags) are bulk-loaded into a
database that MLflow's own SqlAlchemyStore created and migrated (tracking-server schema of
the pinned mlflow package), `mlflow server` is started on it, and the same searches are
timed there (--mlflow-n each, MLflow takes seconds per search); the first page of every shape
is compared run id by run id between the two servers.

Usage: python3 bench/tracking/search_profile.py --cairn build/cairn
        [--runs 100000] [--n 40] [--db /tmp/search_profile.db]
        [--mlflow] [--mlflow-db /tmp/search_profile_mlflow.db] [--mlflow-n 5]
        [--mlflow-shapes 0,1]
Not a test: nothing here asserts a timing.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import struct
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


def generate(runs):
    """The bench data set, deterministic: (run_id, i, [10 metric values], [5 params], team)."""
    rng = random.Random(7)
    for i in range(runs):
        rid = uuid.UUID(int=rng.getrandbits(128)).hex
        metrics = [rng.random() for _ in range(10)]
        params = [f"v{rng.randrange(10)}" for _ in range(5)]
        yield rid, i, metrics, params, f"t{rng.randrange(5)}"


TS = 1_700_000_000_000


def metric_block(step, timestamp, value):
    """One point as a cairn metric block (src/tracking/metric_block.h, version 1): version
    byte, u32 count, then flags, zigzag-varint step and timestamp deltas, the 8-byte value."""
    def varint(v):
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        return bytes(out)

    def zigzag(v):
        return ((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF

    return (struct.pack("<BI", 1, 1) + b"\x00" + varint(zigzag(step)) + varint(zigzag(timestamp))
            + struct.pack("<d", value))


def populate(db, runs, exp_id):
    con = sqlite3.connect(db)
    cur = con.cursor()
    ts = TS
    first_key = cur.execute("SELECT IFNULL(MAX(run_key), 0) + 1 FROM runs").fetchone()[0]
    for rid, i, metrics, params, team in generate(runs):
        cur.execute("INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time,"
                    " end_time, lifecycle_stage, artifact_uri, run_key) VALUES"
                    " (?, ?, ?, 'bench', 'FINISHED', ?, ?, 'active', ?, ?)",
                    (rid, f"run-{i}", exp_id, ts + i, ts + i + 1000, f"/tmp/a/{rid}/artifacts",
                     first_key + i))
        for k, v in enumerate(metrics):
            cur.execute("INSERT INTO metric_blocks (run_key, key, block, n, points)"
                        " VALUES (?, ?, 1, 1, ?)", (first_key + i, f"m{k}", metric_block(0, ts, v)))
            cur.execute("INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step)"
                        " VALUES (?, ?, ?, 0, ?, 0)", (rid, f"m{k}", v, ts))
        for k, v in enumerate(params):
            cur.execute("INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)",
                        (rid, f"p{k}", v))
        cur.execute("INSERT INTO tags (run_uuid, key, value) VALUES (?, 'mlflow.runName', ?)",
                    (rid, f"run-{i}"))
        cur.execute("INSERT INTO tags (run_uuid, key, value) VALUES (?, 'team', ?)",
                    (rid, team))
    con.commit()
    con.executescript("PRAGMA analysis_limit=400; ANALYZE;")  # what the store runs
    con.close()


def populate_mlflow(db, runs):
    """MLflow's own store creates and migrates its schema; the rows then go in directly, as
    its SqlAlchemyStore writes them (same ids and values as the cairn store)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    store = SqlAlchemyStore(f"sqlite:///{db}", str(Path(db).parent / "mlflow-artifacts"))
    exp_id = store.create_experiment("search-profile")
    store.engine.dispose()
    con = sqlite3.connect(db)
    cur = con.cursor()
    ts = TS
    for rid, i, metrics, params, team in generate(runs):
        cur.execute("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                    " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                    " artifact_uri, experiment_id, deleted_time) VALUES"
                    " (?, ?, 'UNKNOWN', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', ?, ?,"
                    " NULL)", (rid, f"run-{i}", ts + i, ts + i + 1000, f"/tmp/a/{rid}/artifacts",
                               int(exp_id)))
        for k, v in enumerate(metrics):
            cur.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                        " VALUES (?, ?, ?, ?, 0, 0)", (f"m{k}", v, ts, rid))
            cur.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                        " VALUES (?, ?, ?, 0, 0, ?)", (f"m{k}", v, ts, rid))
        for k, v in enumerate(params):
            cur.execute("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                        (f"p{k}", v, rid))
        cur.execute("INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', ?, ?)",
                    (f"run-{i}", rid))
        cur.execute("INSERT INTO tags (key, value, run_uuid) VALUES ('team', ?, ?)", (team, rid))
    con.commit()
    con.close()
    return exp_id


def start_mlflow(db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{db}",
         "--artifacts-destination", str(Path(db).parent / "mlflow-artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true"))
    deadline = time.time() + 120
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                c.close()
                return proc, port
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("mlflow server did not start")


def stop_group(proc, conn):
    conn.close()
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_shapes(conn, exp_id, n, shapes, pid=None):
    """{shape name: (p50 ms, p99 ms, first page run ids, server CPU ms per search or None)}.
    The server's CPU time per search (from /proc, for a single-process server) is the steadier
    figure on a busy machine: other processes stretch the wall time, not the CPU time."""
    out = {}
    for name, flt, order in shapes:
        body = {"experiment_ids": [exp_id], "filter": flt, "order_by": order, "max_results": 100}
        first = call(conn, "/api/2.0/mlflow/runs/search", body)  # warm-up
        samples = []
        cpu0 = cpu_seconds(pid) if pid else None
        for _ in range(n):
            t = time.perf_counter()
            call(conn, "/api/2.0/mlflow/runs/search", body)
            samples.append((time.perf_counter() - t) * 1000)
        cpu = (cpu_seconds(pid) - cpu0) * 1000 / n if pid else None
        p50, p99 = percentiles(samples)
        ids = [r["info"]["run_id"] for r in first.get("runs", [])]
        out[name] = (p50, p99, ids, cpu)
        print(f"  {name}: p50 {p50:.2f} ms", file=sys.stderr)
    return out


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
    ap.add_argument("--mlflow", action="store_true", help="time MLflow's server on the same runs")
    ap.add_argument("--mlflow-db", default=None, help="MLflow store to create or reuse")
    ap.add_argument("--mlflow-n", type=int, default=5, help="timed MLflow searches per shape")
    ap.add_argument("--mlflow-shapes", default="",
                    help="comma-separated shape indexes to time on MLflow (default all; some "
                         "take minutes per search there)")
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
        print("cairn:", file=sys.stderr)
        cairn = time_shapes(conn, exp_id, args.n, SHAPES, proc.pid)
    finally:
        stop(proc, conn)
    print(f"store: {db}", file=sys.stderr)

    mlflow = {}
    if args.mlflow:
        mdb = Path(args.mlflow_db or str(db.parent / "mlflow.db"))
        if not mdb.exists():
            t = time.perf_counter()
            populate_mlflow(mdb, args.runs)
            print(f"mlflow: populated {args.runs:,} runs in {time.perf_counter() - t:.0f} s",
                  file=sys.stderr)
        mproc, mport = start_mlflow(mdb)
        mconn = http.client.HTTPConnection("127.0.0.1", mport, timeout=600)
        try:
            mconn.request("GET", "/api/2.0/mlflow/experiments/get-by-name?"
                          "experiment_name=search-profile")
            mexp = json.loads(mconn.getresponse().read())["experiment"]["experiment_id"]
            print("mlflow:", file=sys.stderr)
            picked = [SHAPES[int(i)] for i in args.mlflow_shapes.split(",")] \
                if args.mlflow_shapes else SHAPES
            mlflow = time_shapes(mconn, mexp, args.mlflow_n, picked)
        finally:
            stop_group(mproc, mconn)

    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'shape':44} {'cairn p50':>9} {'p99':>7} {'cpu ms':>6} {'mlflow p50':>10} {'p99':>8} "
          f"{'ratio':>6} {'runs':>5} same")
    for name, _, _ in SHAPES:
        c50, c99, cids, ccpu = cairn[name]
        line = f"{name:44} {c50:9.2f} {c99:7.2f} {ccpu:6.2f}"
        if name in mlflow:
            m50, m99, mids, _ = mlflow[name]
            line += f" {m50:10.1f} {m99:8.1f} {m50 / c50:5.0f}x {len(cids):5d} "
            line += "yes" if cids == mids else "NO"
        else:
            line += f" {'-':>10} {'-':>8} {'-':>6} {len(cids):5d}"
        print(line)


if __name__ == "__main__":
    main()
