"""Module 05 questions: which columns drifted and by which test, the error with the labels known
on a day, a retraining rule as code, and a promotion decided on the same holdout.

The checkers recompute the truth from the participant's workspace: the inference log, the data
release the serving model was trained on (through DVC), and the MLflow registry. The promotion
exercise works on `house-price-sandbox`, never on `house-price`, whose champion the service serves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlops_clinic.checks.core import (
    NotAttempted, Question, Wrong, as_boolean, as_count, as_number, as_version, describe, is_blank,
    name_key, participant_namespace, pounds, refuse_wrong_unit, run_participant,
)
from mlops_clinic.checks.open_questions import OpenQuestion, Rule
from mlops_clinic.names import EXPERIMENT, MODEL_NAME, SANDBOX_MODEL

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


# --- q5 (open): an alarm rule, priced in pounds ----------------------------------------------------------
#
# The participant writes alarm(evidence) -> "keep" | "retrain" | "fix upstream". The check replays it,
# day by day, on ten other days of the four worlds: traffic the lesson never showed, generated at check
# time from seeds of its own, refused or answered as the prediction service would, estimated by the
# served model, with its sale prices arriving late. Each world is decided on its own.

ALARM_SEEDS = {"stable": 20261101, "covariate_drift": 20261102, "concept_drift": 20261103,
               "data_quality": 20261104}
ALARM_IDS = {scenario: 900_001 + 20_000 * i for i, scenario in enumerate(ALARM_SEEDS)}
ALARM_DAYS = 10
ANSWERS = ("keep", "retrain", "fix upstream")
DRIFTED = ("covariate_drift", "concept_drift")  # worlds where retraining is the right call
COSTS = {"false alarm": 2_000, "drifted day": 1_500, "drift missed": 30_000, "incident day": 500}
BUDGET = 15_000
COVARIATE_BY, CONCEPT_BY, INCIDENT_BY = 3, 10, 2  # the day by which each world must be called


@dataclasses.dataclass(frozen=True)
class Traffic:
    """Ten days of one world, as monitoring sees them: the answered requests (features, estimate,
    sale price and day of sale where known) and the day of each refused request."""

    scenario: str
    answered: Any  # DataFrame
    refused_days: Any  # Series of request days


def _traffic_as_served(scenario: str, features, labels, model) -> Traffic:
    """Requests sent as an upstream system sends them, refused by the service's own schema or
    answered by the served model; a re-sent request is answered once."""
    import io

    import pandas as pd
    from pydantic import ValidationError

    from mlops_clinic.data.generate import to_csv_bytes
    from mlops_clinic.monitoring import ACTUAL, PREDICTION
    from mlops_clinic.service.replay import bodies_of
    from mlops_clinic.service.schema import EstimateRequest

    text = pd.read_csv(io.StringIO(to_csv_bytes(features).decode()), dtype=str,
                       keep_default_na=False, na_values=[""])
    houses, refused, seen = [], [], set()
    for body in bodies_of(text, scenario):
        if body["request_id"] in seen:
            continue
        seen.add(body["request_id"])
        try:
            request = EstimateRequest.model_validate(body)
        except ValidationError:
            refused.append(body.get("day"))
            continue
        houses.append({"house_id": request.house_id, "day": request.day, **request.house.model_dump()})
    answered = pd.DataFrame(houses)
    answered[PREDICTION] = model.predict(answered[list(_features())])
    sold = labels.rename(columns={"price": ACTUAL})[["house_id", "day_sold", ACTUAL]]
    answered = answered.merge(sold, on="house_id", how="left")
    return Traffic(scenario, answered, pd.Series(refused, dtype="float"))


def _features() -> tuple:
    from mlops_clinic.data import FEATURES

    return FEATURES


def _served_model():
    import mlflow

    return mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{_served_version()}")


_WORLDS: dict = {}


def _workspace_key() -> str:
    from mlops_clinic.workspace import Workspace

    return str(Workspace.resolve().root)


def alarm_worlds(hidden: bool = True) -> dict:
    """The four worlds the alarm is replayed on: the check's unseen days (`hidden`), or the
    lesson's own traffic (what `try_alarm` shows). Built once per served version."""
    import pandas as pd

    from mlops_clinic.data import dataset_path, generate_traffic

    key = (hidden, _workspace_key(), _served_version())
    if key not in _WORLDS:
        # The drift report of each day reached is the slow part: say so before a silent minute.
        print("Preparing the four worlds" + (" the check replays your alarm on" if hidden else
                                             " of the lesson's traffic")
              + ": each day's drift report is computed the first time it is needed (up to two "
              "minutes in all), then reused.", flush=True)
        model = _served_model()
        worlds = {}
        for scenario in ALARM_SEEDS:
            if hidden:
                features, labels = generate_traffic(scenario, seed=ALARM_SEEDS[scenario],
                                                    id_start=ALARM_IDS[scenario])
            else:
                features = pd.read_csv(dataset_path(f"traffic/{scenario}"), dtype=str,
                                       keep_default_na=False, na_values=[""])
                labels = pd.read_csv(dataset_path(f"traffic/{scenario}_labels"))
            worlds[scenario] = _traffic_as_served(scenario, features, labels, model)
        _WORLDS[key] = {"worlds": worlds, "evidence": {}}
    return _WORLDS[key]


def _drift(current) -> tuple[float, list[str]]:
    """Share of drifted features and their names: the lesson's report against the served
    version's training data, with the schema's column types."""
    import warnings

    from evidently import Dataset, Report
    from evidently.presets import DataDriftPreset

    from mlops_clinic.monitoring import data_definition, drift_results, drift_share

    _, reference = _served_and_reference_cached()
    features, definition = list(_features()), data_definition()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=Dataset.from_pandas(current[features], data_definition=definition),
            reference_data=Dataset.from_pandas(reference[features], data_definition=definition))
    columns = drift_results(snapshot)
    return drift_share(snapshot), list(columns.index[columns["drifted"]])


_REFERENCE: dict = {}


def _served_and_reference_cached():
    key = (_workspace_key(), _served_version())
    if key not in _REFERENCE:
        _REFERENCE[key] = _served_and_reference()
    return _REFERENCE[key]


def _evidence(traffic: Traffic, day: int) -> dict:
    """What monitoring knows at the end of `day`: requests so far, the share refused, the drift of
    the answered ones, and the error per window of two request days on the sale prices known."""
    from mlops_clinic.monitoring import ACTUAL, windowed_mae

    rows = traffic.answered[traffic.answered["day"] <= day]
    refused = int((traffic.refused_days <= day).sum())
    share, drifted = _drift(rows)
    known = rows.assign(**{ACTUAL: rows[ACTUAL].where(rows["day_sold"] <= day)})
    return {"day": day, "requests": len(rows) + refused,
            "refused_share": refused / (len(rows) + refused),
            "drift_share": share, "drifted_columns": drifted,
            "windows": windowed_mae(known, last_day=day), "test_mae": champion_test_mae()}


def evidence(scenario: str, day: int, *, hidden: bool = False) -> dict:
    """The evidence `alarm` receives at the end of `day` in one world (the lesson's traffic
    unless `hidden`): day, requests, refused_share, drift_share, drifted_columns, windows (the
    error per window of request days: requests, labels, MAE (£)) and test_mae (the yardstick)."""
    import copy

    if scenario not in ALARM_SEEDS:
        raise ValueError(f"unknown world {scenario!r}: one of {', '.join(ALARM_SEEDS)}")
    return copy.deepcopy(_known_on(alarm_worlds(hidden), scenario, day))


def _known_on(built: dict, scenario: str, day: int) -> dict:
    """The evidence of one world on one day, computed once (the drift report is the slow part)."""
    if (scenario, day) not in built["evidence"]:
        built["evidence"][(scenario, day)] = _evidence(built["worlds"][scenario], day)
    return built["evidence"][(scenario, day)]


def _answer(value, scenario: str, day: int) -> str:
    if is_blank(value):
        raise NotAttempted("alarm still returns ____: write the rule in its body.")
    if isinstance(value, str):
        for answer in ANSWERS:
            if name_key(value) == name_key(answer):
                return answer
    raise Wrong(f"on day {day} of the {scenario} traffic alarm returned {describe(value)}: return "
                "one of the texts \"keep\", \"retrain\" or \"fix upstream\".")


def _first_call(alarm, scenario: str, built: dict) -> tuple[int | None, str]:
    """The first day the alarm says something other than keep, and what; (None, "keep") if never."""
    import copy

    for day in range(1, ALARM_DAYS + 1):
        value = run_participant(alarm, (copy.deepcopy(_known_on(built, scenario, day)),),
                                what=f"alarm(evidence) on day {day} of the {scenario} traffic")
        answer = _answer(value, scenario, day)
        if answer != "keep":
            return day, answer
    return None, "keep"


def cost(scenario: str, day: int | None, answer: str) -> int:
    """What the call cost, in pounds: a false alarm, the days a drifted world was answered before
    the retraining, or the days of an incident before upstream heard of it."""
    if scenario == "stable":
        return 0 if day is None else COSTS["false alarm"]
    if scenario in DRIFTED:
        return day * COSTS["drifted day"] if answer == "retrain" else COSTS["drift missed"]
    if answer == "fix upstream":
        return day * COSTS["incident day"]
    wasted = COSTS["false alarm"] if answer == "retrain" else 0
    return wasted + ALARM_DAYS * COSTS["incident day"]


@dataclasses.dataclass(frozen=True)
class AlarmReplay:
    """The alarm's first call in each world, and its cost."""

    calls: dict  # scenario -> (day or None, answer)

    def cost(self, scenario: str) -> int:
        return cost(scenario, *self.calls[scenario])

    @property
    def total(self) -> int:
        return sum(self.cost(scenario) for scenario in self.calls)

    def said(self, scenario: str) -> str:
        day, answer = self.calls[scenario]
        return "keep, every day" if day is None else f"{answer} on day {day}"


def replay_alarm(alarm, hidden: bool = True) -> AlarmReplay:
    if not callable(alarm):
        raise Wrong(f"expected a function alarm(evidence) that returns \"keep\", \"retrain\" or "
                    f"\"fix upstream\", got {describe(alarm)}.")
    built = alarm_worlds(hidden)
    return AlarmReplay({scenario: _first_call(alarm, scenario, built) for scenario in ALARM_SEEDS})


def try_alarm(alarm):
    """The alarm replayed on the lesson's traffic, world by world: what it said, when, and what
    that cost. (The check replays it on ten other days of the same worlds.)"""
    import pandas as pd

    replay = replay_alarm(alarm, hidden=False)
    table = pd.DataFrame([{"world": s, "first call": replay.said(s), "cost (£)": replay.cost(s)}
                          for s in ALARM_SEEDS]).set_index("world")
    print(f"total £{replay.total:,} (budget £{BUDGET:,})")
    return table


def _latest_window(scenario: str, day: int) -> str:
    """The evidence that day, in a few words: for a message that says what the alarm saw."""
    seen = evidence(scenario, day, hidden=True)
    windows = seen["windows"].dropna(subset=["MAE (£)"])
    latest = (f"; the latest window with sale prices, {windows.index[-1]}, has "
              f"{int(windows['labels'].iloc[-1])} of them and an MAE of "
              f"£{int(windows['MAE (£)'].iloc[-1]):,}" if len(windows) else "; no sale price yet")
    return (f"drift share {seen['drift_share']:.2f}, {seen['refused_share']:.0%} refused{latest} "
            f"(test MAE £{seen['test_mae']:,.0f})")


def _quiet_when_stable(replay: AlarmReplay) -> str | None:
    day, answer = replay.calls["stable"]
    if day is None:
        return None
    return (f"on the stable traffic it says {answer} on day {day} ({_latest_window('stable', day)}), "
            f"a false alarm (£{COSTS['false alarm']:,}): nothing changed there, so ask more of the "
            "signal that fired (a higher threshold, or more sale prices before you trust an MAE).")


def _retrains_in_time(scenario: str, by_day: int, what: str):
    def test(replay: AlarmReplay) -> str | None:
        day, answer = replay.calls[scenario]
        if answer == "retrain" and day <= by_day:
            return None
        if day is None:
            seen = _latest_window(scenario, by_day)
            return (f"on the {scenario} traffic it keeps the champion all ten days (on day {by_day}: "
                    f"{seen}): {what}")
        if answer != "retrain":
            return (f"on the {scenario} traffic it says {answer} on day {day}: the requests are "
                    f"valid, the world changed, so the call is retrain. {what}")
        return (f"on the {scenario} traffic it says retrain only on day {day}, after day {by_day} "
                f"(£{COSTS['drifted day']:,} a day of bad quotes). {what}")
    return test


def _incident_reported(replay: AlarmReplay) -> str | None:
    day, answer = replay.calls["data_quality"]
    if answer == "fix upstream" and day <= INCIDENT_BY:
        return None
    if answer == "retrain":
        return (f"on the data-quality incident it says retrain on day {day}: a retraining would learn "
                "the breakage; when many requests are refused, the call is fix upstream, checked "
                "before any other signal.")
    seen = evidence("data_quality", INCIDENT_BY, hidden=True)
    when = "never says fix upstream" if day is None else f"says fix upstream only on day {day}"
    return (f"on the data-quality incident it {when}; by day {INCIDENT_BY}, "
            f"{seen['refused_share']:.0%} of the requests were refused: use refused_share.")


def _within_budget(replay: AlarmReplay) -> str | None:
    if replay.total <= BUDGET:
        return None
    parts = ", ".join(f"{s} £{replay.cost(s):,} ({replay.said(s)})" for s in ALARM_SEEDS)
    return (f"the four worlds cost £{replay.total:,}, over the budget of £{BUDGET:,}: {parts}. "
            "Weigh a day of bad quotes against a false alarm, and act sooner where it is cheap.")


q5 = OpenQuestion("q5", "05", work=replay_alarm, rules=[
    Rule("stays quiet on ten stable days it has not seen (no false alarm)", _quiet_when_stable, points=2),
    Rule(f"says retrain on unseen covariate drift by day {COVARIATE_BY}",
         _retrains_in_time("covariate_drift", COVARIATE_BY,
                           "the inputs moved from day one: the drift share shows it before any "
                           "sale price does."), points=2),
    Rule(f"says retrain on unseen concept drift by day {CONCEPT_BY}, once sale prices show it",
         _retrains_in_time("concept_drift", CONCEPT_BY,
                           "only the sale prices show concept drift: compare the MAE of a window "
                           "with enough of them with the test MAE."), points=2),
    Rule(f"calls an unseen data-quality incident fix upstream, never retrain, by day {INCIDENT_BY}",
         _incident_reported, points=2),
    Rule(f"keeps the cost of the four worlds within £{BUDGET:,}", _within_budget, points=1),
], look_for=[
    "the cost of a false alarm (£2,000) weighed against a day of bad quotes (£1,500)",
    "why the number of sale prices required before trusting a window's MAE: noise against delay",
    "why refused requests are checked first: a retraining would learn the breakage",
    "what the drift share threshold tolerates (one or two columns moving by chance)",
    "(for you, the unseen days in a course run: stable drift share up to 0.25 and windows up to 1.25 "
    "times the test MAE on 41 prices; covariate drift share 0.67 from day 1; concept-drift windows "
    "1.4 times the test MAE from day 6 on 40 prices or more; 8% refused on day 1 of the incident)",
], hints=[
    "Start from the lesson's decide() (section 8) and run try_alarm(alarm) on the lesson's traffic: "
    "it shows each world's first call, its day and its cost.",
    "Look at evidence(\"concept_drift\", day) for days 6 to 10: which window has enough sale prices, "
    "and how far is its MAE above evidence[\"test_mae\"]? Do the same for \"stable\": how noisy is a "
    "window with few prices?",
    "The method: check evidence[\"refused_share\"] first (fix upstream), then the drift share "
    "(retrain), then the MAE of the latest row of evidence[\"windows\"] whose \"labels\" reach your "
    "minimum, against evidence[\"test_mae\"]; return \"keep\" otherwise.",
])

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

QUESTIONS = (q1, q2, q3, q4, q5)
