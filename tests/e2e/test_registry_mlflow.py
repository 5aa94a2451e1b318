"""The model registry with the real mlflow client (pinned 3.x) against the real cairn binary:
register from a logged model (`log_model(..., registered_model_name=...)`) and from run
artifacts, aliases, stages, search, loading by alias/stage/version/latest. Where results can
differ between servers, the same calls go to a real MLflow server and the answers are compared."""

import threading
import uuid
import warnings

import mlflow
import numpy as np
import pytest
import requests
from mlflow.exceptions import MlflowException


warnings.filterwarnings("ignore", category=FutureWarning)


def _train(seed=0):
    import xgboost as xgb
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int)
    model = xgb.XGBClassifier(n_estimators=8, max_depth=3, random_state=seed)
    model.fit(X, y)
    return model, X


def unique(name):
    """Tests share one server: every model gets a name of its own."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_register_from_logged_model_and_run_then_load(cairn_session_server, mlflow_client_for,
                                                      tmp_path):
    client = mlflow_client_for(cairn_session_server.url)
    mlflow.set_experiment(unique("registry-e2e"))
    fraud = unique("fraud")
    model, X = _train()
    expected = model.predict_proba(X[:5])[:, 1]

    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.93)
        info = mlflow.xgboost.log_model(model, name="model", registered_model_name=fraud)
        # The same model as plain run artifacts, for a runs:/ source.
        local = tmp_path / "saved"
        mlflow.xgboost.save_model(model, str(local))
        mlflow.log_artifacts(str(local), artifact_path="model_files")
    assert str(info.registered_model_version) == "1"

    v1 = client.get_model_version(fraud, "1")
    assert v1.status == "READY"
    assert v1.source == f"models:/{info.model_id}"
    assert v1.run_id == run.info.run_id
    # The logged model learns which versions came from it. MLflow's server writes the entry
    # with an integer version (handlers._create_model_version -> set_model_versions_tags) and
    # the 3.6 client then appends its own with the version as a string (fluent._register_model).
    logged = client.get_logged_model(info.model_id)
    assert logged.tags["mlflow.modelVersions"] == (
        f'[{{"name": "{fraud}", "version": 1}}, {{"name": "{fraud}", "version": "1"}}]')
    assert client.get_model_version_download_uri(fraud, "1") == logged.artifact_location

    # register_model on runs:/ finds MLmodel among the run's artifacts.
    v2 = mlflow.register_model(f"runs:/{run.info.run_id}/model_files", fraud)
    assert v2.version == "2"
    assert v2.source.endswith(f"/{run.info.run_id}/artifacts/model_files")
    # A runs:/ source as such; the client resolves it when loading.
    v3 = client.create_model_version(fraud, f"runs:/{run.info.run_id}/model_files",
                                     run_id=run.info.run_id)
    assert v3.version == "3"

    client.set_registered_model_alias(fraud, "champion", "1")
    client.transition_model_version_stage(fraud, "2", "Production")
    client.transition_model_version_stage(fraud, "3", "Staging")
    assert client.get_model_version_by_alias(fraud, "champion").version == "1"

    for uri in (f"models:/{fraud}@champion", f"models:/{fraud}/Production",
                f"models:/{fraud}/staging", f"models:/{fraud}/1", f"models:/{fraud}/latest",
                f"models:/{info.model_id}"):
        pyfunc = mlflow.pyfunc.load_model(uri)
        native = mlflow.xgboost.load_model(uri)
        np.testing.assert_allclose(native.predict_proba(X[:5])[:, 1], expected, rtol=1e-6)
        assert len(pyfunc.predict(X[:5])) == 5, uri

    rm = client.get_registered_model(fraud)
    assert rm.aliases == {"champion": "1"}
    assert {mv.current_stage: mv.version for mv in rm.latest_versions} == {
        "None": "1", "Production": "2", "Staging": "3"}
    found = client.search_model_versions(f"run_id = '{run.info.run_id}'")
    assert sorted(mv.version for mv in found) == ["1", "2", "3"]


def _scenario(client, prefix):
    """One sequence of registry calls; returns everything observable, with names and times
    normalised so two servers can be compared."""
    def strip(name):
        return name[len(prefix):] if name.startswith(prefix) else name

    def mv_view(mv):
        return {"name": strip(mv.name), "version": mv.version, "stage": mv.current_stage,
                "description": mv.description, "source": mv.source, "run_id": mv.run_id,
                "status": mv.status, "tags": dict(mv.tags), "aliases": sorted(mv.aliases),
                "run_link": mv.run_link}

    def rm_view(rm):
        return {"name": strip(rm.name), "description": rm.description, "tags": dict(rm.tags),
                "aliases": dict(rm.aliases),
                "latest": [mv_view(mv) for mv in rm.latest_versions]}

    def error(fn):
        try:
            fn()
        except MlflowException as e:
            return e.error_code
        return "no error"

    out = {}
    a, b, c = prefix + "a", prefix + "b", prefix + "c"
    out["create"] = rm_view(client.create_registered_model(a, tags={"team": "risk"},
                                                           description="first"))
    client.create_registered_model(b)
    client.create_registered_model(c, tags={"team": "ops"})
    src = "mlflow-artifacts:/0/0123456789abcdef0123456789abcdef/artifacts/model"
    out["v1"] = mv_view(client.create_model_version(a, src, tags={"k": "v"}, description="d"))
    for _ in range(3):
        client.create_model_version(a, src)
    client.create_model_version(b, src)
    client.transition_model_version_stage(a, "1", "production")
    out["transition"] = mv_view(client.transition_model_version_stage(
        a, "2", "Production", archive_existing_versions=True))
    client.transition_model_version_stage(a, "3", "Staging")
    client.set_registered_model_alias(a, "champion", "2")
    client.set_registered_model_alias(a, "challenger", "4")
    out["by_alias"] = mv_view(client.get_model_version_by_alias(a, "champion"))
    out["latest_all"] = [mv_view(mv) for mv in client.get_latest_versions(a)]
    out["latest_prod"] = [mv_view(mv) for mv in client.get_latest_versions(a, ["Production"])]
    out["get_a"] = rm_view(client.get_registered_model(a))
    out["search_all"] = [rm_view(rm) for rm in
                         client.search_registered_models(f"name LIKE '{prefix}%'")]
    out["search_tag"] = [strip(rm.name) for rm in client.search_registered_models(
        f"name LIKE '{prefix}%' AND tags.team = 'ops'")]
    out["search_desc"] = [strip(rm.name) for rm in client.search_registered_models(
        f"name LIKE '{prefix}%'", order_by=["name DESC"])]
    pages, token = [], None
    while True:
        page = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=1,
                                               page_token=token)
        pages.append([strip(rm.name) for rm in page])
        token = page.token
        if not token:
            break
    out["pages"] = pages
    out["mv_search"] = [mv_view(mv) for mv in client.search_model_versions(
        f"name = '{a}'", order_by=["version_number ASC"])]
    out["mv_search_tag"] = [(strip(mv.name), mv.version) for mv in client.search_model_versions(
        f"name LIKE '{prefix}%' AND tags.k = 'v'")]
    client.set_registered_model_tag(b, "t", "1")
    client.set_model_version_tag(b, "1", "mt", "2")
    client.delete_registered_model_tag(c, "team")
    client.update_registered_model(b, description="updated")
    client.update_model_version(b, "1", description="mv updated")
    client.delete_registered_model_alias(a, "challenger")
    client.delete_model_version(a, "4")
    out["after_delete"] = rm_view(client.get_registered_model(a))
    out["v5"] = mv_view(client.create_model_version(a, src))  # numbers are never reused
    client.rename_registered_model(b, prefix + "b2")
    out["rename"] = rm_view(client.get_registered_model(prefix + "b2"))
    out["renamed_version"] = mv_view(client.get_model_version(prefix + "b2", "1"))
    client.delete_registered_model(c)

    out["errors"] = {
        "unknown model": error(lambda: client.get_registered_model(prefix + "nope")),
        "unknown version": error(lambda: client.get_model_version(a, "99")),
        "unknown alias": error(lambda: client.get_model_version_by_alias(a, "nope")),
        "duplicate name": error(lambda: client.create_registered_model(a)),
        "rename onto existing": error(lambda: client.rename_registered_model(a, prefix + "b2")),
        "reserved latest": error(lambda: client.set_registered_model_alias(a, "latest", "1")),
        "reserved v1": error(lambda: client.set_registered_model_alias(a, "v1", "1")),
        "bad alias chars": error(lambda: client.set_registered_model_alias(a, "a b", "1")),
        "alias on missing version": error(
            lambda: client.set_registered_model_alias(a, "ghost", "42")),
        "source is a local path": error(lambda: client.create_model_version(a, "/etc/passwd")),
        "source is file:": error(lambda: client.create_model_version(a, "file:///etc")),
        "source escapes": error(
            lambda: client.create_model_version(a, "mlflow-artifacts:/0/../../etc")),
        "version on unknown model": error(
            lambda: client.create_model_version(prefix + "nope", src)),
        "bad stage": error(lambda: client.transition_model_version_stage(a, "1", "bogus")),
        "deleted version": error(lambda: client.get_model_version(a, "4")),
        "deleted model": error(lambda: client.get_registered_model(c)),
        "bad filter": error(lambda: client.search_registered_models("bogus = 1")),
    }
    # Nothing changed by the refusals.
    out["after_errors"] = rm_view(client.get_registered_model(a))
    return out


def test_registry_matches_mlflow(cairn_session_server, mlflow_reference_server,
                                 mlflow_client_for):
    prefix = f"cmp-{uuid.uuid4().hex[:8]}-"
    results = {}
    for label, url in (("mlflow", mlflow_reference_server.url),
                       ("cairn", cairn_session_server.url)):
        results[label] = _scenario(mlflow_client_for(url), prefix)
    for key in results["mlflow"]:
        assert results["cairn"][key] == results["mlflow"][key], key


def test_registry_error_statuses_match_mlflow(cairn_session_server, mlflow_reference_server):
    """The raw HTTP answers for bad input: same status and error_code as MLflow."""
    prefix = f"raw-{uuid.uuid4().hex[:8]}-"
    src = "mlflow-artifacts:/0/abc/artifacts/model"
    calls = [
        ("post", "registered-models/create", {}),
        ("post", "model-versions/create", {"name": prefix + "m"}),
        ("get", "registered-models/get", {"name": prefix + "nope"}),
        ("get", "model-versions/get", {"name": prefix + "m", "version": "x"}),
        ("get", "model-versions/get", {"name": prefix + "m"}),
        ("get", "registered-models/alias", {"name": prefix + "m", "alias": "nope"}),
        ("post", "registered-models/alias", {"name": prefix + "m", "alias": "x"}),
        ("get", "model-versions/get-download-uri", {"name": prefix + "m", "version": "7"}),
        ("get", "registered-models/search", {"max_results": "1001"}),
        ("get", "model-versions/search", {"max_results": "0"}),
        ("delete", "registered-models/delete", {"name": prefix + "nope"}),
    ]
    answers = {}
    for label, server in (("mlflow", mlflow_reference_server), ("cairn", cairn_session_server)):
        base = server.url + "/api/2.0/mlflow/"
        requests.post(base + "registered-models/create", json={"name": prefix + "m"}, timeout=30)
        requests.post(base + "model-versions/create",
                      json={"name": prefix + "m", "source": src}, timeout=30)
        got = []
        for method, rpc, body in calls:
            if method == "get":
                r = requests.get(base + rpc, params=body, timeout=30)
            else:
                r = getattr(requests, method)(base + rpc, json=body, timeout=30)
            got.append((rpc, r.status_code, r.json().get("error_code")))
        answers[label] = got
    assert answers["cairn"] == answers["mlflow"]


def test_concurrent_version_creation_gives_unique_consecutive_numbers(cairn_session_server,
                                                                      mlflow_client_for):
    client = mlflow_client_for(cairn_session_server.url)
    busy = unique("busy")
    client.create_registered_model(busy)
    versions, errors = [], []
    lock = threading.Lock()

    def worker():
        c = mlflow.MlflowClient(cairn_session_server.url)
        for _ in range(5):
            try:
                mv = c.create_model_version(busy, "mlflow-artifacts:/0/x/artifacts/model")
                with lock:
                    versions.append(int(mv.version))
            except Exception as e:  # noqa: BLE001 - collected and reported below
                with lock:
                    errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(versions) == list(range(1, 41))


def test_cairn_refuses_sources_it_cannot_serve(cairn_session_server, mlflow_client_for):
    """MLflow accepts s3:// and other remote sources; cairn keeps model files in its own
    artifact store and refuses them with a clear message, leaving nothing behind."""
    client = mlflow_client_for(cairn_session_server.url)
    m = unique("m")
    client.create_registered_model(m)
    with pytest.raises(MlflowException) as e:
        client.create_model_version(m, "s3://bucket/model")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "artifact store" in e.value.message
    assert client.search_model_versions(f"name = '{m}'") == []


def test_deleting_a_version_removes_its_aliases(cairn_session_server, mlflow_client_for):
    """MLflow 3.6's SQL store compares the alias's integer version with the request's string
    and keeps aliases of deleted versions (then fails to resolve them); cairn removes them."""
    client = mlflow_client_for(cairn_session_server.url)
    m = unique("m")
    client.create_registered_model(m)
    client.create_model_version(m, "mlflow-artifacts:/0/x/artifacts/model")
    client.set_registered_model_alias(m, "prod", "1")
    client.delete_model_version(m, "1")
    assert client.get_registered_model(m).aliases == {}
    with pytest.raises(MlflowException) as e:
        client.get_model_version_by_alias(m, "prod")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
