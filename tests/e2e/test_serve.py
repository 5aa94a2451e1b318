"""`cairn serve` over HTTP, for every protocol and input format, with a model saved by the
real mlflow client; predictions must equal what mlflow's own pyfunc returns for the same rows."""

import io
import os
import re
import subprocess

import mlflow
import numpy as np
import pandas as pd
import pytest
import requests

from conftest import cairn_binary


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    import xgboost as xgb
    from mlflow.models import infer_signature

    base = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(1)
    cols = [f"f{i}" for i in range(6)]
    X = pd.DataFrame(rng.normal(size=(400, 6)), columns=cols)
    y_cls = (X["f0"] + 0.5 * X["f1"] - X["f2"] > 0).astype(int)
    y_reg = 3 * X["f0"] - X["f3"] + rng.normal(scale=0.1, size=400)
    clf = xgb.XGBClassifier(n_estimators=20, max_depth=4).fit(X, y_cls)
    reg = xgb.XGBRegressor(n_estimators=20, max_depth=4).fit(X, y_reg)
    paths = {}
    for name, model, y in (("clf", clf, y_cls), ("reg", reg, y_reg)):
        path = base / name
        mlflow.xgboost.save_model(model, str(path), signature=infer_signature(X, model.predict(X)),
                                  input_example=X.head(2))
        paths[name] = path
    return paths, X


def start_serve(model_path, env=None, extra=()):
    proc = subprocess.Popen([str(cairn_binary()), "serve", str(model_path), "--host", "127.0.0.1",
                             "--port", "0", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, **(env or {})))
    line = proc.stdout.readline().decode()
    m = re.search(r"listening on (http://\S+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(line + proc.stderr.read().decode())
    return proc, m.group(1)


@pytest.fixture(scope="module")
def served(saved_models):
    paths, X = saved_models
    procs, urls = [], {}
    for name, path in paths.items():
        p, url = start_serve(path, env={"AIP_HEALTH_ROUTE": "/vertex/health",
                                        "AIP_PREDICT_ROUTE": "/vertex/predict"},
                             extra=["--name", name])
        procs.append(p)
        urls[name] = url
    yield urls, paths, X
    for p in procs:
        p.terminate()
        p.wait(10)


def expected(paths, name, X):
    return np.asarray(mlflow.pyfunc.load_model(str(paths[name])).predict(X), dtype=float)


@pytest.mark.parametrize("name", ["clf", "reg"])
def test_invocations_every_format_matches_mlflow_pyfunc(served, name):
    urls, paths, X = served
    rows = X.head(25)
    want = expected(paths, name, rows)
    url = urls[name] + "/invocations"
    bodies = [
        {"dataframe_split": rows.to_dict(orient="split", index=False)},
        {"dataframe_records": rows.to_dict(orient="records")},
        {"instances": rows.to_dict(orient="records")},
        {"inputs": rows.to_dict(orient="list")},
    ]
    for body in bodies:
        r = requests.post(url, json=body)
        assert r.status_code == 200, (list(body), r.text)
        np.testing.assert_allclose(np.asarray(r.json()["predictions"], dtype=float), want,
                                   rtol=1e-6, atol=1e-6)
    csv = rows.to_csv(index=False)
    r = requests.post(url, data=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.asarray(r.json()["predictions"], dtype=float), want,
                               rtol=1e-6, atol=1e-6)
    # Vertex AI's route and body shape.
    r = requests.post(urls[name] + "/vertex/predict", json={"instances": rows.to_dict(orient="records")})
    assert r.status_code == 200
    np.testing.assert_allclose(np.asarray(r.json()["predictions"], dtype=float), want,
                               rtol=1e-6, atol=1e-6)


def test_health_routes(served):
    urls, _, _ = served
    for path in ("/ping", "/health", "/vertex/health", "/v2/health/live", "/v2/health/ready",
                 "/v2/models/clf/ready"):
        assert requests.get(urls["clf"] + path).status_code == 200, path
    assert requests.get(urls["clf"] + "/version").text == mlflow.__version__


def test_open_inference_protocol_v2(served):
    urls, paths, X = served
    rows = X.head(10)
    want = expected(paths, "reg", rows)
    meta = requests.get(urls["reg"] + "/v2/models/reg").json()
    assert meta["name"] == "reg"
    assert [i["name"] for i in meta["inputs"]] == list(X.columns)
    tensor = {"inputs": [{"name": "input-0", "shape": list(rows.shape), "datatype": "FP64",
                          "data": rows.to_numpy().ravel().tolist()}], "id": "req-1"}
    r = requests.post(urls["reg"] + "/v2/models/reg/infer", json=tensor)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "req-1" and body["model_name"] == "reg"
    np.testing.assert_allclose(body["outputs"][0]["data"], want, rtol=1e-6, atol=1e-6)
    per_column = {"inputs": [{"name": c, "shape": [len(rows)], "datatype": "FP32",
                              "data": rows[c].astype(np.float32).tolist()} for c in X.columns]}
    r = requests.post(urls["reg"] + "/v2/models/reg/versions/1/infer", json=per_column)
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["outputs"][0]["data"], want, rtol=1e-4, atol=1e-4)
    missing = requests.post(urls["reg"] + "/v2/models/nope/infer", json=tensor)
    assert missing.status_code == 404 and "error" in missing.json()


def test_bad_inputs_get_400_naming_the_field(served):
    urls, _, X = served
    url = urls["clf"] + "/invocations"
    rows = X.head(2).to_dict(orient="records")
    no_f3 = [{k: v for k, v in r.items() if k != "f3"} for r in rows]
    cases = [
        (requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"}), None),
        (requests.post(url, json={"dataframe_records": no_f3}), "f3"),
        (requests.post(url, json={"dataframe_records": [dict(rows[0], f1="abc")]}), "f1"),
        (requests.post(url, json={"dataframe_records": [dict(rows[0], extra=1.0)]}), "extra"),
        (requests.post(url, json={"instances": rows, "inputs": rows}), None),
        (requests.post(url, json={"something_else": rows}), None),
    ]
    for r, field in cases:
        assert r.status_code == 400, r.text
        assert r.json()["error_code"] == "BAD_REQUEST"
        if field:
            assert field in r.json()["message"]
    r = requests.post(url, data=b"x", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415


def test_metrics_count_requests(served):
    urls, _, X = served
    before = requests.get(urls["reg"] + "/metrics").text
    requests.post(urls["reg"] + "/invocations", json={"dataframe_records": X.head(3).to_dict(orient="records")})
    after = requests.get(urls["reg"] + "/metrics").text
    pat = r'cairn_scoring_rows_total\{model="reg",version="1",route="invocations"\} (\d+)'
    assert int(re.search(pat, after).group(1)) == int(re.search(pat, before).group(1)) + 3
    assert "cairn_scoring_request_duration_seconds_bucket" in after
    spec = requests.get(urls["reg"] + "/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/invocations" in spec["paths"]


def test_corrupt_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"learner": {"gradient_booster": {"model": {"trees": [{"left_children": [5]}]')
    r = subprocess.run([str(cairn_binary()), "serve", str(bad), "--port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "cannot load" in r.stderr and "\n" == r.stderr[-1]
