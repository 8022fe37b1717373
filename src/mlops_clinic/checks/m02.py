"""Module 02 questions: track a run, extend the pipeline, measure the business metric where it
matters, promote the better of two models.

The checkers read the participant's real MLflow store and registry (the workspace's) and, for the
pipeline stage, `sandbox-02/`: a clone of the lesson project, so the project that later modules
build on is never changed by an exercise. Exercises register models under `house-price-sandbox`,
never under `house-price`, whose champion is served from module 03 on.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from mlops_clinic.checks.core import (
    Question, Wrong, as_number, as_text, as_version, describe, pounds, refuse_wrong_unit, relative_path,
    show_number,
)
from mlops_clinic.data.schema import TARGET
from mlops_clinic.data.schema import FEATURES as _FEATURES
from mlops_clinic.names import EXPERIMENT, SANDBOX_MODEL

SANDBOX = "sandbox-02"
EXPENSIVE = 600_000
FEATURES = list(_FEATURES)  # a list: a tuple would select one column of a DataFrame


# --- set-up of the exercises -----------------------------------------------------------------------


def _workspace(workspace=None):
    from mlops_clinic.workspace import Workspace

    return workspace if workspace is not None else Workspace.resolve()


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def fresh_sandbox_model(workspace=None) -> None:
    """Delete the registered model house-price-sandbox, so the exercises start from an empty entry."""
    from mlflow.exceptions import MlflowException

    try:
        _client().delete_registered_model(SANDBOX_MODEL)
    except MlflowException:
        pass


def project_copy(workspace=None) -> Path:
    """A fresh clone of the lesson project in sandbox-02/, with its data pulled from the DVC remote
    (the clone sits next to the project, so the project's relative remote path works for it)."""
    ws = _workspace(workspace)
    path = ws.root / SANDBOX
    if path.exists():
        shutil.rmtree(path)
    steps = [(ws.root, ["git", "clone", "--quiet", str(ws.project), SANDBOX]),
             (path, ["git", "config", "commit.gpgsign", "false"]),
             (path, ["dvc", "pull", "--quiet"])]
    for where, command in steps:
        done = subprocess.run(command, cwd=where, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"Copying the project failed at `{' '.join(command[:3])}`:\n"
                               f"{(done.stderr or done.stdout).strip()[-1500:]}")
    return path


def _split(name: str):
    import pandas as pd

    path = _workspace().project / "data" / "prepared" / f"{name}.csv"
    if not path.is_file():
        raise Wrong("the project's prepared data is missing: run the notebook's first cells "
                    "(setup rebuilds it), or `dvc pull` in the project.")
    return pd.read_csv(path)


def _run(run_id):
    from mlflow.exceptions import MlflowException

    if not isinstance(run_id, str):
        raise Wrong(f"expected a run id (text), got {describe(run_id)}: use run.info.run_id "
                    "from `with mlflow.start_run() as run:`.")
    run_id = run_id.strip()
    try:
        return _client().get_run(run_id)
    except MlflowException:
        raise Wrong(f"there is no run with id {run_id!r} in your MLflow store: use "
                    "run.info.run_id from `with mlflow.start_run() as run:`.") from None


def _model_info(run_id: str):
    from mlflow.exceptions import MlflowException
    from mlflow.models import get_model_info

    try:
        return get_model_info(f"runs:/{run_id}/model")
    except (MlflowException, OSError):
        raise Wrong("the run has no model named 'model': mlflow.sklearn.log_model(fitted, "
                    "name=\"model\", signature=..., input_example=...) inside the run.") from None


def _load_model(run_id: str):
    """The scikit-learn model a run logged (no schema enforcement: the checks feed it the data)."""
    import mlflow

    if "sklearn" not in _model_info(run_id).flavors:
        raise Wrong("the run's model is not a scikit-learn model: log it with mlflow.sklearn.log_model.")
    return mlflow.sklearn.load_model(f"runs:/{run_id}/model")


def _close(a: float, b: float, tolerance: float = 1.0) -> bool:
    return abs(a - b) <= tolerance


def _mae(y, predicted) -> float:
    return float(abs(y - predicted).mean())


# --- the checkers -------------------------------------------------------------------------------------


def _check_run(run_id) -> str:
    import numpy as np

    run = _run(run_id)
    experiment = _client().get_experiment(run.info.experiment_id)
    if experiment.name != EXPERIMENT:
        raise Wrong(f"the run is in the experiment {experiment.name!r}; log it in "
                    f"{EXPERIMENT!r}: mlflow.set_experiment(\"{EXPERIMENT}\") before start_run.")
    if run.info.status != "FINISHED":
        raise Wrong("the run is still open: use `with mlflow.start_run() as run:` so that it ends "
                    "(or call mlflow.end_run()).")
    params = run.data.params
    missing = [p for p in ("n_estimators", "max_depth") if p not in params]
    if missing:
        raise Wrong(f"the run's parameters lack {', '.join(missing)}: mlflow.log_params(settings).")
    if "val_mae" not in run.data.metrics:
        raise Wrong("the run has no metric 'val_mae': mlflow.log_metric(\"val_mae\", mae) with the "
                    "MAE in pounds on the validation houses.")
    if _model_info(run.info.run_id).signature is None:
        raise Wrong("the model was logged without a signature: pass signature=infer_signature(X, "
                    "predictions) to log_model, so a server can refuse malformed requests.")
    model = _load_model(run.info.run_id)
    logged = run.data.metrics["val_mae"]
    val, train = _split("val"), _split("train")
    predicted = np.asarray(model.predict(val[FEATURES]), dtype=float)
    true_mae = _mae(val[TARGET], predicted)
    if not _close(logged, true_mae):
        if _close(logged, _mae(train[TARGET], np.asarray(model.predict(train[FEATURES]), dtype=float))):
            raise Wrong(f"val_mae ({pounds(logged)}) is the error on the training houses; measure "
                        f"it on data/prepared/val.csv (£{true_mae:,.0f}).")
        refuse_wrong_unit(logged, true_mae, subject=f"val_mae ({show_number(logged)})")
        rmse = float(np.sqrt(((val[TARGET] - predicted) ** 2).mean()))
        if _close(logged, rmse):
            raise Wrong("val_mae is the RMSE (root mean squared error); the business metric is the "
                        "mean ABSOLUTE error: mean_absolute_error(y, predictions).")
        raise Wrong(f"val_mae ({pounds(logged)}) is not the model's MAE on the validation houses "
                    f"(£{true_mae:,.0f}).")
    lineage = _project_lineage()
    tags = run.data.tags
    for key in ("data_version", "data_md5"):
        if key not in tags:
            raise Wrong(f"the run has no tag {key!r}: mlflow.set_tags(data_lineage(\"data/houses.csv\")) "
                        "ties it to the exact data.")
        if tags[key] != lineage[key]:
            raise Wrong(f"the tag {key} is {tags[key]!r} but the data the model was trained on is "
                        f"{lineage[key]!r}: take the tags from data_lineage(), do not type them.")
    return (f"the run records its settings, a validation MAE of £{logged:,.0f}, the model with its "
            f"signature, and the data release {tags['data_version']}: anyone can trace it back.")


def _project_lineage() -> dict:
    """The project's own lineage tags for its current data (its src/lineage.py, run in it)."""
    import contextlib
    import importlib.util

    project = _workspace().project
    spec = importlib.util.spec_from_file_location("clinic_project_lineage", project / "src" / "lineage.py")
    lineage = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lineage)
    with contextlib.chdir(project):
        return lineage.data_lineage("data/houses.csv")


def _check_stage(stage_name) -> str:
    import yaml

    stage_name = as_text(stage_name, "the stage's name")
    path = _workspace().root / SANDBOX
    if not (path / "dvc.yaml").is_file():
        raise Wrong(f"there is no {SANDBOX}/ copy of the project: run the cell above the exercise.")
    stages = (yaml.safe_load((path / "dvc.yaml").read_text()) or {}).get("stages", {})
    if stage_name not in stages:
        raise Wrong(f"{SANDBOX}/dvc.yaml has no stage {stage_name!r} (it has "
                    f"{', '.join(stages)}): dvc stage add -n {stage_name} -d ... -M ... COMMAND.")
    stage = stages[stage_name]
    # "./src/x.py", "src/x.py" and an absolute path name the same dependency.
    folders = {Path(relative_path(str(d), path)).parts[0] for d in stage.get("deps", [])}
    if "data" not in folders:
        raise Wrong("the stage does not declare the data it reads: add -d data/prepared, so that "
                    "DVC reruns it when the data changes.")
    if "src" not in folders:
        raise Wrong("the stage does not declare its script: add -d src/<script>.py, so that DVC "
                    "reruns it when the code changes.")
    if not (stage.get("outs") or stage.get("metrics")):
        raise Wrong("the stage does not declare what it writes: -M reports/... for a metrics file "
                    "(or -o for other outputs).")
    lock = yaml.safe_load((path / "dvc.lock").read_text()) if (path / "dvc.lock").is_file() else {}
    if stage_name not in (lock or {}).get("stages", {}):
        raise Wrong(f"the stage has not run yet: dvc repro (in {SANDBOX}/).")
    from dvc.repo import Repo

    with Repo(str(path)) as repo:
        changed = repo.status()
    if changed:
        raise Wrong(f"some stages changed since they last ran ({', '.join(changed)}): run "
                    "dvc repro again.")
    return (f"dvc repro ran {stage_name} and found prepare, train and evaluate up to date: "
            "a new step costs only its own run.")


def _maes(model, split: str) -> tuple[float, float]:
    """(MAE on all houses of the split, MAE on those priced at £600,000 or more)."""
    import numpy as np

    rows = _split(split)
    errors = (rows[TARGET] - np.asarray(model.predict(rows[FEATURES]), dtype=float)).abs()
    return float(errors.mean()), float(errors[rows[TARGET] >= EXPENSIVE].mean())


def _check_business(mae_expensive, run_id) -> str:
    run = _run(run_id)
    value = as_number(mae_expensive, "a number of pounds (the MAE on the test houses priced at "
                                  "£600,000 or more)")
    model = _load_model(run.info.run_id)
    overall, expected = _maes(model, "test")
    if not _close(value, expected):
        refuse_wrong_unit(value, expected)
        if _close(value, overall):
            raise Wrong(f"{pounds(value)} is the MAE on all test houses; keep those priced at "
                        "£600,000 or more: test[test['price'] >= 600_000].")
        if _close(value, _maes(model, "val")[1]):
            raise Wrong("that is measured on the validation houses; the question asks for the test set.")
        raise Wrong(f"{pounds(value)} is not the MAE of your run's model on the test houses priced "
                    "at £600,000 or more.")
    logged = run.data.metrics.get("test_mae_over_600k")
    if logged is None:
        raise Wrong("the number is right; now log it on the run: with mlflow.start_run(run_id=run_id): "
                    "mlflow.log_metric(\"test_mae_over_600k\", mae_expensive).")
    if not _close(logged, expected):
        refuse_wrong_unit(logged, expected,
                          subject=f"the run's metric test_mae_over_600k ({show_number(logged)})")
        raise Wrong(f"the run's metric test_mae_over_600k is {pounds(logged)}, not £{expected:,.0f}.")
    return (f"£{expected:,.0f} on the expensive houses against £{overall:,.0f} on all test houses: "
            "an average can hide where a model is weakest.")


def _check_champion(champion_version) -> str:
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        versions = client.search_model_versions(f"name = '{SANDBOX_MODEL}'")
    except MlflowException:
        versions = []
    if len(versions) < 2:
        raise Wrong(f"{SANDBOX_MODEL} has {len(versions)} version(s); register both runs: "
                    f"mlflow.register_model(f\"runs:/{{run_id}}/model\", \"{SANDBOX_MODEL}\").")
    try:
        champion = client.get_model_version_by_alias(SANDBOX_MODEL, "champion")
    except MlflowException:
        raise Wrong(f"no version of {SANDBOX_MODEL} has the alias 'champion': "
                    "client.set_registered_model_alias(name, \"champion\", version).") from None
    if as_version(champion_version) != str(champion.version):
        raise Wrong(f"the alias 'champion' is on version {champion.version}, but your answer is "
                    f"version {as_version(champion_version)}.")
    scores = {}
    for version in versions:
        metrics = client.get_run(version.run_id).data.metrics if version.run_id else {}
        if "val_mae" not in metrics:
            raise Wrong(f"version {version.version} comes from a run without val_mae, so it cannot "
                        "be compared: register runs that log val_mae.")
        scores[version.version] = metrics["val_mae"]
    best = min(scores, key=scores.get)
    if scores[champion.version] > scores[best]:
        raise Wrong(f"version {champion.version} has a validation MAE of £{scores[champion.version]:,.0f}, "
                    f"version {best} £{scores[best]:,.0f}: lower is better, so move the alias.")
    return (f"models:/{SANDBOX_MODEL}@champion is now version {champion.version}: promotion is moving "
            "an alias, and a service that loads by alias follows it.")


q1 = Question("q1", "02", _check_run, hints=[
    "mlflow.set_experiment(\"house-price\"), then `with mlflow.start_run() as run:` and, inside it, "
    "log_params, log_metric, set_tags and mlflow.sklearn.log_model.",
    "The metric: mean_absolute_error(val[TARGET], fitted.predict(val[FEATURES])) (in pounds) as "
    "\"val_mae\"; the tags: mlflow.set_tags(data_lineage(\"data/houses.csv\")).",
    "run_id = run.info.run_id, after the `with` block.",
])

q2 = Question("q2", "02", _check_stage, hints=[
    "dvc stage add -n NAME -d src/report.py -d data/prepared -M reports/data.json python src/report.py "
    "writes the stage into dvc.yaml; the script must exist first.",
    "Then dvc repro: it runs only the new stage, because the others are up to date.",
])

q3 = Question("q3", "02", _check_business, hints=[
    "Load the model back: mlflow.pyfunc.load_model(f\"runs:/{run_id}/model\").",
    "expensive = test[test[\"price\"] >= 600_000]; then the mean absolute error of its predictions.",
    "Log it on the same run: with mlflow.start_run(run_id=run_id): mlflow.log_metric(...).",
])

q4 = Question("q4", "02", _check_champion, hints=[
    "mlflow.register_model(f\"runs:/{run_id}/model\", \"house-price-sandbox\") registers a run's "
    "model; it returns the new version.",
    "Compare the runs' val_mae (client.get_run(run_id).data.metrics), then "
    "client.set_registered_model_alias(\"house-price-sandbox\", \"champion\", version).",
])

QUESTIONS = (q1, q2, q3, q4)
