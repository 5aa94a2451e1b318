"""`cairn deploy ...` against a running server, and `cairn serve models:/…` / `runs:/…`
resolved against a tracking server and downloaded through its artifact proxy."""

import re
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import requests

from conftest import CairnServer, cairn_binary
from test_deployments import model_dirs, records, register  # noqa: F401  (fixture)


def cairn(*args, check=True):
    r = subprocess.run([str(cairn_binary()), *args], capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


@pytest.fixture()
def server_with_versions(tmp_path, model_dirs):  # noqa: F811
    dirs, rows, expected = model_dirs
    server = CairnServer(tmp_path, ["--quiet"]).start()
    for tag in ("1", "2", "3"):
        register(server.url, "clf", dirs[tag], tag)
    yield server, rows, expected
    server.stop()


def test_deploy_cli_lifecycle(server_with_versions):
    server, rows, _ = server_with_versions
    uri = ["--server-uri", server.url]
    out = cairn("deploy", "create", "web", "--model", "clf", "--version", "1", "--environment",
                "test", "--canary", "2", "--canary-weight", "25", "--shadow", "3", *uri).stdout
    assert "primary  clf v1" in out and "canary   clf v2  25%" in out and "shadow   clf v3" in out
    assert "web [test] ready" in cairn("deploy", "list", "--environment", "test", *uri).stdout
    assert cairn("deploy", "list", "--environment", "prod", *uri).stdout == ""
    out = cairn("deploy", "set-weights", "web", "--canary", "60", *uri).stdout
    assert "60%" in out
    bad = cairn("deploy", "set-weights", "web", "--variant", "a=50", *uri, check=False)
    assert bad.returncode == 1 and "no A/B variants" in bad.stderr
    out = cairn("deploy", "promote", "web", *uri).stdout
    assert "primary  clf v2" in out and "canary" not in out
    out = cairn("deploy", "rollback", "web", *uri).stdout
    assert "canary   clf v2  60%" in out
    for _ in range(3):
        r = requests.post(f"{server.url}/api/v1/deployments/web/invocations", json=records(rows))
        assert r.status_code == 200
    csv = cairn("deploy", "inferences", "web", "--format", "csv", *uri).stdout
    lines = csv.strip().splitlines()
    assert lines[0].startswith("request_id,time_ms,deployment,variant,model_version")
    assert len(lines) - 1 >= 3 * len(rows)  # every primary/canary row (shadows come later)
    got = cairn("deploy", "get", "web", "--json", *uri).stdout
    assert '"generation": 4' in got
    cairn("deploy", "delete", "web", *uri)
    missing = cairn("deploy", "get", "web", *uri, check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
    usage = cairn("deploy", "create", "x", "--model", "clf", *uri, check=False)
    assert usage.returncode == 2
    unreachable = cairn("deploy", "list", "--server-uri", "http://127.0.0.1:1", check=False)
    assert unreachable.returncode == 1


def test_deployment_follows_cairn_model_promote(server_with_versions):
    """`cairn model promote` moves the alias; the deployment following it swaps (polling)."""
    server, rows, _ = server_with_versions
    uri = ["--server-uri", server.url]
    cairn("model", "promote", "clf", "--version", "1", "--to", "prod", "--tracking-uri", server.url)
    out = cairn("deploy", "create", "live", "--model", "clf", "--alias", "prod", "--environment",
                "prod", *uri).stdout
    assert "primary  clf v1 (@prod)" in out
    cairn("model", "promote", "clf", "--version", "3", "--to", "prod", "--tracking-uri", server.url)
    deadline = time.time() + 20
    while time.time() < deadline:
        d = requests.get(f"{server.url}/api/v1/deployments/live").json()["deployment"]
        if d["primary"]["version"] == "3":
            break
        time.sleep(0.1)
    assert d["primary"]["version"] == "3", d
    r = requests.post(f"{server.url}/api/v1/deployments/live/invocations", json=records(rows))
    assert r.status_code == 200 and r.headers["X-Model-Version"] == "3"


def start_serve(args):
    proc = subprocess.Popen([str(cairn_binary()), "serve", *args, "--host", "127.0.0.1",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = proc.stdout.readline().decode()
    m = re.search(r"listening on (http://\S+)", line)
    if not m:
        proc.kill()
        raise AssertionError(line + proc.stderr.read().decode())
    return proc, m.group(1)


def test_serve_models_and_runs_uris_from_a_tracking_server(server_with_versions, model_dirs):  # noqa: F811
    server, rows, expected = server_with_versions
    dirs = model_dirs[0]
    r = requests.post(f"{server.url}/api/2.0/mlflow/registered-models/alias",
                      json={"name": "clf", "alias": "champion", "version": "3"})
    assert r.status_code == 200, r.text
    # A run whose artifacts hold a model folder.
    exp = requests.post(f"{server.url}/api/2.0/mlflow/experiments/create",
                        json={"name": "serve-uri"}).json()["experiment_id"]
    run = requests.post(f"{server.url}/api/2.0/mlflow/runs/create",
                        json={"experiment_id": exp}).json()["run"]["info"]
    rel = run["artifact_uri"].split("mlflow-artifacts:/", 1)[1].lstrip("/")
    for f in sorted(p for p in dirs["2"].rglob("*") if p.is_file()):
        requests.put(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{rel}/model/"
                     f"{f.relative_to(dirs['2'])}", data=f.read_bytes()).raise_for_status()
    # A version registered from that run's runs:/ URI (as a pipeline's register step does): its
    # download URI is the runs:/ source, which serve resolves through the run.
    from_run = requests.post(f"{server.url}/api/2.0/mlflow/model-versions/create",
                             json={"name": "clf", "source": f"runs:/{run['run_id']}/model",
                                   "run_id": run["run_id"]}).json()["model_version"]["version"]
    r = requests.post(f"{server.url}/api/2.0/mlflow/registered-models/alias",
                      json={"name": "clf", "alias": "from-run", "version": from_run})
    assert r.status_code == 200, r.text
    cases = [("models:/clf@champion", "3"), ("models:/clf/1", "1"), ("models:/clf/3", "3"),
             (f"runs:/{run['run_id']}/model", "2"), ("models:/clf@from-run", "2")]
    for uri, version in cases:
        proc, url = start_serve([uri, "--tracking-uri", server.url])
        try:
            r = requests.post(url + "/invocations", json=records(rows))
            assert r.status_code == 200, r.text
            np.testing.assert_allclose(r.json()["predictions"], expected[version], rtol=1e-6,
                                       atol=1e-6)
        finally:
            proc.terminate()
            proc.wait(10)
    bad = subprocess.run([str(cairn_binary()), "serve", "models:/clf@nope", "--tracking-uri",
                          server.url, "--port", "0"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 1 and "cannot fetch" in bad.stderr
    no_uri = subprocess.run([str(cairn_binary()), "serve", "models:/clf/1", "--port", "0"],
                            capture_output=True, text=True, timeout=30,
                            env={"PATH": "/usr/bin:/bin"})
    assert no_uri.returncode == 2
