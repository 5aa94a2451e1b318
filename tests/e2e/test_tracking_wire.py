"""The tracking REST API on the wire, cairn side by side with a real MLflow server (same pinned
package): the same raw requests must get the same status codes, error codes and response
shapes (ids, times and generated names normalised), including for bad input."""

import json
import math

import pytest
import requests

API = "/api/2.0/mlflow"
VOLATILE = {"run_id", "run_uuid", "experiment_id", "artifact_uri", "artifact_location",
            "start_time", "end_time", "creation_time", "last_update_time", "model_id",
            "creation_timestamp_ms", "last_updated_timestamp_ms", "source_run_id",
            "next_page_token"}


def normalise(value, key=None):
    """Replaces volatile values, sorts tag/param lists by key, drops MLflow's server-side
    bookkeeping tags, so two servers' answers compare equal."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        if all(isinstance(v, dict) and "key" in v for v in items):
            items.sort(key=lambda v: (v["key"], json.dumps(v, sort_keys=True)))
        return items
    if key in VOLATILE:
        return f"<{key}>"
    return value


class Api:
    def __init__(self, url):
        self.url = url
        self.s = requests.Session()

    def post(self, path, body, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        data = body if isinstance(body, str) else json.dumps(body)
        return self.s.post(self.url + API + path, data=data, headers=h)

    def get(self, path, params=None):
        return self.s.get(self.url + API + path, params=params)

    def call(self, method, path, body=None):
        return self.s.request(method, self.url + API + path, json=body)


@pytest.fixture(scope="module")
def servers(cairn_session_server, mlflow_reference_server):
    return Api(cairn_session_server.url), Api(mlflow_reference_server.url)


def setup_run(api, exp_name):
    exp = api.post("/experiments/create", {"name": exp_name}).json()["experiment_id"]
    run = api.post("/runs/create", {"experiment_id": exp, "start_time": 1000, "run_name": "wire",
                                    "tags": [{"key": "mlflow.user", "value": "u"}]})
    assert run.status_code == 200, run.text
    return exp, run.json()["run"]["info"]["run_id"]


def both(servers, fn):
    """Runs fn(api, tag) on cairn and MLflow; returns the two results."""
    return fn(servers[0], "c"), fn(servers[1], "m")


def test_entity_shapes_match(servers):
    def flow(api, tag):
        exp, run = setup_run(api, f"wire-shapes-{tag}")
        out = {}
        out["experiment"] = api.get("/experiments/get", {"experiment_id": exp}).json()
        api.post("/runs/log-batch", {
            "run_id": run,
            "metrics": [{"key": "m", "value": 0.5, "timestamp": 5, "step": 1},
                        {"key": "m", "value": 0.25, "timestamp": 6, "step": 2},
                        {"key": "nan", "value": "NaN", "timestamp": 5, "step": 0},
                        {"key": "inf", "value": "Infinity", "timestamp": 5, "step": 0}],
            "params": [{"key": "p", "value": "1"}],
            "tags": [{"key": "t", "value": "v"}]})
        api.post("/runs/log-inputs", {"run_id": run, "datasets": [{
            "tags": [{"key": "mlflow.data.context", "value": "train"}],
            "dataset": {"name": "d", "digest": "abc", "source_type": "local", "source": "/x",
                        "schema": "{}"}}]})
        out["run"] = api.get("/runs/get", {"run_id": run}).json()
        out["update"] = api.post("/runs/update", {"run_id": run, "status": "FINISHED",
                                                  "end_time": 2000}).json()
        out["history"] = api.get("/metrics/get-history",
                                 {"run_id": run, "metric_key": "m", "max_results": 1}).json()
        # max_results is always sent: MLflow 3.6 treats an absent max_results as 0 and answers an
        # empty page with a next_page_token (cairn returns the whole history instead).
        out["nan"] = api.get("/metrics/get-history", {"run_id": run, "metric_key": "nan",
                                                      "max_results": 100}).json()
        out["inf"] = api.get("/metrics/get-history", {"run_id": run, "metric_key": "inf",
                                                      "max_results": 100}).json()
        out["bulk"] = api.get("/metrics/get-history-bulk-interval",
                              {"run_ids": [run], "metric_key": "m", "max_results": 10}).json()
        out["missing_key_history"] = api.get("/metrics/get-history",
                                             {"run_id": run, "metric_key": "nope",
                                              "max_results": 100}).json()
        return out

    cairn, mlflow = both(servers, flow)
    for name in cairn:
        c, m = normalise(cairn[name]), normalise(mlflow[name])
        if name == "experiment":
            c["experiment"]["name"] = m["experiment"]["name"] = "<name>"
        assert c == m, f"{name}:\ncairn  {json.dumps(c)}\nmlflow {json.dumps(m)}"


def test_search_experiments_paging_matches(servers):
    def flow(api, tag):
        for i in range(5):
            api.post("/experiments/create", {"name": f"page-{tag}-{i}"})
        names, token = [], None
        for _ in range(10):
            # Ordered by name: the default order (creation_time DESC) ties within a millisecond.
            body = {"max_results": 2, "filter": f"name LIKE 'page-{tag}-%'",
                    "order_by": ["name DESC"]}
            if token:
                body["page_token"] = token
            r = api.post("/experiments/search", body)
            assert r.status_code == 200, r.text
            names.append([e["name"].replace(f"-{tag}-", "-") for e in r.json().get("experiments", [])])
            token = r.json().get("next_page_token")
            if not token:
                break
        return names

    cairn, mlflow = both(servers, flow)
    assert cairn == mlflow


BAD_REQUESTS = [
    ("metric value not a number", "POST", "/runs/log-metric",
     lambda run: {"run_id": run, "key": "m", "value": "abc", "timestamp": 1}),
    ("metric without timestamp", "POST", "/runs/log-metric",
     lambda run: {"run_id": run, "key": "m", "value": 1.0}),
    ("metric key escaping", "POST", "/runs/log-metric",
     lambda run: {"run_id": run, "key": "../m", "value": 1.0, "timestamp": 1}),
    ("negative timestamp", "POST", "/runs/log-metric",
     lambda run: {"run_id": run, "key": "m", "value": 1.0, "timestamp": -1}),
    ("too many metrics", "POST", "/runs/log-batch",
     lambda run: {"run_id": run, "metrics": [{"key": "m", "value": 1.0, "timestamp": i, "step": i}
                                              for i in range(1001)]}),
    ("too many params", "POST", "/runs/log-batch",
     lambda run: {"run_id": run, "params": [{"key": f"p{i}", "value": "1"} for i in range(101)]}),
    ("duplicate param keys", "POST", "/runs/log-batch",
     lambda run: {"run_id": run, "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]}),
    ("changed param", "POST", "/runs/log-parameter",
     lambda run: {"run_id": run, "key": "fixed", "value": "2"}),
    ("over-long param key", "POST", "/runs/log-parameter",
     lambda run: {"run_id": run, "key": "k" * 251, "value": "1"}),
    ("unknown run", "GET", "/runs/get", lambda run: {"run_id": "0" * 32}),
    ("unknown experiment", "GET", "/experiments/get", lambda run: {"experiment_id": "987654"}),
    ("unknown experiment name", "GET", "/experiments/get-by-name",
     lambda run: {"experiment_name": "no-such-experiment"}),
    ("empty experiment name", "POST", "/experiments/create", lambda run: {"name": ""}),
    ("max_results too big", "POST", "/runs/search",
     lambda run: {"experiment_ids": ["0"], "max_results": 50001}),
    ("bad filter", "POST", "/runs/search",
     lambda run: {"experiment_ids": ["0"], "filter": "metrics.m >"}),
    ("unknown logged model", "GET", "/logged-models/m-00000000000000000000000000000000", None),
    ("delete missing run tag", "POST", "/runs/delete-tag", lambda run: {"run_id": run, "key": "nope"}),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_bad_requests_get_the_same_status_and_error_code(servers, case):
    _, method, path, make = case

    def flow(api, tag):
        _, run = setup_run(api, f"wire-bad-{case[0]}-{tag}")
        api.post("/runs/log-parameter", {"run_id": run, "key": "fixed", "value": "1"})
        body = make(run) if make else None
        if method == "GET":
            r = api.get(path, body)
        else:
            r = api.call(method, path, body)
        code = r.json().get("error_code") if r.content else None
        return r.status_code, code

    cairn, mlflow = both(servers, flow)
    assert cairn == mlflow


def test_deliberate_deviation_unknown_run_status_is_refused(cairn_session_server):
    # MLflow 3.6 drops an unparseable status and answers 200 without changing the run; cairn
    # answers a clear 400 instead (bad input gets an error, never a silent no-op).
    api = Api(cairn_session_server.url)
    _, run = setup_run(api, "wire-status")
    r = api.post("/runs/update", {"run_id": run, "status": "SLEEPING"})
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert api.get("/runs/get", {"run_id": run}).json()["run"]["info"]["status"] == "RUNNING"


def test_writes_to_a_deleted_run_are_refused_like_mlflow(servers):
    def flow(api, tag):
        _, run = setup_run(api, f"wire-deleted-{tag}")
        assert api.post("/runs/delete", {"run_id": run}).status_code == 200
        codes = []
        for path, body in [("/runs/set-tag", {"run_id": run, "key": "k", "value": "v"}),
                           ("/runs/log-parameter", {"run_id": run, "key": "k", "value": "v"}),
                           ("/runs/log-metric", {"run_id": run, "key": "k", "value": 1,
                                                 "timestamp": 1}),
                           ("/runs/log-batch", {"run_id": run, "metrics": [
                               {"key": "k", "value": 1, "timestamp": 1, "step": 0}]})]:
            r = api.post(path, body)
            codes.append((path, r.status_code, r.json().get("error_code")))
        return codes

    cairn, mlflow = both(servers, flow)
    assert cairn == mlflow


def test_content_type_and_body_rules_match(servers):
    def flow(api, tag):
        out = []
        r = api.s.post(api.url + API + "/experiments/create", data=json.dumps({"name": f"ct-{tag}"}),
                       headers={"Content-Type": "text/plain"})
        out.append(r.status_code)
        # Double-encoded JSON bodies are accepted.
        r = api.post("/experiments/create", json.dumps(json.dumps({"name": f"dbl-{tag}"})))
        out.append(r.status_code)
        # A GET without a query string is read from its JSON body.
        r = api.s.get(api.url + API + "/experiments/get-by-name",
                      data=json.dumps({"experiment_name": f"dbl-{tag}"}),
                      headers={"Content-Type": "application/json"})
        out.append((r.status_code, r.json().get("experiment", {}).get("name", "").replace(tag, "")))
        return out

    cairn, mlflow = both(servers, flow)
    assert cairn == mlflow


def test_logged_model_lifecycle_shapes_match(servers):
    def flow(api, tag):
        exp, run = setup_run(api, f"wire-models-{tag}")
        out = {}
        r = api.post("/logged-models", {"experiment_id": exp, "name": "model", "source_run_id": run,
                                        "model_type": "xgb",
                                        "params": [{"key": "depth", "value": "6"}],
                                        "tags": [{"key": "t", "value": "1"}]})
        assert r.status_code == 200, r.text
        out["create"] = r.json()
        mid = r.json()["model"]["info"]["model_id"]
        assert mid.startswith("m-") and len(mid) == 34
        out["outputs"] = api.post("/runs/outputs", {"run_id": run,
                                                    "models": [{"model_id": mid, "step": 0}]}).json()
        out["run"] = api.get("/runs/get", {"run_id": run}).json()["run"]["outputs"]
        out["finalize"] = api.call("PATCH", f"/logged-models/{mid}",
                                   {"model_id": mid, "status": "LOGGED_MODEL_READY"}).json()
        out["set_tags"] = api.call("PATCH", f"/logged-models/{mid}/tags",
                                   {"tags": [{"key": "u", "value": "2"}]}).json()
        out["delete_tag"] = api.call("DELETE", f"/logged-models/{mid}/tags/u").json()
        out["search"] = api.post("/logged-models/search", {"experiment_ids": [exp],
                                                           "filter": "name = 'model'"}).json()
        r = api.call("DELETE", f"/logged-models/{mid}")
        out["delete"] = (r.status_code, r.json())
        r = api.get(f"/logged-models/{mid}")
        out["after_delete"] = (r.status_code, r.json().get("error_code"))
        return out

    cairn, mlflow = both(servers, flow)
    for name in cairn:
        c, m = normalise(cairn[name]), normalise(mlflow[name])
        assert c == m, f"{name}:\ncairn  {json.dumps(c)}\nmlflow {json.dumps(m)}"
