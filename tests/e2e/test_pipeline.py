"""Pipelines end to end against the real cairn server: the built-in steps on a car-loan
subsample with lineage read back through the real mlflow client, the registered model loaded
with mlflow.pyfunc and checked against xgboost's own predictions, the AUC checked against
scikit-learn, the deploy step through /api/v1/deployments, and pipelines hosted by the server
(register, trigger, history, health, the one-active-run limit, bad input)."""

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from conftest import REPO, cairn_binary

DATA = REPO.parent / "shared" / "data" / "nannyml_car_loan_reference.csv.gz"
FEATURES = ["car_value", "debt_to_income_ratio", "loan_length", "driver_tenure"]

SPEC = """
name: {name}
params:
  max_depth: {{type: int, default: 3}}
  n_estimators: {{type: int, default: 20}}
  min_auc: {{type: float, default: 0.6}}
steps:
  ingest:
    type: ingest
    with: {{path: data/car_loan.csv, columns: "{features},repaid"}}
    outputs: [out/data.csv]
  validate:
    type: validate
    inputs: [out/data.csv]
    with: {{data: out/data.csv, min_rows: 1000, max_missing_rate: 0, binary: repaid}}
    outputs: [out/validation.json]
  train:
    type: train-xgboost
    needs: [validate]
    inputs: [out/data.csv]
    with:
      data: out/data.csv
      target: repaid
      features: "{features}"
      max_depth: ${{params.max_depth}}
      n_estimators: ${{params.n_estimators}}
      holdout: out/holdout.csv
    outputs: [out/model, out/holdout.csv]
  evaluate:
    type: evaluate
    inputs: [out/model, out/holdout.csv]
    with: {{model: out/model, data: out/holdout.csv, target: repaid}}
    outputs: [out/metrics.json]
  register:
    type: register
    when: steps.evaluate.outputs.auc > params.min_auc
    inputs: [out/model]
    with: {{model: out/model, name: {name}}}
    outputs: [out/version.json]
  promote:
    type: promote
    inputs: [out/version.json]
    with: {{registered: out/version.json, alias: test}}
  deploy:
    type: deploy
    needs: [promote]
    inputs: [out/version.json]
    with: {{registered: out/version.json, deployment: {name}, environment: test}}
"""


def make_workspace(root: Path, name: str) -> Path:
    (root / "data").mkdir(parents=True)
    # A 3,000-row subsample keeps the run fast; time order is kept (the holdout is the tail).
    df = pd.read_csv(DATA, nrows=15000).iloc[::5]
    df.to_csv(root / "data" / "car_loan.csv", index=False)
    spec = root / "pipeline.yaml"
    spec.write_text(SPEC.format(name=name, features=",".join(FEATURES)))
    return spec


def run_pipeline(spec: Path, url: str, *args):
    return subprocess.run(
        [str(cairn_binary()), "pipeline", "run", str(spec), "--tracking-uri", url, "-j", "2",
         *args], capture_output=True, text=True, timeout=300)


def children_of(client, experiment_id, parent_id):
    runs = client.search_runs([experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    return {r.info.run_name: r for r in runs}


def test_builtin_steps_with_lineage_through_the_mlflow_client(tmp_path, cairn_server,
                                                              mlflow_client_for):
    import mlflow
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    spec = make_workspace(tmp_path / "ws", "car-loan-e2e")
    out = run_pipeline(spec, cairn_server.url)
    assert out.returncode == 0, out.stderr
    pipeline_run_id = out.stdout.strip()
    client = mlflow_client_for(cairn_server.url)

    exp = client.get_experiment_by_name("pipeline:car-loan-e2e")
    parents = client.search_runs([exp.experiment_id],
                                 filter_string=f"tags.`cairn.pipeline_run_id` = '{pipeline_run_id}'"
                                 " and tags.`cairn.pipeline` = 'car-loan-e2e'")
    parents = [r for r in parents if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert parent.data.params == {"max_depth": "3", "min_auc": "0.6", "n_estimators": "20"}
    assert parent.data.metrics["steps_executed"] == 7
    assert parent.info.end_time >= parent.info.start_time

    steps = children_of(client, exp.experiment_id, parent.info.run_id)
    assert set(steps) == {"ingest", "validate", "train", "evaluate", "register", "promote",
                          "deploy"}
    assert all(r.data.tags["cache_hit"] == "false" for r in steps.values())
    assert all(r.info.status == "FINISHED" for r in steps.values())
    assert steps["validate"].data.metrics["failed_checks"] == 0
    assert steps["train"].data.metrics["rows_train"] == 2400
    # Declared outputs are artifacts of the step's run.
    paths = {a.path for a in client.list_artifacts(steps["train"].info.run_id, "out/model")}
    assert "out/model/MLmodel" in paths and "out/model/model.ubj" in paths

    # The evaluate step's AUC is scikit-learn's on xgboost's own predictions of the saved model.
    ws = tmp_path / "ws"
    # A built-in step's log keeps what it wrote while running and then its values.
    log = (ws / ".cairn" / "pipelines" / "runs" / pipeline_run_id / "logs" / "train.out")
    assert "holdout-logloss: " in log.read_text() and "rows_train=2400" in log.read_text()
    booster = xgb.Booster()
    booster.load_model(str(ws / "out" / "model" / "model.ubj"))
    holdout = pd.read_csv(ws / "out" / "holdout.csv")
    assert len(holdout) == 600
    reference = booster.predict(xgb.DMatrix(holdout[FEATURES]))
    auc = roc_auc_score(holdout["repaid"], reference)
    assert steps["evaluate"].data.metrics["auc"] == pytest.approx(auc, abs=1e-9)
    assert json.loads((ws / "out" / "metrics.json").read_text())["auc"] == pytest.approx(auc)

    # The registered version points at the pipeline's tracking run and loads with pyfunc.
    mv = client.get_model_version_by_alias("car-loan-e2e", "test")
    assert mv.run_id == parent.info.run_id
    assert mv.source == f"runs:/{parent.info.run_id}/model"
    assert mv.tags["cairn.pipeline_run_id"] == pipeline_run_id
    model = mlflow.pyfunc.load_model("models:/car-loan-e2e@test")
    np.testing.assert_allclose(np.asarray(model.predict(holdout[FEATURES])), reference,
                               rtol=1e-6)

    # The deploy step made a deployment of that version in the test environment.
    dep = requests.get(f"{cairn_server.url}/api/v1/deployments/car-loan-e2e", timeout=10)
    assert dep.status_code == 200, dep.text
    body = dep.json()["deployment"]
    assert body["environment"] == "test"
    assert body["primary"]["model"] == "car-loan-e2e"
    assert str(body["primary"]["version"]) == str(mv.version)

    # Nothing changed: the data steps are cache hits (recorded as such), register runs again.
    again = run_pipeline(spec, cairn_server.url)
    assert again.returncode == 0, again.stderr
    second = client.search_runs(
        [exp.experiment_id],
        filter_string=f"tags.`cairn.pipeline_run_id` = '{again.stdout.strip()}'")
    parent2 = [r for r in second if "mlflow.parentRunId" not in r.data.tags][0]
    steps2 = children_of(client, exp.experiment_id, parent2.info.run_id)
    for name in ("ingest", "validate", "train", "evaluate"):
        assert steps2[name].data.tags["cache_hit"] == "true", name
    assert steps2["register"].data.tags["cache_hit"] == "false"
    assert steps2["evaluate"].data.metrics["auc"] == pytest.approx(auc, abs=1e-9)
    assert client.get_model_version_by_alias("car-loan-e2e", "test").version == "2"


def test_a_failed_validation_fails_the_run_and_its_lineage(tmp_path, cairn_server,
                                                          mlflow_client_for):
    spec = make_workspace(tmp_path / "ws", "car-loan-bad")
    spec.write_text(spec.read_text().replace("min_rows: 1000", "min_rows: 100000"))
    out = run_pipeline(spec, cairn_server.url)
    assert out.returncode == 1
    assert "validate: 1 check(s) failed; first: min_rows" in out.stderr
    client = mlflow_client_for(cairn_server.url)
    exp = client.get_experiment_by_name("pipeline:car-loan-bad")
    runs = client.search_runs([exp.experiment_id])
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags][0]
    assert parent.info.status == "FAILED"
    steps = children_of(client, exp.experiment_id, parent.info.run_id)
    assert steps["validate"].info.status == "FAILED"
    assert steps["train"].info.status == "KILLED"
    assert steps["train"].data.tags["cairn.step_status"] == "not-run"


def test_register_without_a_tracking_server_says_so(tmp_path):
    spec = make_workspace(tmp_path / "ws", "car-loan-offline")
    out = subprocess.run([str(cairn_binary()), "pipeline", "run", str(spec), "-j", "2"],
                         capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 1
    assert "register needs a tracking server" in out.stderr


def test_bad_tracking_uri_is_a_usage_error(tmp_path):
    spec = make_workspace(tmp_path / "ws", "x")
    out = run_pipeline(spec, "file:///tmp/mlruns")
    assert out.returncode == 2
    assert "--tracking-uri must be an http:// URL" in out.stderr


def wait_for_run(url, pipeline, run_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = requests.get(f"{url}/api/v1/pipelines/{pipeline}/runs/{run_id}", timeout=10)
        assert r.status_code == 200, r.text
        run = r.json()["run"]
        if run["status"] != "running":
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still running")


def test_server_hosted_pipeline_register_trigger_history(tmp_path, cairn_server,
                                                         mlflow_client_for):
    spec = make_workspace(tmp_path / "ws", "hosted")
    reg = subprocess.run([str(cairn_binary()), "pipeline", "register", str(spec), "--server",
                          cairn_server.url, "--param", "n_estimators=10"],
                         capture_output=True, text=True, timeout=60)
    assert reg.returncode == 0, reg.stderr
    assert json.loads(reg.stdout)["pipeline"]["params"] == {"n_estimators": "10"}
    listed = requests.get(f"{cairn_server.url}/api/v1/pipelines", timeout=10).json()
    assert [p["name"] for p in listed["pipelines"]] == ["hosted"]

    t = requests.post(f"{cairn_server.url}/api/v1/pipelines/hosted/trigger",
                      json={"trigger": "manual", "reason": "e2e"}, timeout=10)
    assert t.status_code == 200, t.text
    run = wait_for_run(cairn_server.url, "hosted", t.json()["run_id"])
    assert run["status"] == "succeeded", run
    assert run["trigger"] == "manual" and run["reason"] == "e2e"
    assert run["executed"] == 7 and run["failed"] == 0 and run["retries"] == 0
    assert run["duration_ms"] >= 0 and run["end_time"] >= run["start_time"]
    steps = {s["step"]: s for s in run["steps"]}
    assert steps["ingest"]["rows_out"] == 3000
    # Built-ins ran as `cairn pipeline step --context` children of the server; register came
    # back to the server over REST (its context names the server and the tracking run).
    state = cairn_server.data_dir / "pipelines" / "hosted" / "runs" / run["run_id"]
    context = json.loads((state / "steps" / "register.json").read_text())
    assert context["tracking_uri"] == cairn_server.url
    assert context["tracking_run"]["run_id"] == run["tracking_run_id"]
    assert steps["validate"]["rows_in"] == 3000 and steps["validate"]["rows_out"] == 3000
    assert steps["train"]["rows_in"] == 3000

    # Lineage went to the server's own stores, visible to the mlflow client.
    client = mlflow_client_for(cairn_server.url)
    tracked = client.get_run(run["tracking_run_id"])
    assert tracked.data.params["n_estimators"] == "10"
    assert tracked.info.status == "FINISHED"
    mv = client.get_model_version_by_alias("hosted", "test")
    assert mv.run_id == run["tracking_run_id"]

    history = requests.get(f"{cairn_server.url}/api/v1/pipelines/hosted/runs", timeout=10)
    assert [r["run_id"] for r in history.json()["runs"]] == [run["run_id"]]


def test_server_one_active_run_and_failed_step_log_tail(tmp_path, cairn_server):
    ws = tmp_path / "gate"
    ws.mkdir()
    (ws / "pipeline.yaml").write_text(
        "name: gate\n"
        "steps:\n"
        "  wait: {run: \"while [ ! -f go ]; do sleep 0.02; done\", cache: false}\n"
        "  fail:\n"
        "    needs: [wait]\n"
        "    run: \"echo some context >&2; echo disk is full >&2; exit 7\"\n"
        "    retries: {limit: 1, backoff: 0s}\n")
    r = requests.post(f"{cairn_server.url}/api/v1/pipelines",
                      json={"spec_path": str(ws / "pipeline.yaml")}, timeout=10)
    assert r.status_code == 200, r.text
    first = requests.post(f"{cairn_server.url}/api/v1/pipelines/gate/trigger", json={},
                          timeout=10)
    assert first.status_code == 200, first.text
    second = requests.post(f"{cairn_server.url}/api/v1/pipelines/gate/trigger",
                           json={"trigger": "alert", "reason": "auc < 0.8"}, timeout=10)
    assert second.status_code == 400
    assert second.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "already has an active run" in second.json()["message"]
    got = requests.get(f"{cairn_server.url}/api/v1/pipelines/gate", timeout=10).json()
    assert got["active_runs"] == 1
    (ws / "go").write_text("")
    run = wait_for_run(cairn_server.url, "gate", first.json()["run_id"])
    assert run["status"] == "failed"
    assert run["failed_step"] == "fail"
    assert run["retries"] == 1
    assert "disk is full" in run["log_tail"]
    assert "exit code 7" in run["message"]


@pytest.mark.parametrize("body,status,message", [
    ({"spec_path": "relative.yaml"}, 400, "absolute path"),
    ({"spec_path": "/nonexistent/pipeline.yaml"}, 404, "cannot read"),
    ({"spec_path": "/x/pipeline.yaml", "spec": "name: x\nsteps:\n  a: {needs: [b], run: x}\n"},
     400, "/x/pipeline.yaml:3:"),
    ({"spec_path": "/x/pipeline.yaml", "spec": "name: [x\n"}, 400, "/x/pipeline.yaml:"),
    ({"spec_path": "/x/p.yaml", "spec": "name: ../etc\nsteps:\n  a: {run: x}\n"}, 400,
     "/x/p.yaml:1:7: bad pipeline name"),
    ({"spec_path": "/x/p.yaml", "spec": "name: x\nsteps:\n  a: {run: x}\n", "concurrency": 0},
     400, "concurrency"),
    ({"spec_path": "/x/p.yaml", "spec": "name: x\nsteps:\n  a: {run: x}\n", "params": [1]},
     400, "params"),
])
def test_register_bad_input(cairn_session_server, body, status, message):
    r = requests.post(f"{cairn_session_server.url}/api/v1/pipelines", json=body, timeout=10)
    assert r.status_code == status, r.text
    assert message in r.json()["message"]


def test_unknown_pipeline_and_run(cairn_session_server):
    url = cairn_session_server.url
    assert requests.post(f"{url}/api/v1/pipelines/nope/trigger", json={},
                         timeout=10).status_code == 404
    assert requests.get(f"{url}/api/v1/pipelines/nope/runs", timeout=10).status_code == 404
    assert requests.get(f"{url}/api/v1/pipelines/nope/runs/r1", timeout=10).status_code == 404
    bad = requests.post(f"{url}/api/v1/pipelines/nope/trigger", data="{", timeout=10,
                        headers={"Content-Type": "application/json"})
    assert bad.status_code == 400


@pytest.mark.slow
def test_demo_runs_the_example_pipeline(tmp_path, mlflow_client_for):
    from conftest import CairnServer
    args = [str(cairn_binary()), "demo", "--demo-dir", str(REPO / "demo"),
            "--backend-store-uri", f"sqlite:///{tmp_path / 'cairn.db'}",
            "--artifacts-destination", str(tmp_path / "artifacts")]
    out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "running the example pipeline" in out.stderr
    server = CairnServer(tmp_path).start()
    try:
        client = mlflow_client_for(server.url)
        mv = client.get_model_version_by_alias("car-loan", "test")
        run = client.get_run(mv.run_id)
        assert run.data.tags["cairn.pipeline"] == "car-loan"
        assert run.info.status == "FINISHED"
        exp = client.get_experiment(run.info.experiment_id)
        assert exp.name == "pipeline:car-loan"
        steps = children_of(client, exp.experiment_id, run.info.run_id)
        assert set(steps) == {"ingest", "validate", "train", "evaluate", "register", "promote"}
        assert steps["evaluate"].data.metrics["auc"] > 0.8
    finally:
        server.stop()


@pytest.mark.parametrize("step,code,message", [
    ("{type: train-xgboost, inputs: [data/car.csv], with: {data: data/car.csv, target: repaid, "
     "features: \"car_value,salary_range\"}, outputs: [out/m]}",
     1, "feature 'salary_range' is categorical, not numeric"),
    ("{type: train-xgboost, inputs: [data/car.csv], with: {data: data/car.csv, target: nope}, "
     "outputs: [out/m]}", 1, "has no target column 'nope'"),
    ("{type: train-xgboost, inputs: [data/car.csv], with: {data: data/car.csv, target: repaid, "
     "n_estimators: many}, outputs: [out/m]}", 1, "'n_estimators' must be a number, got 'many'"),
    ("{type: train-xgboost, with: {data: data/car.csv, target: repaid, depth: 3}}",
     2, "train-xgboost: unknown config key 'depth'"),
    ("{type: validate, with: {data: data/car.csv, max_missing_rate: lots}}",
     2, "validate: 'max_missing_rate' must be a number"),
    ("{type: validate, with: {data: data/car.csv, max_unseen_rate: 0}}",
     2, "need 'with.reference'"),
    ("{type: validate, inputs: [data/car.csv], with: {data: data/car.csv, binary: salary_range}}",
     1, "binary on 'salary_range'"),
    ("{type: evaluate, inputs: [data/car.csv], with: {model: data/car.csv, data: data/car.csv, "
     "target: repaid}}", 1, "FAILED  s: "),
    ("{type: deploy, with: {deployment: d}}", 2, "deploy needs 'registered' or both"),
])
def test_builtin_step_bad_input(tmp_path, step, code, message):
    (tmp_path / "data").mkdir()
    pd.read_csv(DATA, nrows=200).to_csv(tmp_path / "data" / "car.csv", index=False)
    (tmp_path / "pipeline.yaml").write_text(f"name: bad\nsteps:\n  s: {step}\n")
    out = subprocess.run([str(cairn_binary()), "pipeline", "run", "pipeline.yaml"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == code, out.stderr
    assert message in out.stderr


def test_lineage_on_a_real_mlflow_server(tmp_path, mlflow_reference_server, mlflow_client_for):
    """Nothing to rewrite: the same pipeline records its lineage and registers its model on
    MLflow's own server (the anchor), through the same REST calls."""
    import mlflow
    spec = make_workspace(tmp_path / "ws", "car-loan-on-mlflow")
    text = spec.read_text()
    spec.write_text(text[:text.index("  deploy:")])
    out = run_pipeline(spec, mlflow_reference_server.url)
    assert out.returncode == 0, out.stderr
    client = mlflow_client_for(mlflow_reference_server.url)
    exp = client.get_experiment_by_name("pipeline:car-loan-on-mlflow")
    runs = client.search_runs([exp.experiment_id])
    parent = [r for r in runs if "mlflow.parentRunId" not in r.data.tags][0]
    assert parent.info.status == "FINISHED"
    steps = children_of(client, exp.experiment_id, parent.info.run_id)
    assert set(steps) == {"ingest", "validate", "train", "evaluate", "register", "promote"}
    assert 0.5 < steps["evaluate"].data.metrics["auc"] <= 1.0
    mv = client.get_model_version_by_alias("car-loan-on-mlflow", "test")
    assert mv.run_id == parent.info.run_id
    holdout = pd.read_csv(tmp_path / "ws" / "out" / "holdout.csv")
    pred = mlflow.pyfunc.load_model("models:/car-loan-on-mlflow@test").predict(
        holdout[FEATURES])
    assert len(pred) == len(holdout)
