"""Module 05's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
a real workspace with an inference log (four scenarios, late labels), its data releases in DVC and
its MLflow registry."""

import warnings

import pytest

from checking import activated_workspace, rules_met
from checking import assert_outcome as _assert
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m05 import (SANDBOX_MODEL, champion_test_mae, prepare_promotion, q1,
                                     q1_frames, q2, q2_truth, q3, q4)

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore")]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A workspace with the inference log of module 04 built, activated for this module's tests."""
    with activated_workspace(tmp_path_factory.mktemp("m05") / "workspace", "inference_log") as ws:
        yield ws


def _drift_table():
    from evidently import Report
    from evidently.presets import DataDriftPreset

    from mlops_clinic.monitoring import drift_results

    reference, current = q1_frames()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(
            current_data=current, reference_data=reference)
    return drift_results(snapshot)


def test_q1_which_columns_drifted_and_by_which_test(world):
    table = _drift_table()
    right = {column: row.test for column, row in table.iterrows() if row.drifted}
    calm = next(column for column, row in table.iterrows() if not row.drifted)
    first = next(iter(right))
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate(sorted(right)), Status.WRONG, "dict")
    _assert(q1.evaluate("area"), Status.WRONG, "dict")
    _assert(q1.evaluate({**right, "price": "K-S p_value"}), Status.WRONG, "not a feature column")
    _assert(q1.evaluate({**right, calm: table.loc[calm, "test"]}), Status.WRONG, "did not drift")
    _assert(q1.evaluate({k: v for k, v in right.items() if k != first}), Status.WRONG, "missing")
    _assert(q1.evaluate({**right, "area": "Wasserstein distance (normed)"}), Status.WRONG, "p-value tests")
    _assert(q1.evaluate({**right, first: "drift"}), Status.WRONG, "config['method']")
    _assert(q1.evaluate(right), Status.CORRECT, "p-value tests")


def test_q2_mae_with_the_labels_known_on_day_12(world):
    mae, labels, wrong = q2_truth()
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(mae, ____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate("a lot", labels), Status.WRONG, "number of pounds")
    _assert(q2.evaluate(mae / 1000, labels), Status.WRONG, "thousands")
    _assert(q2.evaluate(wrong["all labels"], 200), Status.WRONG, "after day 12")
    _assert(q2.evaluate(wrong["rounded"], labels), Status.WRONG, "prediction_gbp")
    _assert(q2.evaluate(wrong["by sale day"], labels), Status.WRONG, "REQUEST")
    _assert(q2.evaluate(wrong["whole scenario"], labels), Status.WRONG, "days 7-8")
    _assert(q2.evaluate(mae + 5000, labels), Status.WRONG, "is not the MAE")
    _assert(q2.evaluate(mae, 200), Status.WRONG, f"uses {labels} labels")
    _assert(q2.evaluate(mae, labels), Status.CORRECT, f"on {labels} of 200")


def test_q3_retraining_rule(world):
    test_mae = champion_test_mae()

    def right(drift_share, latest_mae, labels):
        return bool((labels >= 100 and latest_mae > 1.2 * test_mae) or drift_share >= 0.5)

    def drift_only(drift_share, latest_mae, labels):
        return drift_share >= 0.5

    def no_minimum(drift_share, latest_mae, labels):
        return latest_mae > 1.2 * test_mae or drift_share >= 0.5

    def strict_share(drift_share, latest_mae, labels):
        return (labels >= 100 and latest_mae > 1.2 * test_mae) or drift_share > 0.5

    def blank(drift_share, latest_mae, labels):
        return ____

    def text(drift_share, latest_mae, labels):
        return "retrain"

    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(blank), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate(1.2), Status.WRONG, "expected a function")
    _assert(q3.evaluate(text), Status.WRONG, "True or False")
    _assert(q3.evaluate(drift_only), Status.WRONG, "concept drift")
    _assert(q3.evaluate(no_minimum), Status.WRONG, "only 40 labels")
    _assert(q3.evaluate(strict_share), Status.WRONG, "exactly 0.5")
    _assert(q3.evaluate(right), Status.CORRECT, "concept drift")


def test_q4_promotion_on_the_same_holdout(world):
    import mlflow
    from mlflow import MlflowClient

    from mlops_clinic.data import FEATURES

    client = MlflowClient()
    try:
        client.delete_registered_model(SANDBOX_MODEL)
    except Exception:  # noqa: BLE001 - not there yet
        pass
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate("1"), Status.WRONG, "set-up cell")
    holdout, challenger = prepare_promotion()
    maes = {version: float((holdout["price"] - mlflow.pyfunc.load_model(
        f"models:/{SANDBOX_MODEL}/{version}").predict(holdout[list(FEATURES)])).abs().mean())
        for version in ("1", challenger)}
    better = min(maes, key=maes.get)
    worse = max(maes, key=maes.get)
    assert better == challenger, maes  # the retrained model should win on the new houses
    _assert(q4.evaluate(challenger), Status.WRONG, "your answer")
    _assert(q4.evaluate("1"), Status.WRONG, "SAME houses")
    client.delete_registered_model_alias(SANDBOX_MODEL, "champion")
    _assert(q4.evaluate(better), Status.WRONG, "alias 'champion'")
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", worse)
    _assert(q4.evaluate(worse), Status.WRONG, "SAME houses")
    client.set_registered_model_alias(SANDBOX_MODEL, "champion", better)
    _assert(q4.evaluate(better, maes), Status.CORRECT, "same fresh holdout")


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def test_q2_pence_and_a_share_are_named(world):
    mae, labels, _ = q2_truth()
    _assert(q2.evaluate(mae * 100, labels), Status.WRONG, "pence", "give it in pounds")
    _assert(q2.evaluate(0.12, labels), Status.WRONG, "£0.12 is not")
    _assert(q2.evaluate(mae, float(labels)), Status.CORRECT)
    _assert(q2.evaluate(mae, str(labels)), Status.WRONG, "got the text", f"write {labels}, not")


def test_q2_numbers_in_numpy_and_decimal_forms(world):
    import decimal

    import numpy as np

    mae, labels, _ = q2_truth()
    _assert(q2.evaluate(np.float32(mae), np.int64(labels)), Status.CORRECT)
    _assert(q2.evaluate(decimal.Decimal(str(round(mae, 2))), labels), Status.CORRECT)


def test_q3_a_rule_that_answers_with_numpy_booleans(world):
    import numpy as np

    test_mae = champion_test_mae()

    def numpy_rule(drift_share, latest_mae, labels):
        return np.logical_or(labels >= 100 and latest_mae > 1.2 * test_mae, drift_share >= 0.5)

    def crashing_rule(drift_share, latest_mae, labels):
        return drift_share >= 0.5 or (labels >= "100" and latest_mae > 1.2 * test_mae)  # "100": text

    assert isinstance(numpy_rule(0.0, 0.0, 0), np.bool_)
    _assert(q3.evaluate(numpy_rule), Status.CORRECT, "concept drift")
    _assert(q3.evaluate(crashing_rule), Status.WRONG, "should_retrain(drift_share=0.00,",
            "raised TypeError: '>=' not supported")


def test_q3_rules_written_other_ways(world):
    test_mae = champion_test_mae()

    def as_ratio(drift_share, latest_mae, labels):  # the 20% as a ratio, the conditions as names
        enough_labels = labels >= 100
        much_worse = latest_mae / test_mae > 1.2
        return drift_share >= 0.5 or (enough_labels and much_worse)

    def early_returns(drift_share, latest_mae, labels):
        if drift_share >= 0.5:
            return True
        if labels < 100:
            return False
        return latest_mae > test_mae * 1.2

    _assert(q3.evaluate(as_ratio), Status.CORRECT, "concept drift")
    _assert(q3.evaluate(early_returns), Status.CORRECT)


# --- the state the work leaves, alternatives and mistakes (issue 15, item 2) --------------------------


def test_q1_a_series_and_test_names_written_otherwise_are_the_same_answer(world):
    import pandas as pd

    table = _drift_table()
    right = {column: row.test for column, row in table.iterrows() if row.drifted}
    _assert(q1.evaluate(pd.Series(right)), Status.CORRECT, "p-value tests")
    _assert(q1.evaluate({k: f"  {v.upper()} " for k, v in right.items()}), Status.CORRECT)


def test_q4_moving_the_alias_without_computing_is_not_a_decision(world, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    from mlops_clinic.checks import m05
    from mlops_clinic.data import FEATURES

    holdout, challenger = prepare_promotion()
    maes = {version: float((holdout["price"] - mlflow.pyfunc.load_model(
        f"models:/{SANDBOX_MODEL}/{version}").predict(holdout[list(FEATURES)])).abs().mean())
        for version in ("1", challenger)}
    MlflowClient().set_registered_model_alias(SANDBOX_MODEL, "champion", challenger)
    monkeypatch.setattr(m05, "participant_namespace", lambda: {"challenger_version": challenger})
    # mistakes: moved without computing; MAEs of another set of houses; pence
    _assert(q4.evaluate(challenger), Status.WRONG, "holds no holdout MAE of version 1", "decided on numbers")
    _assert(q4.evaluate(challenger, {v: m * 0.8 for v, m in maes.items()}), Status.WRONG,
            "MAE on the holdout is", "average |price - estimate|")
    _assert(q4.evaluate(challenger, {v: m * 100 for v, m in maes.items()}), Status.WRONG, "pence")
    _assert(q4.evaluate(challenger, {"1": maes["1"]}), Status.WRONG, f"no entry for version {challenger}")
    # alternatives: the figures in the notebook's variables, as separate numbers or in a Series;
    # versions as numbers
    import pandas as pd

    monkeypatch.setattr(m05, "participant_namespace",
                        lambda: {"mae_champion": maes["1"], "mae_challenger": maes[challenger]})
    _assert(q4.evaluate(int(challenger)), Status.CORRECT, "same fresh holdout")
    monkeypatch.setattr(m05, "participant_namespace", lambda: {"scores": pd.Series(maes)})
    _assert(q4.evaluate(challenger), Status.CORRECT, "same fresh holdout")
    monkeypatch.setattr(m05, "participant_namespace", lambda: {})
    _assert(q4.evaluate(challenger, {int(v): m for v, m in maes.items()}), Status.CORRECT)


# --- q5 (open): an alarm rule, priced in pounds -----------------------------------------------------------

ALARM_REASONS = ("A false alarm costs £2,000 and a day of bad quotes £1,500, so I retrain at once on a "
                 "drift share of 0.4 but trust a window's MAE only on 40 sale prices: fewer are noise.")
SLOW_LABELS = 80  # a window's MAE trusted only on 80 sale prices: concept drift called on day 10


def alarm_rule(refused=0.03, drift=0.4, labels=40, increase=1.3):
    """The solution's shape, with its thresholds as arguments: good and bad choices alike."""
    def alarm(evidence):
        if evidence["refused_share"] > refused:
            return "fix upstream"
        if evidence["drift_share"] >= drift:
            return "retrain"
        for _, window in evidence["windows"][::-1].iterrows():
            if window["labels"] >= labels:
                return "retrain" if window["MAE (£)"] > increase * evidence["test_mae"] else "keep"
        return "keep"
    return alarm


def test_q5_open_alarm_rule_replayed_on_unseen_days(world):
    from mlops_clinic.checks.m05 import q5

    def blank(evidence):
        return ____

    _assert(q5.evaluate(____, ____), Status.NOT_ATTEMPTED)
    _assert(q5.evaluate(____), Status.NOT_ATTEMPTED)  # the reasons forgotten too
    _assert(q5.evaluate(alarm_rule(), ____), Status.NOT_ATTEMPTED)
    _assert(q5.evaluate(blank, ALARM_REASONS), Status.NOT_ATTEMPTED, "still returns ____")

    # the solution, and other good rules: the lesson's thresholds; an MAE over every price known
    # so far; the drift read from the columns that matter to the price
    _assert(q5.evaluate(alarm_rule(), ALARM_REASONS), Status.CORRECT, "6 of 6 rules met (10 of 10 points)")
    _assert(q5.evaluate(alarm_rule(refused=0.05, drift=0.5, labels=50, increase=1.25), ALARM_REASONS),
            Status.CORRECT)

    def cumulative(evidence):
        windows = evidence["windows"]
        known = windows["labels"].sum()
        if evidence["refused_share"] > 0.02:
            return "fix upstream"
        if "area" in evidence["drifted_columns"] and evidence["drift_share"] >= 0.3:
            return "retrain"
        mae = (windows["MAE (£)"].fillna(0) * windows["labels"]).sum() / max(known, 1)
        return "retrain" if known >= 80 and mae > 1.2 * evidence["test_mae"] else "keep"

    _assert(q5.evaluate(cumulative, ALARM_REASONS), Status.CORRECT)

    # mistakes, each naming the rule missed
    drift_only = q5.evaluate(alarm_rule(labels=10**9), ALARM_REASONS)
    _assert(drift_only, Status.WRONG, "concept_drift traffic it keeps the champion all ten days",
            "only the sale prices show concept drift")
    assert rules_met(drift_only) == [True, True, False, True, False, True]

    no_refusals = q5.evaluate(alarm_rule(refused=1.0), ALARM_REASONS)
    _assert(no_refusals, Status.WRONG, "data-quality incident it never says fix upstream", "refused_share")
    assert rules_met(no_refusals) == [True, True, True, False, False, True]  # £5,000 of incident

    eager = q5.evaluate(alarm_rule(labels=5, increase=1.1), ALARM_REASONS)
    _assert(eager, Status.WRONG, "on the stable traffic it says retrain on day", "a false alarm")
    assert rules_met(eager)[0] is False

    labels_only = q5.evaluate(alarm_rule(drift=2.0), ALARM_REASONS)
    _assert(labels_only, Status.WRONG, "covariate_drift traffic it says retrain only on day",
            "the drift share shows it")
    assert rules_met(labels_only) == [True, False, True, True, False, True]

    slow = q5.evaluate(alarm_rule(labels=SLOW_LABELS), ALARM_REASONS)
    _assert(slow, Status.WRONG, "over the budget of £")
    assert rules_met(slow) == [True, True, True, True, False, True]

    def retrain_on_refusals(evidence):
        return "retrain" if evidence["refused_share"] > 0.03 else alarm_rule()(evidence)

    retrained = q5.evaluate(retrain_on_refusals, ALARM_REASONS)
    _assert(retrained, Status.WRONG, "it says retrain on day 1", "would learn the breakage")
    assert rules_met(retrained)[3] is False

    # reasons too short; answers of the wrong kind, each a sentence and no traceback
    short = q5.evaluate(alarm_rule(), "costs")
    _assert(short, Status.WRONG, "your reasons have 1 word(s)")
    assert rules_met(short) == [True] * 5 + [False]

    def yes_no(evidence):
        return evidence["drift_share"] >= 0.5

    def typo(evidence):
        return "retrain" if evidence["mae"] > 1 else "keep"

    for wrong, words in ((0.4, "expected a function alarm(evidence)"),
                         (yes_no, "returned False (a yes/no value)"),
                         (typo, "raised KeyError: 'mae'")):
        outcome = q5.evaluate(wrong, ALARM_REASONS)
        _assert(outcome, Status.WRONG, words)
        assert rules_met(outcome) == [False] * 5 + [True] and "Traceback" not in outcome.text()
    # the answers written otherwise are the same answers
    _assert(q5.evaluate(lambda evidence: alarm_rule()(evidence).upper().replace(" ", "_"), ALARM_REASONS),
            Status.CORRECT)
