"""The real mlflow client (pinned 3.x) against the real cairn binary: the everyday tracking
flows of a data scientist, unchanged. Where results can differ between servers (ordering,
paging, error codes), the same calls go to a real MLflow server and the answers are compared."""

import json
import math
import os

import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException, RestException
from mlflow.entities import ViewType


def test_everyday_tracking_flow(cairn_session_server, mlflow_client_for, tmp_path):
    client = mlflow_client_for(cairn_session_server.url)
    exp = mlflow.set_experiment("everyday-flow")
    assert exp.name == "everyday-flow"
    assert mlflow.set_experiment("everyday-flow").experiment_id == exp.experiment_id

    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 6, "booster": "gbtree"})
        for step in range(5):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.log_metrics({"auc": 0.91, "acc": 0.88})
        mlflow.set_tag("team", "risk")
        f = tmp_path / "notes.txt"
        f.write_text("hello artifacts")
        mlflow.log_artifact(str(f))
        d = tmp_path / "plots"
        d.mkdir()
        (d / "a.csv").write_text("x,y\n1,2\n")
        (d / "b.csv").write_text("x,y\n3,4\n")
        mlflow.log_artifacts(str(d), artifact_path="plots")
        mlflow.log_text("some text", "texts/t.txt")
        mlflow.log_dict({"k": [1, 2]}, "cfg/config.json")
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metric("child_metric", 3.0)

    run = client.get_run(parent.info.run_id)
    assert run.info.run_name == "parent"
    assert run.info.status == "FINISHED"
    assert run.info.end_time >= run.info.start_time
    assert run.data.params == {"lr": "0.1", "depth": "6", "booster": "gbtree"}
    assert run.data.metrics["loss"] == pytest.approx(0.2)  # latest step wins
    assert run.data.metrics["auc"] == pytest.approx(0.91)
    assert run.data.tags["team"] == "risk"
    assert run.data.tags["mlflow.runName"] == "parent"

    child_run = client.get_run(child.info.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.info.run_id

    history = client.get_metric_history(parent.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert [m.value for m in history] == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.2])

    names = sorted(a.path for a in client.list_artifacts(parent.info.run_id))
    assert names == ["cfg", "notes.txt", "plots", "texts"]
    plots = sorted(a.path for a in client.list_artifacts(parent.info.run_id, "plots"))
    assert plots == ["plots/a.csv", "plots/b.csv"]
    out = mlflow.artifacts.download_artifacts(run_id=parent.info.run_id, dst_path=str(tmp_path / "dl"))
    assert open(os.path.join(out, "notes.txt")).read() == "hello artifacts"
    assert open(os.path.join(out, "plots", "b.csv")).read() == "x,y\n3,4\n"
    assert json.load(open(os.path.join(out, "cfg", "config.json"))) == {"k": [1, 2]}
    assert mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/texts/t.txt") == "some text"


def test_generated_run_names_and_run_uuid(cairn_session_server, mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    exp_id = client.create_experiment("generated-names")
    run = client.create_run(exp_id)
    assert run.info.run_name  # adjective-noun-NNN
    assert len(run.info.run_id) == 32 and run.info.run_id == run.info.run_id.lower()
    assert client.get_run(run.info.run_id).data.tags["mlflow.runName"] == run.info.run_name


def test_delete_and_restore(cairn_session_server, mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    exp_id = client.create_experiment("delete-restore")
    run = client.create_run(exp_id)
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    active = client.search_runs([exp_id], run_view_type=ViewType.ACTIVE_ONLY)
    assert run.info.run_id not in [r.info.run_id for r in active]
    deleted = client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run.info.run_id]
    client.restore_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def _populate(client, prefix):
    exp_id = client.create_experiment(prefix)
    ids = []
    for i in range(12):
        run = client.create_run(exp_id, run_name=f"{prefix}-run-{i:02d}",
                                start_time=1_700_000_000_000 + i * 1000)
        client.log_batch(run.info.run_id,
                         metrics=[mlflow.entities.Metric("acc", 0.5 + i * 0.01, 0, 0),
                                  mlflow.entities.Metric("loss", float(12 - i), 0, 0)],
                         params=[mlflow.entities.Param("model", "xgb" if i % 2 else "linear"),
                                 mlflow.entities.Param("depth", str(i % 4))],
                         tags=[mlflow.entities.RunTag("group", "A" if i < 6 else "B")])
        ids.append(run.info.run_id)
    return exp_id, ids


SEARCHES = [
    dict(filter_string="", order_by=None),
    dict(filter_string="metrics.acc > 0.55", order_by=["metrics.acc DESC"]),
    dict(filter_string="params.model = 'xgb' and metrics.loss <= 6", order_by=["metrics.loss ASC"]),
    dict(filter_string="tags.group = 'B'", order_by=["attributes.start_time ASC"]),
    dict(filter_string="params.model LIKE 'x%'", order_by=["params.depth DESC", "metrics.acc ASC"]),
    dict(filter_string="params.model ILIKE 'X%'", order_by=["metrics.acc ASC"]),
    dict(filter_string="attributes.run_name LIKE '%run-0%'", order_by=["attributes.run_name DESC"]),
    dict(filter_string="metrics.acc != 0.5 and tags.group != 'A'", order_by=None),
]


def _names(runs):
    return [r.info.run_name.split("-run-")[1] for r in runs]


@pytest.mark.parametrize("search", SEARCHES, ids=[s["filter_string"] or "all" for s in SEARCHES])
def test_search_runs_matches_mlflow(cairn_session_server, mlflow_reference_server,
                                    mlflow_client_for, search):
    results = []
    for url in (mlflow_reference_server.url, cairn_session_server.url):
        client = mlflow_client_for(url)
        prefix = "search-" + str(abs(hash(search["filter_string"])))
        exp = client.get_experiment_by_name(prefix)
        exp_id = exp.experiment_id if exp else _populate(client, prefix)[0]
        runs = client.search_runs([exp_id], search["filter_string"], order_by=search["order_by"])
        results.append(_names(runs))
    assert results[1] == results[0]


def test_search_runs_paging_matches_mlflow(cairn_session_server, mlflow_reference_server,
                                           mlflow_client_for):
    pages_by_server = []
    for url in (mlflow_reference_server.url, cairn_session_server.url):
        client = mlflow_client_for(url)
        exp_id, _ = _populate(client, "paging")
        pages, token = [], None
        while True:
            page = client.search_runs([exp_id], "", order_by=["metrics.acc DESC"],
                                      max_results=5, page_token=token)
            pages.append(_names(page))
            token = page.token
            if not token:
                break
        pages_by_server.append(pages)
    assert pages_by_server[1] == pages_by_server[0]
    assert [len(p) for p in pages_by_server[1]] == [5, 5, 2]


def _error_code(fn):
    with pytest.raises(MlflowException) as info:
        fn()
    return info.value.error_code


def test_error_codes_match_mlflow(cairn_session_server, mlflow_reference_server,
                                  mlflow_client_for):
    codes = []
    for url in (mlflow_reference_server.url, cairn_session_server.url):
        client = mlflow_client_for(url)
        exp_id = client.create_experiment("errors-" + str(len(codes)))
        run = client.create_run(exp_id)
        rid = run.info.run_id
        client.log_param(rid, "p", "1")
        got = [
            _error_code(lambda: client.get_run("0" * 32)),
            _error_code(lambda: client.get_experiment("987654")),
            _error_code(lambda: client.create_experiment("errors-" + str(len(codes)))),
            _error_code(lambda: client.log_param(rid, "p", "2")),
            _error_code(lambda: client.log_metric(rid, "bad/../key", 1.0)),
            _error_code(lambda: client.log_metric(rid, "k" * 300, 1.0)),
            _error_code(lambda: client.search_runs([exp_id], "metrics.acc > 1 or params.x = 'y'")),
            _error_code(lambda: client.search_runs([exp_id], "params.x = y")),
        ]
        codes.append(got)
    assert codes[1] == codes[0]


def test_nan_and_inf_metrics_round_trip(cairn_session_server, mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    exp_id = client.create_experiment("nan-inf")
    rid = client.create_run(exp_id).info.run_id
    client.log_metric(rid, "nan", float("nan"))
    client.log_metric(rid, "pinf", float("inf"))
    client.log_metric(rid, "ninf", float("-inf"))
    metrics = client.get_run(rid).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pinf"] > 1e308
    assert metrics["ninf"] < -1e308


def test_xgboost_log_model_and_load_back(cairn_session_server, mlflow_client_for):
    import xgboost as xgb

    mlflow_client_for(cairn_session_server.url)
    mlflow.set_experiment("xgb-models")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=10, max_depth=3)
    model.fit(X, y)
    with mlflow.start_run():
        info = mlflow.xgboost.log_model(model, name="model", input_example=X[:3])
    loaded = mlflow.xgboost.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    assert len(pyfunc.predict(X[:4])) == 4
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status.to_proto() is not None
    assert str(logged.status).endswith("READY")
