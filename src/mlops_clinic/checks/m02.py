"""Module 02 questions: track a run, extend the pipeline, measure the business metric where it
matters, promote the better of two models.

The checkers read the participant's real MLflow store and registry (the workspace's) and, for the
pipeline stage, `sandbox-02/`: a clone of the lesson project, so the project that later modules
build on is never changed by an exercise. Exercises register models under `house-price-sandbox`,
never under `house-price`, whose champion is served from module 03 on. The open question tries
the participant's chosen model on houses generated at check time, which no split holds.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlops_clinic.checks.core import (
    Question, Wrong, as_number, as_text, as_version, describe, pounds, refuse_wrong_unit, relative_path,
    run_participant, show_number,
)
from mlops_clinic.checks.open_questions import OpenQuestion, Rule
from mlops_clinic.data.schema import TARGET
from mlops_clinic.data.schema import FEATURES as _FEATURES
from mlops_clinic.names import EXPERIMENT, SANDBOX_MODEL

SANDBOX = "sandbox-02"
REPORT = "reports/data.json"  # what the new stage of question 2 writes
EXPENSIVE = 600_000
FOREST = {"n_estimators": 100, "max_depth": 8}  # the settings exercise 1 asks for
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


def _predict(model, rows):
    """The model's prices for `rows`, as floats. A model trained on other columns than the houses'
    features is named (the price among them: it reads what it should predict) instead of failing
    with scikit-learn's "columns are missing"."""
    import numpy as np

    trained_on = [str(name) for name in getattr(model, "feature_names_in_", FEATURES)]
    if TARGET in trained_on:
        raise Wrong(f"your model reads the price it should predict: it was trained with the column "
                    f"'{TARGET}' among its inputs. Fit it on train[FEATURES] (the features without "
                    "the price), then log the run again.")
    unknown = [name for name in trained_on if name not in rows.columns]
    if unknown:
        raise Wrong(f"your model was trained on columns that houses do not have "
                    f"({', '.join(unknown)}): fit it on train[FEATURES].")
    predicted = run_participant(model.predict, (rows[trained_on],), what="your model's predict",
                                advice="Fit it on train[FEATURES] and log it again.")
    return np.asarray(predicted, dtype=float)


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
    _params_are_the_models(params, model)
    _settings_are_the_exercises(model)
    logged = run.data.metrics["val_mae"]
    val, train = _split("val"), _split("train")
    predicted = _predict(model, val)
    true_mae = _mae(val[TARGET], predicted)
    if not _close(logged, true_mae):
        if _close(logged, _mae(train[TARGET], _predict(model, train))):
            raise Wrong(f"val_mae ({pounds(logged)}) is the error on the training houses; measure "
                        f"it on data/prepared/val.csv (£{true_mae:,.0f}).")
        test = _split("test")
        if _close(logged, _mae(test[TARGET], _predict(model, test))):
            raise Wrong(f"val_mae ({pounds(logged)}) is the error on the TEST houses, which stay "
                        f"untouched until the end; measure it on data/prepared/val.csv (£{true_mae:,.0f}).")
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
            raise Wrong(f"the run has no tag {key!r}: tag the run with data_lineage() of the data "
                        "file it trained on (it gives the tags; mlflow.set_tags takes them), as "
                        "the lesson's training run does.")
        if tags[key] != lineage[key]:
            raise Wrong(f"the tag {key} is {tags[key]!r} but the data the model was trained on is "
                        f"{lineage[key]!r}: take the tags from data_lineage(), do not type them.")
    return (f"the run records its settings, a validation MAE of £{logged:,.0f}, the model with its "
            f"signature, and the data release {tags['data_version']}: anyone can trace it back.")


def _params_are_the_models(params: dict, model) -> None:
    """The logged n_estimators and max_depth are the settings of the model the run logged."""
    actual = model.get_params()
    for name in ("n_estimators", "max_depth"):
        keys = [key for key in actual if key == name or key.endswith(f"__{name}")]
        if not keys:
            raise Wrong(f"the run logs {name}, but its model has no such setting: train a random "
                        "forest, build_model(\"random_forest\", n_estimators=..., max_depth=...).")
        if str(actual[keys[0]]) != str(params[name]).strip():
            raise Wrong(f"the run logs {name} = {params[name]}, but its model was trained with "
                        f"{name} = {actual[keys[0]]}: log the settings you trained with "
                        "(mlflow.log_params(settings) with the same dict you pass to build_model).")


def _settings_are_the_exercises(model) -> None:
    """The forest the exercise asks for: runs of the room are then compared like with like."""
    actual = {key.rsplit("__", 1)[-1]: value for key, value in model.get_params().items()}
    differ = [f"{name} = {actual.get(name)}" for name, value in FOREST.items() if actual.get(name) != value]
    if differ:
        asked = " and ".join(f"{name} = {value}" for name, value in FOREST.items())
        raise Wrong(f"the run's forest was trained with {', '.join(differ)}; the exercise asks for "
                    f"{asked}. Train that forest and track it, so that its MAE compares with the "
                    "lesson's and your neighbours'.")


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
    lesson = _lesson_stages()
    if stage_name in lesson:
        raise Wrong(f"{stage_name} is a stage of the lesson's pipeline ({', '.join(lesson)}); the "
                    f"question asks for a NEW stage that writes {REPORT}: dvc stage add -n data_report ...")
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
        raise Wrong(f"the stage does not declare what it writes: -M {REPORT} for a metrics file "
                    "(or -o for other outputs).")
    written = {relative_path(str(out), path) for out in _paths(stage.get("outs")) + _paths(stage.get("metrics"))}
    if REPORT not in written:
        raise Wrong(f"the stage declares {', '.join(sorted(written))}, not {REPORT}: the question "
                    f"asks for the metrics file {REPORT} (-M {REPORT}).")
    lock = yaml.safe_load((path / "dvc.lock").read_text()) if (path / "dvc.lock").is_file() else {}
    if stage_name not in (lock or {}).get("stages", {}):
        raise Wrong(f"the stage has not run yet: dvc repro (in {SANDBOX}/).")
    from dvc.repo import Repo

    with Repo(str(path)) as repo:
        changed = repo.status()
    if changed:
        raise Wrong(f"some stages changed since they last ran ({', '.join(changed)}): run "
                    "dvc repro again.")
    _report_has_the_numbers(path)
    return (f"dvc repro ran {stage_name} and found prepare, train and evaluate up to date: "
            "a new step costs only its own run.")


def _lesson_stages() -> list[str]:
    """The stages of the lesson's pipeline (the project the sandbox was cloned from)."""
    import yaml

    pipeline = _workspace().project / "dvc.yaml"
    return list((yaml.safe_load(pipeline.read_text()) or {}).get("stages", {})) if pipeline.is_file() else []


def _paths(entries) -> list[str]:
    """The paths of a stage's outs or metrics: each is a path, or {path: options}."""
    return [next(iter(entry)) if isinstance(entry, dict) else str(entry) for entry in entries or []]


def _numbers_in(value) -> list[float]:
    """Every number in a JSON value, however nested (the key names are the participant's)."""
    import numbers

    if isinstance(value, dict):
        return [n for item in value.values() for n in _numbers_in(item)]
    if isinstance(value, list):
        return [n for item in value for n in _numbers_in(item)]
    return [float(value)] if isinstance(value, numbers.Real) and not isinstance(value, bool) else []


def _report_has_the_numbers(path: Path) -> None:
    """reports/data.json holds the number of training houses and their mean price."""
    import pandas as pd

    report = path / REPORT
    try:
        written = _numbers_in(json.loads(report.read_text()))
    except (OSError, ValueError) as error:
        raise Wrong(f"{REPORT} cannot be read as JSON ({type(error).__name__}): write it with "
                    "json.dumps({...}).") from None
    train = pd.read_csv(path / "data" / "prepared" / "train.csv")
    houses, mean = len(train), float(train[TARGET].mean())
    if not any(_close(n, houses, 0) for n in written):
        others = {len(pd.read_csv(path / "data" / "prepared" / f"{split}.csv")): split for split in ("val", "test")}
        named = next((f" ({show_number(n)} is the {others[int(n)]} split's)" for n in written
                      if float(n).is_integer() and int(n) in others), "")
        raise Wrong(f"{REPORT} does not say how many training houses there are ({houses:,}){named}: "
                    "count the rows of data/prepared/train.csv.")
    if not any(_close(n, mean) for n in written):
        raise Wrong(f"{REPORT} has the number of training houses but not their mean price "
                    f"({pounds(mean)}): add train['price'].mean() to it, then dvc repro.")


def _maes(model, split: str) -> tuple[float, float]:
    """(MAE on all houses of the split, MAE on those priced at £600,000 or more)."""
    import numpy as np

    rows = _split(split)
    errors = (rows[TARGET] - _predict(model, rows)).abs()
    return float(errors.mean()), float(errors[rows[TARGET] >= EXPENSIVE].mean())


def _mae_of_the_predicted_expensive(model) -> float:
    """The mistake of keeping the houses the model PRICES at £600,000 or more."""
    rows = _split("test")
    predicted = _predict(model, rows)
    kept = predicted >= EXPENSIVE
    return _mae(rows[TARGET][kept], predicted[kept]) if kept.any() else float("nan")


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
        if _close(value, _mae_of_the_predicted_expensive(model)):
            raise Wrong("that keeps the houses your model PRICES at £600,000 or more; keep those "
                        "whose true price is: test[test['price'] >= 600_000].")
        raise Wrong(f"{pounds(value)} is not the MAE of your run's model on the test houses priced "
                    "at £600,000 or more.")
    logged = run.data.metrics.get("test_mae_over_600k")
    if logged is None:
        raise Wrong("the number is right; now log it on that run as the metric test_mae_over_600k: "
                    "mlflow.start_run takes the id of an existing run and reopens it.")
    if not _close(logged, expected):
        refuse_wrong_unit(logged, expected,
                          subject=f"the run's metric test_mae_over_600k ({show_number(logged)})")
        raise Wrong(f"the run's metric test_mae_over_600k is {pounds(logged)}, not £{expected:,.0f}.")
    return (f"£{expected:,.0f} on the expensive houses against £{overall:,.0f} on all test houses: "
            "an average can hide where a model is weakest.")


def _version_val_mae(version: str) -> float:
    """A registered version's MAE on the validation houses, measured on its model: the decision
    is checked against what the models do, not against numbers that could be typed."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        model = mlflow.sklearn.load_model(f"models:/{SANDBOX_MODEL}/{version}")
    except (MlflowException, OSError):
        raise Wrong(f"version {version} of {SANDBOX_MODEL} has no scikit-learn model to compare: "
                    "register runs that logged one with mlflow.sklearn.log_model.") from None
    val = _split("val")
    return _mae(val[TARGET], _predict(model, val))


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
    if len({version.run_id for version in versions}) < 2:
        raise Wrong(f"every version of {SANDBOX_MODEL} comes from the same run: register the two "
                    "candidates, the random forest's run and the linear run.")
    scores = {version.version: _version_val_mae(version.version) for version in versions}
    best = min(scores, key=scores.get)
    if scores[champion.version] > scores[best] + 1:
        raise Wrong(f"version {champion.version} has a validation MAE of £{scores[champion.version]:,.0f}, "
                    f"version {best} £{scores[best]:,.0f}: lower is better, so move the alias.")
    return (f"models:/{SANDBOX_MODEL}@champion is now version {champion.version}: promotion is moving "
            "an alias, and a service that loads by alias follows it.")


# --- the open question: choose a model for the agents' constraints --------------------------------------

CANDIDATE = "candidate"
UNSEEN_SEED = 7202  # not a seed of the lesson's data: houses no model has seen
UNSEEN_ROWS = 3_000
BIGGER = 1.10  # the same house with 10% more floor area
BOOTSTRAP_SEED, BOOTSTRAP_DRAWS = 7203, 1_000


@dataclass(frozen=True)
class Candidate:
    """What the rules inspect: the version named, its run and its model."""

    version: str
    run: object
    model: object


def _candidate(version) -> Candidate:
    """The participant's answer as the registered version it names, with its run and its model."""
    import mlflow
    from mlflow.exceptions import MlflowException

    version = as_version(version)
    try:
        entry = _client().get_model_version(SANDBOX_MODEL, version)
    except MlflowException:
        raise Wrong(f"{SANDBOX_MODEL} has no version {version}: register the chosen run's model with "
                    f"mlflow.register_model(f\"runs:/{{run_id}}/model\", \"{SANDBOX_MODEL}\").") from None
    if not entry.run_id:
        raise Wrong(f"version {version} does not come from a run: register a run's model, so that its "
                    "settings, metrics and data can be traced.")
    try:
        model = mlflow.sklearn.load_model(f"models:/{SANDBOX_MODEL}/{version}")
    except (MlflowException, OSError):
        raise Wrong(f"version {version} has no scikit-learn model: log it with mlflow.sklearn.log_model.") from None
    return Candidate(version, _client().get_run(entry.run_id), model)


@functools.lru_cache(maxsize=1)
def unseen_houses():
    """Houses of the current market that no split holds, generated at check time from a fixed seed."""
    from mlops_clinic.data.generate import generate_houses

    return generate_houses(UNSEEN_ROWS, release="new", seed=UNSEEN_SEED, id_start=970_001)


def _rule_alias(work: Candidate) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        holder = _client().get_model_version_by_alias(SANDBOX_MODEL, CANDIDATE)
    except MlflowException:
        return (f"no version of {SANDBOX_MODEL} has the alias '{CANDIDATE}': "
                f"client.set_registered_model_alias(\"{SANDBOX_MODEL}\", \"{CANDIDATE}\", chosen).")
    if str(holder.version) != work.version:
        return (f"the alias '{CANDIDATE}' is on version {holder.version}, not on version {work.version} "
                "that you chose: move it (set_registered_model_alias moves an alias).")
    return None


def _rule_traceable(work: Candidate) -> str | None:
    """The run says how the model was made (settings), how good it is on validation, and on what data."""
    params, metrics, tags = work.run.data.params, work.run.data.metrics, work.run.data.tags
    if not params:
        return "the chosen run logs no parameters: mlflow.log_params(settings), with the model's name."
    if "val_mae" not in metrics:
        return "the chosen run has no metric 'val_mae': log its MAE in pounds on the validation houses."
    val = _split("val")
    true_mae = _mae(val[TARGET], _predict(work.model, val))
    if not _close(metrics["val_mae"], true_mae):
        return (f"the chosen run's val_mae ({pounds(metrics['val_mae'])}) is not its model's MAE on the "
                f"validation houses (£{true_mae:,.0f}): log the metric of the model you registered.")
    lineage = _project_lineage()
    for key in ("data_version", "data_md5"):
        if tags.get(key) != lineage[key]:
            return (f"the chosen run's tag {key} is {tags.get(key)!r}, not {lineage[key]!r}: tag it "
                    "with data_lineage() of the data file it trained on, which ties it to its data.")
    return None


def _linear_reference():
    """The linear model of question 4 (the project's build_model("linear"), alpha 1), trained now."""
    import importlib.util

    project_model = _workspace().project / "src" / "model.py"
    spec = importlib.util.spec_from_file_location("clinic_project_model", project_model)
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    train = _split("train")
    return model.build_model("linear", alpha=1.0).fit(train[FEATURES], train[TARGET])


def _gain_interval(reference_errors, errors) -> tuple[float, float, float]:
    """The mean gain over the reference (its error minus ours) and a 95% paired bootstrap interval."""
    import numpy as np

    gains = np.asarray(reference_errors, dtype=float) - np.asarray(errors, dtype=float)
    draws = np.random.default_rng(BOOTSTRAP_SEED).integers(0, len(gains), (BOOTSTRAP_DRAWS, len(gains)))
    means = gains[draws].mean(axis=1)
    return float(gains.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _rule_beats_linear(work: Candidate) -> str | None:
    houses = unseen_houses()
    expensive = houses[houses[TARGET] >= EXPENSIVE]
    errors = (expensive[TARGET] - _predict(work.model, expensive)).abs()
    reference = (expensive[TARGET] - _predict(_linear_reference(), expensive)).abs()
    gain, low, high = _gain_interval(reference, errors)
    if low <= 0:
        return (f"on {len(expensive):,} unseen houses priced at £600,000 or more it is off by "
                f"£{errors.mean():,.0f} on average, the linear model by £{reference.mean():,.0f}: its gain "
                f"(£{low:,.0f} to £{high:,.0f}, 95% bootstrap) is not clearly above zero. Compare "
                "candidates on the expensive validation houses.")
    return None


def _rule_monotone(work: Candidate) -> str | None:
    houses = unseen_houses()
    bigger = houses.assign(area=houses["area"] * BIGGER)
    change = _predict(work.model, bigger) - _predict(work.model, houses)
    lower = change < -1
    if lower.any():
        return (f"on {int(lower.sum()):,} of {len(houses):,} unseen houses, 10% more floor area LOWERS its "
                f"estimate (by up to £{-change.min():,.0f}): no agent can explain that to a seller. "
                "Look for a model that is constrained to follow the area (the project's src/model.py).")
    return None


def _rule_chosen_on_validation(work: Candidate) -> str | None:
    """The run holds the business metric on the validation houses: the figure the choice rests on."""
    val, test = _split("val"), _split("test")
    wanted = _mae(*_expensive_errors(work.model, val))
    metrics = work.run.data.metrics
    if any(_close(value, wanted) for value in metrics.values()):
        return None
    on_test = _mae(*_expensive_errors(work.model, test))
    named = next((name for name, value in metrics.items() if _close(value, on_test)), None)
    if named:
        return (f"the chosen run's {named} is the error on the TEST houses over £600,000: choose on the "
                "validation houses and keep the test houses for the end. Log the MAE on "
                f"the validation houses priced at £600,000 or more (£{wanted:,.0f}).")
    return ("the chosen run has no metric with its MAE on the validation houses priced at £600,000 or "
            f"more (£{wanted:,.0f}): log it, under any name, since your choice rests on it.")


def _expensive_errors(model, rows):
    """(true prices, estimates) of the houses of `rows` priced at £600,000 or more."""
    kept = rows[rows[TARGET] >= EXPENSIVE]
    return kept[TARGET], _predict(model, kept)


q1 = Question("q1", "02", _check_run, hints=[
    "The lesson's `track` function (section 'Track a run') does all of this for one candidate: read "
    "it, then do the same for a random forest with the question's settings.",
    "Inside `with mlflow.start_run(...) as run:` fit the model from build_model, then log_params (a "
    "dict of settings), log_metric (a name and a number: the validation MAE in pounds, from "
    "mean_absolute_error(true, predicted)), set_tags (a dict: data_lineage(path) returns one) and "
    "mlflow.sklearn.log_model(model, name=..., signature=...).",
    "The object that `with mlflow.start_run() as run:` gives you still holds the run's details "
    "after the block ends: its info (a RunInfo) has the run's id. The lesson's `track` returns it "
    "that way.",
])

q2 = Question("q2", "02", _check_stage, hints=[
    "Three steps: write the script src/report.py, declare the stage with `dvc stage add`, then "
    "`dvc repro`, which runs only the new stage because the others are up to date.",
    "Path(path).write_text(text) saves a string as a file. The script reads data/prepared/train.csv "
    "and writes the number of houses and their mean price to reports/data.json, with json.dumps.",
    "`dvc stage add` takes -n for the name, -d for each input (the script and the data it reads), "
    "-M for a metrics file that git keeps, then the command. Module 01 added its evaluate stage that "
    "way (section 'The pipeline as code').",
])

q3 = Question("q3", "02", _check_business, hints=[
    "A run's model loads back from a URI of the form runs:/<run id>/<model name>, with "
    "mlflow.sklearn.load_model or mlflow.pyfunc.load_model (the lesson loaded the champion from a "
    "models:/ URI in section 'The champion comes from the pipeline').",
    "A True/False condition in square brackets keeps the matching rows, frame[frame['column'] >= "
    "value]; then mean_absolute_error(true prices, predicted prices) on those rows only.",
    "mlflow.start_run(run_id=...) reopens a finished run instead of starting a new one: "
    "mlflow.log_metric inside that `with` block adds the metric to it.",
])

q4 = Question("q4", "02", _check_champion, hints=[
    "mlflow.register_model(model_uri, name) registers a run's model as the next version of `name` "
    "and returns a ModelVersion, whose .version is the version number.",
    "client.get_run(run_id).data.metrics is a dict of a run's metrics: compare the two runs' "
    "validation MAE (lower is better).",
    "client.set_registered_model_alias(name, alias, version) points an alias at one version, as the "
    "lesson did for house-price (section 'The champion comes from the pipeline'). Here the name is "
    "the sandbox model's, and the version is the winner's.",
])

q5 = OpenQuestion(
    "q5", "02", work=_candidate,
    rules=[
        Rule(f"the alias '{CANDIDATE}' is on the version chosen", _rule_alias),
        Rule("its run is traceable: its settings, its true validation MAE and its data lineage tags",
             _rule_traceable),
        Rule("on unseen houses priced at £600,000 or more, it beats the linear model by more than the "
             "noise (a 95% bootstrap interval of the gain above zero)", _rule_beats_linear, points=2),
        Rule("it never values a bigger house lower: on unseen houses, 10% more floor area never lowers "
             "its estimate", _rule_monotone, points=2),
        Rule("the choice was made on validation: the run logs its MAE on the validation houses priced "
             "at £600,000 or more", _rule_chosen_on_validation),
    ],
    look_for=[
        "the candidates compared, with their validation MAE on the expensive houses",
        "why the chosen model can be explained to a seller (a bigger house is never valued lower), "
        "and what that constraint cost in pounds, if anything",
        "why the test houses were not used to choose",
        "what they would watch after release (error on expensive houses, new market)",
    ],
    hints=[
        "Two needs: close estimates on expensive houses, and estimates an agent can explain to a "
        "seller. Which of the project's models could meet both? Try a few on the validation houses.",
        "Measure each candidate's MAE on the validation houses priced at £600,000 or more, and try "
        "whether a bigger copy of a house (more area) ever gets a lower estimate.",
        "The method: question 1's run (log_params, log_metric, set_tags, log_model) for each candidate; "
        "the models are in the project's src/model.py (read its docstrings); then register and alias "
        "as in question 4, with the alias 'candidate'.",
    ])

QUESTIONS = (q1, q2, q3, q4, q5)
