"""Deployments inside `cairn server` over HTTP: the native /api/v1/deployments API, scoring
through MLflow /invocations and the Open Inference Protocol, canary and A/B routing (split
within binomial tolerance, stickiness), shadows, hot swaps under load, alias following, the
inference log (export, outcomes, kill -9 durability) and bad input.

Model versions are XGBoost models saved by the real mlflow client, uploaded to the server's
artifact store and registered through the MLflow REST API; expected predictions come from
mlflow's own pyfunc for the same files."""

import http.client
import json
import math
import shutil
import threading
import time
from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests

from conftest import CairnServer

COLS = [f"f{i}" for i in range(5)]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    """Three versions of one classifier (different numbers of trees, so different answers)
    and a corrupt copy, with the rows and mlflow's expected probabilities per version."""
    import xgboost as xgb
    from mlflow.models import infer_signature

    base = tmp_path_factory.mktemp("deploy-models")
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(300, 5)), columns=COLS)
    y = (X["f0"] - X["f1"] + 0.3 * X["f2"] > 0).astype(int)
    dirs, expected = {}, {}
    rows = X.head(8)
    for version, trees in (("1", 3), ("2", 10), ("3", 30)):
        booster = xgb.train({"objective": "binary:logistic", "max_depth": 3},
                            xgb.DMatrix(X, label=y), num_boost_round=trees)
        path = base / f"v{version}"
        mlflow.xgboost.save_model(booster, str(path),
                                  signature=infer_signature(X, booster.predict(xgb.DMatrix(X))))
        dirs[version] = path
        expected[version] = np.asarray(mlflow.pyfunc.load_model(str(path)).predict(rows),
                                       dtype=float).ravel()
    corrupt = base / "corrupt"
    shutil.copytree(dirs["1"], corrupt)
    for f in corrupt.iterdir():
        if f.name.startswith("model."):
            f.write_bytes(f.read_bytes()[: 40])
    dirs["corrupt"] = corrupt
    return dirs, rows, expected


def register(url, model, path, tag):
    """Uploads a model directory to the artifact store and registers it as a new version."""
    rel = f"registered/{model}/{tag}"
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        r = requests.put(f"{url}/api/2.0/mlflow-artifacts/artifacts/{rel}/{f.relative_to(path)}",
                         data=f.read_bytes())
        assert r.status_code == 200, r.text
    requests.post(f"{url}/api/2.0/mlflow/registered-models/create", json={"name": model})
    r = requests.post(f"{url}/api/2.0/mlflow/model-versions/create",
                      json={"name": model, "source": f"mlflow-artifacts:/{rel}"})
    assert r.status_code == 200, r.text
    return r.json()["model_version"]["version"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory, model_dirs):
    """One server with model "clf" versions 1, 2, 3 (and 4 = corrupt), polling aliases fast."""
    dirs, rows, expected = model_dirs
    server = CairnServer(tmp_path_factory.mktemp("deploy-srv"),
                         ["--alias-poll-ms", "100", "--quiet"]).start()
    for tag in ("1", "2", "3", "corrupt"):
        register(server.url, "clf", dirs[tag], tag)
    yield server, rows, expected
    server.stop()


def put(url, name, body):
    return requests.put(f"{url}/api/v1/deployments/{name}", json=body)


def records(rows):
    return {"dataframe_records": rows.to_dict(orient="records")}


def test_create_get_list_and_score_every_protocol(platform):
    server, rows, expected = platform
    url = server.url
    r = put(url, "basic", {"environment": "test", "primary": {"model": "clf", "version": "2"}})
    assert r.status_code == 200, r.text
    d = r.json()["deployment"]
    assert d["name"] == "basic" and d["environment"] == "test" and d["state"] == "ready"
    assert d["primary"] == {"model": "clf", "version": "2"}
    assert requests.get(f"{url}/api/v1/deployments/basic").json()["deployment"]["primary"] == \
        {"model": "clf", "version": "2"}
    names = [x["name"] for x in requests.get(f"{url}/api/v1/deployments",
                                             params={"environment": "test"}).json()["deployments"]]
    assert "basic" in names
    assert "basic" not in [x["name"] for x in requests.get(
        f"{url}/api/v1/deployments", params={"environment": "prod"}).json()["deployments"]]

    inv = f"{url}/api/v1/deployments/basic/invocations"
    bodies = [records(rows), {"dataframe_split": rows.to_dict(orient="split", index=False)},
              {"instances": rows.to_dict(orient="records")}]
    for body in bodies:
        r = requests.post(inv, json=body, headers={"X-Request-Id": "client-42"})
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["predictions"], expected["2"], rtol=1e-6, atol=1e-6)
        assert r.headers["X-Model-Version"] == "2"
        assert r.headers["X-Deployment-Variant"] == "primary"
        assert r.headers["X-Request-Id"] == "client-42"
    r = requests.post(inv, data=rows.to_csv(index=False), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["predictions"], expected["2"], rtol=1e-6, atol=1e-6)
    assert len(r.headers["X-Request-Id"]) >= 16

    tensor = {"id": "t1", "inputs": [{"name": "input-0", "shape": list(rows.shape),
                                      "datatype": "FP64", "data": rows.to_numpy().ravel().tolist()}]}
    r = requests.post(f"{url}/v2/models/basic/infer", json=tensor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model_name"] == "basic" and body["model_version"] == "2" and body["id"] == "t1"
    np.testing.assert_allclose(body["outputs"][0]["data"], expected["2"], rtol=1e-6, atol=1e-6)
    assert requests.post(f"{url}/v2/models/basic/versions/2/infer", json=tensor).status_code == 200
    assert requests.post(f"{url}/v2/models/basic/versions/3/infer", json=tensor).status_code == 404
    assert requests.get(f"{url}/v2/models/basic/ready").json() == {"name": "basic", "ready": True}
    meta = requests.get(f"{url}/v2/models/basic").json()
    assert meta["name"] == "basic" and meta["versions"] == ["2"]
    assert [i["name"] for i in meta["inputs"]] == list(rows.columns)

    metrics = requests.get(f"{url}/metrics").text
    assert 'cairn_deployment_requests_total{deployment="basic",variant="primary",model="clf",' \
           'version="2",outcome="ok"}' in metrics
    assert "cairn_inference_log_dropped_records_total" in metrics


def count_variants(url, name, n, key_header=None, body=None):
    """Sends n one-row requests on one keep-alive connection; returns {variant: count} and
    the (key, variant, version) of each."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    payload = json.dumps(body)
    seen = []
    counts = {}
    for i in range(n):
        headers = {"Content-Type": "application/json"}
        key = f"user-{i}"
        if key_header:
            headers[key_header] = key
        conn.request("POST", f"/api/v1/deployments/{name}/invocations", payload, headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        variant = resp.getheader("X-Deployment-Variant")
        counts[variant] = counts.get(variant, 0) + 1
        seen.append((key, variant, resp.getheader("X-Model-Version")))
    conn.close()
    return counts, seen


@pytest.mark.slow  # 10,000 HTTP requests: release pass only (the unit test covers the split)
def test_canary_split_within_binomial_tolerance_over_10k_requests(platform):
    """10,000 requests with distinct user ids: the canary's share is within 4 standard
    deviations of 20% (binomial: sd = sqrt(10000 * 0.2 * 0.8) = 40). The key hash is
    deterministic, so this is not a random test."""
    server, rows, _ = platform
    r = put(server.url, "split", {"primary": {"model": "clf", "version": "1"},
                                  "canary": {"model": "clf", "version": "2", "weight": 20},
                                  "sticky": {"header": "X-User-Id"}})
    assert r.status_code == 200, r.text
    n = 10_000
    counts, seen = count_variants(server.url, "split", n, "X-User-Id", records(rows.head(1)))
    assert abs(counts.get("canary", 0) - 0.2 * n) <= 4 * math.sqrt(n * 0.2 * 0.8), counts
    assert counts["canary"] + counts["primary"] == n
    assert all(v == ("2" if var == "canary" else "1") for _, var, v in seen)


def test_ab_variants_are_sticky_by_header_and_by_field(platform):
    server, rows, _ = platform
    url = server.url
    r = put(url, "ab", {"primary": {"model": "clf", "version": "1"},
                        "variants": [{"name": "control", "model": "clf", "version": "1", "weight": 50},
                                     {"name": "treatment", "model": "clf", "version": "3", "weight": 50}],
                        "sticky": {"header": "X-User-Id"}})
    assert r.status_code == 200, r.text
    _, first = count_variants(url, "ab", 200, "X-User-Id", records(rows.head(1)))
    _, second = count_variants(url, "ab", 200, "X-User-Id", records(rows.head(1)))
    assert first == second
    assert {v for _, v, _ in first} == {"control", "treatment"}

    r = put(url, "abf", {"primary": {"model": "clf", "version": "1"},
                         "variants": [{"name": "a", "model": "clf", "version": "1", "weight": 50},
                                      {"name": "b", "model": "clf", "version": "3", "weight": 50}],
                         "sticky": {"field": "customer_id"}})
    assert r.status_code == 200, r.text
    assigned = {}
    for rep in range(2):
        for c in range(40):
            rec = dict(rows.iloc[0].to_dict(), customer_id=f"c{c}")
            resp = requests.post(f"{url}/api/v1/deployments/abf/invocations",
                                 json={"dataframe_records": [rec]})
            assert resp.status_code == 200, resp.text
            assigned.setdefault(c, set()).add(resp.headers["X-Deployment-Variant"])
    assert all(len(v) == 1 for v in assigned.values())
    assert set().union(*assigned.values()) == {"a", "b"}


def test_shadow_never_changes_a_response_and_is_logged(platform):
    server, rows, expected = platform
    url = server.url
    assert put(url, "shadowed", {"primary": {"model": "clf", "version": "1"}}).status_code == 200
    inv = f"{url}/api/v1/deployments/shadowed/invocations"
    before = requests.post(inv, json=records(rows)).content
    r = put(url, "shadowed", {"primary": {"model": "clf", "version": "1"},
                              "shadows": [{"model": "clf", "version": "3"}]})
    assert r.status_code == 200, r.text
    ids = []
    for i in range(20):
        resp = requests.post(inv, json=records(rows), headers={"X-Request-Id": f"sh-{i}"})
        assert resp.status_code == 200 and resp.content == before
        assert resp.headers["X-Model-Version"] == "1"
        ids.append(f"sh-{i}")
    # Shadows run off the response path; poll the log until their copies are written.
    deadline = time.time() + 20
    shadow = []
    while time.time() < deadline:
        log = requests.get(f"{url}/api/v1/deployments/shadowed/inferences",
                           params={"max_results": 10000}).json()["inferences"]
        shadow = [x for x in log if x["variant"] == "shadow"]
        if len(shadow) >= len(ids) * len(rows):
            break
        time.sleep(0.1)
    assert len(shadow) == len(ids) * len(rows)
    assert {x["model_version"] for x in shadow} == {"3"}
    by_row = {x["request_id"]: x["output"] for x in shadow}
    for i in range(len(rows)):
        np.testing.assert_allclose(by_row[f"sh-0#{i}"], expected["3"][i], rtol=1e-6)


def test_hot_swap_under_load_loses_no_request(platform):
    server, rows, expected = platform
    url = server.url
    assert put(url, "swap", {"primary": {"model": "clf", "version": "1"}}).status_code == 200
    stop = threading.Event()
    failures, answered = [], []

    def client():
        s = requests.Session()
        while not stop.is_set():
            r = s.post(f"{url}/api/v1/deployments/swap/invocations", json=records(rows))
            if r.status_code != 200:
                failures.append(r.text)
                continue
            v = r.headers["X-Model-Version"]
            if not np.allclose(r.json()["predictions"], expected[v], rtol=1e-6, atol=1e-6):
                failures.append(f"version {v} answered with another version's predictions")
            answered.append(v)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(30):
        # Swap only once some requests were answered since the last swap.
        seen, deadline = len(answered) + len(failures), time.time() + 10
        while len(answered) + len(failures) < seen + 2 and time.time() < deadline:
            time.sleep(0.001)
        v = str(1 + i % 3)
        r = put(url, "swap", {"primary": {"model": "clf", "version": v}})
        assert r.status_code == 200, r.text
    # A corrupt version is refused; the previous one keeps serving.
    r = put(url, "swap", {"primary": {"model": "clf", "version": "4"}})
    assert r.status_code == 400 and "cannot load model 'clf' version 4" in r.json()["message"]
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert len(set(answered)) >= 2
    assert requests.get(f"{url}/api/v1/deployments/swap").json()["deployment"]["primary"]["version"] \
        == "3"


def test_follows_an_alias_moved_through_the_mlflow_api(platform, mlflow_client_for):
    server, rows, _ = platform
    url = server.url
    client = mlflow_client_for(url)
    client.set_registered_model_alias("clf", "champion", "1")
    r = put(url, "follower", {"environment": "prod", "primary": {"model": "clf", "alias": "champion"}})
    assert r.status_code == 200, r.text
    assert r.json()["deployment"]["primary"] == {"model": "clf", "alias": "champion", "version": "1"}

    def served_version():
        resp = requests.post(f"{url}/api/v1/deployments/follower/invocations", json=records(rows))
        assert resp.status_code == 200
        return resp.headers["X-Model-Version"]

    def wait_for(pred):
        deadline = time.time() + 20
        while time.time() < deadline:
            d = requests.get(f"{url}/api/v1/deployments/follower").json()["deployment"]
            if pred(d):
                return d
            time.sleep(0.05)
        raise AssertionError(d)

    client.set_registered_model_alias("clf", "champion", "3")
    wait_for(lambda d: d["primary"]["version"] == "3")
    assert served_version() == "3"
    # The alias moves to a corrupt version: the deployment says so and keeps serving 3.
    client.set_registered_model_alias("clf", "champion", "4")
    d = wait_for(lambda d: "error" in d)
    assert "still serving the previous versions" in d["error"] and d["state"] == "ready"
    assert served_version() == "3"
    client.set_registered_model_alias("clf", "champion", "2")
    wait_for(lambda d: d["primary"]["version"] == "2" and "error" not in d)
    assert served_version() == "2"


def test_weights_promote_and_rollback(platform):
    server, rows, _ = platform
    url = server.url
    base = f"{url}/api/v1/deployments/rollout"
    r = put(url, "rollout", {"primary": {"model": "clf", "version": "1"},
                             "canary": {"model": "clf", "version": "2", "weight": 10}})
    assert r.status_code == 200
    r = requests.post(f"{base}/weights", json={"canary": 100})
    assert r.status_code == 200 and r.json()["deployment"]["canary"]["weight"] == 100
    assert requests.post(f"{base}/invocations", json=records(rows)).headers["X-Model-Version"] == "2"
    r = requests.post(f"{base}/promote")
    assert r.status_code == 200, r.text
    d = r.json()["deployment"]
    assert d["primary"]["version"] == "2" and "canary" not in d
    assert requests.post(f"{base}/promote").status_code == 400
    r = requests.post(f"{base}/rollback")
    assert r.status_code == 200 and r.json()["deployment"]["canary"]["weight"] == 100
    r = requests.post(f"{base}/rollback")
    assert r.status_code == 200 and r.json()["deployment"]["canary"]["weight"] == 10
    r = requests.post(f"{base}/rollback")
    assert r.status_code == 400 and "roll back" in r.json()["message"]
    assert requests.delete(base).status_code == 200
    assert requests.get(base).status_code == 404


def test_bad_input_gets_clear_errors(platform):
    server, rows, _ = platform
    url = server.url
    r = requests.get(f"{url}/api/v1/deployments/nope")
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = requests.post(f"{url}/api/v1/deployments/nope/invocations", json=records(rows))
    assert r.status_code == 404
    r = requests.post(f"{url}/v2/models/nope/infer", json={"inputs": []})
    assert r.status_code == 404 and "error" in r.json()
    r = put(url, "bad", {"primary": {"model": "clf", "version": "1"},
                         "variants": [{"name": "a", "model": "clf", "version": "1", "weight": 60},
                                      {"name": "b", "model": "clf", "version": "2", "weight": 30}]})
    assert r.status_code == 400 and "sum to 100, got 90" in r.json()["message"]
    r = requests.put(f"{url}/api/v1/deployments/bad", data=b"{not json",
                     headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["message"]
    r = put(url, "bad", {"primary": {"model": "nope", "version": "1"}})
    assert r.status_code == 404
    r = put(url, "bad", {"environment": "staging", "primary": {"model": "clf", "version": "1"}})
    assert r.status_code == 400 and "environment" in r.json()["message"]
    r = put(url, "bad", {"primary": {"model": "clf", "version": "4"}})
    assert r.status_code == 400 and "cannot load model 'clf' version 4" in r.json()["message"]
    assert requests.get(f"{url}/api/v1/deployments/bad").status_code == 404

    assert put(url, "strict", {"primary": {"model": "clf", "version": "1"}}).status_code == 200
    inv = f"{url}/api/v1/deployments/strict/invocations"
    r = requests.post(inv, data=b'{"dataframe_records": [', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error_code"] == "BAD_REQUEST"
    r = requests.post(inv, data="f0,f1\n1,2,3\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400
    r = requests.post(inv, json={"dataframe_records": [{"f0": 1}]})
    assert r.status_code == 400 and "f1" in r.json()["message"]
    r = requests.post(f"{url}/api/v1/deployments/strict/weights", json={"canary": 5})
    assert r.status_code == 400 and "no canary" in r.json()["message"]


def test_outcomes_join_and_csv_export(platform):
    server, rows, _ = platform
    url = server.url
    base = f"{url}/api/v1/deployments/joined"
    assert put(url, "joined", {"primary": {"model": "clf", "version": "1"},
                               "sticky": {"header": "X-User-Id"}}).status_code == 200
    start = int(time.time() * 1000) - 1000
    for i in range(3):
        r = requests.post(f"{base}/invocations", json=records(rows.head(1)),
                          headers={"X-Request-Id": f"j-{i}", "X-User-Id": f"u-{i}"})
        assert r.status_code == 200
    r = requests.post(f"{base}/outcomes", json={"outcomes": [{"request_id": "j-0", "value": 1},
                                                             {"entity_key": "u-2", "value": 0}]})
    assert r.status_code == 200 and r.json() == {"recorded": 2}
    assert requests.post(f"{base}/outcomes", json={"value": 1}).status_code == 400
    assert requests.post(f"{url}/api/v1/deployments/nope/outcomes",
                         json={"request_id": "x", "value": 1}).status_code == 404
    joined = requests.get(f"{base}/outcomes", params={"start": start}).json()["outcomes"]
    assert sorted((j["request_id"], j["outcome"]) for j in joined) == [("j-0", 1), ("j-2", 0)]
    csv = requests.get(f"{base}/inferences", params={"format": "csv", "start": start})
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("request_id,time_ms,deployment,variant,model_version")
    assert len(lines) == 4
    future = requests.get(f"{base}/inferences", params={"start": start + 10**9}).json()
    assert future["inferences"] == []
    assert requests.get(f"{base}/inferences", params={"start": "yesterday"}).status_code == 400


def test_kill9_keeps_every_logged_request_but_the_unwritten_tail(tmp_path, model_dirs):
    """With --inference-log-batch 50 and --inference-log-queue 50, at most 100 accepted
    records are unwritten at any time (the queue plus the batch being committed), so after
    kill -9 the log holds every request except at most those 100 (plus any counted as
    dropped). Deployments come back after the restart."""
    dirs, rows, expected = model_dirs
    args = ["--quiet", "--inference-log-batch", "50", "--inference-log-queue", "50"]
    server = CairnServer(tmp_path, args).start()
    register(server.url, "clf", dirs["1"], "1")
    assert put(server.url, "durable", {"primary": {"model": "clf", "version": "1"}}).status_code == 200
    n = 500
    u = urlparse(server.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = json.dumps(records(rows.head(1)))
    for i in range(n):
        conn.request("POST", "/api/v1/deployments/durable/invocations", body,
                     {"Content-Type": "application/json", "X-Request-Id": f"k-{i}"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    conn.close()
    metrics = requests.get(server.url + "/metrics").text
    dropped = int(next(l.split()[-1] for l in metrics.splitlines()
                       if l.startswith("cairn_inference_log_dropped_records_total ")))
    server.kill9()
    server.start()
    try:
        d = requests.get(f"{server.url}/api/v1/deployments/durable").json()["deployment"]
        assert d["state"] == "ready" and d["primary"]["version"] == "1"
        log = requests.get(f"{server.url}/api/v1/deployments/durable/inferences",
                           params={"max_results": 10000}).json()["inferences"]
        ids = [x["request_id"] for x in log]
        assert len(ids) == len(set(ids))
        assert set(ids) <= {f"k-{i}" for i in range(n)}
        assert len(ids) >= n - dropped - 100, (len(ids), dropped)
        for x in log:
            assert x["model_version"] == "1"
            assert x["output"] == pytest.approx(expected["1"][0], rel=1e-6)
        r = requests.post(f"{server.url}/api/v1/deployments/durable/invocations",
                          json=records(rows))
        assert r.status_code == 200
    finally:
        server.stop()
