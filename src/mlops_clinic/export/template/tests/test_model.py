"""Model tests: the quality gate a newly trained model must pass before it is proposed.

The candidate is what the pipeline just trained (models/model.pkl). The champion is the version
deploy/champion.yaml names, from the MLflow registry. Both are scored on the same trusted rows:
the test split of the data the champion was trained on, read back at its commit through DVC,
so a faulty new data release cannot lower the bar it is judged against. Before the first
champion, the candidate's own test split is used. Thresholds: tests/gate.yaml.

    python -m pytest -q -rN
"""

import json

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from contract import SCHEMA, json_value, model_input
from dataset import at_revision, in_split, read_checked
from model import CLASSIFICATION, build, describe, error, predict
from settings import MODELS, PREPARED, ROOT, mlflow_client, tracking_uri

GATE = yaml.safe_load((ROOT / "tests" / "gate.yaml").read_text(encoding="utf-8"))
DESIRED = yaml.safe_load((ROOT / "deploy" / "champion.yaml").read_text(encoding="utf-8")) or {}


def require(condition: bool, message: str) -> None:
    """Fail with a sentence, not a traceback: the gate's report is read by people."""
    if not condition:
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def candidate():
    require((MODELS / "model.pkl").is_file(), "models/model.pkl is missing: run `dvc repro` first")
    return joblib.load(MODELS / "model.pkl")


@pytest.fixture(scope="session")
def champion_version():
    """The registered version deploy/champion.yaml names, or None before the first champion."""
    if DESIRED.get("version") is None:
        return None
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client().get_model_version(DESIRED["model"], str(DESIRED["version"]))
    except MlflowException:
        pytest.fail(f"deploy/champion.yaml names {DESIRED['model']} version {DESIRED['version']}, which "
                    f"the registry at {tracking_uri()} does not have: set MLFLOW_TRACKING_URI to the "
                    "registry that trained it", pytrace=False)


@pytest.fixture(scope="session")
def trusted(champion_version):
    if champion_version is None:
        return pd.read_parquet(PREPARED / "test.parquet")
    tags = mlflow_client().get_run(champion_version.run_id).data.tags
    require(tags.get("inputs_committed") == "true",
            f"the champion (version {champion_version.version}) was trained on uncommitted inputs, so "
            "its data cannot be read back: train it again from a commit")
    return read_checked(at_revision(tags["git_commit"]), "trusted rows", keep=in_split("test"))


@pytest.fixture(scope="session")
def train_rows():
    return pd.read_parquet(PREPARED / "train.parquet")


def test_beats_the_baseline(candidate, trusted, train_rows):
    baseline = build("baseline", {}).fit(model_input(train_rows), train_rows[SCHEMA.target])
    X, y = model_input(trusted), trusted[SCHEMA.target]
    ours, bar = error(candidate, X, y), GATE["baseline_ratio"] * error(baseline, X, y)
    require(ours <= bar, f"{describe(ours)} is not under {GATE['baseline_ratio']:.0%} of the baseline's "
                         f"({describe(bar / GATE['baseline_ratio'])}): the model learnt little")


def test_not_worse_than_the_champion(candidate, champion_version, trusted):
    if champion_version is None:
        pytest.skip("no champion yet: the first candidate that passes the other tests becomes it")
    import mlflow.sklearn

    mlflow.set_tracking_uri(tracking_uri())
    champion = mlflow.sklearn.load_model(f"models:/{champion_version.name}/{champion_version.version}")
    X, y = model_input(trusted), trusted[SCHEMA.target]
    ours, theirs = error(candidate, X, y), error(champion, X, y)
    limit = theirs * (1 + GATE["champion_tolerance"])
    require(ours <= limit, f"{describe(ours)} against the champion's {describe(theirs)} (version "
                           f"{champion_version.version}) on the same trusted rows: "
                           f"{ours / theirs - 1:+.0%}, the gate allows {GATE['champion_tolerance']:+.0%}")


def test_invariance(candidate, trusted):
    """A change whose effect you know must move the prediction the right way (tests/gate.yaml,
    invariance). Trees change in steps where data is thin: a small share of exceptions is allowed."""
    rule = GATE.get("invariance")
    if not rule:
        pytest.skip("no invariance configured: describe one in tests/gate.yaml (e.g. more floor area "
                    "never lowers the price)")
    column = SCHEMA.by_name[rule["column"]]
    changed = trusted.copy()
    values = changed[column.name].astype("float64") * rule.get("multiply", 1) + rule.get("add", 0)
    values = values.clip(lower=column.min, upper=column.max)
    changed[column.name] = values.round() if column.type == "integer" else values
    before, after = (_watched(candidate, rows, rule) for rows in (trusted, changed))
    worse = (before - after) if rule["expect"] == "not_lower" else (after - before)
    if rule.get("relative", False):
        worse = worse / np.maximum(np.abs(before), 1e-9)
    share = float(np.mean(worse > rule["max_drop"]))
    require(share <= rule["max_share"], (
        f"when {column.name} changes ({_change(rule)}), {share:.1%} of the predictions move the wrong "
        f"way by more than {rule['max_drop']:g}{' (relative)' if rule.get('relative') else ''}; "
        f"allowed: {rule['max_share']:.0%}"))


def _watched(model, rows, rule) -> np.ndarray:
    X = model_input(rows)
    if CLASSIFICATION:
        return model.predict_proba(X)[:, list(model.classes_).index(str(rule["class"]))]
    return model.predict(X)


def _change(rule) -> str:
    return f"x{rule['multiply']:g}" if "multiply" in rule else f"{rule['add']:+g}"


def test_model_knows_exactly_the_categories_the_service_accepts(candidate):
    """Training/serving skew: a service that accepted 'YES' where the model had learnt 'yes'
    would be priced as neither. The model's categories must be schema.yaml's, which the service
    enforces, so nothing it accepts is unknown to the model."""
    encoder = candidate.named_steps["prepare"].named_transformers_["categories"]
    learnt = {c: sorted(map(str, v)) for c, v in zip(SCHEMA.categorical, encoder.categories_)}
    expected = {c: sorted(SCHEMA.by_name[c].values) for c in SCHEMA.categorical}
    differ = {c: learnt[c] for c in SCHEMA.categorical if learnt[c] != expected[c]}
    require(not differ, f"the model learnt other categories than schema.yaml allows: {differ}")


def test_service_refuses_a_category_spelled_differently():
    from contract import example_row
    from serving.request import Features

    for name in SCHEMA.categorical:
        value = SCHEMA.by_name[name].values[0]
        wrong = value.upper() if value.upper() != value else value.lower()
        if wrong == value:
            wrong = f" {value}"
        try:
            Features.model_validate({**example_row(), name: wrong})
        except ValidationError:
            continue
        pytest.fail(f"the service accepted {wrong!r} for {name}: the model would treat it as unseen",
                    pytrace=False)


def test_service_and_pipeline_reach_the_model_identically(candidate, trusted):
    """Skew: the same rows, read from the data by the pipeline and sent as JSON to the service,
    must give the same predictions."""
    from serving.request import Features, rows

    sample = trusted.head(50)
    requests = [Features.model_validate_json(json.dumps(
        {n: json_value(row[n], SCHEMA.by_name[n]) for n in SCHEMA.features}))
        for _, row in sample.iterrows()]
    served = predict(candidate, model_input(rows(requests)))
    piped = predict(candidate, model_input(sample))
    require(np.allclose(served, piped, rtol=1e-9, atol=1e-9),
            "the service turns requests into model input differently from the pipeline")
