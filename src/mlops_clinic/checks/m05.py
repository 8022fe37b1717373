"""Module 05 questions: which columns drifted and by which test, the error with the labels known
on a day, a retraining rule as code, and a promotion decided on the same holdout.

The checkers recompute the truth from the participant's workspace: the inference log, the data
release the serving model was trained on (through DVC), and the MLflow registry. The promotion
exercise works on `house-price-sandbox`, never on `house-price`, whose champion the service serves.
"""

from __future__ import annotations

from mlops_clinic.checks.core import (
    NotAttempted, Question, Wrong, as_boolean, as_count, as_number, as_version, describe, is_blank,
    name_key, participant_namespace, pounds, refuse_wrong_unit, run_participant,
)
from mlops_clinic.names import EXPERIMENT, SANDBOX_MODEL

SMALL_REFERENCE = {"n": 800, "random_state": 5}  # q1: a team that kept only 800 reference houses
Q1_DAYS = (1, 3)  # q1: the first three days of covariate_drift
Q2_WINDOW, Q2_TODAY = (7, 8), 12  # q2: concept_drift requests of days 7-8, labels known on day 12
RULE = {"min_labels": 100, "mae_increase": 0.20, "drift_share": 0.5}  # q3


# --- the data the questions use (the exercise notebook builds the same frames) -------------------


def _served_version() -> str:
    from mlops_clinic.monitoring import production, served_version

    return served_version(production("stable"))


def _served_and_reference():
    from mlops_clinic.monitoring import reference_data

    served = _served_version()
    return served, reference_data(served)


def q1_frames():
    """(reference, current) of question 1: 800 reference houses; covariate_drift days 1-3."""
    from mlops_clinic.data import FEATURES
    from mlops_clinic.monitoring import production

    _, reference = _served_and_reference()
    current = production("covariate_drift")
    current = current[current["day"].between(*Q1_DAYS)]
    return reference.sample(**SMALL_REFERENCE)[list(FEATURES)], current[list(FEATURES)]


def champion_test_mae() -> float:
    """The test MAE of the version that answered the logged traffic (module 02's yardstick)."""
    from mlops_clinic.monitoring import training_run

    return float(training_run(_served_version()).data.metrics["test_mae"])


# --- q1: which columns drifted, by which test --------------------------------------------------------


def _drift_truth(reference, current):
    import warnings

    from evidently import Report
    from evidently.presets import DataDriftPreset

    from mlops_clinic.monitoring import drift_results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=current, reference_data=reference)
    return drift_results(snapshot)


def _check_drifted(drifted) -> str:
    import pandas as pd

    if isinstance(drifted, pd.Series):
        drifted = drifted.to_dict()  # {column: test} as a Series indexed by column: the same answer
    if isinstance(drifted, (list, tuple, set)):
        raise Wrong("expected a dict {column: test name}; a list gives the columns but not the "
                    "test that found each: build it from the ValueDrift metrics' config.")
    if not isinstance(drifted, dict):
        raise Wrong(f"expected a dict {{column: test name}}, got {describe(drifted)}.")
    truth = _drift_truth(*q1_frames())
    expected = {column: row.test for column, row in truth.iterrows() if row.drifted}
    unknown = sorted(set(drifted) - set(truth.index), key=str)
    if unknown:
        raise Wrong(f"{', '.join(map(str, unknown))} is not a feature column: the keys are column "
                    "names such as 'area'.")
    extra = sorted(set(drifted) - set(expected), key=str)
    if extra:
        column = extra[0]
        row = truth.loc[column]
        raise Wrong(f"{', '.join(extra)} did not drift: {column} scored {row.score:.3g} by "
                    f"{row.test}, threshold {row.threshold:g}. Keep the columns whose test FAILED "
                    "(for a p-value, drift is a value BELOW the threshold).")
    missing = sorted(set(expected) - set(drifted))
    if missing:
        raise Wrong(f"{len(missing)} drifted column(s) are missing, e.g. {missing[0]} "
                    f"({expected[missing[0]]}): read every ValueDrift test whose status is FAIL.")
    for column, test in drifted.items():
        if not isinstance(test, str) or name_key(test) != name_key(expected[column]):
            if isinstance(test, str) and ("Wasserstein" in test or "Jensen" in test):
                raise Wrong(f"{column} was not tested by {test}: with 1,000 reference rows or "
                            "fewer, Evidently uses p-value tests (K-S, chi-square, Z). Take the "
                            "name from the metric's config['method'].")
            raise Wrong(f"{column}: the test is {expected[column]!r}, not {test!r}; take the name "
                        "from the ValueDrift metric's config['method'].")
    tests = sorted(set(expected.values()))
    return (f"{len(expected)} columns drifted, found by {', '.join(tests)}: with a small "
            "reference Evidently switches to p-value tests, so a smaller shift already counts.")


# --- q2: the error with the labels known on a day -----------------------------------------------------


def q2_truth() -> tuple[float, int, dict]:
    """(MAE, labels) of question 2, and the plausible wrong answers."""
    from mlops_clinic.monitoring import ACTUAL, PREDICTION, production

    rows = production("concept_drift")
    window = rows[rows["day"].between(*Q2_WINDOW)]
    known = window[window["day_sold"] <= Q2_TODAY]
    error = (known[PREDICTION] - known[ACTUAL]).abs()
    wrong = {
        "all labels": float((window[PREDICTION] - window[ACTUAL]).abs().mean()),
        "rounded": float((known["price_gbp"] - known[ACTUAL]).abs().mean()),
        "by sale day": float((lambda r: (r[PREDICTION] - r[ACTUAL]).abs().mean())(
            rows[rows["day_sold"].between(*Q2_WINDOW)])),
        "whole scenario": float((lambda r: (r[PREDICTION] - r[ACTUAL]).abs().mean())(
            rows[rows["day_sold"] <= Q2_TODAY])),
    }
    return float(error.mean()), int(len(known)), wrong


def _check_late_mae(mae, labels) -> str:
    value = as_number(mae, "the MAE as a number of pounds")
    truth, known, wrong = q2_truth()
    if abs(value - truth) > 1:
        refuse_wrong_unit(value, truth)
        if abs(value - wrong["all labels"]) <= 1:
            raise Wrong(f"{pounds(value)} uses sales that completed after day {Q2_TODAY}: keep the "
                        f"rows with day_sold <= {Q2_TODAY}, the prices known by then.")
        if abs(value - wrong["rounded"]) <= 1:
            raise Wrong("that compares the rounded answer (price_gbp) with the sale price; use the "
                        "model's estimate, prediction_gbp.")
        if abs(value - wrong["by sale day"]) <= 1:
            raise Wrong("the window is by the day of the REQUEST (column day), not the day of the sale.")
        if abs(value - wrong["whole scenario"]) <= 1:
            raise Wrong(f"that is the MAE over every day; keep the requests of days "
                        f"{Q2_WINDOW[0]}-{Q2_WINDOW[1]}.")
        raise Wrong(f"{pounds(value)} is not the MAE of the concept_drift estimates of days "
                    f"{Q2_WINDOW[0]}-{Q2_WINDOW[1]} on the sales known by day {Q2_TODAY}.")
    labels = as_count(labels, "labels, a whole number of rows")
    if labels != known:
        raise Wrong(f"the MAE is right, but it uses {known} labels, not {labels:,}: count the rows "
                    "with a known price.")
    return (f"£{truth:,.0f} on {known} of 200 estimates: on day {Q2_TODAY} the error is already "
            "visible, on a third of the labels; waiting for all of them costs a week.")


# --- q3: a retraining rule as code --------------------------------------------------------------------


def q3_cases(test_mae: float) -> list[tuple[dict, bool, str]]:
    """(arguments, expected answer, what the case is) for should_retrain."""
    high, low = test_mae * 1.5, test_mae * 1.05
    edge = test_mae * (1 + RULE["mae_increase"])
    return [
        ({"drift_share": 0.0, "latest_mae": low, "labels": 200}, False, "a stable week"),
        ({"drift_share": 0.67, "latest_mae": high, "labels": 200}, True, "covariate drift with a high error"),
        ({"drift_share": 0.0, "latest_mae": high, "labels": 200}, True,
         "concept drift: no data drift, but the MAE is 50% above the champion's test MAE"),
        ({"drift_share": 0.67, "latest_mae": 0.0, "labels": 0}, True,
         "two thirds of the columns drifted and no label has arrived yet"),
        ({"drift_share": 0.5, "latest_mae": low, "labels": 200}, True,
         "a drift share of exactly 0.5 (the rule says: reaches 0.5)"),
        ({"drift_share": 0.0, "latest_mae": high, "labels": 40}, False,
         "a high MAE on only 40 labels (too few to trust)"),
        ({"drift_share": 0.0, "latest_mae": edge, "labels": 200}, False,
         "an MAE exactly 20% above the test MAE (the rule says: MORE than 20%)"),
        ({"drift_share": 0.0, "latest_mae": edge * 1.01, "labels": 100}, True,
         "an MAE just over 20% above, on exactly 100 labels"),
        ({"drift_share": 0.4, "latest_mae": low, "labels": 100}, False, "some drift, below the share"),
    ]


def _check_rule(should_retrain) -> str:
    if not callable(should_retrain):
        raise Wrong(f"expected a function should_retrain(drift_share, latest_mae, labels), got "
                    f"{describe(should_retrain)}.")
    test_mae = champion_test_mae()
    for arguments, expected, what in q3_cases(test_mae):
        shown = ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in arguments.items())
        answer = run_participant(should_retrain, kwargs=arguments, what=f"should_retrain({shown})")
        if is_blank(answer):
            raise NotAttempted("should_retrain still returns ____: write the rule in its body.")
        if as_boolean(answer, "should_retrain's answer") != expected:
            raise Wrong(f"for {what} ({shown}) it says {bool(answer)}; the rule says {expected}.")
    return ("the rule catches drift before labels arrive and concept drift once they do, and waits "
            "for enough labels: a decision anyone can rerun and argue about.")


# --- q4: promotion decided on the same holdout ---------------------------------------------------------


def _client():
    from mlflow import MlflowClient

    return MlflowClient()


def q4_holdout():
    """The fresh holdout of question 4: the new labelled houses in the pipeline's test bucket."""
    import zlib

    import pandas as pd

    from mlops_clinic.data import FEATURES
    from mlops_clinic.monitoring import production

    frames = [production(s) for s in ("covariate_drift", "concept_drift")]
    rows = pd.concat(frames)[["house_id", *FEATURES, "actual_price_gbp"]]
    rows = rows.rename(columns={"actual_price_gbp": "price"}).astype({"price": int})
    bucket = rows["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
    return rows[bucket < 0.2].reset_index(drop=True), rows[bucket >= 0.4].reset_index(drop=True)


def _project_model():
    """The project's src/model.py (the pipeline's model code), as a module."""
    import importlib.util

    from mlops_clinic.workspace import Workspace

    path = Workspace.resolve().project / "src" / "model.py"
    spec = importlib.util.spec_from_file_location("clinic_project_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_promotion() -> tuple:
    """Set-up of question 4: an empty house-price-sandbox, then version 1 = the served champion's
    model (alias `champion`) and version 2 = a challenger retrained with the new labelled houses.
    Returns (holdout, challenger_version)."""
    import logging
    import warnings
    import zlib

    import mlflow
    import pandas as pd
    from mlflow.exceptions import MlflowException

    from mlops_clinic.data import FEATURES
    from mlops_clinic.monitoring import training_run

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    client = _client()
    try:
        client.delete_registered_model(SANDBOX_MODEL)
    except MlflowException:
        pass
    served, reference = _served_and_reference()
    run = training_run(served)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mlflow.register_model(f"runs:/{run.info.run_id}/model", SANDBOX_MODEL).version
        client.set_registered_model_alias(SANDBOX_MODEL, "champion", first)
        holdout, new_train = q4_holdout()
        bucket = reference["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
        train = pd.concat([reference[bucket >= 0.4], new_train])
        model = _project_model().build_model("gradient_boosting", n_estimators=200,
                                             learning_rate=0.1, max_depth=3)
        model.fit(train[list(FEATURES)], train["price"])
        mlflow.set_experiment(EXPERIMENT)
        with mlflow.start_run(run_name="exercise 05: challenger"):
            mlflow.set_tag("source", "exercise-05")
            logged = mlflow.sklearn.log_model(model, name="model", registered_model_name=SANDBOX_MODEL,
                                              serialization_format="cloudpickle",
                                              pip_requirements=["scikit-learn"])
    return holdout, str(logged.registered_model_version)


def _holdout_mae(version: str) -> float:
    import mlflow

    from mlops_clinic.data import FEATURES

    holdout, _ = q4_holdout()
    model = mlflow.pyfunc.load_model(f"models:/{SANDBOX_MODEL}/{version}")
    return float((holdout["price"] - model.predict(holdout[list(FEATURES)])).abs().mean())


def _numbers_in(values) -> list[float]:
    """The finite numbers among `values`, and inside the dicts, Series, lists and tuples among them."""
    import math
    import numbers

    import numpy as np
    import pandas as pd

    found = []
    for value in values:
        if isinstance(value, dict):
            inner = list(value.values())
        elif isinstance(value, (pd.Series, list, tuple)) and len(value) <= 100:
            inner = list(value)
        else:
            inner = [value]
        for item in inner:
            if isinstance(item, (numbers.Real, np.number)) and not isinstance(item, (bool, np.bool_)):
                if math.isfinite(float(item)):
                    found.append(float(item))
    return found


def _decided_on(scores: dict, maes) -> None:
    """The decision rests on the holdout MAEs: given as `maes` ({version: MAE}), or held by the
    notebook's variables. Moving the alias without computing them is a guess that happened to win."""
    import math

    def close(value, truth):
        return math.isclose(value, truth, rel_tol=1e-6, abs_tol=1.0)

    scores = {str(version): mae for version, mae in scores.items()}  # MLflow gives ints or text

    if maes is not None:
        if not isinstance(maes, dict):
            raise Wrong(f"the second answer should be a dict {{version: MAE on the holdout}}, got "
                        f"{describe(maes)}.")
        given = {as_version(k): as_number(v, f"the MAE of version {k}") for k, v in maes.items()}
        for version, truth in sorted(scores.items()):
            if version not in given:
                raise Wrong(f"maes has no entry for version {version}: compare every version on the holdout.")
            if not close(given[version], truth):
                refuse_wrong_unit(given[version], truth, subject=f"version {version}'s MAE")
                raise Wrong(f"version {version}'s MAE on the holdout is {pounds(truth)}, not "
                            f"{pounds(given[version])}: load models:/{SANDBOX_MODEL}/{version} and "
                            "average |price - estimate| over `holdout`.")
        return
    held = _numbers_in(participant_namespace().values())
    missing = [v for v, truth in sorted(scores.items()) if not any(close(x, truth) for x in held)]
    if missing:
        raise Wrong(f"the alias is on the better version, but your notebook holds no holdout MAE of "
                    f"version {' or '.join(missing)}: a promotion is decided on numbers. Compute "
                    "each version's MAE on `holdout`, keep them (maes = {version: mae}), then decide.")


def _check_promotion(champion_version, maes=None) -> str:
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        versions = client.search_model_versions(f"name = '{SANDBOX_MODEL}'")
    except MlflowException:
        versions = []
    if len(versions) < 2:
        raise Wrong(f"{SANDBOX_MODEL} has {len(versions)} version(s): run the set-up cell above "
                    "the exercise, which registers the champion and a challenger.")
    try:
        holder = client.get_model_version_by_alias(SANDBOX_MODEL, "champion").version
    except MlflowException:
        raise Wrong(f"no version of {SANDBOX_MODEL} has the alias 'champion': the set-up cell "
                    "gives it to version 1; move it only if the challenger wins.") from None
    if as_version(champion_version) != str(holder):
        raise Wrong(f"the alias 'champion' is on version {holder}, but your answer is version "
                    f"{as_version(champion_version)}: give the version that holds it after your decision.")
    scores = {v.version: _holdout_mae(v.version) for v in versions}
    best = min(scores, key=scores.get)
    if str(holder) != str(best):
        raise Wrong(f"version {holder} has an MAE of £{scores[holder]:,.0f} on the fresh holdout, "
                    f"version {best} £{scores[best]:,.0f}: the champion should be the better one "
                    "on the SAME houses.")
    _decided_on(scores, maes)
    others = ", ".join(f"v{v} £{s:,.0f}" for v, s in sorted(scores.items()) if v != best)
    return (f"version {best} wins on the same fresh holdout (£{scores[best]:,.0f} against "
            f"{others}): a fair comparison, then one call moves the alias.")


q1 = Question("q1", "05", _check_drifted, hints=[
    "Run the report as the lesson did (section 'A drift report, read in code'): a Report of "
    "DataDriftPreset with include_tests=True, run on the current and the reference frames. The "
    "snapshot's .dict() gives the results as data.",
    "In result['tests'], the ValueDrift tests with status 'FAIL' are the drifted columns; "
    "result['metrics'] has each column's config['method'].",
    "Two passes, as in the lesson's drift table: the tests give each column's verdict "
    "(test['metric_config']['params']['column'] and test['status']), the ValueDrift metrics each "
    "column's test name (metric['config']['column'] and ['method']). Keep the names of the columns "
    "whose test failed, in a dict comprehension.",
])

q2 = Question("q2", "05", _check_late_mae, hints=[
    "Two filters on the concept-drift rows: the estimates made on days 7 and 8 (the column day), "
    "then, among those, the ones whose sale was known by day 12 (the column day_sold).",
    "series.between(low, high) is True for values in that range, both ends included. The MAE is the "
    "mean of the absolute differences between prediction_gbp and actual_price_gbp (.abs().mean()); "
    "labels is how many rows it rests on (len).",
])

q3 = Question("q3", "05", _check_rule, hints=[
    "Two ways to say yes: enough labels AND a high MAE, OR a high drift share.",
    "'More than 20% above' a value means greater than 1.2 times it, and champion_test_mae is a "
    "function: call it. 'Reaches' 0.5 includes 0.5 itself (>=).",
    "The lesson's decide() (section 'A decision rule, in code') has the same shape with other "
    "thresholds: one condition per rule, combined with and/or. Return bool(...), so the answer is "
    "True or False.",
])

q4 = Question("q4", "05", _check_promotion, hints=[
    "Load each version by its URI, models:/<name>/<version>, with mlflow.pyfunc.load_model, and "
    "score both on the same `holdout`, as the lesson did (section 'Promote only if it wins').",
    "The MAE of a model on rows is the mean of |price - model.predict(rows[FEATURES])|. The champion "
    "is the version that holds the alias now: client.get_model_version_by_alias(name, alias).",
    "Move the alias only if the challenger's MAE is lower: client.set_registered_model_alias(name, "
    "alias, version). Either way, the answer is the version that holds the alias afterwards: ask "
    "the registry again and take its .version.",
])

QUESTIONS = (q1, q2, q3, q4)
