"""`cairn demo` seeds a store that the real mlflow client can browse: trained XGBoost runs with
learning curves and model files, and a monitoring run with monthly drift and a report."""

import subprocess

import pytest

from conftest import REPO, CairnServer, cairn_binary


@pytest.mark.slow
def test_demo_seeds_runs_the_mlflow_client_can_browse(tmp_path, mlflow_client_for):
    args = [str(cairn_binary()), "demo", "--demo-dir", str(REPO / "demo"),
            "--backend-store-uri", f"sqlite:///{tmp_path / 'cairn.db'}",
            "--artifacts-destination", str(tmp_path / "artifacts")]
    first = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "already holds the demo" in again.stderr

    server = CairnServer(tmp_path).start()
    try:
        client = mlflow_client_for(server.url)
        exp = client.get_experiment_by_name("car-loan-demo")
        runs = client.search_runs([exp.experiment_id], order_by=["metrics.`valid-auc` DESC"])
        names = [r.info.run_name for r in runs]
        assert len(runs) == 5 and "production-monitoring" in names
        best = runs[0]
        assert best.info.status == "FINISHED"
        assert 0.9 < best.data.metrics["valid-auc"] <= 1.0
        curve = client.get_metric_history(best.info.run_id, "valid-logloss")
        assert len(curve) == int(best.data.params["num_boost_round"])
        assert curve[-1].value < curve[0].value  # the model learned

        model_dir = client.download_artifacts(best.info.run_id, "model", str(tmp_path / "dl"))
        import numpy as np
        import xgboost as xgb
        booster = xgb.Booster(model_file=f"{model_dir}/model.json")
        assert booster.num_boosted_rounds() == int(best.data.params["num_boost_round"])

        monitoring = next(r for r in runs if r.info.run_name == "production-monitoring")
        files = [a.path for a in client.list_artifacts(monitoring.info.run_id, "monitoring")]
        assert files == ["monitoring/report.html", "monitoring/results.json"]
        auc = client.get_metric_history(monitoring.info.run_id, "realized_roc_auc")
        assert len(auc) >= 10 and all(0.5 < m.value <= 1.0 for m in auc)
        drift = client.get_metric_history(monitoring.info.run_id, "jensen_shannon.car_value")
        assert len(drift) >= 10
    finally:
        server.stop()
