#!/usr/bin/env python3
"""Tracking server benchmark: cairn side by side with MLflow's own server (same pinned
package as the e2e tests, same machine, both on SQLite), in one run.

Measures
  * ingest: runs/log-batch with 1000 metrics per request from N concurrent client processes
    (keep-alive), metric points per second;
  * latency: create-run and single log-metric, sequential, p50/p99;
  * search: runs/search over R runs x 10 metrics x 5 params, filter on a metric and a param,
    order by a metric, 100 results; p50/p99;
  * idle RSS and time from exec to the first answered request (cairn only; MLflow's idle
    RSS is reported too).

Usage: python3 bench/tracking/tracking_bench.py [--cairn build/cairn] [--runs 100000]
        [--clients 8] [--seconds 10] [--skip-mlflow] [--json out.json]
Prints a table and ratios. Not a test: nothing here asserts a timing.
"""

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import http.client
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_rss_kib(pid):
    """RSS of a process and all its descendants (MLflow runs uvicorn workers)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            total += rss_kib(p)
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids.extend(int(c) for c in children)
        except OSError:
            pass
    return total


class Conn:
    def __init__(self, host, port):
        self.c = http.client.HTTPConnection(host, port, timeout=120)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
        headers = {"Content-Type": "application/json"} if data is not None else {}
        self.c.request(method, path, body=data, headers=headers)
        r = self.c.getresponse()
        payload = r.read()
        if r.status != 200:
            raise RuntimeError(f"{method} {path} -> {r.status} {payload[:300]!r}")
        return json.loads(payload) if payload else {}


def start_cairn(binary, data_dir):
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "server", "--port", "0", "--quiet",
         "--backend-store-uri", f"sqlite:///{data_dir}/cairn.db",
         "--artifacts-destination", f"{data_dir}/artifacts"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/health")
    assert c.getresponse().read() == b"OK"
    startup = time.perf_counter() - t0
    return proc, port, startup


def start_mlflow(data_dir):
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", f"sqlite:///{data_dir}/mlflow.db",
         "--artifacts-destination", f"{data_dir}/artifacts"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true"))
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError("mlflow server died")
    return proc, port, time.perf_counter() - t0


def stop(proc, group=False):
    if proc.poll() is None:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            (os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill())


def _ingest_worker(port, run_id, seconds, result_q, worker, start_q, go):
    conn = Conn("127.0.0.1", port)
    ts = int(time.time() * 1000)
    # Bodies are encoded before the clock starts, so the client measures the server, not
    # Python's JSON encoder. Each body has its own steps (no duplicate points).
    template = json.dumps({"run_id": run_id, "metrics": [
        {"key": f"m{k % 50}", "value": random.random(), "timestamp": ts,
         "step": 1_000_000_000 + k // 50} for k in range(1000)]})
    bodies = []
    for b in range(400):
        base = (worker * 1000 + b) * 20
        body = template
        for j in range(19, -1, -1):
            body = body.replace(f'"step": {1_000_000_000 + j}', f'"step": {base + j}')
        bodies.append(body.encode())
    points = 0
    n = 0
    start_q.put(1)
    go.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        conn.call("POST", "/api/2.0/mlflow/runs/log-batch", bodies[n % len(bodies)] if n < len(bodies)
                  else bodies[n % len(bodies)].replace(b'"timestamp": ', b'"timestamp": 1', 1))
        n += 1
        points += 1000
    result_q.put(points)


def cpu_seconds(pids):
    """User + system CPU time so far of the given processes (and not their children)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            pass
    return total


def tree_pids(pid):
    pids, out = [pid], []
    while pids:
        p = pids.pop()
        out.append(p)
        try:
            pids.extend(int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split())
        except OSError:
            pass
    return out


def bench_ingest(port, clients, seconds, same_run=False, server_pid=None):
    """Points per second, and the server's CPU microseconds per point (None without a pid):
    the CPU figure is the steadier one on a machine shared with other work."""
    conn = Conn("127.0.0.1", port)
    exp = conn.call("POST", "/api/2.0/mlflow/experiments/create", {"name": f"ingest-{uuid.uuid4().hex[:8]}"})
    runs = []
    for i in range(1 if same_run else clients):
        r = conn.call("POST", "/api/2.0/mlflow/runs/create",
                      {"experiment_id": exp["experiment_id"], "start_time": int(time.time() * 1000)})
        runs.append(r["run"]["info"]["run_id"])
    q, ready, go = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=_ingest_worker, args=(port, runs[i % len(runs)], seconds, q, i, ready, go))
             for i in range(clients)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get()
    pids = tree_pids(server_pid) if server_pid else []
    cpu0 = cpu_seconds(pids)
    t0 = time.perf_counter()
    go.set()
    total = sum(q.get() for _ in procs)
    elapsed = time.perf_counter() - t0
    cpu_us = (cpu_seconds(pids) - cpu0) * 1e6 / total if pids else None
    for p in procs:
        p.join()
    return total / elapsed, cpu_us


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2], s[min(len(s) - 1, int(len(s) * 0.99))]


def bench_latency(port, n):
    conn = Conn("127.0.0.1", port)
    exp = conn.call("POST", "/api/2.0/mlflow/experiments/create", {"name": f"lat-{uuid.uuid4().hex[:8]}"})
    create, log = [], []
    run_id = None
    for i in range(n):
        t = time.perf_counter()
        r = conn.call("POST", "/api/2.0/mlflow/runs/create",
                      {"experiment_id": exp["experiment_id"], "start_time": int(time.time() * 1000)})
        create.append((time.perf_counter() - t) * 1000)
        run_id = r["run"]["info"]["run_id"]
    for i in range(n):
        t = time.perf_counter()
        conn.call("POST", "/api/2.0/mlflow/runs/log-metric",
                  {"run_id": run_id, "key": "loss", "value": 1.0 / (i + 1),
                   "timestamp": int(time.time() * 1000), "step": i})
        log.append((time.perf_counter() - t) * 1000)
    return percentiles(create), percentiles(log)


SEARCH_FILTER = "metrics.m3 > 0.5 and params.p1 = 'v7'"
SEARCH_ORDER = ["metrics.m0 DESC"]


def populate_via_api(port, runs):
    """cairn: populate with the public API (create-run + one log-batch per run)."""
    conn = Conn("127.0.0.1", port)
    exp = conn.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "search-bench"})
    rng = random.Random(7)
    ts = int(time.time() * 1000)
    for i in range(runs):
        r = conn.call("POST", "/api/2.0/mlflow/runs/create",
                      {"experiment_id": exp["experiment_id"], "start_time": ts + i})
        rid = r["run"]["info"]["run_id"]
        conn.call("POST", "/api/2.0/mlflow/runs/log-batch", {
            "run_id": rid,
            "metrics": [{"key": f"m{k}", "value": rng.random(), "timestamp": ts, "step": 0}
                        for k in range(10)],
            "params": [{"key": f"p{k}", "value": f"v{rng.randrange(10)}"} for k in range(5)]})
        if i % 10000 == 0:
            print(f"  cairn: populated {i}/{runs} runs", file=sys.stderr)
    return exp["experiment_id"]


def populate_mlflow_db(db_path, runs):
    """MLflow: creating 100k runs through its API takes most of an hour, so rows are written
    straight into its own (already migrated) SQLite schema, exactly as its store would."""
    rng = random.Random(7)
    con = sqlite3.connect(db_path)
    cur = con.cursor()
    cur.execute("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
                " last_update_time) VALUES ('search-bench', 'mlflow-artifacts:/sb', 'active', 0, 0)")
    exp_id = cur.lastrowid
    ts = int(time.time() * 1000)
    for i in range(runs):
        rid = uuid.uuid4().hex
        cur.execute("INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                    " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                    " artifact_uri, experiment_id, deleted_time) VALUES"
                    " (?, ?, 'LOCAL', '', '', 'bench', 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)",
                    (rid, f"run-{i}", ts + i, f"mlflow-artifacts:/sb/{rid}/artifacts", exp_id))
        for k in range(10):
            v = rng.random()
            cur.execute("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                        " VALUES (?, ?, ?, ?, 0, 0)", (f"m{k}", v, ts, rid))
            cur.execute("INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                        " VALUES (?, ?, ?, 0, 0, ?)", (f"m{k}", v, ts, rid))
        for k in range(5):
            cur.execute("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                        (f"p{k}", f"v{rng.randrange(10)}", rid))
    con.commit()
    con.close()
    return str(exp_id)


def bench_search(port, exp_id, n):
    conn = Conn("127.0.0.1", port)
    samples = []
    first = None
    for _ in range(n):
        t = time.perf_counter()
        r = conn.call("POST", "/api/2.0/mlflow/runs/search", {
            "experiment_ids": [exp_id], "filter": SEARCH_FILTER, "order_by": SEARCH_ORDER,
            "max_results": 100})
        samples.append((time.perf_counter() - t) * 1000)
        first = first or r
    assert len(first.get("runs", [])) == 100, len(first.get("runs", []))
    return percentiles(samples)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cairn", default=str(REPO / "build" / "cairn"))
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--latency-n", type=int, default=300)
    ap.add_argument("--search-n", type=int, default=50)
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "cairn").mkdir()
        proc, port, startup = start_cairn(args.cairn, tmp / "cairn")
        time.sleep(0.5)
        results["cairn_start_s"] = startup
        results["cairn_idle_rss_mib"] = rss_kib(proc.pid) / 1024
        print(f"cairn: start {startup*1000:.1f} ms, idle RSS {results['cairn_idle_rss_mib']:.1f} MiB", file=sys.stderr)
        results["cairn_ingest_pts_s"], results["cairn_ingest_cpu_us_per_point"] = bench_ingest(
            port, args.clients, args.seconds, server_pid=proc.pid)
        print(f"cairn: ingest {results['cairn_ingest_pts_s']:.0f} points/s, "
              f"{results['cairn_ingest_cpu_us_per_point']:.2f} us server CPU/point", file=sys.stderr)
        (c50, c99), (l50, l99) = bench_latency(port, args.latency_n)
        results.update(cairn_create_run_ms=[c50, c99], cairn_log_metric_ms=[l50, l99])
        exp_id = populate_via_api(port, args.runs)
        results["cairn_search_ms"] = bench_search(port, exp_id, args.search_n)
        print(f"cairn: search p50 {results['cairn_search_ms'][0]:.2f} ms", file=sys.stderr)
        stop(proc)

        if not args.skip_mlflow:
            (tmp / "mlflow").mkdir()
            proc, port, startup = start_mlflow(tmp / "mlflow")
            time.sleep(2)
            results["mlflow_start_s"] = startup
            results["mlflow_idle_rss_mib"] = tree_rss_kib(proc.pid) / 1024
            results["mlflow_ingest_pts_s"], results["mlflow_ingest_cpu_us_per_point"] = \
                bench_ingest(port, args.clients, args.seconds, server_pid=proc.pid)
            print(f"mlflow: ingest {results['mlflow_ingest_pts_s']:.0f} points/s", file=sys.stderr)
            (c50, c99), (l50, l99) = bench_latency(port, args.latency_n)
            results.update(mlflow_create_run_ms=[c50, c99], mlflow_log_metric_ms=[l50, l99])
            stop(proc, group=True)
            exp_id = populate_mlflow_db(tmp / "mlflow" / "mlflow.db", args.runs)
            proc, port, _ = start_mlflow(tmp / "mlflow")
            results["mlflow_search_ms"] = bench_search(port, exp_id, max(5, args.search_n // 5))
            stop(proc, group=True)

    def row(name, key, fmt, higher_better):
        c = results.get("cairn_" + key)
        m = results.get("mlflow_" + key)
        cv = c[0] if isinstance(c, (list, tuple)) else c
        mv = m[0] if isinstance(m, (list, tuple)) else m
        ratio = ""
        if cv and mv:
            ratio = f"{(cv / mv) if higher_better else (mv / cv):.1f}x"
        cs = fmt(c) if c is not None else "-"
        ms = fmt(m) if m is not None else "-"
        print(f"| {name} | {cs} | {ms} | {ratio} |")

    p = lambda v: f"p50 {v[0]:.2f} / p99 {v[1]:.2f} ms"
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("| measure | cairn | MLflow | cairn advantage |")
    print("|---|---|---|---|")
    row(f"log-batch ingest, 1000 metrics/request, {args.clients} clients (points/s)", "ingest_pts_s",
        lambda v: f"{v:,.0f}", True)
    row("server CPU per ingested point (us)", "ingest_cpu_us_per_point", lambda v: f"{v:.2f}", False)
    row("create-run latency", "create_run_ms", p, False)
    row("log-metric latency", "log_metric_ms", p, False)
    row(f"search-runs over {args.runs:,} runs (filter metric+param, order by metric, 100 results)",
        "search_ms", p, False)
    row("idle RSS (MiB)", "idle_rss_mib", lambda v: f"{v:.1f}", False)
    row("start to first answered request (s)", "start_s", lambda v: f"{v:.3f}", False)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
