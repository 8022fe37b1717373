"""Module 04's questions: each proven not attempted, wrong (plausible mistakes) and correct, against
the test session's workspace and its inference log (filled by the `inference_log` stage)."""

import os
import uuid
import warnings

import numpy as np
import pytest

from checking import assert_outcome as _assert
from checking import assert_rules_missed, rules_met
from mlops_clinic import stages
from mlops_clinic.checks import Status, ____
from mlops_clinic.checks.m04 import q1, q2, q3
from mlops_clinic.data import COLUMNS, FEATURES
from mlops_clinic.service import inference_log

pytestmark = pytest.mark.slow

SCENARIOS = ("stable", "covariate_drift", "concept_drift", "data_quality")


@pytest.fixture(scope="module")
def ws(session_workspace):
    workspace = session_workspace
    stages.ensure("inference_log", workspace)
    saved = os.environ.get(inference_log.LOG_ENV_VAR)
    os.environ[inference_log.LOG_ENV_VAR] = str(inference_log.log_path(workspace))
    yield workspace
    if saved is None:
        os.environ.pop(inference_log.LOG_ENV_VAR, None)
    else:
        os.environ[inference_log.LOG_ENV_VAR] = saved


def adapter(*, lower=True, separators=True, guess=False, ids="stable"):
    """A participant's to_request, right or with one plausible mistake."""
    def to_request(record):
        house = {}
        for name in FEATURES:
            text = record[name].strip()
            if COLUMNS[name].kind == "integer":
                value = int(text.replace(",", "")) if separators else text
                house[name] = abs(value) if guess and isinstance(value, int) else value
            else:
                house[name] = text.lower() if lower else text
        body = {"house_id": record["ref"], "day": int(record["day"]), "house": house}
        if ids == "stable":
            body["request_id"] = f"agents-{record['ref']}-d{record['day']}"
        elif ids == "random":
            body["request_id"] = f"agents-{uuid.uuid4().hex[:8]}"
        return body
    return to_request


def test_q1_requests_from_upstream_records():
    _assert(q1.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q1.evaluate("to_request"), Status.WRONG, "function")
    _assert(q1.evaluate(adapter(lower=False)), Status.WRONG, "would refuse H500027", "'YES' is not accepted")
    _assert(q1.evaluate(adapter(separators=False)), Status.WRONG, "would refuse H500011", "whole number")
    _assert(q1.evaluate(adapter(ids=None)), Status.WRONG, "an id made from the record")
    _assert(q1.evaluate(adapter(ids="random")), Status.WRONG, "two different request ids")
    _assert(q1.evaluate(adapter(guess=True)), Status.WRONG, "a guess, not a fix")
    _assert(q1.evaluate(adapter()), Status.CORRECT, "no guesses")


def test_q2_mae_from_the_log_with_late_labels(ws):
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna()]
    error = log["prediction_gbp"] - log["actual_price_gbp"]
    known = log["day_sold"] <= 10
    right = error[known].abs().groupby(log["batch"][known]).mean().to_dict()
    everything = error.abs().groupby(log["batch"]).mean().to_dict()
    signed = error[known].groupby(log["batch"][known]).mean().to_dict()
    assert right != everything, "some labels must arrive after day 10"
    _assert(q2.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q2.evaluate(list(right.values())), Status.WRONG, "dict")
    _assert(q2.evaluate({k: right[k] for k in SCENARIOS[:3]}), Status.WRONG, "missing ['data_quality']")
    _assert(q2.evaluate(everything), Status.WRONG, "after day 10")
    _assert(q2.evaluate(signed), Status.WRONG, "bias")
    _assert(q2.evaluate({k: v * 2 for k, v in right.items()}), Status.WRONG, "not the mean absolute errors", "per batch")
    _assert(q2.evaluate(right), Status.CORRECT, "concept_drift")


def test_q3_the_api_contract(ws):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as client:
        spec = client.get("/docs.json").json()
    house = spec["components"]["schemas"]["House"]["required"]
    request = list(spec["components"]["schemas"]["EstimateRequest"]["properties"])
    _assert(q3.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q3.evaluate("area"), Status.WRONG, "not one string")
    _assert(q3.evaluate(request), Status.WRONG, "fields of the request around the house")
    _assert(q3.evaluate(house[:-1]), Status.WRONG, "missing")
    _assert(q3.evaluate(house, spec), Status.CORRECT, "twelve features")


# --- answers in other forms (issue 15) ---------------------------------------------------------------


def test_q1_an_adapter_that_refuses_the_impossible_record_with_assert():
    convert = adapter()

    def asserting(record):
        assert not record["area"].startswith("-"), f"{record['ref']}: negative area"
        return convert(record)

    _assert(q1.evaluate(asserting), Status.CORRECT, "no guesses")


def test_q1_an_adapter_that_stops_on_a_record_it_should_convert_is_told_which():
    def no_separators(record):  # int("3,850") raises ValueError
        body = adapter(separators=False)(record)
        body["house"] = {k: int(v) if COLUMNS[k].kind == "integer" else v for k, v in body["house"].items()}
        return body

    outcome = q1.evaluate(no_separators)
    _assert(outcome, Status.WRONG, "to_request, on H500011, raised ValueError: invalid literal for int()",
            "in a cell of its own")
    assert "Check its type" not in outcome.message


def _right_maes():
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna() & (log["day_sold"] <= 10)]
    return (log["prediction_gbp"] - log["actual_price_gbp"]).abs().groupby(log["batch"]).mean().to_dict()


def test_q2_pence_thousands_and_text_are_named(ws):
    right = _right_maes()
    _assert(q2.evaluate({k: v * 100 for k, v in right.items()}), Status.WRONG, "pence", "give it in pounds")
    _assert(q2.evaluate({k: round(v / 1000, 1) for k, v in right.items()}), Status.WRONG, "thousands of pounds")
    _assert(q2.evaluate({k: f"{v:.0f}" for k, v in right.items()}), Status.WRONG, "got the text", "write ")
    _assert(q2.evaluate({k: np.float32(v) for k, v in right.items()}), Status.CORRECT)


# --- the state the work leaves, alternatives and mistakes (issue 15, item 2) --------------------------


def _refusing(record):
    if record["area"].startswith("-"):
        raise ValueError(f"{record['ref']}: area {record['area']} is impossible; ask upstream to fix it")
    return adapter()(record)


def test_q1_an_adapter_that_silently_drops_the_impossible_record_is_wrong():
    def dropping(record):
        return None if record["area"].startswith("-") else adapter()(record)

    def empty_body(record):
        return {} if record["area"].startswith("-") else adapter()(record)

    def without_area(record):
        body = adapter()(record)
        if record["area"].startswith("-"):
            del body["house"]["area"]
        return body

    def zeroed(record):
        body = adapter()(record)
        if record["area"].startswith("-"):
            body["house"]["area"] = 0
        return body

    _assert(q1.evaluate(dropping), Status.WRONG, "returned None for H500058", "without a trace")
    _assert(q1.evaluate(empty_body), Status.WRONG, "H500058", "drops the area")
    _assert(q1.evaluate(without_area), Status.WRONG, "drops the area")
    _assert(q1.evaluate(zeroed), Status.WRONG, "sends area 0", "as it is")


def test_q1_other_correct_adapters():
    import hashlib

    from mlops_clinic.service.schema import EstimateRequest

    def hashed_ids(record):
        body = adapter()(record)
        body["request_id"] = "agents-" + hashlib.sha256(f"{record['ref']}/{record['day']}".encode()).hexdigest()[:16]
        return body

    def request_model(record):  # the service's own model: the impossible record raises ValidationError
        return EstimateRequest.model_validate(adapter()(record))

    _assert(q1.evaluate(_refusing), Status.CORRECT, "no guesses")
    _assert(q1.evaluate(hashed_ids), Status.CORRECT, "no guesses")
    _assert(q1.evaluate(request_model), Status.CORRECT, "no guesses")


def test_q2_day_10_is_known_on_day_10(ws):
    log = inference_log.read_predictions()
    log = log[log["batch"].isin(SCENARIOS) & log["actual_price_gbp"].notna()]
    before = log[log["day_sold"] < 10]
    strict = (before["prediction_gbp"] - before["actual_price_gbp"]).abs().groupby(before["batch"]).mean().to_dict()
    assert strict != _right_maes(), "some sales must complete on day 10"
    outcome = q2.evaluate(strict)
    _assert(outcome, Status.WRONG, "sales of day 10 itself", "not < 10")
    assert "request_id" not in outcome.message


def test_q2_squared_errors_and_swapped_scenarios_are_named(ws):
    log = inference_log.read_predictions()
    known = log[log["batch"].isin(SCENARIOS) & (log["day_sold"] <= 10)]
    rmse = (known["prediction_gbp"] - known["actual_price_gbp"]).pow(2).groupby(known["batch"]).mean().pow(0.5).to_dict()
    right = _right_maes()
    swapped = {**right, "stable": right["concept_drift"], "concept_drift": right["stable"]}
    _assert(q2.evaluate(rmse), Status.WRONG, "root mean squared error", "|prediction_gbp - actual_price_gbp|")
    _assert(q2.evaluate(swapped), Status.WRONG, "covariate_drift, data_quality are right", "scenario names")


def test_q2_a_series_or_numpy_values_are_the_same_answer(ws):
    import pandas as pd

    log = inference_log.read_predictions()
    known = log[log["batch"].isin(SCENARIOS) & (log["day_sold"] <= 10)]
    series = (known["prediction_gbp"] - known["actual_price_gbp"]).abs().groupby(known["batch"]).mean()
    assert isinstance(series, pd.Series)
    _assert(q2.evaluate(series), Status.CORRECT, "concept_drift")
    _assert(q2.evaluate({k: np.float64(v) for k, v in reversed(_right_maes().items())}), Status.CORRECT)


def _published():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    from mlops_clinic.service.prediction import PredictionService

    with TestClient(PredictionService.to_asgi()) as client:
        return client.get("/docs.json").json()


def test_q3_fields_copied_from_the_kits_constant_are_not_the_contract(ws, monkeypatch):
    from mlops_clinic.checks import m04

    monkeypatch.setattr(m04, "participant_namespace", lambda: {"FEATURES": FEATURES})
    _assert(q3.evaluate(list(FEATURES)), Status.WRONG, "ask the test client for /docs.json",
            "the contract is the document")
    spec = _published()
    stale = {**spec, "components": {"schemas": {"House": {"required": list(FEATURES)[:-1]}}}}
    _assert(q3.evaluate(list(FEATURES), stale), Status.WRONG, "not the one the service publishes")
    _assert(q3.evaluate(list(FEATURES), {"House": FEATURES}), Status.WRONG, "OpenAPI document")


def test_q3_the_document_in_the_notebook_or_given_is_accepted_in_any_order(ws, monkeypatch):
    from mlops_clinic.checks import m04

    spec = _published()
    required = spec["components"]["schemas"]["House"]["required"]
    monkeypatch.setattr(m04, "participant_namespace", lambda: {"spec": spec, "required": required})
    _assert(q3.evaluate(required), Status.CORRECT, "twelve features")
    _assert(q3.evaluate(set(required)), Status.CORRECT, "twelve features")
    _assert(q3.evaluate(tuple(sorted(required)), spec), Status.CORRECT, "twelve features")


def test_q3_plausible_mistakes_with_the_document(ws):
    spec = _published()
    required = spec["components"]["schemas"]["House"]["required"]
    _assert(q3.evaluate(["price", *required], spec), Status.WRONG, "price is what the service answers")
    _assert(q3.evaluate(spec["components"]["schemas"]["House"], spec), Status.WRONG, "got a dict")
    _assert(q3.evaluate(list(spec["components"]["schemas"]["House"]["properties"])[:5], spec),
            Status.WRONG, "missing")
    _assert(q3.evaluate(len(required), spec), Status.WRONG, "expected a list")


# --- q4: the open question, is it safe to swap? (issue 15, item 3) ----------------------------------

from mlops_clinic.checks import m04  # noqa: E402
from mlops_clinic.checks.m04 import q4  # noqa: E402

WHY = ("A wrong swap prices every agent's house badly until someone notices, while a refused swap "
       "costs a day of the champion, so a typical house may move 10% at most.")
SOUND, CANNOT_ANSWER, ABSURD, FAR, IN_TIME, REASONS = range(6)
PRICE = COLUMNS["price"]


@pytest.fixture(scope="module")
def registry(session_workspace):
    """The session's workspace with a champion: the candidates are registered on first use."""
    stages.ensure("champion", session_workspace)
    m04.hidden_candidates()
    return session_workspace


def gate(*, catch=True, sizes=True, compare="median", limit=0.10, answer=bool, row_by_row=False):
    """A participant's safe_to_swap: right, or with one plausible mistake."""
    def safe_to_swap(candidate, champion, recent):
        try:
            if row_by_row:
                estimates = np.array([candidate.predict(recent.iloc[[i]])[0] for i in range(len(recent))])
            else:
                estimates = candidate.predict(recent)
        except Exception:
            if not catch:
                raise
            return answer(False)
        if sizes and not ((estimates >= PRICE.min) & (estimates <= PRICE.max)).all():
            return answer(False)
        if compare is None:
            return answer(True)
        moved = np.abs(estimates / champion.predict(recent) - 1)
        summary = {"median": np.median, "worst": np.max}[compare](moved)
        return answer(summary <= limit)
    return safe_to_swap


def test_q4_not_attempted_until_both_the_function_and_the_reasons_are_there():
    _assert(q4.evaluate(____), Status.NOT_ATTEMPTED)
    _assert(q4.evaluate(____, ____), Status.NOT_ATTEMPTED, "replace every ____")
    _assert(q4.evaluate(gate(), ____), Status.NOT_ATTEMPTED)


def test_q4_the_solution_meets_every_rule_and_keeps_the_reasons(registry):
    outcome = q4.evaluate(gate(), WHY)
    _assert(outcome, Status.CORRECT, "6 of 6 rules met (11 of 11 points)", "your instructor reads")
    assert outcome.justification == WHY


def test_q4_the_candidates_are_registered_once_apart_from_the_sandbox(registry):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from mlops_clinic.names import SANDBOX_MODEL

    client = MlflowClient()
    before = client.search_model_versions(f"name = '{m04.CANDIDATES}'")
    assert sorted(v.tags["candidate"] for v in before) == sorted(m04.DESCRIBED)
    m04.hidden_candidates()
    assert len(client.search_model_versions(f"name = '{m04.CANDIDATES}'")) == len(before), "not twice"
    try:
        sandbox = client.search_model_versions(f"name = '{SANDBOX_MODEL}'")
    except MlflowException:
        sandbox = []
    assert not [v for v in sandbox if v.tags.get("candidate")], "the sandbox's versions are left alone"
    from mlops_clinic.data.generate import SEEDS

    assert m04.HIDDEN_SEED not in SEEDS.values() and m04.HIDDEN_SEED + 1 not in SEEDS.values()


def test_q4_other_good_answers_in_pounds_on_the_mean_or_as_numpy_yes_no(registry):
    def in_pounds(candidate, champion, recent):  # a typical house may move £40,000
        try:
            estimates = candidate.predict(recent)
        except (ValueError, KeyError):
            return False
        if estimates.min() < 10_000 or estimates.max() > 20_000_000:
            return False
        return bool(np.mean(np.abs(estimates - champion.predict(recent))) < 40_000)

    def average_ratio(candidate, champion, recent):  # the two models' average estimate
        try:
            ratio = candidate.predict(recent).mean() / champion.predict(recent).mean()
        except Exception:
            return False
        return 0.85 <= ratio <= 1.15

    _assert(q4.evaluate(in_pounds, WHY), Status.CORRECT, "11 of 11 points")
    _assert(q4.evaluate(average_ratio, WHY), Status.CORRECT, "11 of 11 points")
    _assert(q4.evaluate(gate(answer=np.bool_, limit=0.2), WHY), Status.CORRECT)


def test_q4_plausible_mistakes_each_miss_their_rule(registry):
    assert_rules_missed(q4.evaluate(gate(catch=False), WHY), CANNOT_ANSWER,
                        words=("trained with a column the requests do not have", "raised ValueError",
                               "epc_rating", "catch the error and answer False"))
    assert_rules_missed(q4.evaluate(gate(compare="worst", limit=0.2), WHY), SOUND,
                        words=("for a sound challenger", "it answered False", "not the single worst one"))
    assert_rules_missed(q4.evaluate(gate(compare=None), WHY), FAR,
                        words=("another market's prices (30% lower)", "it answered True", "how far is too far"))
    assert_rules_missed(q4.evaluate(gate(compare=None, sizes=False), WHY), ABSURD, FAR,
                        words=("trained on prices in pence", "it answered True", "data card's price range"))
    assert_rules_missed(q4.evaluate(gate(limit=0.0001), WHY), SOUND, words=("it answered False", "loosen"))


def test_q4_a_gate_that_predicts_row_by_row_is_too_slow(registry, monkeypatch):
    # The same rule on a smaller day, with a budget of 8 times what the right gate takes here (a
    # shared machine is slow for both): row by row costs one call per house, about 30 times that.
    import time

    monkeypatch.setattr(m04, "RECENT_ROWS", {"stable": 40, "covariate_drift": 20})
    champion, recent = m04.served_champion(), m04.recent_traffic()
    sound, right = m04.hidden_candidates()[m04.SOUND], gate()
    took = []
    for _ in range(3):
        started = time.perf_counter()
        right(sound, champion, recent)
        took.append(time.perf_counter() - started)
    monkeypatch.setattr(m04, "BUDGET_S", round(8 * min(took), 3))
    _assert(q4.evaluate(gate(), WHY), Status.CORRECT)
    assert_rules_missed(q4.evaluate(gate(row_by_row=True), WHY), IN_TIME,
                        words=(f"the budget is {m04.BUDGET_S:g} s", "in one call per model", "not row by row"))


def test_q4_reasons_too_short_miss_only_the_reasons_rule(registry):
    assert_rules_missed(q4.evaluate(gate(), "it looks safe"), REASONS, words=("your reasons have 3 word(s)",))


def test_q4_answers_of_the_wrong_kind_are_named_without_a_traceback(registry):
    outcome = q4.evaluate("safe_to_swap", WHY)
    assert rules_met(outcome) == [False] * 5 + [True] and "expected your function itself" in outcome.message
    worded = q4.evaluate(gate(answer=lambda safe: "yes" if safe else "no"), WHY)
    assert rules_met(worded) == [False] * 4 + [True, True], worded.text()  # quick, but no decision
    assert 'it returned the text "yes", not True or False' in worded.message
    assert "Traceback" not in outcome.text() + worded.text()


def test_q4_the_rubric_reads_well():
    text = q4.rubric_markdown()
    assert "### m04.q4 (11 points)" in text
    assert "| 3 | accepts a sound challenger (other settings, the same data) |" in text
    assert "- how far is too far" in text
