"""Environments and continuous deployment on the real binary: promotion gates configured over
the native API, `cairn model promote` as a CI stage (exit 0 / 3 with the failed conditions),
the alias history, `cairn model resolve`, and version lineage (run, params, metrics, datasets)."""

import os
import subprocess
import uuid

import mlflow
import pandas as pd
import pytest
import requests

from conftest import cairn_binary



def unique(name):
    """Tests share one server: every model gets a name of its own."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def cli(server, *args, env_uri=False):
    env = dict(os.environ)
    cmd = [str(cairn_binary()), "model", *args]
    if env_uri:
        env["MLFLOW_TRACKING_URI"] = server.url
    else:
        env.pop("MLFLOW_TRACKING_URI", None)
        cmd += ["--tracking-uri", server.url]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def register_version(client, name, metrics, tags=None):
    with mlflow.start_run() as run:
        mlflow.log_metrics(metrics)
        mlflow.log_param("max_depth", 6)
    mv = client.create_model_version(name, f"runs:/{run.info.run_id}/model",
                                     run_id=run.info.run_id, tags=tags or {})
    return mv.version, run.info.run_id


def test_gates_refuse_and_pass_and_every_move_is_recorded(cairn_session_server, mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    mlflow.set_experiment(unique("promotion"))
    fraud = unique("fraud")
    api = f"{cairn_session_server.url}/api/v1/models/{fraud}"
    client.create_registered_model(fraud)
    passed = {"validation_status": "passed"}
    v1, _ = register_version(client, fraud, {"auc": 0.90, "latency_p99_ms": 4}, passed)
    v2, _ = register_version(client, fraud, {"auc": 0.897, "latency_p99_ms": 3}, passed)
    v3, _ = register_version(client, fraud, {"auc": 0.95, "latency_p99_ms": 2})
    v4, _ = register_version(client, fraud, {"auc": 0.899, "latency_p99_ms": 5}, passed)

    gate = {"conditions": ["auc >= champion.auc - 0.002", "latency_p99_ms <= 5"],
            "required_tags": {"validation_status": "passed"}}
    r = requests.put(f"{api}/gates/prod", json=gate, timeout=30)
    assert r.status_code == 200, r.text
    bad = requests.put(f"{api}/gates/prod",
                       json={"conditions": ["auc >= = 1"]}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    # First promotion: nobody holds prod, so the champion comparison is skipped.
    first = cli(cairn_session_server, "promote", fraud, "--version", v1, "--to", "prod",
                "--user", "alice")
    assert first.returncode == 0, first.stderr
    assert f"promoted {fraud} v1 to prod" in first.stdout
    # 0.897 < 0.90 - 0.002: refused, listed, exit 3, alias unchanged.
    refused = cli(cairn_session_server, "promote", fraud, "--version", v2, "--to", "prod",
                  "--user", "bob", env_uri=True)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "auc >= champion.auc - 0.002" in refused.stderr
    assert "latency_p99_ms" not in refused.stderr  # only failed conditions are listed
    # Missing required tag.
    untagged = cli(cairn_session_server, "promote", fraud, "--version", v3, "--to", "prod")
    assert untagged.returncode == 3
    assert "validation_status" in untagged.stderr
    assert client.get_model_version_by_alias(fraud, "prod").version == v1
    # A dry run reports without moving or recording.
    dry = cli(cairn_session_server, "promote", fraud, "--version", v4, "--to", "prod", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert client.get_model_version_by_alias(fraud, "prod").version == v1
    ok = cli(cairn_session_server, "promote", fraud, "--version", v4, "--to", "prod",
             "--user", "carol")
    assert ok.returncode == 0, ok.stderr
    assert client.get_model_version_by_alias(fraud, "prod").version == v4
    # dev has no gate: anything goes. The mlflow client's alias moves are recorded too.
    dev = cli(cairn_session_server, "promote", fraud, "--version", v3, "--to", "dev")
    assert dev.returncode == 0, dev.stderr
    client.set_registered_model_alias(fraud, "test", v2)
    client.delete_registered_model_alias(fraud, "test")

    # Errors, not refusals: exit 1 with a reason.
    unknown = cli(cairn_session_server, "promote", fraud, "--version", "99", "--to", "prod")
    assert unknown.returncode == 1
    assert "RESOURCE_DOES_NOT_EXIST" in unknown.stderr
    reserved = cli(cairn_session_server, "promote", fraud, "--version", v1, "--to", "latest")
    assert reserved.returncode == 1 and "reserved" in reserved.stderr

    history = requests.get(f"{api}/history", timeout=30).json()
    events = [(e["alias"], e["action"], e["outcome"], e["from_version"], e["to_version"],
               e["user_id"]) for e in history["events"]]
    assert events == [
        ("test", "delete-alias", "moved", v2, None, ""),
        ("test", "set-alias", "moved", None, v2, ""),
        ("dev", "promote", "moved", None, v3, os.environ.get("USER", "")),
        ("prod", "promote", "moved", v1, v4, "carol"),
        ("prod", "promote", "refused", v1, v3, os.environ.get("USER", "")),
        ("prod", "promote", "refused", v1, v2, "bob"),
        ("prod", "promote", "moved", None, v1, "alice"),
    ]
    refusal = history["events"][5]
    assert [c["passed"] for c in refusal["gate_checks"]] == [True, False, True]
    prod_only = requests.get(f"{api}/history",
                             params={"alias": "prod"}, timeout=30).json()["events"]
    assert len(prod_only) == 4


def test_resolve_prints_version_and_files(cairn_session_server, mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    mlflow.set_experiment(unique("resolve"))
    m = unique("m")
    client.create_registered_model(m)
    v1, run_id = register_version(client, m, {"auc": 0.8})
    register_version(client, m, {"auc": 0.9})
    client.set_registered_model_alias(m, "champion", v1)
    client.transition_model_version_stage(m, "2", "Production")
    run = client.get_run(run_id)

    out = cli(cairn_session_server, "resolve", f"models:/{m}@champion")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    assert lines["name"] == m
    assert lines["version"] == "1"
    assert lines["source"] == f"runs:/{run_id}/model"
    assert lines["artifact_location"] == run.info.artifact_uri + "/model"
    assert lines["aliases"] == "champion"
    assert "version: 2" in cli(cairn_session_server, "resolve", f"models:/{m}/production").stdout
    assert "version: 2" in cli(cairn_session_server, "resolve", f"models:/{m}/latest").stdout
    assert "version: 1" in cli(cairn_session_server, "resolve", f"models:/{m}/1").stdout
    missing = cli(cairn_session_server, "resolve", f"models:/{m}@nope")
    assert missing.returncode == 1 and "alias nope not found" in missing.stderr
    bad = cli(cairn_session_server, "resolve", "runs:/abc/model")
    assert bad.returncode == 1 and "Not a proper models:/ URI" in bad.stderr
    down = subprocess.run([str(cairn_binary()), "model", "resolve", f"models:/{m}/1",
                           "--tracking-uri", "http://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "cannot connect" in down.stderr


def test_lineage_links_run_logged_model_params_metrics_and_datasets(cairn_session_server,
                                                                    mlflow_client_for, tmp_path):
    import xgboost as xgb
    client = mlflow_client_for(cairn_session_server.url)
    mlflow.set_experiment(unique("lineage"))
    lin = unique("lin")
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]})
    dataset = mlflow.data.from_pandas(df, source=str(tmp_path / "train.csv"), name="train")
    model = xgb.XGBClassifier(n_estimators=2, max_depth=2).fit(df[["x"]], df["y"])
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_param("max_depth", 2)
        mlflow.log_metric("auc", 0.97)
        info = mlflow.xgboost.log_model(model, name="model", registered_model_name=lin)
    api = f"{cairn_session_server.url}/api/v1/models/{lin}"
    r = requests.get(f"{api}/versions/1/lineage", timeout=30)
    assert r.status_code == 200, r.text
    lineage = r.json()
    assert lineage["model_version"]["version"] == "1"
    assert lineage["logged_model"]["model_id"] == info.model_id
    assert lineage["run"]["run_id"] == run.info.run_id
    assert lineage["run"]["params"]["max_depth"] == "2"
    assert lineage["run"]["metrics"]["auc"] == pytest.approx(0.97)
    [ds] = lineage["run"]["dataset_inputs"]
    assert ds["name"] == "train"
    assert ds["digest"] == dataset.digest
    assert ds["context"] == "training"
    assert requests.get(f"{api}/versions/7/lineage",
                        timeout=30).status_code == 404
