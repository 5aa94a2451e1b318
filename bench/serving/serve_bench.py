#!/usr/bin/env python3
"""Serving benchmark: `cairn serve` side by side with `mlflow models serve` (same pinned
mlflow as the tests, --env-manager local) on the same MLflow model — XGBoost, 100 trees,
depth 6, 20 features — with wrk sending one-row /invocations requests over keep-alive
connections. Reports requests/s and latency percentiles for both and the ratio.

With --deployment it also runs `cairn server`, registers the same model, creates a
deployment of it and drives POST /api/v1/deployments/bench/invocations: the deployment path
(routing, the inference log writing every row to SQLite in batches, per-version metrics).

Usage: python3 bench/serving/serve_bench.py [--cairn build/cairn] [--connections 64]
        [--duration 30] [--threads 2] [--skip-mlflow] [--deployment]
Needs wrk (Debian package). Not a test: nothing here asserts a timing.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model(path):
    import mlflow
    import xgboost as xgb
    from mlflow.models import infer_signature

    rng = np.random.default_rng(0)
    cols = [f"f{i}" for i in range(20)]
    X = pd.DataFrame(rng.normal(size=(20000, 20)), columns=cols)
    y = ((X["f0"] + X["f1"] * X["f2"] - X["f3"]) > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.1, n_jobs=2)
    model.fit(X, y)
    mlflow.xgboost.save_model(model, str(path), signature=infer_signature(X, model.predict(X)))
    return X


def wait_http(url, timeout=120):
    import requests
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def run_wrk(url, body, connections, duration, threads):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\n')
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write("wrk.body = " + json.dumps(body) + "\n")
        script = f.name
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                          "--latency", "-s", script, url], capture_output=True, text=True).stdout
    os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for p in ("50", "90", "99"):
        m = re.search(rf"\s{p}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out)
        v = float(m.group(1))
        lat[p] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def bench_deployment(args, model_dir, body, tmp):
    """`cairn server` with the model registered and deployed; wrk on the deployment path."""
    import requests
    data = Path(tmp) / "server"
    data.mkdir()
    port = free_port()
    proc = subprocess.Popen([args.cairn, "server", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(args.workers), "--quiet",
                             "--backend-store-uri", f"sqlite:///{data / 'cairn.db'}",
                             "--artifacts-destination", str(data / "artifacts")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/health")
        for f in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            requests.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/bench/model/"
                         f"{f.relative_to(model_dir)}", data=f.read_bytes()).raise_for_status()
        requests.post(f"{url}/api/2.0/mlflow/registered-models/create",
                      json={"name": "bench"}).raise_for_status()
        requests.post(f"{url}/api/2.0/mlflow/model-versions/create",
                      json={"name": "bench", "source": "mlflow-artifacts:/bench/model"}
                      ).raise_for_status()
        requests.put(f"{url}/api/v1/deployments/bench",
                     json={"primary": {"model": "bench", "version": "1"}}).raise_for_status()
        result = run_wrk(f"{url}/api/v1/deployments/bench/invocations", body, args.connections,
                         args.duration, args.threads)
        metrics = requests.get(url + "/metrics").text
        for name in ("written", "dropped"):
            m = re.search(rf"cairn_inference_log_{name}_records_total (\d+)", metrics)
            print(f"inference log {name}: {m.group(1) if m else '?'}", file=sys.stderr)
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cairn", default=str(REPO / "build" / "cairn"))
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--workers", type=int, default=2, help="cairn serve worker threads")
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--deployment", action="store_true",
                    help="also benchmark a deployment inside `cairn server`")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        X = make_model(model_dir)
        body = json.dumps({"dataframe_split": X.head(1).to_dict(orient="split", index=False)})

        port = free_port()
        proc = subprocess.Popen([args.cairn, "serve", str(model_dir), "--host", "127.0.0.1",
                                 "--port", str(port), "--workers", str(args.workers)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/ping")
            results["cairn"] = run_wrk(f"http://127.0.0.1:{port}/invocations", body,
                                       args.connections, args.duration, args.threads)
            print("cairn:", results["cairn"], file=sys.stderr)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)

        if args.deployment:
            results["cairn server deployment"] = bench_deployment(args, model_dir, body, tmp)
            print("deployment:", results["cairn server deployment"], file=sys.stderr)

        if not args.skip_mlflow:
            port = free_port()
            proc = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir),
                                     "-h", "127.0.0.1", "-p", str(port), "--env-manager", "local"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True,
                                    env=dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true"))
            try:
                wait_http(f"http://127.0.0.1:{port}/ping")
                results["mlflow"] = run_wrk(f"http://127.0.0.1:{port}/invocations", body,
                                            args.connections, args.duration, args.threads)
                print("mlflow:", results["mlflow"], file=sys.stderr)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)

    print("| server | requests/s | p50 ms | p90 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (rps, lat, bad) in results.items():
        print(f"| {name} | {rps:,.0f} | {lat['50']:.2f} | {lat['90']:.2f} | {lat['99']:.2f} | {bad} |")
    if "mlflow" in results:
        print(f"\ncairn / MLflow throughput: {results['cairn'][0] / results['mlflow'][0]:.1f}x")


if __name__ == "__main__":
    main()
