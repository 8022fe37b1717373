"""Module 02's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
a real workspace: its pipeline, its MLflow store and registry, and a clone of its project."""

import logging
import os
import sys
import warnings

import pytest

from checking import assert_outcome as _assert
from mlops_clinic import stages
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m02 import SANDBOX_MODEL, fresh_sandbox_model, project_copy, q1, q2, q3, q4
from mlops_clinic.workspace import Workspace

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A workspace with module 01's pipeline built, activated for this module's tests."""
    ws = Workspace(tmp_path_factory.mktemp("m02") / "workspace")
    saved, cwd = dict(os.environ), os.getcwd()
    ws.activate()
    stages.ensure("pipeline", ws)
    os.chdir(ws.project)
    sys.path.insert(0, str(ws.project / "src"))
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
    import pandas as pd

    splits = {name: pd.read_csv(f"data/prepared/{name}.csv") for name in ("train", "val", "test")}
    yield ws, splits
    sys.path.remove(str(ws.project / "src"))
    for module in ("model", "lineage"):
        sys.modules.pop(module, None)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(saved)


def track(splits, *, metric="mae", on="val", tags=True, model=True, experiment="house-price",
          settings=None, logged=None, close=True, signature=True, columns=None, kind="random_forest",
          value=None):
    """A random forest run as a participant would log it, with one thing done right or wrong."""
    import mlflow
    import numpy as np
    from lineage import data_lineage
    from mlflow.models import infer_signature
    from model import FEATURES, TARGET, build_model
    from sklearn.metrics import mean_absolute_error

    settings = settings if settings is not None else {"n_estimators": 100, "max_depth": 8}  # as asked
    columns = columns or FEATURES
    train, rows = splits["train"], splits[on]
    mlflow.set_experiment(experiment)
    run = mlflow.start_run(run_name="test")
    fitted = build_model(kind, **settings).fit(train[columns], train[TARGET])
    mlflow.log_params(logged if logged is not None else settings)
    predicted = fitted.predict(rows[columns])
    value = value if value is not None else {"mae": mean_absolute_error(rows[TARGET], predicted),
             "rmse": float(np.sqrt(((rows[TARGET] - predicted) ** 2).mean())),
             "thousands": mean_absolute_error(rows[TARGET], predicted) / 1000,
             "pence": mean_absolute_error(rows[TARGET], predicted) * 100}[metric]
    mlflow.log_metric("val_mae", value)
    if tags:
        mlflow.set_tags(tags if isinstance(tags, dict) else data_lineage("data/houses.csv"))
    if model:
        example = rows[columns].head(3)
        mlflow.sklearn.log_model(fitted, name="model", input_example=example if signature else None,
                                 signature=infer_signature(example, fitted.predict(example)) if signature else None,
                                 pip_requirements=["scikit-learn"], serialization_format="cloudpickle")
    if close:
        mlflow.end_run()
    return run.info.run_id


def test_q1_track_a_run(world):
    import mlflow

    _, splits = world
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(42), Status.WRONG, "run.info.run_id")
    _assert(q1.evaluate("0" * 32), Status.WRONG, "no run with id")
    _assert(q1.evaluate(track(splits, experiment="Default")), Status.WRONG, "mlflow.set_experiment")
    open_run = track(splits, close=False)
    _assert(q1.evaluate(open_run), Status.WRONG, "still open")
    mlflow.end_run()
    _assert(q1.evaluate(track(splits, logged={"trees": 10})), Status.WRONG, "n_estimators")
    _assert(q1.evaluate(track(splits, model=False)), Status.WRONG, "log_model")
    _assert(q1.evaluate(track(splits, signature=False)), Status.WRONG, "signature")
    _assert(q1.evaluate(track(splits, on="train")), Status.WRONG, "training houses")
    _assert(q1.evaluate(track(splits, metric="rmse")), Status.WRONG, "RMSE")
    _assert(q1.evaluate(track(splits, metric="thousands")), Status.WRONG, "thousands")
    _assert(q1.evaluate(track(splits, tags=False)), Status.WRONG, "data_lineage")
    typed = {"data_version": "data-v1.0.0", "data_md5": "0" * 32}
    _assert(q1.evaluate(track(splits, tags=typed)), Status.WRONG, "do not type them")
    _assert(q1.evaluate(track(splits)), Status.CORRECT, "data-v2.0.0")


def _dvc(*args):
    from dvc.cli import main

    at = 2 if args[0] == "stage" else 1  # the flag goes before a stage's command
    assert main([*args[:at], "--quiet", *args[at:]]) == 0, f"dvc {' '.join(args)} failed"


REPORT = """import json, pathlib, pandas
rows = pandas.read_csv("data/prepared/train.csv")
pathlib.Path("reports").mkdir(exist_ok=True)
summary = {"train_houses": len(rows), "train_mean_price": round(float(rows["price"].mean()))}
pathlib.Path("reports/data.json").write_text(json.dumps(summary))
"""


def test_q2_pipeline_stage(world, monkeypatch):
    ws, _ = world
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate("data_report"), Status.WRONG, "no sandbox-02/ copy")
    copy = project_copy(ws)
    monkeypatch.chdir(copy)
    _assert(q2.evaluate("data_report"), Status.WRONG, "has no stage 'data_report'")
    (copy / "src" / "report.py").write_text(REPORT)
    _dvc("stage", "add", "-n", "no_deps", "-M", "reports/data.json", "python src/report.py")
    _assert(q2.evaluate("no_deps"), Status.WRONG, "-d data/prepared")
    _dvc("stage", "add", "-n", "data_report", "-d", "src/report.py", "-d", "data/prepared",
         "-M", "reports/other.json", "--force", "python src/report.py")
    _dvc("remove", "no_deps")
    _assert(q2.evaluate("data_report"), Status.WRONG, "reports/other.json, not reports/data.json")
    _dvc("stage", "add", "-n", "data_report", "-d", "src/report.py", "-d", "data/prepared",
         "-M", "reports/data.json", "--force", "python src/report.py")
    _assert(q2.evaluate("data_report"), Status.WRONG, "dvc repro")
    _dvc("repro")
    _assert(q2.evaluate("data_report"), Status.CORRECT, "up to date")
    (copy / "src" / "report.py").write_text(REPORT + "# changed\n")
    _assert(q2.evaluate("data_report"), Status.WRONG, "dvc repro again")


def test_q3_business_metric(world):
    import mlflow
    import numpy as np
    from model import FEATURES, TARGET

    _, splits = world
    run_id = track(splits)
    fitted = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    test = splits["test"]
    expensive = test[test[TARGET] >= 600_000]
    right = float(np.abs(expensive[TARGET] - fitted.predict(expensive[FEATURES])).mean())
    overall = float(np.abs(test[TARGET] - fitted.predict(test[FEATURES])).mean())
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(____, run_id), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(overall, run_id), Status.WRONG, "all test houses")
    _assert(q3.evaluate(right / 1000, run_id), Status.WRONG, "thousands")
    _assert(q3.evaluate(right + 5000, run_id), Status.WRONG, "is not the MAE")
    _assert(q3.evaluate(right, run_id), Status.WRONG, "log it on that run", "test_mae_over_600k")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("test_mae_over_600k", right)
    _assert(q3.evaluate(right, run_id), Status.CORRECT, "expensive houses")


def test_q4_promote_the_better_model(world):
    import mlflow
    from mlflow import MlflowClient

    _, splits = world
    fresh_sandbox_model()
    client = MlflowClient()
    good = track(splits, settings={"n_estimators": 20, "max_depth": 8})
    worse = track(splits, settings={"n_estimators": 2, "max_depth": 1})
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate("1"), Status.WRONG, "register both runs")
    good_version = mlflow.register_model(f"runs:/{good}/model", SANDBOX_MODEL).version
    worse_version = mlflow.register_model(f"runs:/{worse}/model", SANDBOX_MODEL).version
    _assert(q4.evaluate(good_version), Status.WRONG, "alias 'champion'")
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", worse_version)
    _assert(q4.evaluate(good_version), Status.WRONG, "your answer")
    _assert(q4.evaluate(worse_version), Status.WRONG, "lower is better")
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", good_version)
    _assert(q4.evaluate(good_version), Status.CORRECT, "moving an alias")


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def test_q1_an_mae_logged_in_pence_is_named(world):
    _, splits = world
    _assert(q1.evaluate(track(splits, metric="pence")), Status.WRONG, "pence", "give it in pounds")


def test_q2_dependencies_written_as_dot_slash_paths(world, monkeypatch):
    import yaml

    ws, _ = world
    copy = project_copy(ws)
    monkeypatch.chdir(copy)
    (copy / "src" / "report.py").write_text(REPORT)
    pipeline = yaml.safe_load((copy / "dvc.yaml").read_text())
    pipeline["stages"]["data_report"] = {"cmd": "python src/report.py",
                                         "deps": ["./src/report.py", "./data/prepared"],
                                         "metrics": [{"reports/data.json": {"cache": False}}]}
    (copy / "dvc.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    _dvc("repro")
    _assert(q2.evaluate("data_report"), Status.CORRECT, "up to date")


def test_q3_pence_and_text_are_named(world):
    import mlflow
    import numpy as np
    from model import FEATURES, TARGET

    _, splits = world
    run_id = track(splits)
    fitted = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    expensive = splits["test"][splits["test"][TARGET] >= 600_000]
    right = float(np.abs(expensive[TARGET] - fitted.predict(expensive[FEATURES])).mean())
    _assert(q3.evaluate(right * 100, run_id), Status.WRONG, "pence")
    _assert(q3.evaluate(str(round(right)), run_id), Status.WRONG, "got the text", f"write {round(right)}, not")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("test_mae_over_600k", right / 1000)
    _assert(q3.evaluate(right, run_id), Status.WRONG, "test_mae_over_600k", "thousands of pounds")
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("test_mae_over_600k", right)
    _assert(q3.evaluate(np.float32(right), run_id), Status.CORRECT, "expensive houses")


# --- each question: valid alternatives accepted, plausible mistakes named (issue 15) ----------------


def test_q1_a_model_that_reads_the_price_is_named(world):
    from model import FEATURES, TARGET

    _, splits = world
    outcome = q1.evaluate(track(splits, columns=[*FEATURES, TARGET]))
    _assert(outcome, Status.WRONG, "your model reads the price it should predict", "train[FEATURES]")
    assert "columns are missing" not in outcome.message


def test_q1_more_plausible_mistakes_are_named(world):
    _, splits = world
    _assert(q1.evaluate(track(splits, settings={"n_estimators": 10, "max_depth": 6},
                              logged={"n_estimators": 100, "max_depth": 8})), Status.WRONG,
            "trained with n_estimators = 10", "log the settings you trained with")
    # a faithful run of another forest than the one asked for
    _assert(q1.evaluate(track(splits, settings={"n_estimators": 10, "max_depth": 6})), Status.WRONG,
            "n_estimators = 10, max_depth = 6", "asks for n_estimators = 100 and max_depth = 8")
    _assert(q1.evaluate(track(splits, on="test")), Status.WRONG, "TEST houses")
    _assert(q1.evaluate(track(splits, kind="linear", settings={"alpha": 1.0},
                              logged={"n_estimators": 10, "max_depth": 6})), Status.WRONG, "no such setting")


def test_q1_runs_logged_in_other_ways(world):
    import mlflow
    from mlflow import MlflowClient

    _, splits = world
    run_id = track(splits, logged={"model": "random_forest", "n_estimators": "100", "max_depth": "8"})
    _assert(q1.evaluate(f" {run_id}\n"), Status.CORRECT)
    mlflow.set_experiment("house-price")
    run_id = track(splits)
    MlflowClient().log_metric(run_id, "val_mae", MlflowClient().get_run(run_id).data.metrics["val_mae"] + 0.4)
    _assert(q1.evaluate(run_id), Status.CORRECT)


REPORT_NESTED = """import json, pathlib, pandas
train = pandas.read_csv("data/prepared/train.csv")
pathlib.Path("reports").mkdir(exist_ok=True)
pathlib.Path("reports/data.json").write_text(json.dumps({"train": {"rows": len(train), "mean price": train.price.mean()}}))
"""


def _add_report_stage(copy, script, *deps, flag="-M", name="data_report", output="reports/data.json"):
    (copy / "src" / "report.py").write_text(script)
    arguments = [a for dep in deps for a in ("-d", dep)]
    _dvc("stage", "add", "-n", name, *arguments, flag, output, "--force", "python src/report.py")
    _dvc("repro")


def test_q2_a_stage_of_the_lesson_is_not_a_new_stage(world, monkeypatch):
    ws, _ = world
    copy = project_copy(ws)
    monkeypatch.chdir(copy)
    _assert(q2.evaluate("train"), Status.WRONG, "stage of the lesson's pipeline", "NEW stage")
    _assert(q2.evaluate("evaluate"), Status.WRONG, "stage of the lesson's pipeline")


def test_q2_a_stage_that_writes_the_wrong_numbers_is_named(world, monkeypatch):
    ws, _ = world
    copy = project_copy(ws)
    monkeypatch.chdir(copy)
    wrong_split = REPORT.replace("prepared/train.csv", "prepared/val.csv")
    _add_report_stage(copy, wrong_split, "src/report.py", "data/prepared")
    _assert(q2.evaluate("data_report"), Status.WRONG, "how many training houses", "val split's")
    no_mean = REPORT.replace(', "train_mean_price": round(float(rows["price"].mean()))', "")
    _add_report_stage(copy, no_mean, "src/report.py", "data/prepared")
    _assert(q2.evaluate("data_report"), Status.WRONG, "not their mean price")
    _add_report_stage(copy, REPORT.replace("reports/data.json", "reports/summary.json"), "src/report.py",
                      "data/prepared", output="reports/summary.json")
    _assert(q2.evaluate("data_report"), Status.WRONG, "not reports/data.json")


def test_q2_stages_written_in_other_ways(world, monkeypatch):
    ws, _ = world
    copy = project_copy(ws)
    monkeypatch.chdir(copy)
    # Other key names, nested; the one file of data it reads; an output rather than metrics; another name.
    _add_report_stage(copy, REPORT_NESTED, "src/report.py", "data/prepared/train.csv", flag="-o",
                      name="training_summary")
    _assert(q2.evaluate("training_summary"), Status.CORRECT, "up to date")


def test_q3_more_plausible_mistakes_are_named(world):
    import mlflow
    import numpy as np
    from model import FEATURES, TARGET

    _, splits = world
    run_id = track(splits)
    fitted = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    test = splits["test"]
    predicted = fitted.predict(test[FEATURES])
    by_prediction = float(np.abs(test[TARGET] - predicted)[predicted >= 600_000].mean())
    _assert(q3.evaluate(by_prediction, run_id), Status.WRONG, "PRICES at £600,000", "true price")
    reads_price = track(splits, columns=[*FEATURES, TARGET])
    _assert(q3.evaluate(100_000, reads_price), Status.WRONG, "reads the price it should predict")


def test_q3_other_ways_of_measuring(world):
    import mlflow
    import pandas as pd
    from model import FEATURES, TARGET
    from sklearn.metrics import mean_absolute_error

    _, splits = world
    run_id = track(splits)
    pyfunc = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    expensive = splits["test"].query("price >= 600000")
    right = mean_absolute_error(expensive[TARGET], pyfunc.predict(expensive[FEATURES]))
    mlflow.MlflowClient().log_metric(run_id, "test_mae_over_600k", right)
    _assert(q3.evaluate(right, run_id), Status.CORRECT)
    _assert(q3.evaluate(pd.Series([right]).round(2).item(), run_id), Status.CORRECT)


def test_q4_the_decision_is_checked_against_the_models(world):
    import mlflow
    from mlflow import MlflowClient

    _, splits = world
    fresh_sandbox_model()
    client = MlflowClient()
    good = track(splits, settings={"n_estimators": 20, "max_depth": 8})
    worse = track(splits, settings={"n_estimators": 2, "max_depth": 1}, value=1.0)  # a typed val_mae
    good_version = mlflow.register_model(f"runs:/{good}/model", SANDBOX_MODEL).version
    worse_version = mlflow.register_model(f"runs:/{worse}/model", SANDBOX_MODEL).version
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", worse_version)
    _assert(q4.evaluate(worse_version), Status.WRONG, "lower is better")
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", good_version)
    _assert(q4.evaluate(int(good_version)), Status.CORRECT, "moving an alias")


def test_q4_registered_through_the_client_and_answered_in_other_forms(world):
    import numpy as np
    from mlflow import MlflowClient

    _, splits = world
    fresh_sandbox_model()
    client = MlflowClient()
    good = track(splits, settings={"n_estimators": 20, "max_depth": 8})
    worse = track(splits, settings={"n_estimators": 2, "max_depth": 1})
    client.create_registered_model(SANDBOX_MODEL)  # the client's way, step by step
    logged = {run: client.get_run(run).outputs.model_outputs[0].model_id for run in (worse, good)}
    versions = [client.create_model_version(SANDBOX_MODEL, f"models:/{logged[run]}", run_id=run).version
                for run in (worse, good)]
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", versions[1])
    _assert(q4.evaluate(np.int64(versions[1])), Status.CORRECT, "moving an alias")
    _assert(q4.evaluate(f" {versions[1]}\n"), Status.CORRECT)


def test_q4_one_run_registered_twice_is_named(world):
    import mlflow
    from mlflow import MlflowClient

    _, splits = world
    fresh_sandbox_model()
    good = track(splits, settings={"n_estimators": 20, "max_depth": 8})
    first = mlflow.register_model(f"runs:/{good}/model", SANDBOX_MODEL).version
    mlflow.register_model(f"runs:/{good}/model", SANDBOX_MODEL)
    MlflowClient().set_registered_model_alias(SANDBOX_MODEL, "champion", first)
    _assert(q4.evaluate(first), Status.WRONG, "same run", "linear run")


# --- the open question: choose a model for the agents' constraints (issue 15) --------------------------

REASONS = ("Monotone boosting is as close as gradient boosting on the 135 expensive validation houses "
           "(about £82,000 off) and never values a bigger house lower, so an agent can explain it.")
MONOTONE = {"max_iter": 300, "learning_rate": 0.05, "max_depth": 3}
_FITTED = {}

ALIAS = "the alias 'candidate' is on the version chosen"
TRACEABLE = "its run is traceable"
BEATS_LINEAR = "on unseen houses priced at £600,000 or more, it beats the linear model"
MONOTONIC = "it never values a bigger house lower"
ON_VALIDATION = "the choice was made on validation"


def _missed(outcome):
    """The rules a candidate missed, by the start of their rubric line, with their notes."""
    starts = (ALIAS, TRACEABLE, BEATS_LINEAR, MONOTONIC, ON_VALIDATION, "says why")
    return {next(s for s in starts if r.says.startswith(s)): r.note for r in outcome.rules if not r.met}


def _fitted(splits, kind, settings):
    """One fitted model per kind and settings for the whole module: boosting takes seconds to fit."""
    from model import FEATURES, TARGET, build_model

    key = (kind if isinstance(kind, str) else id(kind), tuple(sorted(settings.items())))
    if key not in _FITTED:
        model = build_model(kind, **settings) if isinstance(kind, str) else kind
        _FITTED[key] = model.fit(splits["train"][FEATURES], splits["train"][TARGET])
    return _FITTED[key]


def candidate(splits, kind="monotone_boosting", settings=MONOTONE, *, expensive_on=("val",),
              name="val_mae_over_600k", tags=True, alias=True):
    """A candidate as a participant would track and register it; returns its version."""
    import mlflow
    from lineage import data_lineage
    from mlflow import MlflowClient
    from model import FEATURES, TARGET
    from sklearn.metrics import mean_absolute_error

    fitted = _fitted(splits, kind, settings)
    mlflow.set_experiment("house-price")
    with mlflow.start_run(run_name="open question") as run:
        mlflow.log_params({"model": kind if isinstance(kind, str) else "custom", **settings})
        val = splits["val"]
        mlflow.log_metric("val_mae", mean_absolute_error(val[TARGET], fitted.predict(val[FEATURES])))
        for split in expensive_on:
            rows = splits[split][splits[split][TARGET] >= 600_000]
            metric = name if split == "val" else f"{split}_mae_over_600k"
            mlflow.log_metric(metric, mean_absolute_error(rows[TARGET], fitted.predict(rows[FEATURES])))
        if tags:
            mlflow.set_tags(data_lineage("data/houses.csv"))
        mlflow.sklearn.log_model(fitted, name="model", pip_requirements=["scikit-learn"],
                                 serialization_format="cloudpickle")
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", SANDBOX_MODEL).version
    if alias:
        MlflowClient().set_registered_model_alias(SANDBOX_MODEL, "candidate", version)
    return version


def test_q5_not_attempted_and_the_solution(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    _assert(q5.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q5.evaluate(____), Status.NOT_ATTEMPTED)  # the reasons forgotten altogether
    _assert(q5.evaluate(____, REASONS), Status.NOT_ATTEMPTED)
    version = candidate(splits)
    outcome = q5.evaluate(version, REASONS)
    _assert(outcome, Status.CORRECT, "6 of 6 rules met (8 of 8 points)")
    assert outcome.justification == REASONS
    _assert(q5.evaluate(int(version), REASONS), Status.CORRECT)


def test_q5_other_settings_metric_names_and_a_test_figure_for_the_report_are_also_good(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    version = candidate(splits, settings={"max_iter": 200, "learning_rate": 0.1},
                        expensive_on=("val", "test"), name="expensive_val_mae")
    _assert(q5.evaluate(version, REASONS), Status.CORRECT)


def test_q5_a_hand_built_constrained_model_is_also_good(world):
    from model import INCREASING, preprocessing
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline

    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    prepare = preprocessing().set_params(categories__sparse_output=False, verbose_feature_names_out=False)
    prepare.set_output(transform="pandas")
    model = Pipeline([("prepare", prepare), ("regressor", HistGradientBoostingRegressor(
        max_iter=300, learning_rate=0.05, monotonic_cst=INCREASING, random_state=7))])
    version = candidate(splits, kind=model, settings={"max_iter": 300, "learning_rate": 0.05})
    _assert(q5.evaluate(version, REASONS), Status.CORRECT)


def test_q5_a_random_forest_values_a_bigger_house_lower(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    version = candidate(splits, "random_forest", {"n_estimators": 100, "max_depth": 8})
    missed = _missed(q5.evaluate(version, REASONS))
    assert list(missed) == [MONOTONIC], missed
    assert "unseen houses, 10% more floor area LOWERS its estimate" in missed[MONOTONIC]
    assert "no agent can explain that to a seller" in missed[MONOTONIC]


def test_q5_the_linear_model_or_a_log_price_ridge_does_not_beat_the_linear_model(world):
    from model import preprocessing
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    import numpy as np

    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    missed = _missed(q5.evaluate(candidate(splits, "linear", {"alpha": 1.0}), REASONS))
    assert list(missed) == [BEATS_LINEAR], missed
    assert "is not clearly above zero. Compare candidates on the expensive validation houses." in missed[BEATS_LINEAR]
    log_ridge = TransformedTargetRegressor(Pipeline([("prepare", preprocessing()), ("regressor", Ridge())]),
                                           func=np.log, inverse_func=np.exp)
    missed = _missed(q5.evaluate(candidate(splits, log_ridge, {"alpha": 1.0}), REASONS))
    assert list(missed) == [BEATS_LINEAR], missed


def test_q5_chosen_on_the_test_houses_is_named(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    version = candidate(splits, expensive_on=("test",))
    missed = _missed(q5.evaluate(version, REASONS))
    assert list(missed) == [ON_VALIDATION], missed
    assert missed[ON_VALIDATION].startswith("the chosen run's test_mae_over_600k is the error on the TEST houses")
    version = candidate(splits, expensive_on=())
    missed = _missed(q5.evaluate(version, REASONS))
    assert list(missed) == [ON_VALIDATION], missed
    assert missed[ON_VALIDATION].startswith("the chosen run has no metric with its MAE on the validation houses")


def test_q5_no_alias_or_the_alias_elsewhere_is_named(world):
    from mlflow import MlflowClient

    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    version = candidate(splits, alias=False)
    missed = _missed(q5.evaluate(version, REASONS))
    assert missed == {ALIAS: "no version of house-price-sandbox has the alias 'candidate': "
                             "client.set_registered_model_alias(\"house-price-sandbox\", \"candidate\", chosen)."}
    other = candidate(splits, alias=False)
    MlflowClient().set_registered_model_alias(SANDBOX_MODEL, "candidate", other)
    missed = _missed(q5.evaluate(version, REASONS))
    assert list(missed) == [ALIAS] and f"is on version {other}, not on version {version}" in missed[ALIAS]


def test_q5_a_run_without_its_data_lineage_is_named(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    missed = _missed(q5.evaluate(candidate(splits, tags=False), REASONS))
    assert list(missed) == [TRACEABLE], missed
    assert missed[TRACEABLE].startswith("the chosen run's tag data_version is None")


def test_q5_short_reasons_and_answers_of_the_wrong_kind(world):
    from mlops_clinic.checks.m02 import q5

    _, splits = world
    fresh_sandbox_model()
    version = candidate(splits)
    short = q5.evaluate(version, "monotone, it is good")
    _assert(short, Status.WRONG, "your reasons have 4 word(s)")
    assert [r.met for r in short.rules] == [True] * 5 + [False]
    _assert(q5.evaluate(["1"], REASONS), Status.WRONG, "expected a version number such as 3", "got a list of one item")
    from mlflow import MlflowClient

    entry = MlflowClient().get_model_version(SANDBOX_MODEL, version)  # register_model's answer, whole
    _assert(q5.evaluate(entry, REASONS), Status.WRONG, "take its .version")
    for wrong in (["1"], "the monotone one", 99):
        outcome = q5.evaluate(wrong, REASONS)
        assert outcome.status is Status.WRONG and "Traceback" not in outcome.text(), outcome.text()
        assert [r.met for r in outcome.rules] == [False] * 5 + [True]
    _assert(q5.evaluate("99", REASONS), Status.WRONG, "house-price-sandbox has no version 99")
