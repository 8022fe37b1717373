"""Model tests: the quality gate that a newly trained model must pass before it is proposed.

The candidate is what the pipeline just trained (models/model.pkl). The champion is the version
that deploy/champion.yaml names, from the MLflow registry. Both are scored on the same trusted
houses: the test split of the data release the champion was trained on, read back with DVC. A
faulty new data release therefore cannot lower the bar it is judged against. Thresholds:
tests/gate.yaml.

    python -m pytest tests -q
"""

import io
import sys
import zlib
from pathlib import Path

import joblib
import pandas as pd
import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))
from model import CATEGORICAL, FEATURES, TARGET, build_model  # noqa: E402
from schema import CATEGORIES, validate  # noqa: E402

GATE = yaml.safe_load((PROJECT / "tests" / "gate.yaml").read_text())


def require(condition: bool, message: str) -> None:
    """Fail the test with a sentence, not a traceback: the gate's report is read by people."""
    if not condition:
        pytest.fail(message, pytrace=False)


def mae(model, houses: pd.DataFrame) -> float:
    return float((houses[TARGET] - model.predict(houses[FEATURES])).abs().mean())


@pytest.fixture(scope="session")
def candidate():
    return joblib.load(PROJECT / "models" / "model.pkl")


@pytest.fixture(scope="session")
def champion_version():
    from mlflow import MlflowClient

    desired = yaml.safe_load((PROJECT / "deploy" / "champion.yaml").read_text())
    return MlflowClient().get_model_version(desired["model"], str(desired["version"]))


@pytest.fixture(scope="session")
def champion(champion_version):
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{champion_version.name}/{champion_version.version}")


@pytest.fixture(scope="session")
def trusted(champion_version):
    """The champion's test houses: its data release, read back with DVC, split as src/prepare.py
    splits it (by a hash of the house id)."""
    import dvc.api
    from mlflow import MlflowClient

    release = MlflowClient().get_run(champion_version.run_id).data.tags["data_version"]
    houses = pd.read_csv(io.StringIO(dvc.api.read("data/houses.csv", repo=str(PROJECT), rev=release)))
    test_share = yaml.safe_load((PROJECT / "params.yaml").read_text())["prepare"]["test_share"]
    bucket = houses["house_id"].map(lambda house: zlib.crc32(house.encode()) % 1000 / 1000)
    return houses[bucket < test_share]


def test_beats_the_baseline(candidate, trusted):
    train = pd.read_csv(PROJECT / "data" / "prepared" / "train.csv")
    baseline = build_model("baseline").fit(train[FEATURES], train[TARGET])
    ours, bar = mae(candidate, trusted), GATE["baseline_ratio"] * mae(baseline, trusted)
    require(ours <= bar, f"MAE £{ours:,.0f} is not under {GATE['baseline_ratio']:.0%} of the "
                         f"median-price baseline's (£{bar:,.0f}): the model learnt little")


def test_not_worse_than_the_champion(candidate, champion, champion_version, trusted):
    ours, theirs = mae(candidate, trusted), mae(champion, trusted)
    limit = theirs * (1 + GATE["champion_tolerance"])
    require(ours <= limit, f"MAE £{ours:,.0f} against the champion's £{theirs:,.0f} "
                           f"(version {champion_version.version}) on the same trusted houses: "
                           f"{ours / theirs - 1:+.0%}, the gate allows "
                           f"{GATE['champion_tolerance']:+.0%}")


def test_more_area_never_lowers_the_price(candidate, trusted):
    """Invariance: all else equal, a bigger house is never cheaper. A tree model that is not told
    so learns steps from noise where houses are few, and prices some bigger houses lower; a model
    given the rule as a monotonic constraint (monotone_boosting in src/model.py) cannot break it."""
    estimates = candidate.predict(trusted[FEATURES])
    bigger = trusted.assign(area=(trusted["area"] * (1 + GATE["area_step"])).round().clip(upper=16_000))
    falls = (estimates - candidate.predict(bigger[FEATURES])) / estimates
    share = float((falls > GATE["max_drop"]).mean())
    fall = "fall" if GATE["max_drop"] == 0 else f"fall by more than {GATE['max_drop']:.0%}"
    require(share <= GATE["max_houses_share"], (
        f"with {GATE['area_step']:.0%} more area, {share:.1%} of the estimates {fall} (allowed: "
        f"{GATE['max_houses_share']:.0%}); the worst by {falls.max():.0%}"))


def test_model_knows_exactly_the_categories_the_service_accepts(candidate):
    """Training/serving skew: BridgeAI's service sent 'YES' where the model had learnt 'yes', and
    the one-hot encoder silently priced the house as neither. The model's categories must be the
    schema's, which the service enforces, so nothing it accepts is unknown to the model."""
    encoder = candidate.named_steps["prepare"].named_transformers_["categories"]
    learnt = {column: sorted(values) for column, values in zip(CATEGORICAL, encoder.categories_)}
    expected = {column: sorted(CATEGORIES[column]) for column in CATEGORICAL}
    differ = {column: learnt[column] for column in CATEGORICAL if learnt[column] != expected[column]}
    require(not differ, f"the model learnt other categories than the schema allows: {differ}")


def test_upper_case_yes_is_refused_before_the_model(trusted):
    skewed = trusted.head(3).assign(mainroad="YES")
    problems = validate(skewed, source="request")
    require(any("mainroad" in str(problem) for problem in problems),
            "'YES' passed the schema: the model would price the house as neither yes nor no")
