"""Module 05's loop, end to end and headless: monitoring evidence -> the retraining rule says
retrain -> new data versioned with DVC -> `dvc repro` registers a challenger -> it beats the
champion on the same fresh holdout -> the alias moves -> the running prediction service answers
with the new version. Real tools throughout: Evidently, DVC, MLflow, a BentoML server process."""

import json
import os
import subprocess
import warnings

import pytest

from checking import activated_workspace
from mlops_clinic import monitoring
from mlops_clinic.data import FEATURES
from mlops_clinic.workspace import path_with_kit_tools

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

MAE_INCREASE, DRIFT_SHARE, MIN_LABELS = 0.25, 0.5, 50


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    with activated_workspace(tmp_path_factory.mktemp("m05-loop") / "workspace", "inference_log") as ws:
        yield ws


def _run(ws, *command):
    env = {**os.environ, **ws.env()}
    env["PATH"] = path_with_kit_tools(env.get("PATH", ""))
    done = subprocess.run(command, cwd=ws.project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def _decide(scenario, reference, test_mae):
    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    rows = monitoring.production(scenario)
    definition = monitoring.data_definition()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=Dataset.from_pandas(rows[list(FEATURES)], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[list(FEATURES)], data_definition=definition))
    windows = monitoring.windowed_mae(rows)
    latest = windows[windows["labels"] >= MIN_LABELS].iloc[-1]
    worse = latest["MAE (£)"] > test_mae * (1 + MAE_INCREASE)
    drifted = monitoring.drift_share(snapshot) >= DRIFT_SHARE
    return {"retrain": bool(worse or drifted), "worse": bool(worse), "drifted": bool(drifted)}


def test_drift_or_worse_mae_retrain_promote_and_serve(ws):
    import httpx
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient

    from mlops_clinic.servers import BackgroundServer
    from mlops_clinic.service.schema import EXAMPLE_HOUSE

    client = MlflowClient()
    served = monitoring.served_version(monitoring.production("stable"))
    reference = monitoring.reference_data(served)
    test_mae = monitoring.training_run(served).data.metrics["test_mae"]

    # 1. The evidence, and the rule: covariate drift by its inputs, concept drift only by its MAE.
    decisions = {s: _decide(s, reference, test_mae) for s in ("stable", "covariate_drift", "concept_drift")}
    assert decisions["stable"] == {"retrain": False, "worse": False, "drifted": False}
    assert decisions["covariate_drift"]["drifted"] and decisions["covariate_drift"]["retrain"]
    assert decisions["concept_drift"] == {"retrain": True, "worse": True, "drifted": False}

    # 2. The running service, before anything moves.
    server = BackgroundServer(
        "prediction-service-loop-test",
        ["bentoml", "serve", "mlops_clinic.service.prediction:PredictionService",
         "--host", "{host}", "--port", "{port}"],
        ready_path="/readyz", ready_timeout=180, workspace=ws).start()
    try:
        # 3. New data, versioned; the pipeline rerun registers the challenger.
        retrain_on = [s for s, d in decisions.items() if d["retrain"]]
        new = pd.concat([monitoring.production(s) for s in retrain_on])
        new = (new[["house_id", *FEATURES, "actual_price_gbp"]]
               .rename(columns={"actual_price_gbp": "price"}).astype({"price": int}))
        pd.concat([reference, new]).to_csv(ws.project / "data" / "houses.csv", index=False)
        _run(ws, "dvc", "add", "--quiet", "data/houses.csv")
        _run(ws, "git", "add", "data/houses.csv.dvc")
        _run(ws, "git", "commit", "--quiet", "-m", "Data v3.0.0 (test)")
        _run(ws, "git", "tag", "data-v3.0.0")
        _run(ws, "dvc", "repro", "--quiet")
        assert "Data and pipelines are up to date" in _run(ws, "dvc", "status")
        challenger = str(json.loads((ws.project / "models" / "run.json").read_text())["version"])
        champion = str(client.get_model_version_by_alias("house-price", "champion").version)
        assert challenger != champion
        run_tags = client.get_run(client.get_model_version("house-price", challenger).run_id).data.tags
        assert run_tags["data_version"] == "data-v3.0.0"

        # 4. Champion against challenger on the same fresh holdout (new houses in the test split).
        test = pd.read_csv(ws.project / "data" / "prepared" / "test.csv")
        fresh = test[test["house_id"].isin(new["house_id"])]
        assert len(fresh) > 100
        mae = {version: float((fresh["price"] - mlflow.pyfunc.load_model(
            f"models:/house-price/{version}").predict(fresh[list(FEATURES)])).abs().mean())
            for version in (champion, challenger)}
        assert mae[challenger] < mae[champion], mae

        # 5. Promotion moves the alias; the running service follows it.
        server.wait_ready()
        before = httpx.post(f"{server.url}/estimate", json={"house": EXAMPLE_HOUSE}).json()
        assert before["model_version"] == champion
        client.set_registered_model_alias("house-price", "champion", challenger)
        import time

        deadline, answered = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            answered = httpx.post(f"{server.url}/estimate", json={"house": EXAMPLE_HOUSE}).json()
            if answered["model_version"] == challenger:
                break
            time.sleep(0.5)
        assert answered["model_version"] == challenger, answered
    finally:
        server.stop()  # the server and every worker it started, by PID
    assert server.process is None
